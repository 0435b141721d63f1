import type { Distribution } from '../../model/distribution.ts';

// Ubuntu releases, oldest first: distro-info-data's ubuntu.csv (version, codename, full name; "LTS" in the version
// column marks long-term support). Canonical's OSV names a release by version ("Ubuntu:22.04:LTS"), images by both.

export interface UbuntuRelease {
  versionId: string;
  codename: string;
  name: string;
  lts: boolean;
}

export const UBUNTU_RELEASES: readonly UbuntuRelease[] = [
  { versionId: '4.10', codename: 'warty', name: 'Warty Warthog', lts: false },
  { versionId: '5.04', codename: 'hoary', name: 'Hoary Hedgehog', lts: false },
  { versionId: '5.10', codename: 'breezy', name: 'Breezy Badger', lts: false },
  { versionId: '6.06', codename: 'dapper', name: 'Dapper Drake', lts: true },
  { versionId: '6.10', codename: 'edgy', name: 'Edgy Eft', lts: false },
  { versionId: '7.04', codename: 'feisty', name: 'Feisty Fawn', lts: false },
  { versionId: '7.10', codename: 'gutsy', name: 'Gutsy Gibbon', lts: false },
  { versionId: '8.04', codename: 'hardy', name: 'Hardy Heron', lts: true },
  { versionId: '8.10', codename: 'intrepid', name: 'Intrepid Ibex', lts: false },
  { versionId: '9.04', codename: 'jaunty', name: 'Jaunty Jackalope', lts: false },
  { versionId: '9.10', codename: 'karmic', name: 'Karmic Koala', lts: false },
  { versionId: '10.04', codename: 'lucid', name: 'Lucid Lynx', lts: true },
  { versionId: '10.10', codename: 'maverick', name: 'Maverick Meerkat', lts: false },
  { versionId: '11.04', codename: 'natty', name: 'Natty Narwhal', lts: false },
  { versionId: '11.10', codename: 'oneiric', name: 'Oneiric Ocelot', lts: false },
  { versionId: '12.04', codename: 'precise', name: 'Precise Pangolin', lts: true },
  { versionId: '12.10', codename: 'quantal', name: 'Quantal Quetzal', lts: false },
  { versionId: '13.04', codename: 'raring', name: 'Raring Ringtail', lts: false },
  { versionId: '13.10', codename: 'saucy', name: 'Saucy Salamander', lts: false },
  { versionId: '14.04', codename: 'trusty', name: 'Trusty Tahr', lts: true },
  { versionId: '14.10', codename: 'utopic', name: 'Utopic Unicorn', lts: false },
  { versionId: '15.04', codename: 'vivid', name: 'Vivid Vervet', lts: false },
  { versionId: '15.10', codename: 'wily', name: 'Wily Werewolf', lts: false },
  { versionId: '16.04', codename: 'xenial', name: 'Xenial Xerus', lts: true },
  { versionId: '16.10', codename: 'yakkety', name: 'Yakkety Yak', lts: false },
  { versionId: '17.04', codename: 'zesty', name: 'Zesty Zapus', lts: false },
  { versionId: '17.10', codename: 'artful', name: 'Artful Aardvark', lts: false },
  { versionId: '18.04', codename: 'bionic', name: 'Bionic Beaver', lts: true },
  { versionId: '18.10', codename: 'cosmic', name: 'Cosmic Cuttlefish', lts: false },
  { versionId: '19.04', codename: 'disco', name: 'Disco Dingo', lts: false },
  { versionId: '19.10', codename: 'eoan', name: 'Eoan Ermine', lts: false },
  { versionId: '20.04', codename: 'focal', name: 'Focal Fossa', lts: true },
  { versionId: '20.10', codename: 'groovy', name: 'Groovy Gorilla', lts: false },
  { versionId: '21.04', codename: 'hirsute', name: 'Hirsute Hippo', lts: false },
  { versionId: '21.10', codename: 'impish', name: 'Impish Indri', lts: false },
  { versionId: '22.04', codename: 'jammy', name: 'Jammy Jellyfish', lts: true },
  { versionId: '22.10', codename: 'kinetic', name: 'Kinetic Kudu', lts: false },
  { versionId: '23.04', codename: 'lunar', name: 'Lunar Lobster', lts: false },
  { versionId: '23.10', codename: 'mantic', name: 'Mantic Minotaur', lts: false },
  { versionId: '24.04', codename: 'noble', name: 'Noble Numbat', lts: true },
  { versionId: '24.10', codename: 'oracular', name: 'Oracular Oriole', lts: false },
  { versionId: '25.04', codename: 'plucky', name: 'Plucky Puffin', lts: false },
  { versionId: '25.10', codename: 'questing', name: 'Questing Quokka', lts: false },
  { versionId: '26.04', codename: 'resolute', name: 'Resolute Raccoon', lts: true },
  { versionId: '26.10', codename: 'stonking', name: 'Stonking Stingray', lts: false },
];

const BY_VERSION = new Map(UBUNTU_RELEASES.map((r) => [r.versionId, r]));
const BY_CODENAME = new Map(UBUNTU_RELEASES.map((r) => [r.codename, r]));

/** The release of a version number ("22.04"; "22.04.4" is read as 22.04); undefined when unknown. */
export function ubuntuReleaseByVersion(versionId: string): UbuntuRelease | undefined {
  return BY_VERSION.get(/^\d+\.\d+/.exec(versionId.trim())?.[0] ?? '');
}

/**
 * The release of an Ubuntu image: VERSION_ID (os-release) or DISTRIB_RELEASE (lsb-release), else its codename.
 * A release newer than this table is still matched by its version number; LTS then comes from "LTS" in VERSION.
 */
export function ubuntuRelease(d: Distribution): UbuntuRelease | undefined {
  const known = ubuntuReleaseByVersion(d.versionId) ?? BY_CODENAME.get(d.versionCodeName.trim().toLowerCase());
  if (known) return known;
  const versionId = /^\d+\.\d+/.exec(d.versionId.trim())?.[0];
  if (!versionId) return undefined;
  return { versionId, codename: d.versionCodeName.trim().toLowerCase(), name: '', lts: /\bLTS\b/.test(d.version) || /\bLTS\b/.test(d.prettyName) };
}
