import type { IndexReport } from '../model/index-report.ts';
import { indexedPackages, type IndexedPackage, type Matcher } from './matcher.ts';
import type { Store, StoredVulnerability } from '../store/store.ts';
import { errorMessage } from '../model/errors.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import type { VulnerabilityQuery } from './vulnerability-query.ts';

// The matching engine: each package goes to the matchers that claim it; their queries are sent to the store in one
// batch (indexed lookups by package name and release, never a scan of the feed), and each candidate record gets the
// matcher's exact version decision.

export interface MatchResult {
  /** Package id → ids of the vulnerabilities affecting it. */
  packageVulnerabilities: Record<string, string[]>;
  vulnerabilities: Map<string, StoredVulnerability>;
  /**
   * Decisions a matcher could not make (an installed version or a record's version its scheme refuses): that package
   * against that record is left out and said here, the rest of the report stands.
   */
  warnings: string[];
}

/** At most this many warnings are listed; the rest are counted. */
const MAX_WARNINGS = 20;

/**
 * Packages no matcher claims: nothing checks them (an Ubuntu image while only Debian and Red Hat feeds exist). A scan
 * must say so rather than let "no vulnerabilities" read as a clean bill of health.
 */
export function uncoveredPackages(report: IndexReport, matchers: readonly Matcher[]): IndexedPackage[] {
  // A language package an OS package owns is checked through its owner (language matchers leave it to the OS feed).
  return indexedPackages(report).filter((p) => p.package.ownedBy === undefined && !matchers.some((m) => m.filter(p)));
}

/**
 * The matcher's decision, with its failure contained: a version the scheme refuses (`Source: bash (:::)` in an
 * image, or a malformed fixed version in a feed) costs this one package-record decision, which counts as "not
 * affected" and is reported through onError; never the report, the scan or every notification of every manifest.
 */
export function decide(
  matcher: Matcher, pkg: IndexedPackage, v: Vulnerability, onError: (e: unknown) => void,
  decision: () => boolean = () => matcher.vulnerable(pkg, v),
): boolean {
  try {
    return decision();
  } catch (e) {
    onError(e);
    return false;
  }
}

export async function match(store: Store, matchers: readonly Matcher[], report: IndexReport): Promise<MatchResult> {
  const pkgs = indexedPackages(report);
  const jobs: { pkg: IndexedPackage; matcher: Matcher; query: number }[] = [];
  const warnings: string[] = [];
  let undecided = 0;
  const warn = (matcher: Matcher, pkg: IndexedPackage, what: string, e: unknown) => {
    if (undecided++ < MAX_WARNINGS) warnings.push(`${matcher.name}: package ${pkg.package.name} ${pkg.package.version}${what}: ${errorMessage(e)}`);
  };
  // filter() and query() are contained like vulnerable(): a matcher that cannot handle a package skips it, saying so.
  // Equal queries are sent once: the binaries of one source package (a Debian image's 900 packages come from about
  // half as many sources) all ask for the source's records, and each candidate record costs a read and a decode.
  const queries: VulnerabilityQuery[] = [];
  const queryIndex = new Map<string, number>();
  for (const pkg of pkgs) {
    for (const matcher of matchers) {
      try {
        if (!matcher.filter(pkg)) continue;
        let q = matcher.query(pkg);
        // An empty name asks for nothing: enrichment records share the record table with an empty package name.
        if (q.packageNames.includes('')) q = { ...q, packageNames: q.packageNames.filter((n) => n !== '') };
        const key = JSON.stringify([q.packageNames, q.updaterPrefix, q.dist?.did, q.dist?.versionId, q.dist?.versionCodeName]);
        let query = queryIndex.get(key);
        if (query === undefined) {
          queryIndex.set(key, (query = queries.length));
          queries.push(q);
        }
        jobs.push({ pkg, matcher, query });
      } catch (e) {
        warn(matcher, pkg, '', e);
      }
    }
  }
  const found = await store.queryVulnerabilities(queries);
  // Per package a set, not list.includes: a package with 1M candidate records was quadratic (100k took 35 s).
  const byPackage = new Map<string, Set<string>>();
  const vulnerabilities = new Map<string, StoredVulnerability>();
  for (const { pkg, matcher, query } of jobs) {
    for (const v of found[query] ?? []) {
      const hit = decide(matcher, pkg, v, (e) => warn(matcher, pkg, ` against ${v.name}`, e));
      if (!hit) continue;
      let set = byPackage.get(pkg.id);
      if (!set) byPackage.set(pkg.id, (set = new Set()));
      set.add(v.id);
      vulnerabilities.set(v.id, v);
    }
  }
  if (undecided > MAX_WARNINGS) warnings.push(`${undecided - MAX_WARNINGS} more decisions could not be made`);
  const packageVulnerabilities: Record<string, string[]> = {};
  for (const [id, set] of byPackage) packageVulnerabilities[id] = [...set].sort((a, b) => Number(a) - Number(b));
  return { packageVulnerabilities, vulnerabilities, warnings };
}
