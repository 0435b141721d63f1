import type { Distribution } from './distribution.ts';
import type { IndexReport } from './index-report.ts';
import type { Package } from './package.ts';
import type { Repository } from './repository.ts';
import type { Vulnerability } from './vulnerability.ts';

// Clair v4's wire shapes (shared/data/clair-openapi/types/v1/*.schema.json), produced from the internal model.
// Optional strings are omitted when empty: the schemas constrain cpe, digests and dates with patterns that an empty
// string would break.

type Json = Record<string, unknown>;

function compact(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (v !== '' && v !== undefined) out[k] = v;
  return out;
}

export function packageJson(id: string, p: Package): Json {
  return compact({
    id,
    name: p.name,
    version: p.version,
    kind: 'BINARY',
    source: p.source ? { id: `${id}-src`, name: p.source.name, version: p.source.version, kind: 'SOURCE' } : undefined,
    module: p.module,
    arch: p.arch,
    cpe: p.cpe,
  });
}

export function distributionJson(id: string, d: Distribution): Json {
  return compact({
    id,
    did: d.did,
    name: d.name,
    version: d.version,
    version_code_name: d.versionCodeName,
    version_id: d.versionId,
    arch: d.arch,
    cpe: d.cpe,
    pretty_name: d.prettyName,
  });
}

export function repositoryJson(id: string, r: Repository): Json {
  return compact({ id, name: r.name, key: r.key, uri: r.uri, cpe: r.cpe });
}

export function indexReportJson(r: IndexReport): Json {
  const environments: Json = {};
  for (const [id, envs] of Object.entries(r.environments)) {
    environments[id] = envs.map((e) =>
      compact({
        package_db: e.packageDb,
        introduced_in: e.introducedIn,
        distribution_id: e.distributionId,
        repository_ids: e.repositoryIds.length > 0 ? e.repositoryIds : undefined,
      }),
    );
  }
  return compact({
    manifest_hash: r.manifestHash,
    state: r.state,
    packages: mapValues(r.packages, packageJson),
    distributions: mapValues(r.distributions, distributionJson),
    repository: mapValues(r.repositories, repositoryJson),
    environments,
    success: r.success,
    err: r.err,
  });
}

export function vulnerabilityJson(id: string, v: Vulnerability): Json {
  const dist = compact({
    did: v.dist.did, name: v.dist.name, version: v.dist.version, version_code_name: v.dist.versionCodeName,
    version_id: v.dist.versionId, arch: v.dist.arch, cpe: v.dist.cpe, pretty_name: v.dist.prettyName,
  });
  const repo = compact({ name: v.repo.name, key: v.repo.key, uri: v.repo.uri, cpe: v.repo.cpe });
  const range = compact({ '[': v.range.introduced, ')': v.fixedInVersion && v.range.introduced ? v.fixedInVersion : '' });
  // updater and package.version are required by the schemas even when empty; fixed_in_version is "" when no fix
  // exists, as Clair sends it.
  const out = compact({
    id,
    name: v.name,
    description: v.description,
    issued: v.issued,
    links: v.links,
    severity: v.severity,
    normalized_severity: v.normalizedSeverity,
    package: v.package.name ? { version: '', ...compact({ name: v.package.name, kind: v.package.kind ? v.package.kind.toUpperCase() : undefined, module: v.package.module, arch: v.package.arch }) } : undefined,
    // An empty arch constrains nothing; "pattern match" against an empty pattern says exactly that.
    arch_op: v.package.name ? v.archOperation || (v.package.arch ? 'equals' : 'pattern match') : undefined,
    distribution: Object.keys(dist).length > 0 ? { id: '', ...dist } : undefined,
    repository: Object.keys(repo).length > 0 ? { id: '', ...repo } : undefined,
    range: Object.keys(range).length > 0 ? range : undefined,
  });
  return { id, updater: v.updater, ...out, fixed_in_version: v.fixedInVersion };
}

export function vulnerabilityReportJson(
  r: IndexReport,
  vulns: Map<string, Vulnerability>,
  packageVulnerabilities: Record<string, string[]>,
): Json {
  const base = indexReportJson(r);
  const vulnerabilities: Json = {};
  for (const [id, v] of vulns) vulnerabilities[id] = vulnerabilityJson(id, v);
  return {
    manifest_hash: base.manifest_hash,
    packages: base.packages ?? {},
    distributions: base.distributions ?? {},
    repository: base.repository ?? {},
    environments: base.environments ?? {},
    vulnerabilities,
    package_vulnerabilities: packageVulnerabilities,
    enrichments: {},
  };
}

function mapValues<T>(o: Record<string, T>, f: (id: string, v: T) => Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) out[k] = f(k, v);
  return out;
}
