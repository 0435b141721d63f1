import type { IndexReport } from '../model/index-report.ts';
import type { IndexedPackage, Matcher } from './matcher.ts';
import type { Store, StoredVulnerability } from '../store/store.ts';

// The matching engine: each package goes to the matchers that claim it; their queries are sent to the store in one
// batch (indexed lookups by package name and release, never a scan of the feed), and each candidate record gets the
// matcher's exact version decision.

export interface MatchResult {
  /** Package id → ids of the vulnerabilities affecting it. */
  packageVulnerabilities: Record<string, string[]>;
  vulnerabilities: Map<string, StoredVulnerability>;
}

export function indexedPackages(report: IndexReport): IndexedPackage[] {
  return Object.entries(report.packages).map(([id, pkg]) => {
    const env = report.environments[id]?.[0];
    const distribution = env?.distributionId ? report.distributions[env.distributionId] : undefined;
    const repositories = (env?.repositoryIds ?? []).map((r) => report.repositories[r]).filter((r) => r !== undefined);
    return { id, package: pkg, ...(distribution ? { distribution } : {}), repositories };
  });
}

/**
 * Packages no matcher claims: nothing checks them (an Ubuntu image while only Debian and Red Hat feeds exist). A scan
 * must say so rather than let "no vulnerabilities" read as a clean bill of health.
 */
export function uncoveredPackages(report: IndexReport, matchers: readonly Matcher[]): IndexedPackage[] {
  return indexedPackages(report).filter((p) => !matchers.some((m) => m.filter(p)));
}

export async function match(store: Store, matchers: readonly Matcher[], report: IndexReport): Promise<MatchResult> {
  const pkgs = indexedPackages(report);
  const jobs: { pkg: IndexedPackage; matcher: Matcher }[] = [];
  for (const pkg of pkgs) for (const matcher of matchers) if (matcher.filter(pkg)) jobs.push({ pkg, matcher });
  const found = await store.queryVulnerabilities(jobs.map((j) => j.matcher.query(j.pkg)));
  const packageVulnerabilities: Record<string, string[]> = {};
  const vulnerabilities = new Map<string, StoredVulnerability>();
  jobs.forEach(({ pkg, matcher }, i) => {
    for (const v of found[i] ?? []) {
      if (!matcher.vulnerable(pkg, v)) continue;
      const list = (packageVulnerabilities[pkg.id] ??= []);
      if (!list.includes(v.id)) list.push(v.id);
      vulnerabilities.set(v.id, v);
    }
  });
  for (const list of Object.values(packageVulnerabilities)) list.sort((a, b) => Number(a) - Number(b));
  return { packageVulnerabilities, vulnerabilities };
}
