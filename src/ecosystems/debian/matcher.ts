import type { Distribution } from '../../model/distribution.ts';
import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { dpkg } from '../../versions/dpkg.ts';
import type { IndexedPackage, Matcher } from '../../matcher/matcher.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import { DEBIAN_RELEASES } from './updater.ts';

// Matching dpkg-installed packages of a Debian image against the security tracker's records. The tracker speaks of
// source packages and source versions, so both sides of the comparison are the source: a binary's own version can
// differ (binNMU "+b1" rebuilds, or binaries whose version is not the source's, `Source: name (version)`).

const CODENAME_BY_VERSION_ID = new Map(DEBIAN_RELEASES.map((r) => [r.versionId, r.codename]));

/**
 * The release codename of a Debian distribution: VERSION_CODENAME; else the "(jessie)" in VERSION (Debian 7/8
 * os-release has no VERSION_CODENAME); else the codename of VERSION_ID ("8", or "8.11" read as its major release).
 * Undefined when none of these names a release.
 */
export function debianCodename(dist: Distribution): string | undefined {
  const named = dist.versionCodeName.trim().toLowerCase();
  if (named) return named;
  const inVersion = /\(([a-z]+)\)/.exec(dist.version.toLowerCase())?.[1];
  if (inVersion) return inVersion;
  const id = dist.versionId.trim();
  if (!id) return undefined;
  const exact = CODENAME_BY_VERSION_ID.get(id);
  if (exact) return exact;
  // Releases from 7 on are numbered by their major version only; older ones by "major.minor".
  const major = id.split('.')[0]!;
  return Number(major) >= 7 ? CODENAME_BY_VERSION_ID.get(major) : undefined;
}

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
