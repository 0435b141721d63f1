// Alpine version ordering as apk-tools 2.14 decides it (src/version.c at tag v2.14.10, unchanged since 2.14.0):
// what Alpine 3.18 to 3.22 and Wolfi/Chainguard images install. Checked against that C code compiled locally
// (testdata/apk2-vectors.tsv). Alpine 3.23 moved to apk-tools 3, whose ordering is in apk3.ts.
//
// apk-tools 2 reads a version as a sequence of (token type, value) pairs and compares values while the types
// agree. Where it differs from apk-tools 3:
// - A part after '.' that starts with '0' yields first a marker worth minus the number of extra leading zeros,
//   then the digits as a number: "1.0" is (1)(0)(0) and "1.00" is (1)(-1)(0), so 1.0 > 1.00 (apk 3 says the
//   reverse: it compares such parts as strings), and 1.01 < 1.1.
// - A letter may be followed by more digits ("5.1p1", "1a2"): valid in apk 2, invalid in apk 3.
// - Parts of 18 or more digits are invalid (apk 3 wraps them to 64 bits).
// - Suffixes are matched by prefix ("_pre1" and "_p1" both work; "_patch1" reads as "_p" then junk).
// apk never refuses to compare: invalid strings are compared by the same walk, which stops at the first token it
// cannot read. clair-ts does the same, so a feed or a batch holding such a version is never aborted.

import type { VersionScheme } from './scheme.ts';

// Token types, in apk-tools 2's order (the comparison uses the order: see the end of compareApk2).
const INVALID = -1;
const DIGIT_OR_ZERO = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const REVISION_NO = 5;
const END = 6;

const PRE_SUFFIXES = ['alpha', 'beta', 'pre', 'rc'];
const POST_SUFFIXES = ['cvs', 'svn', 'git', 'hg', 'p'];

type Value = number | bigint;

/** The walk over one version string: the type of the next token and the position it starts at. */
interface Walk {
  s: string;
  pos: number;
  type: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** next_token(): decide the next token's type from the character at pos (consuming separators). */
function nextType(w: Walk): void {
  let n = INVALID;
  const c = w.pos < w.s.length ? w.s.charCodeAt(w.pos) : 0;
  if (c === 0) {
    n = END;
  } else if ((w.type === DIGIT || w.type === DIGIT_OR_ZERO) && isLower(c)) {
    n = LETTER;
  } else if (w.type === LETTER && isDigit(c)) {
    n = DIGIT;
  } else if (w.type === SUFFIX && isDigit(c)) {
    n = SUFFIX_NO;
  } else {
    if (c === 46 /* . */) n = DIGIT_OR_ZERO;
    else if (c === 95 /* _ */) n = SUFFIX;
    else if (c === 45 /* - */) {
      if (w.pos + 1 < w.s.length && w.s.charCodeAt(w.pos + 1) === 114 /* r */) {
        n = REVISION_NO;
        w.pos++;
      }
    }
    w.pos++;
  }
  // Types only move forward, except the three steps a version may repeat.
  if (n < w.type && !((n === DIGIT_OR_ZERO && w.type === DIGIT) || (n === SUFFIX && w.type === SUFFIX_NO) || (n === DIGIT && w.type === LETTER))) {
    n = INVALID;
  }
  w.type = n;
}

function startsWithAt(s: string, pos: number, word: string): boolean {
  return s.length - pos >= word.length && s.startsWith(word, pos);
}

/** get_token(): the value of the token at pos, advancing past it and setting the type of the one after. */
function takeToken(w: Walk): Value {
  const s = w.s;
  const rest = s.length - w.pos;
  if (rest <= 0) {
    w.type = END;
    return 0;
  }
  let i = 0;
  let nt = INVALID;
  let v: Value = 0;
  let type = w.type;
  if (type === DIGIT_OR_ZERO) {
    if (s.charCodeAt(w.pos) === 48) {
      // A leading zero: the extra zeros are counted (negatively) and the last one is read again as a number.
      while (i + 1 < rest && s.charCodeAt(w.pos + i + 1) === 48) i++;
      nt = DIGIT;
      v = -i;
      type = -2; // handled
    } else {
      type = DIGIT;
    }
  }
  if (type === DIGIT || type === SUFFIX_NO || type === REVISION_NO) {
    while (i < rest && isDigit(s.charCodeAt(w.pos + i))) i++;
    if (i >= 18) {
      w.type = INVALID;
      return -1;
    }
    const digits = s.slice(w.pos, w.pos + i);
    v = i === 0 ? 0 : i <= 15 ? Number(digits) : BigInt(digits);
  } else if (type === LETTER) {
    v = s.charCodeAt(w.pos);
    i = 1;
  } else if (type === SUFFIX) {
    const pre = PRE_SUFFIXES.findIndex((x) => startsWithAt(s, w.pos, x));
    if (pre >= 0) {
      v = pre - PRE_SUFFIXES.length;
      i = PRE_SUFFIXES[pre]!.length;
    } else {
      const post = POST_SUFFIXES.findIndex((x) => startsWithAt(s, w.pos, x));
      if (post < 0) {
        w.type = INVALID;
        return -1;
      }
      v = post;
      i = POST_SUFFIXES[post]!.length;
    }
  } else if (type !== -2) {
    w.type = INVALID;
    return -1;
  }
  w.pos += i;
  if (w.pos >= s.length) w.type = END;
  else if (nt !== INVALID) w.type = nt;
  else nextType(w);
  return v;
}

const A: Walk = { s: '', pos: 0, type: DIGIT };
const B: Walk = { s: '', pos: 0, type: DIGIT };

/** apk-tools 2's apk_version_compare_blob_fuzzy(): defined for any two strings, valid or not. */
export function compareApk2(a: string, b: string, fuzzy = false): -1 | 0 | 1 {
  A.s = a;
  A.pos = 0;
  A.type = DIGIT;
  B.s = b;
  B.pos = 0;
  B.type = DIGIT;
  let av: Value = 0;
  let bv: Value = 0;
  while (A.type === B.type && A.type !== END && A.type !== INVALID && av === bv) {
    av = takeToken(A);
    bv = takeToken(B);
    // A number and a bigint of equal value are not ===; normalise so the loop sees them equal.
    if (typeof av !== typeof bv) {
      av = BigInt(av);
      bv = BigInt(bv);
    }
  }
  if (av < bv) return -1;
  if (av > bv) return 1;
  if (A.type === B.type || fuzzy) return 0;
  // Equal so far: the longer one is newer, unless what follows is a pre-release suffix (or an unknown one).
  if (A.type === SUFFIX && Number(takeToken({ ...A })) < 0) return -1;
  if (B.type === SUFFIX && Number(takeToken({ ...B })) < 0) return 1;
  if (A.type > B.type) return -1;
  if (B.type > A.type) return 1;
  return 0;
}

/** apk-tools 2's apk_version_validate(). Note that it accepts "" and forms apk 3 rejects ("1a2", "5.1p1-r0"). */
export function isValidApk2Version(v: string): boolean {
  const w: Walk = { s: v, pos: 0, type: DIGIT };
  while (w.type !== END && w.type !== INVALID) takeToken(w);
  return w.type === END;
}

export const apk2: VersionScheme = {
  id: 'apk2',
  url: 'https://gitlab.alpinelinux.org/alpine/apk-tools/-/blob/v2.14.10/src/version.c',
  isValid: isValidApk2Version,
  // Never throws: apk compares any two strings, and so must a matcher reading versions apk itself wrote.
  compare: (a, b) => compareApk2(a, b),
};
