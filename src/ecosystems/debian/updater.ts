import type { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import type { Updater } from '../../updater/updater.ts';
import { dpkg } from '../../versions/dpkg.ts';
import { readTrackerJson, type TrackerIssue, type TrackerRelease } from './tracker-json.ts';
import { normalizeUrgency } from './severity.ts';

// The Debian security tracker feed → one record per (source package, issue, release) that can affect someone.
//
// Status rules (the tracker's JSON has three statuses; not-affected is written as resolved with fixed_version "0"):
//   resolved + fixed_version "0"  → never affected: no record
//   resolved + fixed_version V    → affected before V: record with fixedInVersion V
//   resolved without fixed_version → no record (nothing to compare against; Clair v2 skipped these too)
//   open                          → affected, no fix yet: record with fixedInVersion ""
//   undetermined / not-affected   → no record (not known to affect anyone)
//   anything else                 → bad-feed: a status we do not understand must not silently hide or invent issues
// TEMP-… ids (issues the tracker knows before a CVE is assigned) are kept, as claircore does: they are real issues
// with a tracker page, and dropping them would hide known vulnerabilities. The id changes once a CVE is assigned.

export const TRACKER_JSON_URL = 'https://security-tracker.debian.org/tracker/data/json';
const TRACKER_PAGE = 'https://security-tracker.debian.org/tracker/';

/** Debian releases by codename, oldest first (distro-info-data's debian.csv). */
export const DEBIAN_RELEASES: readonly { codename: string; versionId: string }[] = [
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

type Dist = Vulnerability['dist'];
const distCache = new Map<string, Dist>();

function distFor(codename: string): Dist {
  let d = distCache.get(codename);
  if (!d) {
    const versionId = debianVersionId(codename);
    d = {
      did: 'debian',
      versionId,
      versionCodeName: codename,
      cpe: '',
      name: 'Debian GNU/Linux',
      // As os-release writes them for that release, so reports show the same text for image and record.
      version: versionId ? `${versionId} (${codename})` : '',
      prettyName: versionId ? `Debian GNU/Linux ${versionId} (${codename})` : '',
      arch: '',
    };
    distCache.set(codename, d);
  }
  // A copy per record: consumers may keep or change records independently.
  return { ...d };
}

const NOT_AFFECTING = new Set(['undetermined', 'not-affected']);

/** The record for one release entry, or undefined when it affects no one; bad-feed for what cannot be read. */
function recordFor(source: string, issue: TrackerIssue, rel: TrackerRelease, location: string): Vulnerability | undefined {
  let fixedInVersion: string;
  if (rel.status === 'open') {
    fixedInVersion = '';
  } else if (rel.status === 'resolved') {
    const fixed = rel.fixedVersion;
    if (fixed === undefined || fixed === '' || fixed === '0') return undefined;
    if (!dpkg.isValid(fixed)) {
      throw new ClairError('bad-feed', `${location}: package "${source}" ${issue.id} release "${rel.codename}": fixed_version ${JSON.stringify(fixed)} is not a dpkg version`);
    }
    fixedInVersion = fixed;
  } else if (NOT_AFFECTING.has(rel.status)) {
    return undefined;
  } else {
    throw new ClairError('bad-feed', `${location}: package "${source}" ${issue.id} release "${rel.codename}": unknown status ${JSON.stringify(rel.status)}`);
  }
  return newVulnerability({
    updater: 'debian',
    name: issue.id,
    description: issue.description,
    links: TRACKER_PAGE + issue.id,
    severity: rel.urgency,
    normalizedSeverity: normalizeUrgency(rel.urgency),
    package: { name: source, kind: 'source', module: '', arch: '' },
    dist: distFor(rel.codename),
    fixedInVersion,
    versionScheme: 'dpkg',
  });
}

/** All records of a tracker feed, as the bytes arrive. */
export async function* debianRecords(feed: AsyncIterable<Uint8Array | string>, location: string): AsyncGenerator<Vulnerability> {
  for await (const pkg of readTrackerJson(feed, location)) {
    for (const issue of pkg.issues) {
      for (const rel of issue.releases) {
        const v = recordFor(pkg.name, issue, rel, location);
        if (v) yield v;
      }
    }
  }
}

export const debianUpdater: Updater = {
  name: 'debian',
  version: '1',
  defaultLocation: TRACKER_JSON_URL,
  parse(feed: Readable, opts) {
    return debianRecords(feed, opts.location);
  },
};
