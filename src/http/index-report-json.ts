import { ClairError } from '../model/errors.ts';
import type { Distribution } from '../model/distribution.ts';
import type { Environment, IndexReport } from '../model/index-report.ts';
import type { Package } from '../model/package.ts';
import type { Repository } from '../model/repository.ts';

// The inverse of model/clair-json.ts indexReportJson: Clair's IndexReport JSON back to the internal model. A
// matcher running apart from its indexer (matcher.indexer_addr) reads reports this way; it is written against the
// schema (index_report.schema.json), so a report from Clair's own indexer reads too.

type Json = Record<string, unknown>;

/**
 * The media type under which a clair-ts indexer serves an index report as it stores it (the internal model), for a
 * clair-ts matcher running apart from it. A Clair indexer does not offer it and answers with Clair's JSON.
 */
export const INTERNAL_INDEX_REPORT_TYPE = 'application/vnd.clair-ts.index-report.v1+json';

/** A report served as INTERNAL_INDEX_REPORT_TYPE, checked for the shape the matcher relies on. */
export function internalIndexReportFromJson(doc: unknown, what: string): IndexReport {
  const r = obj(doc);
  const bad = (why: string) => new ClairError('bad-input', `${what}: ${why}`);
  if (typeof r.manifestHash !== 'string') throw bad('index report has no manifestHash');
  for (const k of ['packages', 'distributions', 'repositories', 'environments'] as const) {
    if (r[k] === null || typeof r[k] !== 'object' || Array.isArray(r[k])) throw bad(`index report's ${k} is not an object`);
  }
  if (!Array.isArray(r.layers) || !r.layers.every((l) => typeof l === 'string')) throw bad("index report's layers is not a list of digests");
  for (const [id, p] of Object.entries(r.packages as Json)) {
    const pkg = obj(p);
    if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string') throw bad(`package ${id} has no name or version`);
  }
  return r as unknown as IndexReport;
}

const str = (o: Json, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

export function indexReportFromJson(doc: unknown, what: string): IndexReport {
  const r = obj(doc);
  if (typeof r.manifest_hash !== 'string') throw new ClairError('bad-input', `${what}: index report has no manifest_hash`);
  const environments: Record<string, Environment[]> = {};
  for (const [id, list] of Object.entries(obj(r.environments))) {
    environments[id] = (Array.isArray(list) ? list : []).map((e) => {
      const env = obj(e);
      return {
        packageDb: str(env, 'package_db'),
        introducedIn: str(env, 'introduced_in'),
        distributionId: str(env, 'distribution_id'),
        repositoryIds: Array.isArray(env.repository_ids) ? env.repository_ids.filter((x): x is string => typeof x === 'string') : [],
      };
    });
  }
  const packages: Record<string, Package> = {};
  for (const [id, p] of Object.entries(obj(r.packages))) {
    const pkg = obj(p);
    const src = obj(pkg.source);
    packages[id] = {
      name: str(pkg, 'name'),
      version: str(pkg, 'version'),
      kind: str(pkg, 'kind').toLowerCase() === 'source' ? 'source' : 'binary',
      ...(str(src, 'name') ? { source: { name: str(src, 'name'), version: str(src, 'version') } } : {}),
      arch: str(pkg, 'arch'),
      module: str(pkg, 'module'),
      cpe: str(pkg, 'cpe'),
      packageDb: environments[id]?.[0]?.packageDb ?? '',
      repositoryHint: '',
    };
  }
  const distributions: Record<string, Distribution> = {};
  for (const [id, d] of Object.entries(obj(r.distributions))) {
    const dist = obj(d);
    distributions[id] = {
      did: str(dist, 'did'), name: str(dist, 'name'), version: str(dist, 'version'), versionId: str(dist, 'version_id'),
      versionCodeName: str(dist, 'version_code_name'), arch: str(dist, 'arch'), cpe: str(dist, 'cpe'), prettyName: str(dist, 'pretty_name'),
    };
  }
  const repositories: Record<string, Repository> = {};
  for (const [id, x] of Object.entries(obj(r.repository))) {
    const repo = obj(x);
    repositories[id] = { name: str(repo, 'name'), key: str(repo, 'key'), uri: str(repo, 'uri'), cpe: str(repo, 'cpe') };
  }
  const layers = [...new Set(Object.values(environments).flatMap((es) => es.map((e) => e.introducedIn)).filter((d) => d !== ''))];
  return {
    manifestHash: r.manifest_hash,
    state: str(r, 'state') === 'IndexError' ? 'IndexError' : 'IndexFinished',
    success: r.success !== false,
    err: str(r, 'err'),
    packages,
    distributions,
    repositories,
    environments,
    layers,
  };
}
