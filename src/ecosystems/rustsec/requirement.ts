import { lazyRequire } from '../../model/lazy-require.ts';

const semver = lazyRequire<typeof import('semver')>('semver');

// Cargo version requirements (https://doc.rust-lang.org/cargo/reference/specifying-dependencies.html), as RustSec
// writes its `patched` and `unaffected` lists, turned into intervals of semver precedence: `>= 1.2.3, < 2` is
// [1.2.3, 2.0.0). The affected versions of an advisory are what no patched or unaffected requirement covers; those
// intervals become the records' introduced / fixed / last_affected bounds, which is how RustSec's own OSV export
// states them. Cargo's extra rule that a prerelease only matches a comparator naming the same major.minor.patch
// is not modelled: ordering alone decides, as OSV's SEMVER ranges do.

export interface Bound {
  version: string;
  inclusive: boolean;
}

/** undefined bounds are unbounded. */
export interface VersionInterval {
  lo?: Bound;
  hi?: Bound;
}

export class RequirementError extends Error {}

interface Partial3 {
  major: number;
  minor?: number;
  patch?: number;
  pre: string;
}

function parsePartial(s: string, req: string): Partial3 | undefined {
  const t = s.trim();
  if (t === '*' || t === 'x' || t === 'X') return undefined;
  const m = /^(\d+)(?:\.(\d+|\*|x|X))?(?:\.(\d+|\*|x|X))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(t);
  if (!m) throw new RequirementError(`"${req}": "${s}" is not a version`);
  const num = (g: string | undefined): number | undefined => (g === undefined || /^[*xX]$/.test(g) ? undefined : Number(g));
  const minor = num(m[2]);
  const patch = minor === undefined ? undefined : num(m[3]);
  return { major: Number(m[1]), ...(minor !== undefined ? { minor } : {}), ...(patch !== undefined ? { patch } : {}), pre: patch !== undefined ? m[4] ?? '' : '' };
}

function full(p: Partial3): string {
  return `${p.major}.${p.minor ?? 0}.${p.patch ?? 0}${p.pre ? '-' + p.pre : ''}`;
}

const incl = (version: string): Bound => ({ version, inclusive: true });
const excl = (version: string): Bound => ({ version, inclusive: false });

/** The interval one comparator (`>= 1.2`, `^0.3.1`, `1.*`, `=1.0.0`) allows. */
function comparatorInterval(c: string, req: string): VersionInterval {
  const m = /^\s*(>=|<=|>|<|=|\^|~)?\s*(.+?)\s*$/.exec(c);
  if (!m) throw new RequirementError(`"${req}": empty comparator`);
  const op = m[1] ?? '^';
  const p = parsePartial(m[2]!, req);
  if (!p) {
    if (op === '^' || op === '=' || op === '>=' || op === '<=' || op === '~') return {};
    throw new RequirementError(`"${req}": "${c.trim()}" has a wildcard after ${op}`);
  }
  const { major: M, minor: m2, patch: pt } = p;
  // The first version past a partial: 1 → 2.0.0, 1.2 → 1.3.0.
  const after = m2 === undefined ? `${M + 1}.0.0` : `${M}.${m2 + 1}.0`;
  switch (op) {
    case '=':
      return pt === undefined ? { lo: incl(full(p)), hi: excl(after) } : { lo: incl(full(p)), hi: incl(full(p)) };
    case '>':
      return pt === undefined ? { lo: incl(after) } : { lo: excl(full(p)) };
    case '>=':
      return { lo: incl(full(p)) };
    case '<':
      return { hi: excl(full(p)) };
    case '<=':
      return pt === undefined ? { hi: excl(after) } : { hi: incl(full(p)) };
    case '~':
      return { lo: incl(full(p)), hi: excl(m2 === undefined ? `${M + 1}.0.0` : `${M}.${m2 + 1}.0`) };
    default: {
      // Caret: the leftmost non-zero part may not change (^0.0 and ^0 keep the parts they name).
      let hi: string;
      if (M > 0 || m2 === undefined) hi = `${M + 1}.0.0`;
      else if (m2 > 0 || pt === undefined) hi = `0.${m2 + 1}.0`;
      else hi = `0.0.${pt + 1}`;
      return { lo: incl(full(p)), hi: excl(hi) };
    }
  }
}

function cmp(a: string, b: string): number {
  return semver().compare(a, b);
}

/** Lower bounds: unbounded first; at the same version inclusive first. */
function cmpLo(a: Bound | undefined, b: Bound | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  return cmp(a.version, b.version) || (a.inclusive === b.inclusive ? 0 : a.inclusive ? -1 : 1);
}

/** Upper bounds: unbounded last; at the same version exclusive first. */
function cmpHi(a: Bound | undefined, b: Bound | undefined): number {
  if (!a || !b) return (a ? 0 : 1) - (b ? 0 : 1);
  return cmp(a.version, b.version) || (a.inclusive === b.inclusive ? 0 : a.inclusive ? 1 : -1);
}

function isEmpty(i: VersionInterval): boolean {
  // Below 0.0.0 there are only its prereleases: nobody publishes those, so "< 0.0.0" holds nothing.
  if (!i.lo && i.hi) return i.hi.version === '0.0.0' && !i.hi.inclusive;
  if (!i.lo || !i.hi) return false;
  const c = cmp(i.lo.version, i.hi.version);
  return c > 0 || (c === 0 && !(i.lo.inclusive && i.hi.inclusive));
}

/** The interval a requirement (comma-separated comparators, all of which must hold) allows; undefined when empty. */
export function requirementInterval(req: string): VersionInterval | undefined {
  let out: VersionInterval = {};
  const parts = req.split(',');
  if (parts.every((p) => p.trim() === '')) throw new RequirementError(`"${req}": empty requirement`);
  for (const part of parts) {
    const c = comparatorInterval(part, req);
    out = { ...(cmpLo(out.lo, c.lo) >= 0 ? (out.lo ? { lo: out.lo } : {}) : { lo: c.lo! }), ...(cmpHi(out.hi, c.hi) <= 0 ? (out.hi ? { hi: out.hi } : {}) : { hi: c.hi! }) };
  }
  return isEmpty(out) ? undefined : out;
}

/** Versions no requirement allows: the complement of their union, in ascending order. */
export function uncovered(requirements: readonly string[]): VersionInterval[] {
  const covered = requirements.map(requirementInterval).filter((i): i is VersionInterval => i !== undefined).sort((a, b) => cmpLo(a.lo, b.lo));
  const gaps: VersionInterval[] = [];
  // Versions from `cursor` up are not known to be covered yet; undefined = from the first version.
  let cursor: Bound | undefined;
  for (const c of covered) {
    if (c.lo) {
      const gap: VersionInterval = { ...(cursor ? { lo: cursor } : {}), hi: { version: c.lo.version, inclusive: !c.lo.inclusive } };
      if (!isEmpty(gap)) gaps.push(gap);
    }
    if (!c.hi) return gaps;
    const next: Bound = { version: c.hi.version, inclusive: !c.hi.inclusive };
    if (!cursor || cmpLo(next, cursor) > 0) cursor = next;
  }
  gaps.push(cursor ? { lo: cursor } : {});
  return gaps;
}
