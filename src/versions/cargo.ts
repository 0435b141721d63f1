// Cargo (crates.io) versions and requirements: SemVer 2.0 as the `semver` crate 1.x parses and orders
// versions (Version::parse, Ord) and as Cargo and RustSec read requirements (VersionReq::parse,
// VersionReq::matches): https://docs.rs/semver/1/semver/ and
// https://doc.rust-lang.org/cargo/reference/specifying-dependencies.html. Checked against the crate from
// Debian's librust-semver-dev built with Debian's cargo (testdata/cargo-vectors.tsv, cargo-reqs.tsv).
//
// Versions are strict: MAJOR.MINOR.PATCH, u64 numbers without leading zeros, no `v`, no whitespace.
// The crate's total order also orders build metadata (1.0.0+a < 1.0.0+b; numeric identifiers numerically,
// then by their count of leading zeros), unlike the SemVer spec, and this scheme follows the crate.
//
// Requirements (RustSec's `patched = [">= 1.2.3"]`, `unaffected = ["< 0.5"]`): comma-separated
// comparators `=`, `>`, `>=`, `<`, `<=`, `~`, `^` or none (caret), partial versions (1, 1.2), wildcards
// (1.*, 1.2.x) and a lone `*`. A pre-release version only satisfies a requirement when some comparator
// with the same MAJOR.MINOR.PATCH has a pre-release too (so ">= 1.0.0" does not take 2.0.0-beta).

import { invalidRequirement, invalidVersion } from './invalid-version.ts';
import type { VersionScheme } from './scheme.ts';

export interface CargoVersion {
  major: string;
  minor: string;
  patch: string;
  /** '' when none */
  pre: string;
  /** '' when none */
  build: string;
}

type Op = '=' | '>' | '>=' | '<' | '<=' | '~' | '^' | '*';

export interface CargoComparator {
  op: Op;
  major: string;
  minor: string | null;
  patch: string | null;
  pre: string;
}

/** null = the lone `*` (VersionReq::STAR, no comparators). */
export type CargoRequirement = CargoComparator[];

const U64_MAX = '18446744073709551615';

class ParseError extends Error {}

/** u64 digits without a leading zero at text[pos…]; returns [digits, next position]. */
function numeric(text: string, pos: number): [string, number] {
  let end = pos;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
  if (end === pos) throw new ParseError('expected a number');
  const d = text.slice(pos, end);
  if (d.length > 1 && d[0] === '0') throw new ParseError('leading zero');
  if (d.length > U64_MAX.length || (d.length === U64_MAX.length && d > U64_MAX)) throw new ParseError('number too large');
  return [d, end];
}

/** Identifiers [0-9A-Za-z-] separated by dots, from text[pos…]; checks segments. */
function identifiers(text: string, pos: number, pre: boolean): [string, number] {
  let end = pos;
  while (end < text.length && /[0-9A-Za-z.-]/.test(text[end] ?? '')) end++;
  const s = text.slice(pos, end);
  if (s === '') throw new ParseError('empty identifier');
  for (const seg of s.split('.')) {
    if (seg === '') throw new ParseError('empty identifier segment');
    if (pre && seg.length > 1 && seg[0] === '0' && /^[0-9]+$/.test(seg)) throw new ParseError('leading zero in pre-release');
  }
  return [s, end];
}

function parseVersionStrict(text: string): CargoVersion {
  const [major, p1] = numeric(text, 0);
  if (text[p1] !== '.') throw new ParseError('expected .');
  const [minor, p2] = numeric(text, p1 + 1);
  if (text[p2] !== '.') throw new ParseError('expected .');
  const [patch, p3] = numeric(text, p2 + 1);
  let pos = p3;
  let pre = '';
  let build = '';
  if (text[pos] === '-') [pre, pos] = identifiers(text, pos + 1, true);
  if (text[pos] === '+') [build, pos] = identifiers(text, pos + 1, false);
  if (pos !== text.length) throw new ParseError('unexpected character');
  return { major, minor, patch, pre, build };
}

/** Version::parse, or null when the crate rejects the string. */
export function parseCargoVersion(v: string): CargoVersion | null {
  try {
    return parseVersionStrict(v);
  } catch (e) {
    if (e instanceof ParseError) return null;
    throw e;
  }
}

function cmpNum(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
function cmpStr(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}
const allDigits = (s: string) => /^[0-9]*$/.test(s);

/** Prerelease's Ord: none sorts after any; numeric identifiers before alphanumeric ones. */
export function compareCargoPre(a: string, b: string): -1 | 0 | 1 {
  if (a === '' || b === '') return a === b ? 0 : a === '' ? 1 : -1;
  const xs = a.split('.'), ys = b.split('.');
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] ?? '';
    const y = ys[i];
    if (y === undefined) return 1;
    const dx = allDigits(x), dy = allDigits(y);
    const c = dx && dy ? cmpNum(x, y) : dx ? -1 : dy ? 1 : cmpStr(x, y);
    if (c !== 0) return c;
  }
  return xs.length === ys.length ? 0 : -1;
}

/** BuildMetadata's Ord: numeric identifiers by value, then by length (0 < 00 < 1 < 01); '' sorts first. */
function compareBuild(a: string, b: string): -1 | 0 | 1 {
  const xs = a.split('.'), ys = b.split('.');
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] ?? '';
    const y = ys[i];
    if (y === undefined) return 1;
    const dx = allDigits(x), dy = allDigits(y);
    let c: -1 | 0 | 1;
    if (dx && dy) {
      const tx = x.replace(/^0+/, ''), ty = y.replace(/^0+/, '');
      c = cmpNum(tx, ty) || cmpNum(String(x.length), String(y.length));
    } else c = dx ? -1 : dy ? 1 : cmpStr(x, y);
    if (c !== 0) return c;
  }
  return xs.length === ys.length ? 0 : -1;
}

export function compareCargoVersions(a: CargoVersion, b: CargoVersion): -1 | 0 | 1 {
  return cmpNum(a.major, b.major) || cmpNum(a.minor, b.minor) || cmpNum(a.patch, b.patch) || compareCargoPre(a.pre, b.pre) || compareBuild(a.build, b.build);
}

const isWildcard = (c: string | undefined) => c === '*' || c === 'x' || c === 'X';
const skipSpaces = (text: string, pos: number) => {
  while (text[pos] === ' ') pos++;
  return pos;
};

function parseComparator(text: string, start: number): [CargoComparator, number] {
  let pos = start;
  let op: Op = '^';
  let explicit = true;
  if (text.startsWith('>=', pos) || text.startsWith('<=', pos)) {
    op = text.slice(pos, pos + 2) as Op;
    pos += 2;
  } else if (['=', '>', '<', '~', '^'].includes(text[pos] ?? '')) {
    op = text[pos] as Op;
    pos += 1;
  } else explicit = false;
  pos = skipSpaces(text, pos);
  const [major, p1] = numeric(text, pos);
  pos = p1;
  let minor: string | null = null;
  let patch: string | null = null;
  let wildcard = false;
  if (text[pos] === '.') {
    if (isWildcard(text[pos + 1])) {
      wildcard = true;
      if (!explicit) op = '*';
      pos += 2;
    } else [minor, pos] = numeric(text, pos + 1);
  }
  if (text[pos] === '.') {
    if (isWildcard(text[pos + 1])) {
      if (!explicit) op = '*';
      wildcard = true;
      pos += 2;
    } else if (wildcard) throw new ParseError('unexpected after wildcard');
    else [patch, pos] = numeric(text, pos + 1);
  }
  let pre = '';
  if (patch !== null && text[pos] === '-') [pre, pos] = identifiers(text, pos + 1, true);
  if (patch !== null && text[pos] === '+') [, pos] = identifiers(text, pos + 1, false); // build metadata is ignored
  pos = skipSpaces(text, pos);
  return [{ op, major, minor, patch, pre }, pos];
}

function parseRequirementStrict(input: string): CargoRequirement {
  let pos = skipSpaces(input, 0);
  if (isWildcard(input[pos])) {
    const rest = skipSpaces(input, pos + 1);
    if (rest === input.length) return [];
    throw new ParseError('unexpected after wildcard');
  }
  const out: CargoComparator[] = [];
  for (;;) {
    const [c, next] = parseComparator(input, pos);
    out.push(c);
    if (next === input.length) return out;
    if (input[next] !== ',') throw new ParseError('expected comma');
    if (out.length === 32) throw new ParseError('excessive number of comparators');
    pos = skipSpaces(input, next + 1);
  }
}

/** VersionReq::parse, or null when the crate rejects the requirement. */
export function parseCargoRequirement(r: string): CargoRequirement | null {
  try {
    return parseRequirementStrict(r);
  } catch (e) {
    if (e instanceof ParseError) return null;
    throw e;
  }
}

function matchesExact(c: CargoComparator, v: CargoVersion): boolean {
  if (v.major !== c.major) return false;
  if (c.minor !== null && v.minor !== c.minor) return false;
  if (c.patch !== null && v.patch !== c.patch) return false;
  return v.pre === c.pre;
}

/** v above c (dir 1) or below it (dir -1), partial comparators bounding their whole range. */
function matchesBeyond(c: CargoComparator, v: CargoVersion, dir: 1 | -1): boolean {
  if (v.major !== c.major) return cmpNum(v.major, c.major) === dir;
  if (c.minor === null) return false;
  if (v.minor !== c.minor) return cmpNum(v.minor, c.minor) === dir;
  if (c.patch === null) return false;
  if (v.patch !== c.patch) return cmpNum(v.patch, c.patch) === dir;
  return compareCargoPre(v.pre, c.pre) === dir;
}

function matchesTilde(c: CargoComparator, v: CargoVersion): boolean {
  if (v.major !== c.major) return false;
  if (c.minor !== null && v.minor !== c.minor) return false;
  if (c.patch !== null && v.patch !== c.patch) return cmpNum(v.patch, c.patch) > 0;
  return compareCargoPre(v.pre, c.pre) >= 0;
}

function matchesCaret(c: CargoComparator, v: CargoVersion): boolean {
  if (v.major !== c.major) return false;
  if (c.minor === null) return true;
  if (c.patch === null) return c.major !== '0' ? cmpNum(v.minor, c.minor) >= 0 : v.minor === c.minor;
  if (c.major !== '0') {
    if (v.minor !== c.minor) return cmpNum(v.minor, c.minor) > 0;
    if (v.patch !== c.patch) return cmpNum(v.patch, c.patch) > 0;
  } else if (c.minor !== '0') {
    if (v.minor !== c.minor) return false;
    if (v.patch !== c.patch) return cmpNum(v.patch, c.patch) > 0;
  } else if (v.minor !== c.minor || v.patch !== c.patch) return false;
  return compareCargoPre(v.pre, c.pre) >= 0;
}

function matchesComparator(c: CargoComparator, v: CargoVersion): boolean {
  switch (c.op) {
    case '=':
    case '*':
      return matchesExact(c, v);
    case '>':
      return matchesBeyond(c, v, 1);
    case '>=':
      return matchesExact(c, v) || matchesBeyond(c, v, 1);
    case '<':
      return matchesBeyond(c, v, -1);
    case '<=':
      return matchesExact(c, v) || matchesBeyond(c, v, -1);
    case '~':
      return matchesTilde(c, v);
    case '^':
      return matchesCaret(c, v);
  }
}

/** VersionReq::matches. */
export function cargoMatches(req: CargoRequirement, v: CargoVersion): boolean {
  for (const c of req) if (!matchesComparator(c, v)) return false;
  if (v.pre === '') return true;
  // A pre-release only matches when a comparator names the same MAJOR.MINOR.PATCH with a pre-release.
  return req.some((c) => c.major === v.major && c.minor === v.minor && c.patch === v.patch && c.pre !== '');
}

function parseOrThrow(v: string): CargoVersion {
  const p = parseCargoVersion(v);
  if (p === null) throw invalidVersion('cargo', v, 'not a SemVer 2.0 version (MAJOR.MINOR.PATCH[-PRE][+BUILD])');
  return p;
}

export const cargo: VersionScheme = {
  id: 'cargo',
  url: 'https://doc.rust-lang.org/cargo/reference/semver.html',
  isValid(v: string): boolean {
    return parseCargoVersion(v) !== null;
  },
  compare(a: string, b: string): -1 | 0 | 1 {
    return compareCargoVersions(parseOrThrow(a), parseOrThrow(b));
  },
  satisfies(version: string, requirement: string): boolean {
    const v = parseOrThrow(version);
    const req = parseCargoRequirement(requirement);
    if (req === null) throw invalidRequirement('cargo', requirement);
    return cargoMatches(req, v);
  },
};
