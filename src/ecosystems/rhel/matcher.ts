import type { IndexedPackage, Matcher } from '../../matcher/matcher.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { rpmverCmp } from '../../versions/rpm.ts';
import { cpeMatches, cpeMatchesRelease, parseCpe, type Cpe } from './cpe.ts';
import { RHEL_CPE_REPOSITORY_KEY, RHEL_VEX_UPDATER } from './csaf-vex.ts';
import { RPMDB_DIRS } from '../rpm/scanner.ts';

// Red Hat VEX matching (claircore rhel Matcher): an rpm package of a Red Hat image against records for the same
// package name, the same module stream, and a product stream (CPE) the image's repositories belong to; then the
// EVR decides. The store query narrows by package name and updater; the CPE test happens here, because a record
// names one CPE and an image several (VulnerabilityQuery has no CPE field, and no index is needed: the package-name
// index already leaves only the few records of that package).

/** The CPEs that describe where a package came from: its content-manifest repositories, else its release. */
function imageCpes(p: IndexedPackage): { repos: Cpe[]; release?: Cpe } {
  const repos = p.repositories
    .filter((r) => r.key === RHEL_CPE_REPOSITORY_KEY && r.cpe)
    .map((r) => parseCpe(r.cpe))
    .filter((c): c is Cpe => c !== undefined);
  const d = p.distribution;
  let release = d?.cpe ? parseCpe(d.cpe) : undefined;
  // A RHEL release file without a CPE still names the product: RHEL's own CPE for that major version.
  if (!release && d?.did === 'rhel' && d.versionId) release = parseCpe(`cpe:/o:redhat:enterprise_linux:${d.versionId.split('.')[0]}`);
  return { repos, ...(release ? { release } : {}) };
}

function isRedHat(p: IndexedPackage): boolean {
  const { repos, release } = imageCpes(p);
  return repos.some((c) => c.vendor === 'redhat') || release?.vendor === 'redhat';
}

export const rhelMatcher: Matcher = {
  name: 'rhel',
  // Only rpms of Red Hat content: CentOS, Rocky, Alma, Fedora, Oracle and Amazon rebuild with other versions,
  // and Red Hat's VEX says nothing about them.
  filter: (p) => RPMDB_DIRS.some((d) => p.package.packageDb.startsWith(d)) && isRedHat(p),
  query(p): VulnerabilityQuery {
    const names = new Set([p.package.name]);
    if (p.package.source?.name) names.add(p.package.source.name);
    return { packageNames: [...names], updaterPrefix: RHEL_VEX_UPDATER };
  },
  vulnerable: (p, v) => rhelVulnerable(p, v),
};

export function rhelVulnerable(p: IndexedPackage, v: Vulnerability): boolean {
  const pkg = p.package;
  // Fixed records name the binary rpm; known_affected ones name a component, binary or source.
  const nameOk = v.package.name === pkg.name || (v.package.kind === 'source' && v.package.name === pkg.source?.name);
  if (!nameOk) return false;
  if (v.package.module !== pkg.module) return false;
  if (v.package.arch && !v.package.arch.split('|').includes(pkg.arch)) return false;
  const recordCpe = parseCpe(v.repo.cpe);
  if (!recordCpe) return false;
  const { repos, release } = imageCpes(p);
  const where = repos.length > 0 ? repos.some((c) => cpeMatches(recordCpe, c)) : release !== undefined && cpeMatchesRelease(recordCpe, release);
  if (!where) return false;
  if (!v.fixedInVersion) return true;
  try {
    return rpmverCmp(pkg.version, v.fixedInVersion) < 0;
  } catch {
    // An EVR rpm itself would not produce: no decision can be made, so no finding.
    return false;
  }
}
