// PEP 440 versions (parse, order, normal form) for the pypi scheme (pypi.ts) and specifiers
// (pep440-specifiers.ts). Python package versions: PEP 440 (https://peps.python.org/pep-0440/) as `packaging.version.Version`
// implements it (parse with the PEP's regular expression, order by packaging's `_cmpkey`), checked against
// Debian's python3-packaging (testdata/pypi-vectors.tsv).
//
// Hand-written rather than @renovatebot/pep440 because that library (checked against the same vectors)
// parses numbers with Number(), so 1.0.99999999999999999999 equals 1.0.99999999999999999998 there, and it
// rejects surrounding whitespace that packaging strips. Here numbers compare as digit strings, exactly.
//
// Order (packaging's key): epoch; release with trailing zeros dropped; pre-release (a < b < rc; a version
// with only a dev part sorts before any pre-release, one without pre-release after all of them); post
// (none first); dev (none last); local label (none first; numeric parts above alphanumeric ones, which
// compare as lowercase strings; a shorter label that is a prefix sorts first).

// PEP 440 appendix B's pattern, with packaging's `^\s*…\s*$` anchors. The `u` flag makes case-insensitive
// matching fold as Python's re.IGNORECASE does on str patterns (ſ matches s, the Kelvin sign matches k);
// Python also lets i match İ and ı, which JavaScript's folding does not, hence the explicit [iİı].
// WS is Python's str.isspace() set (JavaScript's \s differs: it has U+FEFF and lacks U+001C-U+001F, U+0085).
const WS = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*';
const PATTERN = new RegExp(
  '^' + WS + 'v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|prev[iİı]ew|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?)' +
    '(?:\\+(?<local>[a-z0-9İı]+(?:[-_.][a-z0-9İı]+)*))?' + WS + '$',
  'iu',
);

/** A parsed version; numbers are kept as digit strings without leading zeros (exact at any size). */
export interface Pep440Version {
  epoch: string;
  /** trailing zero components removed (packaging's comparison key) */
  release: string[];
  /** every component as written (leading zeros dropped), for the normalised string */
  releaseFull: string[];
  /** ['a'|'b'|'rc', n], or null */
  pre: [string, string] | null;
  /** [letter, n] (letter 'post' unless odd case folding kept another spelling), or null */
  post: [string, string] | null;
  dev: string | null;
  /** parts lowercased; numeric parts are digit strings and flagged */
  local: Array<{ num: boolean; s: string }> | null;
}

function num(d: string | undefined): string {
  if (d === undefined) return '0';
  const s = d.replace(/^0+/, '');
  return s === '' ? '0' : s;
}

function cmpNum(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpStr(a: string, b: string): -1 | 0 | 1 {
  // Python compares str by code point; JS `<` compares UTF-16 units: equal for the ASCII and BMP letters
  // the pattern admits (a-z, 0-9, ſ, K).
  return a < b ? -1 : a > b ? 1 : 0;
}

function letter(l: string): string {
  const s = l.toLowerCase();
  if (s === 'alpha') return 'a';
  if (s === 'beta') return 'b';
  if (s === 'c' || s === 'pre' || s === 'preview') return 'rc';
  if (s === 'rev' || s === 'r') return 'post';
  return s;
}

/** The parsed version, or null when `v` is not a PEP 440 version (packaging raises InvalidVersion). */
export function parsePep440(v: string): Pep440Version | null {
  const g = PATTERN.exec(v)?.groups;
  if (!g) return null;
  const releaseFull = (g.release ?? '').split('.').map(num);
  const release = releaseFull.slice();
  while (release.length > 1 && release[release.length - 1] === '0') release.pop();
  if (release.length === 1 && release[0] === '0') release.pop();
  return {
    epoch: num(g.epoch),
    release,
    releaseFull,
    pre: g.pre_l !== undefined ? [letter(g.pre_l), num(g.pre_n)] : null,
    post: g.post !== undefined ? [g.post_l !== undefined ? letter(g.post_l) : 'post', num(g.post_n1 ?? g.post_n2)] : null,
    dev: g.dev !== undefined ? num(g.dev_n) : null,
    local:
      g.local !== undefined
        ? g.local.split(/[-_.]/).map((p) => (/^[0-9]+$/.test(p) ? { num: true, s: num(p) } : { num: false, s: p.toLowerCase() }))
        : null,
  };
}

function cmpRelease(a: string[], b: string[]): -1 | 0 | 1 {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = cmpNum(a[i] ?? '0', b[i] ?? '0');
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

// Pre-release rank: packaging uses -Infinity for "dev only", +Infinity for "no pre-release".
function cmpPre(a: Pep440Version, b: Pep440Version): -1 | 0 | 1 {
  const rank = (v: Pep440Version) => (v.pre !== null ? 1 : v.post === null && v.dev !== null ? 0 : 2);
  const ra = rank(a), rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a.pre && b.pre) return cmpStr(a.pre[0], b.pre[0]) || cmpNum(a.pre[1], b.pre[1]);
  return 0;
}

function cmpPost(a: Pep440Version, b: Pep440Version): -1 | 0 | 1 {
  if (a.post === null || b.post === null) return a.post === b.post ? 0 : a.post === null ? -1 : 1;
  return cmpStr(a.post[0], b.post[0]) || cmpNum(a.post[1], b.post[1]);
}

function cmpDev(a: Pep440Version, b: Pep440Version): -1 | 0 | 1 {
  if (a.dev === null || b.dev === null) return a.dev === b.dev ? 0 : a.dev === null ? 1 : -1;
  return cmpNum(a.dev, b.dev);
}

function cmpLocal(a: Pep440Version, b: Pep440Version): -1 | 0 | 1 {
  if (a.local === null || b.local === null) return a.local === b.local ? 0 : a.local === null ? -1 : 1;
  for (let i = 0; i < Math.min(a.local.length, b.local.length); i++) {
    const x = a.local[i], y = b.local[i];
    if (!x || !y) break;
    if (x.num !== y.num) return x.num ? 1 : -1;
    const c = x.num ? cmpNum(x.s, y.s) : cmpStr(x.s, y.s);
    if (c !== 0) return c;
  }
  return a.local.length === b.local.length ? 0 : a.local.length < b.local.length ? -1 : 1;
}

export function comparePep440(a: Pep440Version, b: Pep440Version): -1 | 0 | 1 {
  return cmpNum(a.epoch, b.epoch) || cmpRelease(a.release, b.release) || cmpPre(a, b) || cmpPost(a, b) || cmpDev(a, b) || cmpLocal(a, b);
}

/** str(Version): the normalised form (1!2.0a1.post2.dev3+local.7). */
export function normalizedPep440(v: Pep440Version): string {
  let out = v.epoch !== '0' ? `${v.epoch}!` : '';
  out += v.releaseFull.join('.');
  if (v.pre) out += `${v.pre[0]}${v.pre[1]}`;
  if (v.post) out += `.post${v.post[1]}`;
  if (v.dev !== null) out += `.dev${v.dev}`;
  if (v.local) out += `+${v.local.map((p) => p.s).join('.')}`;
  return out;
}
