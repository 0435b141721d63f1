import type { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import type { Updater } from '../../updater/updater.ts';
import { dpkg } from '../../versions/dpkg.ts';
import { readTrackerJson, type TrackerIssue, type TrackerRelease } from './tracker-json.ts';
import { debianVersionId } from './releases.ts';
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

type Dist = Vulnerability['dist'];

/** A new object per record: consumers may keep or change records independently. */
function distFor(codename: string): Dist {
  const versionId = debianVersionId(codename);
  return {
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
