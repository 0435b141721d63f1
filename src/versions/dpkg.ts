// Debian version ordering: Debian policy §5.6.12, implemented as dpkg's own lib/dpkg/version.c
// (verrevcmp, dpkg_version_compare) and lib/dpkg/parsehelp.c (parseversion), checked against dpkg 1.21.
//
// Validity follows what `dpkg --compare-versions` accepts: parseversion has two levels of problems.
// Errors (empty, embedded blanks, bad/negative/too big epoch, nothing after the colon, empty upstream or
// revision) make dpkg refuse the version; warnings (upstream not starting with a digit, a character outside
// [A-Za-z0-9.+~-:] in upstream or [A-Za-z0-9.+~] in the revision) are only printed and the version is
// still compared. Real status files and feeds contain warning-level versions, so `isValid` and `compare`
// accept them (as dpkg does) and only errors are invalid; `dpkgVersionProblem` reports both levels and
// `isStrictDpkgVersion` rejects warnings too. One deliberate difference: dpkg treats an empty argument
// as the "blank" version; here the empty string is invalid, since a scanner never has a reason to compare it.

import { ClairError } from '../model/errors.ts';
import type { VersionScheme } from './scheme.ts';

export interface DpkgVersion {
  epoch: number;
  upstream: string;
  /** '' when the version has no hyphen (dpkg compares a missing revision as the empty string). */
  revision: string;
}

export interface DpkgVersionProblem {
  level: 'error' | 'warning';
  message: string;
}

const C_0 = 48;
const C_9 = 57;
const C_TILDE = 126;
const C_COLON = 58;
const C_HYPHEN = 45;
const C_SPACE = 32;
const C_TAB = 9;
const INT_MAX = 2147483647;

// Result of the last scan(): positions into the scanned string. Module-level so the hot compare path
// allocates nothing; scan() is synchronous and never re-entered.
let sEpoch = 0;
let sUpStart = 0;
let sUpEnd = 0;
let sRevStart = 0;
let sRevEnd = 0;
let sNonAscii = false;

function isBlank(c: number): boolean {
  return c === C_SPACE || c === C_TAB;
}

/** C isspace(), which strtol() skips before the epoch digits. */
function isCSpace(c: number): boolean {
  return c === C_SPACE || (c >= 9 && c <= 13);
}

/**
 * parseversion()'s error-level checks. Fills the scratch positions and returns null when dpkg would
 * accept the version, or the error message dpkg prints.
 */
function scan(s: string): string | null {
  const n = s.length;
  let start = 0;
  while (start < n && isBlank(s.charCodeAt(start))) start++;
  if (start === n) return 'version string is empty';
  let end = start;
  let colon = -1;
  let nonAscii = false;
  for (; end < n; end++) {
    const c = s.charCodeAt(end);
    if (isBlank(c)) break;
    if (c === C_COLON && colon < 0) colon = end;
    else if (c === 0) return 'version string contains a NUL character';
    else if (c > 0x7f) nonAscii = true;
  }
  for (let p = end; p < n; p++) {
    if (!isBlank(s.charCodeAt(p))) return 'version string has embedded spaces';
  }
  let upStart = start;
  let epoch = 0;
  if (colon >= 0) {
    // strtol(string, &end, 10): optional C whitespace, optional sign, decimal digits.
    let i = start;
    while (i < colon && isCSpace(s.charCodeAt(i))) i++;
    let negative = false;
    const sign = s.charCodeAt(i);
    if (sign === 43 || sign === C_HYPHEN) {
      negative = sign === C_HYPHEN;
      i++;
    }
    const digitsStart = i;
    let value = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < C_0 || c > C_9) break;
      if (value <= INT_MAX) value = value * 10 + (c - C_0);
      i++;
    }
    if (i === digitsStart) return 'epoch in version is empty';
    if (i !== colon) return 'epoch in version is not number';
    if (negative && value !== 0) return 'epoch in version is negative';
    if (value > INT_MAX) return 'epoch in version is too big';
    if (colon + 1 === end) return 'nothing after colon in version number';
    upStart = colon + 1;
    epoch = value;
  }
  let hyphen = -1;
  for (let i = end - 1; i >= upStart; i--) {
    if (s.charCodeAt(i) === C_HYPHEN) {
      hyphen = i;
      break;
    }
  }
  if (hyphen >= 0) {
    if (hyphen + 1 === end) return 'revision number is empty';
    sRevStart = hyphen + 1;
    sRevEnd = end;
    sUpEnd = hyphen;
  } else {
    sRevStart = sRevEnd = end;
    sUpEnd = end;
  }
  if (sUpEnd === upStart) return 'version number is empty';
  sUpStart = upStart;
  sEpoch = epoch;
  sNonAscii = nonAscii;
  return null;
}

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * dpkg's order(): digits and end 0, letters their code, '~' before everything, other characters after
 * all letters. Codes 128..255 are UTF-8 bytes (see utf8Bytes): dpkg reads them as negative signed chars,
 * so c + 256 gives back the byte value.
 */
function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === C_TILDE) return -1;
  if (c >= 128) return c;
  return c + 256;
}

/** dpkg's verrevcmp() over a[ai..ae) and b[bi..be); the sign is the answer. */
function verrevcmp(a: string, ai: number, ae: number, b: string, bi: number, be: number): number {
  while (ai < ae || bi < be) {
    let firstDiff = 0;
    while ((ai < ae && !isDigit(a.charCodeAt(ai))) || (bi < be && !isDigit(b.charCodeAt(bi)))) {
      const ac = ai < ae ? order(a.charCodeAt(ai)) : 0;
      const bc = bi < be ? order(b.charCodeAt(bi)) : 0;
      if (ac !== bc) return ac - bc;
      ai++;
      bi++;
    }
    while (ai < ae && a.charCodeAt(ai) === C_0) ai++;
    while (bi < be && b.charCodeAt(bi) === C_0) bi++;
    while (ai < ae && bi < be) {
      const ac = a.charCodeAt(ai);
      const bc = b.charCodeAt(bi);
      if (!isDigit(ac) || !isDigit(bc)) break;
      if (firstDiff === 0) firstDiff = ac - bc;
      ai++;
      bi++;
    }
    if (ai < ae && isDigit(a.charCodeAt(ai))) return 1;
    if (bi < be && isDigit(b.charCodeAt(bi))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** The string as one char per UTF-8 byte, so non-ASCII text compares byte by byte as dpkg does. */
function utf8Bytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compare one upstream or revision part as dpkg does (verrevcmp); no validation. */
export function compareDpkgFragment(a: string, b: string): -1 | 0 | 1 {
  if (hasNonAscii(a) || hasNonAscii(b)) {
    a = utf8Bytes(a);
    b = utf8Bytes(b);
  }
  return sign(verrevcmp(a, 0, a.length, b, 0, b.length));
}

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

function badVersion(v: string, message: string): ClairError {
  return new ClairError('bad-input', `invalid dpkg version ${JSON.stringify(v)}: ${message}`);
}

/** dpkg_version_compare over two version strings. Throws ClairError('bad-input') for an invalid one. */
export function compareDpkgVersionStrings(a: string, b: string): -1 | 0 | 1 {
  let errA = scan(a);
  if (errA === null && sNonAscii) {
    a = utf8Bytes(a);
    errA = scan(a);
  }
  if (errA !== null) throw badVersion(a, errA);
  const aEpoch = sEpoch;
  const aUpStart = sUpStart;
  const aUpEnd = sUpEnd;
  const aRevStart = sRevStart;
  const aRevEnd = sRevEnd;
  let errB = scan(b);
  if (errB === null && sNonAscii) {
    b = utf8Bytes(b);
    errB = scan(b);
  }
  if (errB !== null) throw badVersion(b, errB);
  if (aEpoch !== sEpoch) return aEpoch < sEpoch ? -1 : 1;
  const r = verrevcmp(a, aUpStart, aUpEnd, b, sUpStart, sUpEnd);
  if (r !== 0) return r < 0 ? -1 : 1;
  return sign(verrevcmp(a, aRevStart, aRevEnd, b, sRevStart, sRevEnd));
}

/** dpkg_version_compare over parsed versions. */
export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const r = compareDpkgFragment(a.upstream, b.upstream);
  if (r !== 0) return r;
  return compareDpkgFragment(a.revision, b.revision);
}

/** Split a version as parseversion does. Throws ClairError('bad-input') on an error-level problem. */
export function parseDpkgVersion(v: string): DpkgVersion {
  const err = scan(v);
  if (err !== null) throw badVersion(v, err);
  return {
    epoch: sEpoch,
    upstream: v.slice(sUpStart, sUpEnd),
    revision: v.slice(sRevStart, sRevEnd),
  };
}

function upstreamCharOk(c: number): boolean {
  // c_isdigit || c_isalpha || strchr(".-+~:", c)
  return isDigit(c) || isAlpha(c) || c === 46 || c === C_HYPHEN || c === 43 || c === C_TILDE || c === C_COLON;
}

function revisionCharOk(c: number): boolean {
  return isDigit(c) || isAlpha(c) || c === 46 || c === 43 || c === C_TILDE;
}

/** The first problem parseversion would report, with its level, or undefined for a clean version. */
export function dpkgVersionProblem(v: string): DpkgVersionProblem | undefined {
  const err = scan(v);
  if (err !== null) return { level: 'error', message: err };
  if (!isDigit(v.charCodeAt(sUpStart))) {
    return { level: 'warning', message: 'version number does not start with digit' };
  }
  for (let i = sUpStart + 1; i < sUpEnd; i++) {
    if (!upstreamCharOk(v.charCodeAt(i))) return { level: 'warning', message: 'invalid character in version number' };
  }
  for (let i = sRevStart; i < sRevEnd; i++) {
    if (!revisionCharOk(v.charCodeAt(i))) return { level: 'warning', message: 'invalid character in revision number' };
  }
  return undefined;
}

/** True when dpkg would accept the version without even a warning. */
export function isStrictDpkgVersion(v: string): boolean {
  return dpkgVersionProblem(v) === undefined;
}

export const dpkg: VersionScheme = {
  id: 'dpkg',
  url: 'https://www.debian.org/doc/debian-policy/ch-controlfields.html#version',
  isValid(v: string): boolean {
    return scan(v) === null;
  },
  compare: compareDpkgVersionStrings,
};
