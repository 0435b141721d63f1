import type { IndexedPackage, Matcher } from './matcher.ts';
import { queryAdmits, type VulnerabilityQuery } from './vulnerability-query.ts';
import { decide } from './match.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import type { Store } from '../store/store.ts';

// Clair's internal affected_manifest endpoint, run "backwards": given vulnerabilities, which indexed manifests do
// they affect? The store's package index (store/indexed-package-rows.ts) gives the distinct packages filed under the
// records' names, each with the distribution and repositories a matcher decides on; each gets the decisions a
// vulnerability report makes (the matcher that claims the package, the record constraints its query states: names,
// updater, distribution; its exact version check), once, and the manifests holding the packages hit are affected.
// The cost follows the changed records and the distinct packages they name, never manifests × packages, and no
// index report is read.

export interface AffectedInput {
  id: string;
  vulnerability: Vulnerability;
}

export interface AffectedResult {
  vulnerabilities: Map<string, Vulnerability>;
  /** Manifest digest → ids of the input vulnerabilities affecting it (manifests with the same hits share one array). */
  vulnerableManifests: Record<string, string[]>;
}

export async function affectedManifests(store: Store, matchers: readonly Matcher[], input: AffectedInput[]): Promise<AffectedResult> {
  const vulnerabilities = new Map<string, Vulnerability>();
  const vulnerableManifests: Record<string, string[]> = {};
  // Input records by package name: a manifest is compared with the records naming one of its packages only, so the
  // cost grows with the records that changed and the packages they name, not with records x packages.
  const byName = new Map<string, AffectedInput[]>();
  const position = new Map<string, number>();
  for (const [k, i] of input.entries()) {
    if (!position.has(i.id)) position.set(i.id, k);
    const n = i.vulnerability.package.name;
    if (n === '') continue; // no query names an empty package (queryAdmits)
    let list = byName.get(n);
    if (!list) byName.set(n, (list = []));
    list.push(i);
  }
  if (byName.size === 0) return { vulnerabilities, vulnerableManifests };
  /** Ids of the input records affecting a package, under every matcher that claims it. */
  const decidePackage = (pkg: IndexedPackage): string[] => {
    const ids: string[] = [];
    for (const m of matchers) {
      // The same decisions as a vulnerability report (match.ts): a matcher that cannot handle a package, or a
      // version it cannot decide on, means "not affected" for that package alone.
      let q: VulnerabilityQuery;
      try {
        if (!m.filter(pkg)) continue;
        q = m.query(pkg);
      } catch {
        continue;
      }
      for (const name of new Set(q.packageNames)) {
        for (const { id, vulnerability: v } of byName.get(name) ?? []) {
          if (decide(m, pkg, v, () => {}, () => queryAdmits(q, v) && m.vulnerable(pkg, v))) ids.push(id);
        }
      }
    }
    return ids;
  };
  // The distinct packages (package, distribution, repositories) of the stored manifests that records of these names
  // may concern, each decided once however many manifests hold it; then the manifests of the packages hit.
  const hit = new Map<string, { n: number; ids: string[] }>(); // indexed package id → its number and its hits
  for (const pkg of await store.indexedPackagesNamed([...byName.keys()])) {
    const ids = decidePackage(pkg);
    if (ids.length > 0) hit.set(pkg.id, { n: hit.size, ids });
  }
  if (hit.size === 0) return { vulnerabilities, vulnerableManifests };
  // A manifest's hits are named by the numbers of its packages that are hit (ascending: packages are visited in
  // number order), and manifests with the same numbers (the same image under other digests, images on one base whose
  // own packages are not concerned) share one sorted list.
  const parts = new Map<string, number[]>();
  const holders = await store.manifestsWithIndexedPackages([...hit.keys()]);
  for (const [id, { n }] of hit) {
    for (const digest of holders.get(id) ?? []) {
      let list = parts.get(digest);
      if (!list) parts.set(digest, (list = []));
      list.push(n);
    }
  }
  const byNumber = [...hit.values()];
  const hitLists = new Map<string, string[]>();
  for (const digest of [...parts.keys()].sort()) {
    const numbers = parts.get(digest)!;
    const signature = numbers.join(',');
    let ids = hitLists.get(signature);
    if (!ids) {
      const hits = new Set<string>();
      for (const n of numbers) for (const id of byNumber[n]!.ids) hits.add(id);
      // In input order, as before.
      ids = [...hits].sort((a, b) => position.get(a)! - position.get(b)!);
      for (const id of ids) vulnerabilities.set(id, input[position.get(id)!]!.vulnerability);
      hitLists.set(signature, ids);
    }
    vulnerableManifests[digest] = ids;
  }
  return { vulnerabilities, vulnerableManifests };
}
