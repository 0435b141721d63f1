// RPM version ordering: librpm's rpmvercmp() (rpmio/rpmvercmp.c) for one version or release string, and
// EVR ("[epoch:]version[-release]") comparison as rpmverCmp()/parseEVR() in rpmio/rpmver.c and lib/rpmds.c,
// checked against librpm 4.18 (scripts/gen-rpm-vectors.ts).
//
// EVR rules, as in librpm: the epoch is the run of leading digits when a ':' follows it ("" counts as 0,
// a missing epoch is 0, and epochs compare like rpmvercmp, so "01" == "1"); the release is everything after
// the last '-'. A missing release sorts before every release, even "~1" (rpmverCmp's compare_values), which
// keeps the order total. `rpm.compare` is exactly librpm's rpmverCmp. Dependency ranges in rpm (rpmverOverlap,
// rpmdsCompare) instead ignore the release when either side has none, so "foo >= 1.2" accepts 1.2-1:
// `compareEVRReleaseOptional` gives that (non-transitive) comparison for matchers that want it.
//
// Validity: librpm accepts any non-empty string. We also reject whitespace and control characters, an empty
// version ("1:", "-1") and an empty release ("1.0-"), none of which rpmbuild can produce.

import { ClairError } from '../model/errors.ts';
import type { VersionScheme } from './scheme.ts';

export interface EVR {
  /** 0 when missing. */
  epoch: number;
  version: string;
  /** undefined when the string has no '-'. */
  release: string | undefined;
}

const C_0 = 48;
const C_9 = 57;
const C_TILDE = 126;
const C_CARET = 94;
const C_COLON = 58;
const C_HYPHEN = 45;

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** rpmvercmp() over a[ai..ae) and b[bi..be): alphanumeric segments, '~' and '^' as in librpm. */
function vercmp(a: string, ai: number, ae: number, b: string, bi: number, be: number): -1 | 0 | 1 {
  while (ai < ae || bi < be) {
    // Skip separators: everything but ASCII letters, digits, '~' and '^'.
    let ca = 0;
    while (ai < ae) {
      ca = a.charCodeAt(ai);
      if (isDigit(ca) || isAlpha(ca) || ca === C_TILDE || ca === C_CARET) break;
      ai++;
    }
    if (ai >= ae) ca = 0;
    let cb = 0;
    while (bi < be) {
      cb = b.charCodeAt(bi);
      if (isDigit(cb) || isAlpha(cb) || cb === C_TILDE || cb === C_CARET) break;
      bi++;
    }
    if (bi >= be) cb = 0;

    // '~' sorts before everything, even the end of the string.
    if (ca === C_TILDE || cb === C_TILDE) {
      if (ca !== C_TILDE) return 1;
      if (cb !== C_TILDE) return -1;
      ai++;
      bi++;
      continue;
    }
    // '^' sorts after the end of the string but before anything else.
    if (ca === C_CARET || cb === C_CARET) {
      if (ca === 0) return -1;
      if (cb === 0) return 1;
      if (ca !== C_CARET) return 1;
      if (cb !== C_CARET) return -1;
      ai++;
      bi++;
      continue;
    }
    if (ca === 0 || cb === 0) break;

    let sa = ai;
    let sb = bi;
    const isNum = isDigit(ca);
    if (isNum) {
      while (sa < ae && isDigit(a.charCodeAt(sa))) sa++;
      while (sb < be && isDigit(b.charCodeAt(sb))) sb++;
    } else {
      while (sa < ae && isAlpha(a.charCodeAt(sa))) sa++;
      while (sb < be && isAlpha(b.charCodeAt(sb))) sb++;
    }
    // Segments of different types: numeric is newer than alpha.
    if (sb === bi) return isNum ? 1 : -1;
    if (isNum) {
      while (ai < sa && a.charCodeAt(ai) === C_0) ai++;
      while (bi < sb && b.charCodeAt(bi) === C_0) bi++;
      const la = sa - ai;
      const lb = sb - bi;
      if (la !== lb) return la > lb ? 1 : -1;
    }
    // strcmp() of the two segments.
    const la = sa - ai;
    const lb = sb - bi;
    const n = la < lb ? la : lb;
    for (let k = 0; k < n; k++) {
      const d = a.charCodeAt(ai + k) - b.charCodeAt(bi + k);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    if (la !== lb) return la < lb ? -1 : 1;
    ai = sa;
    bi = sb;
  }
  if (ai >= ae && bi >= be) return 0;
  return ai >= ae ? -1 : 1;
}

/** librpm's rpmvercmp() on two version (or release) strings; no EVR splitting, no validation. */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  return vercmp(a, 0, a.length, b, 0, b.length);
}

// Result of the last scan(): positions into the scanned string. Module-level so the hot compare path
// allocates nothing; scan() is synchronous and never re-entered.
let sEpochEnd = 0; // epoch is [0, sEpochEnd); 0 when missing or empty
let sVerStart = 0;
let sVerEnd = 0;
let sRelStart = -1; // -1 when there is no release

/** parseEVR()'s split, plus our validity rules. Returns null when valid, else the reason. */
function scan(s: string): string | null {
  const n = s.length;
  if (n === 0) return 'empty version';
  let i = 0;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  let hyphen = -1;
  for (let k = i; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c <= 32 || c === 127) return 'contains whitespace or a control character';
    if (c === C_HYPHEN) hyphen = k;
  }
  if (i < n && s.charCodeAt(i) === C_COLON) {
    sEpochEnd = i;
    sVerStart = i + 1;
  } else {
    sEpochEnd = 0;
    sVerStart = 0;
  }
  if (hyphen >= 0) {
    sVerEnd = hyphen;
    sRelStart = hyphen + 1;
    if (sRelStart === n) return 'empty release after "-"';
  } else {
    sVerEnd = n;
    sRelStart = -1;
  }
  if (sVerEnd <= sVerStart) return 'empty version part';
  return null;
}

/** Epochs are digit strings: compare numerically without overflow (rpmvercmp on digits does the same). */
function compareDigits(a: string, ae: number, b: string, be: number): -1 | 0 | 1 {
  let ai = 0;
  let bi = 0;
  while (ai < ae && a.charCodeAt(ai) === C_0) ai++;
  while (bi < be && b.charCodeAt(bi) === C_0) bi++;
  if (ae - ai !== be - bi) return ae - ai > be - bi ? 1 : -1;
  for (; ai < ae; ai++, bi++) {
    const d = a.charCodeAt(ai) - b.charCodeAt(bi);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function badVersion(v: string, reason: string): ClairError {
  return new ClairError('bad-input', `invalid rpm version ${JSON.stringify(v)}: ${reason}`);
}

function compareStrings(a: string, b: string, releaseOptional: boolean): -1 | 0 | 1 {
  const errA = scan(a);
  if (errA !== null) throw badVersion(a, errA);
  const aEpochEnd = sEpochEnd;
  const aVerStart = sVerStart;
  const aVerEnd = sVerEnd;
  const aRelStart = sRelStart;
  const errB = scan(b);
  if (errB !== null) throw badVersion(b, errB);
  if (a === b) return 0;
  const e = compareDigits(a, aEpochEnd, b, sEpochEnd);
  if (e !== 0) return e;
  const v = vercmp(a, aVerStart, aVerEnd, b, sVerStart, sVerEnd);
  if (v !== 0) return v;
  if (releaseOptional) {
    // rpmverOverlap: releases compare only when both are present and non-empty.
    if (aRelStart < 0 || sRelStart < 0 || aRelStart === a.length || sRelStart === b.length) return 0;
  } else if (aRelStart < 0 || sRelStart < 0) {
    // rpmverCmp's compare_values: NULL == NULL, NULL < anything.
    if (aRelStart === sRelStart) return 0;
    return aRelStart < 0 ? -1 : 1;
  }
  return vercmp(a, aRelStart, a.length, b, sRelStart, b.length);
}

/** librpm's rpmverCmp() over two EVR strings: a total order. Throws ClairError('bad-input') for an invalid EVR. */
export function rpmverCmp(a: string, b: string): -1 | 0 | 1 {
  return compareStrings(a, b, false);
}

/**
 * The comparison inside rpm's dependency-range check (rpmverOverlap): like rpmverCmp, but when either side
 * has no release the releases are not compared, so "1.2" equals "1.2-1" and "1.2-2". Not transitive: use it
 * for "is this installed EVR inside that range" questions, never for sorting.
 */
export function compareEVRReleaseOptional(a: string, b: string): -1 | 0 | 1 {
  return compareStrings(a, b, true);
}

/** Split "[epoch:]version[-release]" as librpm's parseEVR does. Throws ClairError('bad-input') when invalid. */
export function parseEVR(s: string): EVR {
  const err = scan(s);
  if (err !== null) throw badVersion(s, err);
  return {
    epoch: sEpochEnd === 0 ? 0 : Number(s.slice(0, sEpochEnd)),
    version: s.slice(sVerStart, sVerEnd),
    release: sRelStart < 0 ? undefined : s.slice(sRelStart),
  };
}

/** The EVR string for parts (epoch omitted when 0). */
export function formatEVR(evr: EVR): string {
  const e = evr.epoch === 0 ? '' : `${evr.epoch}:`;
  return evr.release === undefined ? `${e}${evr.version}` : `${e}${evr.version}-${evr.release}`;
}

/** rpmverCmp over already-split parts. */
export function compareEVR(a: EVR, b: EVR): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === undefined || b.release === undefined) {
    if (a.release === b.release) return 0;
    return a.release === undefined ? -1 : 1;
  }
  return rpmvercmp(a.release, b.release);
}

export const rpm: VersionScheme = {
  id: 'rpm',
  url: 'https://github.com/rpm-software-management/rpm/blob/master/rpmio/rpmvercmp.c',
  isValid(v: string): boolean {
    return scan(v) === null;
  },
  compare: rpmverCmp,
};
