import { ClairError } from '../../model/errors.ts';
import type { Distribution } from '../../model/distribution.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import type { VersionScheme } from '../../versions/scheme.ts';
import type { IndexedPackage, Matcher } from '../../matcher/matcher.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import { APK_INSTALLED_DB } from './installed-db.ts';

// Matching apk-installed packages against secdb records: by origin (secdb is keyed by the aports package, so every
// subpackage — libcrypto3, libssl3 of openssl — inherits its origin's issues) and release, with the apk ordering of
// the image's apk-tools generation. A record affects versions before its fixed version.

export interface ApkMatcherOptions {
  name: string;
  /** os-release ID of the distribution. */
  did: string;
  /** Updater whose records apply. */
  updaterPrefix: string;
  /** The release to match records of ("3.20"); undefined when the image's release cannot be told (not matched). */
  release: (d: Distribution) => string | undefined;
  /** The ordering the image's apk-tools uses. */
  scheme: (d: Distribution) => VersionScheme;
}

export function apkMatcher(o: ApkMatcherOptions): Matcher {
  const origin = (p: IndexedPackage): string => p.package.source?.name || p.package.name;
  return {
    name: o.name,
    filter(p: IndexedPackage): boolean {
      const d = p.distribution;
      return d?.did === o.did && p.package.packageDb === APK_INSTALLED_DB && o.release(d) !== undefined;
    },
    query(p: IndexedPackage): VulnerabilityQuery {
      const release = p.distribution && o.release(p.distribution);
      if (release === undefined) throw new ClairError('internal', `${o.name} matcher: package ${p.package.name} ${p.package.version} has no release`);
      return { packageNames: [origin(p)], updaterPrefix: o.updaterPrefix, dist: { did: o.did, ...(release ? { versionId: release } : {}) } };
    },
    vulnerable(p: IndexedPackage, v: Vulnerability): boolean {
      if (v.fixedInVersion === '') return true;
      return o.scheme(p.distribution!).compare(p.package.version, v.fixedInVersion) < 0;
    },
  };
}
