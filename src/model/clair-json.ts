import { cpeAsFormattedString } from './cpe-binding.ts';
import type { Distribution } from './distribution.ts';
import type { IndexReport } from './index-report.ts';
import type { Package } from './package.ts';
import type { Repository } from './repository.ts';
import type { Vulnerability } from './vulnerability.ts';

// Clair v4's wire shapes, produced from the internal model. The shapes are the ones Clair's server writes (claircore
// v1.5's Go types as its encoder serializes them), not only what openapi.yaml declares: Clair's clients decode or
// validate those. Quay's client (util/secscan/v4/api.py) validates every answer against its copy of the OpenAPI
// document, which requires e.g. `err` on index reports, `arch` and `cpe` on every distribution and `id` on every
// package, including the one inside a notification's vulnerability. So every key is written, "" when empty.
// The schema these functions are tested against, with every key required, is test/fixtures/clair-api/.
// Differences from Clair's bytes (README "Compatibility with Clair's clients"):
// - `range` is never written: Quay's bundled schema types it as a string, and an object fails its validation.
// - `repository_ids` is [] where Go writes null for an empty slice.
// - CPEs are re-bound as CPE 2.3 formatted strings, as claircore encodes them (model/cpe-binding.ts); a CPE that
//   does not bind (Red Hat's wildcard patterns) is written as the source wrote it.
// - keys Clair omits when empty (kind, module, arch of a package; id, name, key, uri of a repository) are written
//   as "" by clair-ts: a superset every Go and Python client reads.

type Json = Record<string, unknown>;

/** Go's zero time.Time as encoding/json writes it: what Clair sends for a vulnerability without an issue date. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

function pkg(id: string, name: string, version: string, kind: string, module: string, arch: string, cpe: string): Json {
  // normalized_version: claircore's Version of an unset kind encodes as "". detector: the claircore scanner that
  // found the package ("urn:claircore:detector:…"); clair-ts has no claircore detectors, so null, as Go writes a nil one.
  return { id, name, version, kind, normalized_version: '', module, arch, cpe: cpeAsFormattedString(cpe), detector: null };
}

export function packageJson(id: string, p: Package): Json {
  const out = pkg(id, p.name, p.version, p.kind, p.module, p.arch, p.cpe);
  // claircore's source is `omitempty`: absent when unknown, a full Package of kind "source" otherwise.
  if (p.source) out.source = pkg(`${id}-src`, p.source.name, p.source.version, 'source', '', '', '');
  return out;
}

export function distributionJson(id: string, d: Distribution): Json {
  return {
    id,
    did: d.did,
    name: d.name,
    version: d.version,
    version_code_name: d.versionCodeName,
    version_id: d.versionId,
    arch: d.arch,
    cpe: cpeAsFormattedString(d.cpe),
    pretty_name: d.prettyName,
  };
}

export function repositoryJson(id: string, r: Repository): Json {
  return { id, name: r.name, key: r.key, uri: r.uri, cpe: cpeAsFormattedString(r.cpe) };
}

export function indexReportJson(r: IndexReport): Json {
  const environments: Json = {};
  for (const [id, envs] of Object.entries(r.environments)) {
    environments[id] = envs.map((e) => ({
      package_db: e.packageDb,
      introduced_in: e.introducedIn,
      distribution_id: e.distributionId,
      repository_ids: e.repositoryIds,
    }));
  }
  return {
    manifest_hash: r.manifestHash,
    state: r.state,
    packages: mapValues(r.packages, packageJson),
    distributions: mapValues(r.distributions, distributionJson),
    repository: mapValues(r.repositories, repositoryJson),
    environments,
    success: r.success,
    err: r.err,
  };
}

function vulnerablePackageJson(v: Vulnerability): Json {
  return pkg('', v.package.name, '', v.package.kind, v.package.module, v.package.arch, '');
}

function vulnerableDistributionJson(v: Vulnerability): Json {
  return distributionJson('', { ...v.dist });
}

/** Clair's arch_op: "equals" for a feed's arch constraint, "pattern match" (an empty pattern matches any) otherwise. */
function archOp(v: Vulnerability): string {
  return v.archOperation || (v.package.arch ? 'equals' : 'pattern match');
}

export function vulnerabilityJson(id: string, v: Vulnerability): Json {
  return {
    id,
    updater: v.updater,
    name: v.name,
    description: v.description,
    issued: v.issued || GO_ZERO_TIME,
    links: v.links,
    severity: v.severity,
    normalized_severity: v.normalizedSeverity,
    package: vulnerablePackageJson(v),
    distribution: vulnerableDistributionJson(v),
    repository: repositoryJson('', v.repo),
    fixed_in_version: v.fixedInVersion,
    arch_op: archOp(v),
  };
}

/**
 * A notification's vulnerability. Clair's server writes notifier.VulnSummary: name, description, package,
 * distribution, repo, severity (the normalized severity), fixed_in_version, links. The OpenAPI document's
 * vulnerability_summary and Quay's reader (which reads normalized_severity) name two more: normalized_severity and
 * repository. All of them are written.
 */
export function vulnerabilitySummaryJson(v: Vulnerability): Json {
  const repository = repositoryJson('', v.repo);
  return {
    name: v.name,
    description: v.description,
    package: vulnerablePackageJson(v),
    distribution: vulnerableDistributionJson(v),
    repo: repository,
    repository,
    severity: v.normalizedSeverity,
    normalized_severity: v.normalizedSeverity,
    fixed_in_version: v.fixedInVersion,
    links: v.links,
    arch_op: archOp(v),
  };
}

export function vulnerabilityReportJson(
  r: IndexReport,
  vulns: Map<string, Vulnerability>,
  packageVulnerabilities: Record<string, string[]>,
  enrichments: Record<string, Record<string, unknown>[]> = {},
): Json {
  const base = indexReportJson(r);
  const vulnerabilities: Json = {};
  for (const [id, v] of vulns) vulnerabilities[id] = vulnerabilityJson(id, v);
  return {
    manifest_hash: base.manifest_hash,
    packages: base.packages,
    distributions: base.distributions,
    repository: base.repository,
    environments: base.environments,
    vulnerabilities,
    package_vulnerabilities: packageVulnerabilities,
    enrichments,
  };
}

function mapValues<T>(o: Record<string, T>, f: (id: string, v: T) => Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) out[k] = f(k, v);
  return out;
}
