import type { IndexedPackage, Matcher } from '../src/matcher/matcher.ts';
import { queryAdmits, type VulnerabilityQuery } from '../src/matcher/vulnerability-query.ts';
import { decide } from '../src/matcher/match.ts';
import { indexedPackages } from '../src/matcher/matcher.ts';
import type { AffectedInput, AffectedResult } from '../src/matcher/affected-manifests.ts';
import type { Store } from '../src/store/store.ts';
import type { Vulnerability } from '../src/model/vulnerability.ts';

// The notifier's affected-manifests before the package index (src/matcher/affected-manifests.ts until 2026-12-02),
// kept for bench/notifier.ts to time beside the current one: candidate manifests by package name, then every
// candidate's whole index report read, parsed and walked, package by package. Same decisions, same result.

export async function previousAffectedManifests(store: Store, matchers: readonly Matcher[], input: AffectedInput[]): Promise<AffectedResult> {
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
  // Each distinct package's decision, numbered; a manifest's hits are then named by the numbers of its packages
  // that have any, and manifests with the same numbers (the same image under other digests, images on one base
  // whose own packages are not concerned) share one sorted list: the work per further manifest is one lookup per
  // package.
  const decided = new Map<string, { n: number; ids: string[] }>();
  const lists: string[][] = []; // by number
  const hitLists = new Map<string, string[]>();
  for (const digest of await store.manifestsWithPackages([...byName.keys()])) {
    const stored = await store.getIndexReport(digest);
    if (!stored) continue; // deleted between the two lookups
    const parts: number[] = [];
    for (const pkg of indexedPackages(stored.report)) {
      // Matchers decide on the package, its distribution and its repositories, nothing else.
      const key = JSON.stringify([pkg.package, pkg.distribution, pkg.repositories]);
      let d = decided.get(key);
      if (!d) {
        d = { n: lists.length, ids: decidePackage(pkg) };
        decided.set(key, d);
        lists.push(d.ids);
      }
      if (d.ids.length > 0) parts.push(d.n);
    }
    if (parts.length === 0) continue;
    parts.sort((a, b) => a - b);
    const signature = parts.join(',');
    let ids = hitLists.get(signature);
    if (!ids) {
      const hits = new Set<string>();
      for (const n of parts) for (const id of lists[n]!) hits.add(id);
      // In input order, as before.
      ids = [...hits].sort((a, b) => position.get(a)! - position.get(b)!);
      for (const id of ids) vulnerabilities.set(id, input[position.get(id)!]!.vulnerability);
      hitLists.set(signature, ids);
    }
    vulnerableManifests[digest] = ids;
  }
  return { vulnerabilities, vulnerableManifests };
}
