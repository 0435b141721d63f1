import { nodeCrypto } from '../model/lazy-crypto.ts';
import type { IndexReport } from '../model/index-report.ts';
import type { Distribution } from '../model/distribution.ts';
import type { Package } from '../model/package.ts';
import type { Repository } from '../model/repository.ts';
import { indexedPackages, type IndexedPackage } from '../matcher/matcher.ts';
import { packageLookupNames } from '../matcher/vulnerability-query.ts';

// The notifier's package index (both stores): what a matcher decides on for one package of a manifest — the
// package, its distribution, its repositories (IndexedPackage without the report-local id) — stored once as a row
// that every manifest holding the same package shares, filed under the names records use (packageLookupNames).
// Affected manifests then cost a lookup of the changed records' names, one decision per distinct package, and the
// manifests of the packages that are hit: never a read of a whole index report.

export interface IndexedPackageRow {
  /** First 128 bits of the SHA-256 of data, hex: the row's identity. */
  hash: string;
  /** The package, distribution and repositories as canonical JSON (keys sorted: equal content, equal text). */
  data: string;
  names: string[];
}

/** The report's distinct package rows. */
export function indexedPackageRows(report: IndexReport): IndexedPackageRow[] {
  const rows = new Map<string, IndexedPackageRow>();
  // A report's packages share a few distributions and repositories: each is written out once.
  const written = new Map<object, string>();
  const once = (o: object): string => {
    let text = written.get(o);
    if (text === undefined) written.set(o, (text = canonicalJson(o)));
    return text;
  };
  for (const p of indexedPackages(report)) {
    // Keys in sorted order, as canonicalJson writes them: distribution, package, repositories.
    const data = `{${p.distribution ? `"distribution":${once(p.distribution)},` : ''}"package":${packageJson(p.package)},"repositories":[${p.repositories.map(once).join(',')}]}`;
    const hash = nodeCrypto().hash('sha256', data, 'hex').slice(0, 32);
    if (!rows.has(hash)) rows.set(hash, { hash, data, names: packageLookupNames(p.package) });
  }
  return [...rows.values()];
}

/** A stored row as the matchers take it; its id is the row's id in the store. */
export function decodeIndexedPackage(id: string, data: string): IndexedPackage {
  const d = JSON.parse(data) as { package: Package; distribution?: Distribution; repositories: Repository[] };
  return { id, package: d.package, ...(d.distribution ? { distribution: d.distribution } : {}), repositories: d.repositories };
}

const PACKAGE_KEYS = new Set(['arch', 'cpe', 'kind', 'module', 'name', 'ownedBy', 'packageDb', 'repositoryHint', 'source', 'version']);

/**
 * canonicalJson of a package, spelled out for the fields Package has (a report's write canonicalizes every
 * package, and the generic walk was most of it); anything else, such as a field added later, takes the generic way.
 */
function packageJson(p: Package): string {
  for (const k in p) if (!PACKAGE_KEYS.has(k)) return canonicalJson(p);
  const s = p.source;
  const o = p.ownedBy;
  if (s) for (const k in s) if (k !== 'name' && k !== 'version') return canonicalJson(p);
  if (o) for (const k in o) if (k !== 'name' && k !== 'packageDb' && k !== 'version') return canonicalJson(p);
  return JSON.stringify({
    arch: p.arch, cpe: p.cpe, kind: p.kind, module: p.module, name: p.name,
    ownedBy: o && { name: o.name, packageDb: o.packageDb, version: o.version },
    packageDb: p.packageDb, repositoryHint: p.repositoryHint,
    source: s && { name: s.name, version: s.version },
    version: p.version,
  });
}

/**
 * JSON with object keys in sorted order at every depth; undefined members are left out, as JSON.stringify does.
 * JSON.stringify with a list of keys writes exactly those, in the list's order, at every depth: given every key
 * the value has, sorted, it writes the canonical form natively (a hand-written walk was most of a report's write).
 */
export function canonicalJson(v: unknown): string {
  const keys = new Set<string>();
  const collect = (x: unknown): void => {
    if (x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      for (const e of x) collect(e);
      return;
    }
    for (const [k, e] of Object.entries(x)) {
      keys.add(k);
      collect(e);
    }
  };
  collect(v);
  return JSON.stringify(v, [...keys].sort());
}
