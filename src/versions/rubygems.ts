// RubyGems versions and requirements: Gem::Version (correct?, <=>) and Gem::Requirement (satisfied_by?)
// of rubygems' lib/rubygems/version.rb and requirement.rb (https://guides.rubygems.org/patterns/), checked
// against Debian's ruby (testdata/rubygems-vectors.tsv, rubygems-reqs.tsv).
//
// A version is digits then dot-separated alphanumeric parts, optionally `-` and more parts (the `-` reads
// as `.pre.`); surrounding ASCII whitespace is ignored, and the empty string is version 0. It splits into
// runs of digits and runs of letters; trailing zeros are dropped from the numeric head and from the part
// after the first letter run, so 1.0 = 1 and 1.0.a = 1.a. Parts compare pairwise (missing ones are 0):
// a letter run sorts before a number (1.0.a < 1.0, a pre-release), numbers numerically, letters by bytes.
//
// Requirements are rubysec's `patched_versions` entries as bundler-audit reads them: comma-and-space
// separated `OP VERSION` with OP in = != > < >= <= ~> (none means =), all of which must hold. `~> 2.3.4`
// means >= 2.3.4 and < 2.4 (the last part dropped, the one before bumped; pre-release parts first removed).

import { invalidRequirement, invalidVersion } from './invalid-version.ts';
import type { VersionScheme } from './scheme.ts';

// Gem::Version's ANCHORED_VERSION_PATTERN is /\A\s*(VERSION)?\s*\z/, Ruby's \s being ASCII (space, \t, \n,
// \v, \f, \r). The surrounding blanks are stripped before the core pattern runs: two adjacent \s* around an
// optional group backtrack quadratically on a long run of blanks.
const CORE = '[0-9]+(?:\\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?';
const VERSION_RE = new RegExp(`^(?:${CORE})?$`);

/** A segment: a digit run (as a digit string without leading zeros) or a letter run. */
type Segment = { num: true; s: string } | { num: false; s: string };

export interface GemVersion {
  /** the normalised string (stripped, `-` as `.pre.`), for equality short-cuts */
  text: string;
  segments: Segment[];
  canonical: Segment[];
}

const isBlank = (c: number) => c === 32 || (c >= 9 && c <= 13);

/** The string without surrounding ASCII blanks (a linear scan, no regular expression). */
function strip(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && isBlank(v.charCodeAt(a))) a++;
  while (b > a && isBlank(v.charCodeAt(b - 1))) b--;
  return v.slice(a, b);
}

function segmentsOf(text: string): Segment[] {
  const out: Segment[] = [];
  for (const m of text.matchAll(/[0-9]+|[a-z]+/gi)) {
    const s = m[0];
    if (/^[0-9]/.test(s)) out.push({ num: true, s: s.replace(/^0+(?=.)/, '') });
    else out.push({ num: false, s });
  }
  return out;
}

const isZero = (s: Segment) => s.num && s.s === '0';

function canonicalOf(segs: Segment[]): Segment[] {
  const firstString = segs.findIndex((s) => !s.num);
  const head = firstString < 0 ? segs.slice() : segs.slice(0, firstString);
  const tail = firstString < 0 ? [] : segs.slice(firstString);
  while (head.length > 0 && isZero(head[head.length - 1] as Segment)) head.pop();
  while (tail.length > 0 && isZero(tail[tail.length - 1] as Segment)) tail.pop();
  return head.concat(tail);
}

/** Gem::Version.new, or null when Gem::Version.correct? is false. */
export function parseGemVersion(v: string): GemVersion | null {
  const stripped = strip(v);
  if (!VERSION_RE.test(stripped)) return null;
  let text = stripped.replace(/-/g, '.pre.');
  if (text === '') text = '0';
  const segments = segmentsOf(text);
  return { text, segments, canonical: canonicalOf(segments) };
}

function cmpNum(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const ZERO: Segment = { num: true, s: '0' };

export function compareGemVersions(a: GemVersion, b: GemVersion): -1 | 0 | 1 {
  if (a.text === b.text) return 0;
  const x = a.canonical, y = b.canonical;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const l = x[i] ?? ZERO, r = y[i] ?? ZERO;
    if (l.num === r.num && l.s === r.s) continue;
    if (!l.num && r.num) return -1;
    if (l.num && !r.num) return 1;
    if (l.num) return cmpNum(l.s, r.s);
    return l.s < r.s ? -1 : 1; // byte order: Ruby's String#<=> (ASCII letters only here)
  }
  return 0;
}

const isPrerelease = (v: GemVersion) => /[a-zA-Z]/.test(v.text);

/** Gem::Version#release: the version without its letter parts (and what follows the first one). */
function release(v: GemVersion): GemVersion {
  if (!isPrerelease(v)) return v;
  const segs = v.segments.slice();
  while (segs.some((s) => !s.num)) segs.pop();
  return parseGemVersion(segs.map((s) => s.s).join('.')) ?? v;
}

/** Gem::Version#bump: letter parts removed, the last part dropped (if more than one), the new last + 1. */
function bump(v: GemVersion): GemVersion {
  const segs = v.segments.slice();
  while (segs.some((s) => !s.num)) segs.pop();
  if (segs.length > 1) segs.pop();
  const last = segs[segs.length - 1];
  const parts = segs.map((s) => s.s);
  if (last) parts[parts.length - 1] = String(BigInt(last.s) + 1n);
  return parseGemVersion(parts.join('.')) ?? v;
}

// Gem::Requirement's /\A\s*(OP)?\s*(VERSION)\s*\z/, applied to the stripped string (see VERSION_RE).
const REQ_RE = new RegExp(`^(=|!=|>|<|>=|<=|~>)?[ \\t\\n\\v\\f\\r]*(${CORE})$`);

export interface GemRequirement {
  op: '=' | '!=' | '>' | '<' | '>=' | '<=' | '~>';
  version: GemVersion;
}

/** Gem::Requirement.new(*r.split(", ")), or null when it raises. */
export function parseGemRequirement(r: string): GemRequirement[] | null {
  const parts = r.split(', ');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // Ruby's split drops trailing empties
  const out: GemRequirement[] = [];
  for (const p of parts) {
    const m = REQ_RE.exec(strip(p));
    const version = m ? parseGemVersion(m[2] ?? '') : null;
    if (!m || !version) return null;
    out.push({ op: (m[1] ?? '=') as GemRequirement['op'], version });
  }
  // No requirement at all is Gem::Requirement's default, ">= 0" (which 0.a, a pre-release of 0, fails).
  if (out.length === 0) out.push({ op: '>=', version: parseGemVersion('0') as GemVersion });
  return out;
}

export function gemSatisfies(v: GemVersion, reqs: readonly GemRequirement[]): boolean {
  return reqs.every(({ op, version: r }) => {
    const c = compareGemVersions(v, r);
    switch (op) {
      case '=':
        return c === 0;
      case '!=':
        return c !== 0;
      case '>':
        return c > 0;
      case '<':
        return c < 0;
      case '>=':
        return c >= 0;
      case '<=':
        return c <= 0;
      case '~>':
        return c >= 0 && compareGemVersions(release(v), bump(r)) < 0;
    }
  });
}

function parseOrThrow(v: string): GemVersion {
  const p = parseGemVersion(v);
  if (p === null) throw invalidVersion('rubygems', v, 'Malformed version number string');
  return p;
}

export const rubygems: VersionScheme = {
  id: 'rubygems',
  url: 'https://guides.rubygems.org/patterns/#semantic-versioning',
  isValid(v: string): boolean {
    return parseGemVersion(v) !== null;
  },
  compare(a: string, b: string): -1 | 0 | 1 {
    return compareGemVersions(parseOrThrow(a), parseOrThrow(b));
  },
  satisfies(version: string, requirement: string): boolean {
    const v = parseOrThrow(version);
    const reqs = parseGemRequirement(requirement);
    if (reqs === null) throw invalidRequirement('rubygems', requirement);
    return gemSatisfies(v, reqs);
  },
};
