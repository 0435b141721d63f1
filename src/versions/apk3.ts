// Alpine version ordering as apk-tools 3 decides it: src/version.c (apk_version_compare, apk_version_validate)
// at commit 90b974fd (3.0.6+), what Alpine 3.23 and later install. Checked against that C code compiled locally
// (testdata/apk3-vectors.tsv). apk-tools 2.14 (Alpine 3.18 to 3.22, Wolfi) is in apk2.ts.
//
// Grammar: digits{.digits}…{letter}{_suffix{digits}}…{~hexhash}{-rN}. Suffixes _alpha < _beta < _pre < _rc
// < (none) < _cvs < _svn < _git < _hg < _p. Version parts compare numerically, except that a part after a
// '.' with a leading zero on either side compares as a string (Gentoo's rule: 1.0 < 1.00, 1.01 < 1.1). Anything
// outside that grammar (uppercase, a digit right after the letter as in "5.1p1-r0", "-r" without digits, an
// unknown suffix, "1.0-1") is invalid — but apk still compares such strings with the same token walk, stopping at
// the first token it cannot read, and so does clair-ts: a feed or batch holding one is never aborted.
import { ClairError } from '../model/errors.ts';
import type { VersionScheme } from './scheme.ts';

// Token kinds, in apk-tools' order (the order matters: see the end of compareTokens).
const T_INITIAL_DIGIT = 0;
const T_DIGIT = 1;
const T_LETTER = 2;
const T_SUFFIX = 3;
const T_SUFFIX_NO = 4;
const T_COMMIT_HASH = 5;
const T_REVISION_NO = 6;
const T_END = 7;
const T_INVALID = 8;

// Suffix values: below SUFFIX_NONE are pre-releases.
const SUFFIX_INVALID = 0;
const SUFFIX_NONE = 5;
const SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['alpha', 1],
  ['beta', 2],
  ['pre', 3],
  ['rc', 4],
  ['cvs', 6],
  ['svn', 7],
  ['git', 8],
  ['hg', 9],
  ['p', 10],
]);

const C_0 = 48;
const C_9 = 57;

/** Tokenizer state for one version string; two are reused for every comparison (no allocation). */
interface Tokens {
  s: string;
  pos: number;
  token: number;
  /** The token's text is s[vs, ve). */
  vs: number;
  ve: number;
  suffix: number;
  /** Numeric value of a digit token of at most 15 digits (exact in a double). */
  num: number;
}

function newTokens(): Tokens {
  return { s: '', pos: 0, token: T_END, vs: 0, ve: 0, suffix: 0, num: 0 };
}
const TA = newTokens();
const TB = newTokens();

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}
function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102);
}

function parseDigits(t: Tokens): void {
  const s = t.s;
  let p = t.pos;
  t.vs = p;
  let num = 0;
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (!isDigit(c)) break;
    num = num * 10 + (c - C_0);
  }
  t.num = num;
  t.ve = p;
  t.pos = p;
  if (t.ve === t.vs) t.token = T_INVALID;
}

function first(t: Tokens, s: string): void {
  t.s = s;
  t.pos = 0;
  t.token = T_INITIAL_DIGIT;
  parseDigits(t);
}

function next(t: Tokens): void {
  const s = t.s;
  if (t.pos >= s.length) {
    t.token = T_END;
    return;
  }
  const c = s.charCodeAt(t.pos);
  if (isLower(c)) {
    if (t.token > T_DIGIT) {
      t.token = T_INVALID;
      return;
    }
    t.vs = t.pos;
    t.ve = ++t.pos;
    t.token = T_LETTER;
    return;
  }
  if (c === 46 /* . */ || isDigit(c)) {
    if (c === 46) {
      if (t.token > T_DIGIT) {
        t.token = T_INVALID;
        return;
      }
      t.pos++;
    }
    if (t.token === T_INITIAL_DIGIT || t.token === T_DIGIT) t.token = T_DIGIT;
    else if (t.token === T_SUFFIX) t.token = T_SUFFIX_NO;
    else {
      t.token = T_INVALID;
      return;
    }
    parseDigits(t);
    return;
  }
  if (c === 95 /* _ */) {
    if (t.token > T_SUFFIX_NO) {
      t.token = T_INVALID;
      return;
    }
    let p = ++t.pos;
    while (p < s.length && isLower(s.charCodeAt(p))) p++;
    t.vs = t.pos;
    t.ve = p;
    t.pos = p;
    t.suffix = SUFFIXES.get(s.slice(t.vs, t.ve)) ?? SUFFIX_INVALID;
    t.token = t.suffix === SUFFIX_INVALID ? T_INVALID : T_SUFFIX;
    return;
  }
  if (c === 126 /* ~ */) {
    if (t.token >= T_COMMIT_HASH) {
      t.token = T_INVALID;
      return;
    }
    let p = ++t.pos;
    while (p < s.length && isHex(s.charCodeAt(p))) p++;
    t.vs = t.pos;
    t.ve = p;
    t.pos = p;
    t.token = t.ve === t.vs ? T_INVALID : T_COMMIT_HASH;
    return;
  }
  if (c === 45 /* - */) {
    if (t.token >= T_REVISION_NO || s.charCodeAt(t.pos + 1) !== 114 /* r */) {
      t.token = T_INVALID;
      return;
    }
    t.pos += 2;
    t.token = T_REVISION_NO;
    parseDigits(t);
    return;
  }
  t.token = T_INVALID;
}

/** apk_blob_sort: bytewise on the common prefix, then the shorter first. */
function compareText(a: Tokens, b: Tokens): -1 | 0 | 1 {
  const la = a.ve - a.vs;
  const lb = b.ve - b.vs;
  const n = la < lb ? la : lb;
  for (let k = 0; k < n; k++) {
    const d = a.s.charCodeAt(a.vs + k) - b.s.charCodeAt(b.vs + k);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return la === lb ? 0 : la < lb ? -1 : 1;
}

const TWO_64 = 1n << 64n;

/** apk_blob_pull_uint's value: a uint64_t, so digit runs past 2^64 wrap around as in C. */
function compareNumbers(a: Tokens, b: Tokens): -1 | 0 | 1 {
  const la = a.ve - a.vs;
  const lb = b.ve - b.vs;
  if (la <= 15 && lb <= 15) return a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
  const x = BigInt(a.s.slice(a.vs, a.ve)) % TWO_64;
  const y = BigInt(b.s.slice(b.vs, b.ve)) % TWO_64;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareToken(a: Tokens, b: Tokens): -1 | 0 | 1 {
  switch (a.token) {
    case T_DIGIT:
      if (a.s.charCodeAt(a.vs) === C_0 || b.s.charCodeAt(b.vs) === C_0) return compareText(a, b);
      return compareNumbers(a, b);
    case T_INITIAL_DIGIT:
    case T_SUFFIX_NO:
    case T_REVISION_NO:
      return compareNumbers(a, b);
    case T_LETTER: {
      const d = a.s.charCodeAt(a.vs) - b.s.charCodeAt(b.vs);
      return d < 0 ? -1 : d > 0 ? 1 : 0;
    }
    case T_SUFFIX:
      return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
    default:
      return compareText(a, b);
  }
}

/**
 * apk_version_compare() without validation: the raw token walk, defined for any two strings. With `fuzzy`
 * it is apk's "~" operator (apk_version_compare_fuzzy): b matching a prefix of a's tokens counts as equal.
 */
export function compareApkTokens(a: string, b: string, fuzzy = false): -1 | 0 | 1 {
  first(TA, a);
  first(TB, b);
  while (TA.token === TB.token && TA.token < T_END) {
    const r = compareToken(TA, TB);
    if (r !== 0) return r;
    next(TA);
    next(TB);
  }
  if (TA.token === TB.token) return 0;
  if (fuzzy && TB.token === T_END) return 0;
  // Equal so far: the longer version is newer unless what it has next is a pre-release suffix.
  if (TA.token === T_SUFFIX && TA.suffix < SUFFIX_NONE) return -1;
  if (TB.token === T_SUFFIX && TB.suffix < SUFFIX_NONE) return 1;
  return TA.token > TB.token ? -1 : 1;
}

/** apk_version_validate(). */
export function isValidApkVersion(v: string): boolean {
  first(TA, v);
  while (TA.token < T_END) next(TA);
  return TA.token === T_END;
}

function check(v: string): void {
  if (!isValidApkVersion(v)) {
    throw new ClairError('bad-input', `invalid apk version ${JSON.stringify(v)}: expected digits{.digits}{letter}{_suffix{N}}{~hash}{-rN}`);
  }
}

/** apk_version_compare() on two valid versions. Throws ClairError('bad-input') for an invalid one. */
export function compareApkVersions(a: string, b: string): -1 | 0 | 1 {
  check(a);
  check(b);
  return compareApkTokens(a, b);
}

export interface ApkVersion {
  /** Everything before "-r". */
  version: string;
  /** The N of "-rN"; undefined when absent (apk orders "1.0" before "1.0-r0"). */
  revision: number | undefined;
}

/** Split off the "-rN" package revision of a valid version. Throws ClairError('bad-input') when invalid. */
export function parseApkVersion(v: string): ApkVersion {
  check(v);
  const i = v.lastIndexOf('-r');
  if (i < 0) return { version: v, revision: undefined };
  return { version: v.slice(0, i), revision: Number(v.slice(i + 2)) };
}

export const apk3: VersionScheme = {
  id: 'apk3',
  url: 'https://gitlab.alpinelinux.org/alpine/apk-tools/-/blob/90b974fd8510fbc2b3d6adde311ad1ba8754c728/src/version.c',
  isValid: isValidApkVersion,
  // Never throws: apk compares any two strings (apk_version_compare does not validate), so does the matcher.
  compare: (a, b) => compareApkTokens(a, b),
};

/** `--scheme apk` as before the two generations were told apart: apk-tools 3's order. */
export const apk: VersionScheme = { ...apk3, id: 'apk' };
