import { createHash } from 'node:crypto';
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
  for (const p of indexedPackages(report)) {
    const data = canonicalJson({ package: p.package, distribution: p.distribution, repositories: p.repositories });
    const hash = createHash('sha256').update(data).digest('hex').slice(0, 32);
    if (!rows.has(hash)) rows.set(hash, { hash, data, names: packageLookupNames(p.package) });
  }
  return [...rows.values()];
}

/** A stored row as the matchers take it; its id is the row's id in the store. */
export function decodeIndexedPackage(id: string, data: string): IndexedPackage {
  const d = JSON.parse(data) as { package: Package; distribution?: Distribution; repositories: Repository[] };
  return { id, package: d.package, ...(d.distribution ? { distribution: d.distribution } : {}), repositories: d.repositories };
}

/** JSON with object keys in sorted order at every depth; undefined members are left out, as JSON.stringify does. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) sorted[k] = o[k];
    return sorted;
  });
}
