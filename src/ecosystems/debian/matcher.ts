import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { dpkg } from '../../versions/dpkg.ts';
import type { IndexedPackage, Matcher } from '../../matcher/matcher.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import { debianCodename } from './releases.ts';

// Matching dpkg-installed packages of a Debian image against the security tracker's records. The tracker speaks of
// source packages and source versions, so both sides of the comparison are the source: a binary's own version can
// differ (binNMU "+b1" rebuilds, or binaries whose version is not the source's, `Source: name (version)`).

function sourceName(p: IndexedPackage): string {
  return p.package.source?.name || p.package.name;
}

function sourceVersion(p: IndexedPackage): string {
  return p.package.source?.version || p.package.version;
}

export const debianMatcher: Matcher = {
  name: 'debian',

  /** dpkg-installed packages of a Debian image whose release we can name (else every release's records would match). */
  filter(p: IndexedPackage): boolean {
    const dist = p.distribution;
    return dist?.did === 'debian' && p.package.packageDb.startsWith('var/lib/dpkg/') && debianCodename(dist) !== undefined;
  },

  query(p: IndexedPackage): VulnerabilityQuery {
    const codename = p.distribution && debianCodename(p.distribution);
    // Without a release the query would match every release's records: only packages filter() accepted come here.
    if (!codename) throw new ClairError('internal', `debian matcher: package ${p.package.name} ${p.package.version} has no Debian release`);
    return { packageNames: [sourceName(p)], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: codename } };
  },

  /** Open issues (no fixed version) affect every version; otherwise versions before the fix do. */
  vulnerable(p: IndexedPackage, v: Vulnerability): boolean {
    if (v.fixedInVersion === '') return true;
    return dpkg.compare(sourceVersion(p), v.fixedInVersion) < 0;
  },
};
