import type { Vulnerability } from '../../model/vulnerability.ts';
import { apk2 } from '../../versions/apk2.ts';

// Wolfi (ID=wolfi) and Chainguard OS (ID=chainguard) are rolling distributions without releases: VERSION_ID is a
// date and every image matches every record of its feed. Their packages are installed by apk-tools 2.14: Wolfi's
// own apk-tools package is 2.14.10 (wolfi-dev/os apk-tools.yaml, whose updater follows only "v2." tags), and
// Chainguard's images are built from the same packages, so both compare versions with apk2.

export const WOLFI_SCHEME = apk2;

export interface RollingApkDistro {
  /** os-release ID, updater and matcher name. */
  id: 'wolfi' | 'chainguard';
  name: string;
  defaultLocation: string;
}

export const WOLFI: RollingApkDistro = { id: 'wolfi', name: 'Wolfi', defaultLocation: 'https://packages.wolfi.dev/os/security.json' };
export const CHAINGUARD: RollingApkDistro = { id: 'chainguard', name: 'Chainguard', defaultLocation: 'https://packages.cgr.dev/chainguard/security.json' };

export function rollingDist(d: RollingApkDistro): Vulnerability['dist'] {
  return { did: d.id, versionId: '', versionCodeName: '', cpe: '', name: d.name, version: '', prettyName: d.name, arch: '' };
}

/** The public page of an issue id: CVE records at cve.org, GHSA at GitHub; nothing for ids without one. */
export function issueLink(id: string): string {
  if (/^CVE-\d+-\d+$/.test(id)) return `https://www.cve.org/CVERecord?id=${id}`;
  if (/^GHSA(-[0-9a-z]{4}){3}$/.test(id)) return `https://github.com/advisories/${id}`;
  return '';
}
