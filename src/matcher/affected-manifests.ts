import type { Matcher } from './matcher.ts';
import type { VulnerabilityQuery } from './vulnerability-query.ts';
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

/** Would the store return `v` for `q`? The same rule as the stores' queryVulnerabilities, applied in memory. */
export function queryAdmits(q: VulnerabilityQuery, v: Vulnerability): boolean {
  if (!q.packageNames.includes(v.package.name)) return false;
  // Summaries often carry no updater; then there is nothing to restrict by.
  if (q.updaterPrefix && v.updater !== '' && v.updater !== q.updaterPrefix && !v.updater.startsWith(q.updaterPrefix + '/')) return false;
  const d = q.dist ?? {};
  if (d.did !== undefined && v.dist.did !== '' && v.dist.did !== d.did) return false;
  if (d.versionId !== undefined && v.dist.versionId !== '' && v.dist.versionId !== d.versionId) return false;
  if (d.versionCodeName !== undefined && v.dist.versionCodeName !== '' && v.dist.versionCodeName !== d.versionCodeName) return false;
  return true;
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
      const hit = pkgs.some((pkg) => matchers.some((m) => m.filter(pkg) && queryAdmits(m.query(pkg), v) && decide(m, pkg, v, () => {})));
      if (!hit) continue;
      vulnerabilities.set(id, v);
      (vulnerableManifests[digest] ??= []).push(id);
    }
  }
  return { vulnerabilities, vulnerableManifests };
}
