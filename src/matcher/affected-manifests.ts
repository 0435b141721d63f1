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

/**
 * The affected manifests by the packages hit, before any per-manifest list is built: what a caller that needs less
 * than every manifest's whole list (the notifier's summary: one vulnerability per manifest) works from.
 */
export interface AffectedPackages {
  /** For each package hit (by its number), the input positions of the records affecting it, ascending, no repeats. */
  hits: number[][];
  /** Manifest digest → the numbers of its packages that are hit, ascending; in digest order. */
  manifests: Map<string, number[]>;
  /** Input position → the position of the first input with the same id (the one that stands for the id). */
  canonical: Int32Array;
}

export async function affectedPackages(store: Store, matchers: readonly Matcher[], input: AffectedInput[]): Promise<AffectedPackages> {
  const canonical = new Int32Array(input.length);
  const first = new Map<string, number>();
  // Input records by package name: a package is compared with the records naming it in its matchers' queries only.
  const byName = new Map<string, number[]>();
  for (const [k, i] of input.entries()) {
    let p = first.get(i.id);
    if (p === undefined) first.set(i.id, (p = k));
    canonical[k] = p;
    const n = i.vulnerability.package.name;
    if (n === '') continue; // no query names an empty package (queryAdmits)
    let list = byName.get(n);
    if (!list) byName.set(n, (list = []));
    list.push(k);
  }
  const out: AffectedPackages = { hits: [], manifests: new Map(), canonical };
  if (byName.size === 0) return out;
  /** Positions of the input records affecting a package, under every matcher that claims it. */
  const decidePackage = (pkg: IndexedPackage): number[] => {
    const hits = new Set<number>();
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
        for (const k of byName.get(name) ?? []) {
          const v = input[k]!.vulnerability;
          if (decide(m, pkg, v, () => {}, () => queryAdmits(q, v) && m.vulnerable(pkg, v))) hits.add(canonical[k]!);
        }
      }
    }
    return [...hits].sort((a, b) => a - b);
  };
  // The distinct packages (package, distribution, repositories) of the stored manifests that records of these names
  // may concern, each decided once however many manifests hold it; then the manifests of the packages hit.
  const numbers = new Map<string, number>(); // indexed package id → its number
  for (const pkg of await store.indexedPackagesNamed([...byName.keys()])) {
    const hits = decidePackage(pkg);
    if (hits.length === 0) continue;
    numbers.set(pkg.id, out.hits.length);
    out.hits.push(hits);
  }
  if (numbers.size === 0) return out;
  const parts = new Map<string, number[]>();
  const holders = await store.manifestsWithIndexedPackages([...numbers.keys()]);
  // Packages in number order: each manifest's numbers come out ascending.
  for (const [id, n] of numbers) {
    for (const digest of holders.get(id) ?? []) {
      let list = parts.get(digest);
      if (!list) parts.set(digest, (list = []));
      list.push(n);
    }
  }
  for (const digest of [...parts.keys()].sort()) out.manifests.set(digest, parts.get(digest)!);
  return out;
}

/**
 * Each manifest's input positions (ascending) from its packages' hits. Manifests with the same packages hit (the same
 * image under other digests, images on one base whose own packages are not concerned) share one array.
 */
export function manifestHitPositions(a: AffectedPackages): Map<string, Int32Array> {
  const out = new Map<string, Int32Array>();
  const shared = new Map<string, Int32Array>();
  // Positions seen for the list being built (stamp = that list's number): a union without a Set per manifest.
  const stamp = new Int32Array(a.canonical.length).fill(-1);
  for (const [digest, numbers] of a.manifests) {
    const signature = numbers.join(',');
    let list = shared.get(signature);
    if (!list) {
      const k = shared.size;
      const positions: number[] = [];
      for (const n of numbers) {
        for (const p of a.hits[n]!) {
          if (stamp[p] === k) continue;
          stamp[p] = k;
          positions.push(p);
        }
      }
      list = Int32Array.from(positions).sort();
      shared.set(signature, list);
    }
    out.set(digest, list);
  }
  return out;
}

export async function affectedManifests(store: Store, matchers: readonly Matcher[], input: AffectedInput[]): Promise<AffectedResult> {
  const vulnerabilities = new Map<string, Vulnerability>();
  const vulnerableManifests: Record<string, string[]> = {};
  const affected = await affectedPackages(store, matchers, input);
  const hit = new Set<number>();
  for (const [, numbers] of affected.manifests) for (const n of numbers) hit.add(n);
  for (const n of hit) for (const p of affected.hits[n]!) vulnerabilities.set(input[p]!.id, input[p]!.vulnerability);
  const ids = new Map<Int32Array, string[]>();
  for (const [digest, positions] of manifestHitPositions(affected)) {
    let list = ids.get(positions);
    // In input order.
    if (!list) ids.set(positions, (list = Array.from(positions, (p) => input[p]!.id)));
    vulnerableManifests[digest] = list;
  }
  return { vulnerabilities, vulnerableManifests };
}
