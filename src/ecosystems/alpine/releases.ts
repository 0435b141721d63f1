import type { Distribution } from '../../model/distribution.ts';
import { apk2 } from '../../versions/apk2.ts';
import { apk3 } from '../../versions/apk3.ts';
import type { VersionScheme } from '../../versions/scheme.ts';

// Alpine releases are branches named by major.minor ("v3.20"); os-release's VERSION_ID is the point release
// ("3.20.3"). edge (the development branch) writes the release it will become with an _alpha suffix
// ("3.21.0_alpha20240923") and PRETTY_NAME "Alpine Linux edge".

/** The secdb branch of an Alpine image without its "v" ("3.20", or "edge"); undefined when the release is unknown. */
export function alpineBranch(d: Distribution): string | undefined {
  const id = d.versionId.trim();
  if (/\bedge\b/i.test(d.prettyName) || /_alpha|edge/i.test(id)) return 'edge';
  const m = /^(\d+)\.(\d+)(?:\.|$)/.exec(id);
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

/** The branch a secdb document names ("v3.20" → "3.20", "edge" → "edge"); undefined for anything else. */
export function secdbBranch(distroversion: string): string | undefined {
  const s = distroversion.trim();
  if (s === 'edge') return 'edge';
  const m = /^v?(\d+)\.(\d+)$/.exec(s);
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

/**
 * Alpine 3.23 (2025-12-03) moved to apk-tools 3 (its release notes: https://alpinelinux.org/posts/Alpine-3.23.0-released.html;
 * v3.23/main carries apk-tools 3.0.x), earlier releases ship apk-tools 2 (2.14 since 3.18). edge images say which
 * release they will become in VERSION_ID, so an edge image from before the switch compares as apk 2.
 */
export const FIRST_APK3_RELEASE: readonly [number, number] = [3, 23];

export function apkSchemeForRelease(versionId: string): VersionScheme {
  const m = /^(\d+)\.(\d+)/.exec(versionId.trim());
  // No number at all: an edge of today, which ships apk-tools 3.
  if (!m) return apk3;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const [fm, fn] = FIRST_APK3_RELEASE;
  return major > fm || (major === fm && minor >= fn) ? apk3 : apk2;
}

/** Branches of secdb.alpinelinux.org, oldest first; used when the site's index cannot be listed. */
export const SECDB_BRANCHES: readonly string[] = [
  ...Array.from({ length: 23 }, (_, i) => `v3.${i + 2}`),
  'edge',
];

export const SECDB_REPOSITORIES: readonly string[] = ['main', 'community'];

export const ALPINE_SECDB_URL = 'https://secdb.alpinelinux.org/';
