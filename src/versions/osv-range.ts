// OSV affected ranges: the evaluation algorithm of the OSV schema (docs/schema.md, "Evaluation",
// https://ossf.github.io/osv-schema/#evaluation) over `SEMVER` and `ECOSYSTEM` ranges, with the
// ecosystem's order given by a VersionScheme (pypi, npm, go, maven, rubygems, cargo, or an OS scheme).
//
// Per range: the events sorted by version ("0" first); walking them, `introduced` <= v makes v vulnerable,
// `fixed` <= v or `last_affected` < v makes it not; the range only counts when v is below some `limit`
// (none means an implicit "*", infinity). A version is affected by an `affected[]` entry when it is in
// any range or equals an entry of `versions`. GIT ranges need the repository's commit graph and are not
// evaluated here (callers rely on the record's `versions` list for them, as the schema recommends).
//
// The schema leaves the order of events at the same version open. Here a `fixed` (or `last_affected`) and
// an `introduced` at one version cancel out: the walk keeps the state it had entering that version. Real
// records need this both ways: PYSEC-2022-236, PYSEC-2023-72 and PYSEC-2022-42972 write adjacent ranges
// ([0, 3.1.1) and [3.1.1, 3.1.3); [0.12.2, 0.13.0) and [0.13.0, 0.14.0rc1)), whose shared version is
// affected whichever order the record lists them in, while a lone `introduced 1.0`, `fixed 1.0` is empty.
// (Entering affected, the closing events apply first and the introduced reopens; entering unaffected, the
// introduced applies first and the closing events shut it again.)

import { ClairError } from '../model/errors.ts';
import type { VersionScheme } from './scheme.ts';

export type OsvEvent = { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

export interface OsvRange {
  type: string;
  events: readonly OsvEvent[];
}

export interface OsvAffected {
  ranges?: readonly OsvRange[];
  versions?: readonly string[];
}

type Kind = 'introduced' | 'last_affected' | 'fixed' | 'limit';

interface Ev {
  kind: Kind;
  version: string;
}

function decode(e: OsvEvent): Ev {
  const keys = Object.keys(e);
  const kind = keys[0];
  if (keys.length !== 1 || (kind !== 'introduced' && kind !== 'fixed' && kind !== 'last_affected' && kind !== 'limit')) {
    throw new ClairError('bad-input', `OSV event must have exactly one of introduced, fixed, last_affected, limit: ${JSON.stringify(e).slice(0, 200)}`);
  }
  const version = (e as Record<string, unknown>)[kind];
  if (typeof version !== 'string' || version === '') throw new ClairError('bad-input', `OSV event ${kind} is not a version string: ${JSON.stringify(e).slice(0, 200)}`);
  return { kind, version };
}

/** "0" for introduced sorts before every version; "*" in a limit is infinity. */
const isZero = (e: Ev) => e.kind === 'introduced' && e.version === '0';
const isInfinity = (e: Ev) => e.kind === 'limit' && e.version.includes('*');

function compareEvents(a: Ev, b: Ev, scheme: VersionScheme): number {
  const za = isZero(a), zb = isZero(b);
  const ia = isInfinity(a), ib = isInfinity(b);
  let c: number;
  if (za || zb) c = za && zb ? 0 : za ? -1 : 1;
  else if (ia || ib) c = ia && ib ? 0 : ia ? 1 : -1;
  else c = compareEvent(scheme, a, b);
  return c;
}

function compareEvent(scheme: VersionScheme, a: Ev, b: Ev): number {
  try {
    return scheme.compare(a.version, b.version);
  } catch (e) {
    throw new ClairError('bad-input', `OSV range: ${errorText(e)} (events ${a.kind} ${JSON.stringify(a.version)}, ${b.kind} ${JSON.stringify(b.version)})`, { cause: e });
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** v compared with an event's version; "0" and "*" handled. */
function cmpVersion(v: string, e: Ev, scheme: VersionScheme): number {
  if (isZero(e)) return 1;
  if (isInfinity(e)) return -1;
  try {
    return scheme.compare(v, e.version);
  } catch (err) {
    throw new ClairError('bad-input', `OSV range: ${errorText(err)} (comparing ${JSON.stringify(v)} with ${e.kind} ${JSON.stringify(e.version)})`, { cause: err });
  }
}

/**
 * True when `version` lies in the OSV range given by `events`, ordered by `scheme`. Throws
 * ClairError('bad-input') naming the string when the version or an event's version is not valid in the
 * scheme, or an event is malformed.
 */
export function affected(version: string, events: readonly OsvEvent[], scheme: VersionScheme): boolean {
  if (!scheme.isValid(version)) scheme.compare(version, version); // throws the scheme's own error
  const evs = events.map(decode);
  const limits = evs.filter((e) => e.kind === 'limit');
  if (limits.length > 0 && !limits.some((l) => cmpVersion(version, l, scheme) < 0)) return false;
  const sorted = evs.filter((e) => e.kind !== 'limit').sort((a, b) => compareEvents(a, b, scheme));
  let vulnerable = false;
  const apply = (e: Ev) => {
    const c = cmpVersion(version, e, scheme);
    if (e.kind === 'introduced') {
      if (c >= 0) vulnerable = true;
    } else if (e.kind === 'fixed') {
      if (c >= 0) vulnerable = false;
    } else if (c > 0) vulnerable = false; // last_affected
  };
  for (let i = 0; i < sorted.length; ) {
    // The group of events at one version (in the order compareEvents gives).
    let j = i + 1;
    while (j < sorted.length && compareEvents(sorted[i] as Ev, sorted[j] as Ev, scheme) === 0) j++;
    const group = sorted.slice(i, j);
    const introduced = group.filter((e) => e.kind === 'introduced');
    const closing = group.filter((e) => e.kind !== 'introduced');
    for (const e of vulnerable ? [...closing, ...introduced] : [...introduced, ...closing]) apply(e);
    i = j;
  }
  return vulnerable;
}

/**
 * The schema's IsVulnerable for one `affected[]` entry: in any SEMVER/ECOSYSTEM range or listed in
 * `versions` (equal as the scheme orders them, or as strings when the listed one is not a valid version).
 */
export function affectedByEntry(version: string, entry: OsvAffected, scheme: VersionScheme): boolean {
  for (const listed of entry.versions ?? []) {
    if (listed === version) return true;
    if (scheme.isValid(listed) && scheme.isValid(version) && scheme.compare(listed, version) === 0) return true;
  }
  for (const r of entry.ranges ?? []) {
    if (r.type !== 'SEMVER' && r.type !== 'ECOSYSTEM') continue;
    if (affected(version, r.events, scheme)) return true;
  }
  return false;
}
