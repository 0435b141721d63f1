import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import type { IndexedPackage, Matcher } from '../../matcher/matcher.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import { dpkg } from '../../versions/dpkg.ts';
import { fixedVersionOf, UBUNTU_UPDATER } from './osv.ts';
import { ubuntuRelease } from './releases.ts';

// Matching dpkg-installed packages of an Ubuntu image against Canonical's records, as for Debian: by source package
// and release, dpkg versions, the source version (binNMU-style rebuilds compare as their source).

const sourceName = (p: IndexedPackage): string => p.package.source?.name || p.package.name;
const sourceVersion = (p: IndexedPackage): string => p.package.source?.version || p.package.version;

export const ubuntuMatcher: Matcher = {
  name: 'ubuntu',

  filter(p: IndexedPackage): boolean {
    const d = p.distribution;
    return d?.did === 'ubuntu' && p.package.packageDb.startsWith('var/lib/dpkg/') && ubuntuRelease(d) !== undefined;
  },

  query(p: IndexedPackage): VulnerabilityQuery {
    const release = p.distribution && ubuntuRelease(p.distribution);
    if (!release) throw new ClairError('internal', `ubuntu matcher: package ${p.package.name} ${p.package.version} has no Ubuntu release`);
    return { packageNames: [sourceName(p)], updaterPrefix: UBUNTU_UPDATER, dist: { did: 'ubuntu', versionId: release.versionId } };
  },

  /** Inside [introduced, fixed) or [introduced, last_affected]; a Pro-only fix compares by its version. */
  vulnerable(p: IndexedPackage, v: Vulnerability): boolean {
    const installed = sourceVersion(p);
    if (!dpkg.isValid(installed)) return false;
    if (v.range.introduced && dpkg.compare(installed, v.range.introduced) < 0) return false;
    if (v.range.lastAffected) return dpkg.compare(installed, v.range.lastAffected) <= 0;
    const fixed = fixedVersionOf(v.fixedInVersion);
    return fixed === '' || dpkg.compare(installed, fixed) < 0;
  },
};
