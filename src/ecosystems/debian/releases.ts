import type { Distribution } from '../../model/distribution.ts';

// The Debian releases clair-ts can name, and how an image's os-release and the tracker's codenames map onto them.

/** Debian releases by codename, oldest first (distro-info-data's debian.csv). */
const DEBIAN_RELEASES: readonly { codename: string; versionId: string }[] = [
  { codename: 'buzz', versionId: '1.1' },
  { codename: 'rex', versionId: '1.2' },
  { codename: 'bo', versionId: '1.3' },
  { codename: 'hamm', versionId: '2.0' },
  { codename: 'slink', versionId: '2.1' },
  { codename: 'potato', versionId: '2.2' },
  { codename: 'woody', versionId: '3.0' },
  { codename: 'sarge', versionId: '3.1' },
  { codename: 'etch', versionId: '4.0' },
  { codename: 'lenny', versionId: '5.0' },
  { codename: 'squeeze', versionId: '6.0' },
  { codename: 'wheezy', versionId: '7' },
  { codename: 'jessie', versionId: '8' },
  { codename: 'stretch', versionId: '9' },
  { codename: 'buster', versionId: '10' },
  { codename: 'bullseye', versionId: '11' },
  { codename: 'bookworm', versionId: '12' },
  { codename: 'trixie', versionId: '13' },
  { codename: 'forky', versionId: '14' },
  { codename: 'duke', versionId: '15' },
];

const VERSION_ID_BY_CODENAME = new Map(DEBIAN_RELEASES.map((r) => [r.codename, r.versionId]));

/** The numeric release of a codename; "" for sid, experimental and codenames we do not know. */
export function debianVersionId(codename: string): string {
  return VERSION_ID_BY_CODENAME.get(codename) ?? '';
}

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
