import type { Matcher } from './matcher.ts';
import { queryAdmits } from './vulnerability-query.ts';
import { decide, indexedPackages } from './match.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import type { Store } from '../store/store.ts';

// Clair's internal affected_manifest endpoint, run "backwards": given vulnerabilities, which indexed manifests do
// they affect? Candidates come from the store's package-name index (manifestsWithPackages); each candidate's
// stored IndexReport then gets the same decisions a vulnerability report makes: the matcher that claims the
// package, the record constraints its query states (names, updater, distribution), and its exact version check.

export interface AffectedInput {
  id: string;
  vulnerability: Vulnerability;
}

export interface AffectedResult {
  vulnerabilities: Map<string, Vulnerability>;
  /** Manifest digest → ids of the input vulnerabilities affecting it. */
  vulnerableManifests: Record<string, string[]>;
}

export async function affectedManifests(store: Store, matchers: readonly Matcher[], input: AffectedInput[]): Promise<AffectedResult> {
  const vulnerabilities = new Map<string, Vulnerability>();
  const vulnerableManifests: Record<string, string[]> = {};
  const names = [...new Set(input.map((i) => i.vulnerability.package.name).filter((n) => n !== ''))];
  if (names.length === 0) return { vulnerabilities, vulnerableManifests };
  for (const digest of await store.manifestsWithPackages(names)) {
    const stored = await store.getIndexReport(digest);
    if (!stored) continue; // deleted between the two lookups
    const pkgs = indexedPackages(stored.report);
    for (const { id, vulnerability: v } of input) {
      // A version a matcher cannot decide on is "not affected" for that package alone (match.ts, decide).
      const hit = pkgs.some((pkg) => matchers.some((m) => decide(m, pkg, v, () => {}, () => m.filter(pkg) && queryAdmits(m.query(pkg), v) && m.vulnerable(pkg, v))));
      if (!hit) continue;
      vulnerabilities.set(id, v);
      (vulnerableManifests[digest] ??= []).push(id);
    }
  }
  return { vulnerabilities, vulnerableManifests };
}
