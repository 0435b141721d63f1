// PEP 440 version specifiers (https://packaging.python.org/en/latest/specifications/version-specifiers/#version-specifiers),
// as packaging.specifiers.SpecifierSet(...).contains(version, prereleases=True) decides, checked against
// Debian's python3-packaging (testdata/pypi-specifiers.tsv). Pre-releases are always considered: a
// pre-release of a vulnerable version is vulnerable, whatever pip would choose to install.
//
// A set is comma-separated specifiers, blanks around each ignored, all of which must hold:
// `==` (with a `.*` prefix match, and ignoring the candidate's local label unless the specifier has one),
// `!=`, `<=`, `>=`, `<` (not a pre-release of the specifier's own release unless it is one itself), `>`
// (not a post-release or local variant of the specifier's own release), `~=` (>= V and == V's prefix.*),
// `===` (string identity with the normalised version).

import { invalidRequirement } from './invalid-version.ts';
import { comparePep440, normalizedPep440, parsePep440, type Pep440Version } from './pep440.ts';

// Python's str.isspace() set (see pypi.ts).
const WS_CHARS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS = `[${WS_CHARS}]*`;
const PRE = '(?:[-_.]?(?:alpha|beta|prev[iİı]ew|pre|a|b|c|rc)[-_.]?[0-9]*)?';
const POST = '(?:(?:-[0-9]+)|(?:[-_.]?(?:post|rev|r)[-_.]?[0-9]*))?';
const DEV = '(?:[-_.]?dev[-_.]?[0-9]*)?';
const LOCAL = '(?:\\+[a-z0-9İı]+(?:[-_.][a-z0-9İı]+)*)?';
const HEAD = 'v?(?:[0-9]+!)?';

// The version each operator admits, as packaging's specifier pattern gates them.
const VERSION_FOR: ReadonlyArray<[string, RegExp]> = [
  ['~=', new RegExp(`^${WS}(${HEAD}[0-9]+(?:\\.[0-9]+)+${PRE}${POST}${DEV})${WS}$`, 'iu')],
  ['==', new RegExp(`^${WS}(${HEAD}[0-9]+(?:\\.[0-9]+)*(?:\\.\\*|${PRE}${POST}${DEV}${LOCAL}))${WS}$`, 'iu')],
  ['!=', new RegExp(`^${WS}(${HEAD}[0-9]+(?:\\.[0-9]+)*(?:\\.\\*|${PRE}${POST}${DEV}${LOCAL}))${WS}$`, 'iu')],
  ['<=', new RegExp(`^${WS}(${HEAD}[0-9]+(?:\\.[0-9]+)*${PRE}${POST}${DEV})${WS}$`, 'iu')],
  ['>=', new RegExp(`^${WS}(${HEAD}[0-9]+(?:\\.[0-9]+)*${PRE}${POST}${DEV})${WS}$`, 'iu')],
  ['<', new RegExp(`^${WS}(${HEAD}[0-9]+(?:\\.[0-9]+)*${PRE}${POST}${DEV})${WS}$`, 'iu')],
  ['>', new RegExp(`^${WS}(${HEAD}[0-9]+(?:\\.[0-9]+)*${PRE}${POST}${DEV})${WS}$`, 'iu')],
  ['===', new RegExp(`^${WS}([^${WS_CHARS};)]*)${WS}$`, 'u')],
];

export interface Pep440Specifier {
  op: string;
  version: string;
}

function stripWs(s: string): string {
  return s.replace(new RegExp(`^${WS}`, 'u'), '').replace(new RegExp(`[${WS_CHARS}]+$`, 'u'), '');
}

/** One specifier (`>=1.2`, `==1.4.*`), or null when packaging raises InvalidSpecifier. */
export function parseSpecifier(text: string): Pep440Specifier | null {
  const t = stripWs(text);
  for (const [op, re] of VERSION_FOR) {
    if (!t.startsWith(op)) continue;
    const m = re.exec(t.slice(op.length));
    if (m) return { op, version: m[1] ?? '' };
  }
  return null;
}

/** A specifier set: comma-separated, empty parts ignored. Null when one part is invalid. */
export function parseSpecifierSet(text: string): Pep440Specifier[] | null {
  const out: Pep440Specifier[] = [];
  for (const part of text.split(',')) {
    if (stripWs(part) === '') continue;
    const s = parseSpecifier(part);
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

function must(v: string): Pep440Version {
  const p = parsePep440(v);
  if (p === null) throw invalidRequirement('pypi', v, 'not a PEP 440 version');
  return p;
}

const publicOf = (v: Pep440Version): Pep440Version => ({ ...v, local: null });
const baseOf = (v: Pep440Version): Pep440Version => must(`${v.epoch !== '0' ? `${v.epoch}!` : ''}${v.releaseFull.join('.')}`);
const isPre = (v: Pep440Version) => v.pre !== null || v.dev !== null;

/** packaging's _version_split: dot parts, a part like 5a4 split into 5 and a4. */
function versionSplit(s: string): string[] {
  const out: string[] = [];
  for (const item of s.split('.')) {
    const m = /^([0-9]+)((?:a|b|c|rc)[0-9]+)$/.exec(item);
    if (m) out.push(m[1] ?? '', m[2] ?? '');
    else out.push(item);
  }
  return out;
}

const isDigits = (s: string) => /^[0-9]+$/.test(s);

/** canonicalize_version(v, strip_trailing_zero=False): the normalised form, or v itself when it does not parse. */
function canonical(v: string): string {
  const p = parsePep440(v);
  return p === null ? v : normalizedPep440(p);
}

function prefixMatch(prospective: Pep440Version, specPrefix: string): boolean {
  const spec = versionSplit(canonical(specPrefix));
  const cand = versionSplit(normalizedPep440(publicOf(prospective)));
  // Pad the candidate's release part with zeros to the length of the specifier's release part.
  const releaseLen = (xs: string[]) => {
    let n = 0;
    while (n < xs.length && isDigits(xs[n] ?? '')) n++;
    return n;
  };
  const cr = releaseLen(cand), sr = releaseLen(spec);
  const padded = [...cand.slice(0, cr), ...Array<string>(Math.max(0, sr - cr)).fill('0'), ...cand.slice(cr)];
  const shortened = padded.slice(0, spec.length);
  return shortened.length === spec.length && shortened.every((x, i) => x === spec[i]);
}

function equal(prospective: Pep440Version, spec: string): boolean {
  if (spec.endsWith('.*')) return prefixMatch(prospective, spec.slice(0, -2));
  const sv = must(spec);
  return comparePep440(sv.local === null ? publicOf(prospective) : prospective, sv) === 0;
}

function holds(prospective: Pep440Version, s: Pep440Specifier): boolean {
  switch (s.op) {
    case '==':
      return equal(prospective, s.version);
    case '!=':
      return !equal(prospective, s.version);
    case '<=':
      return comparePep440(publicOf(prospective), must(s.version)) <= 0;
    case '>=':
      return comparePep440(publicOf(prospective), must(s.version)) >= 0;
    case '<': {
      const sv = must(s.version);
      if (comparePep440(prospective, sv) >= 0) return false;
      return !(!isPre(sv) && isPre(prospective) && comparePep440(baseOf(prospective), baseOf(sv)) === 0);
    }
    case '>': {
      const sv = must(s.version);
      if (comparePep440(prospective, sv) <= 0) return false;
      const sameBase = comparePep440(baseOf(prospective), baseOf(sv)) === 0;
      if (sv.post === null && prospective.post !== null && sameBase) return false;
      return !(prospective.local !== null && sameBase);
    }
    case '~=': {
      const parts = versionSplit(s.version);
      const head: string[] = [];
      for (const p of parts) {
        if (['dev', 'a', 'b', 'rc', 'post'].some((x) => p.startsWith(x))) break;
        head.push(p);
      }
      return holds(prospective, { op: '>=', version: s.version }) && equal(prospective, `${head.slice(0, -1).join('.')}.*`);
    }
    case '===':
      return normalizedPep440(prospective).toLowerCase() === s.version.toLowerCase();
    default:
      throw invalidRequirement('pypi', `${s.op}${s.version}`);
  }
}

/** SpecifierSet(requirement).contains(version, prereleases=True). */
export function pep440Satisfies(version: Pep440Version, requirement: string): boolean {
  const specs = parseSpecifierSet(requirement);
  if (specs === null) throw invalidRequirement('pypi', requirement, 'not a PEP 440 specifier set');
  return specs.every((s) => holds(version, s));
}
