// Maven versions: org.apache.maven.artifact.versioning.ComparableVersion as in Maven 3.8.7, the ordering
// of the POM reference's "Version Order Specification" (https://maven.apache.org/pom.html#version-order-specification),
// checked against that class from Debian's libmaven3-core-java (testdata/maven-vectors.tsv).
//
// A version (lowercased) splits at '.', '-' and at digit/letter transitions into numbers and qualifiers;
// '-' and a transition open a nested list, so 1.0-1 is [1, [1]]. A qualifier directly followed by digits
// (1.0.0.x1) also opens a list, as if written with '-', and so does a trailing qualifier (1.0.x = 1-x). Each list drops its trailing "null" items
// (0, '', 'final', 'ga', 'release', and empty lists) before comparison. Qualifiers order alpha < beta <
// milestone < rc = cr < snapshot < '' = final = ga = release < sp < any other qualifier (those
// alphabetically); a, b, m directly followed by a digit mean alpha, beta, milestone. A number sorts after
// any qualifier and any list; a list after a qualifier.
//
// Maven itself accepts any string as a version. This scheme rejects the empty string, strings with
// whitespace or control characters (they cannot name a version in a repository and are more likely a
// parsing mistake upstream than a version) and strings over 1,024 characters (each '-' nests a list, and
// the comparison recurses through them, as Maven's own does).

import { invalidVersion } from './invalid-version.ts';
import type { VersionScheme } from './scheme.ts';

type Item = { kind: 'int'; value: string } | { kind: 'string'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function stringItem(value: string, followedByDigit: boolean): Item {
  if (followedByDigit && value.length === 1) {
    if (value === 'a') value = 'alpha';
    else if (value === 'b') value = 'beta';
    else if (value === 'm') value = 'milestone';
  }
  return { kind: 'string', value: ALIASES[value] ?? value };
}

function intItem(digits: string): Item {
  const s = digits.replace(/^0+(?=.)/, '');
  return { kind: 'int', value: s };
}

function parseItem(isDigit: boolean, buf: string): Item {
  return isDigit ? intItem(buf) : stringItem(buf, false);
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return /^0+$/.test(item.value);
  if (item.kind === 'string') return comparableQualifier(item.value) === RELEASE_INDEX;
  return item.items.length === 0;
}

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const last = list[i] as Item;
    if (isNull(last)) list.splice(i, 1);
    else if (last.kind !== 'list') break;
  }
}

// Java's Character.isDigit is Unicode-wide; ASCII digits are what versions use, and other decimal digits
// are rejected by isValid (they would need Character.digit's values).
const isDigitChar = (c: string) => c >= '0' && c <= '9';

/** ComparableVersion's parse: the root list of items. */
export function parseMavenVersion(version: string): Item[] {
  const v = version.toLowerCase();
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  const open = () => {
    const next: Item[] = [];
    list.push({ kind: 'list', items: next });
    list = next;
    stack.push(next);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (c === '.') {
      list.push(i === start ? intItem('0') : parseItem(isDigit, v.slice(start, i)));
      start = i + 1;
    } else if (c === '-') {
      list.push(i === start ? intItem('0') : parseItem(isDigit, v.slice(start, i)));
      start = i + 1;
      open();
    } else if (isDigitChar(c)) {
      if (!isDigit && i > start) {
        // 1.0.0.X1 < 1.0.0-X2: a qualifier followed by digits reads as -X.
        if (list.length > 0) open();
        list.push(stringItem(v.slice(start, i), true));
        start = i;
        open();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.push(parseItem(true, v.slice(start, i)));
        start = i;
        open();
      }
      isDigit = false;
    }
  }
  if (v.length > start) {
    // A trailing qualifier after other items reads as -qualifier too (1.foo = 1-foo, 1.0.x = 1-x).
    if (!isDigit && list.length > 0) open();
    list.push(parseItem(isDigit, v.slice(start)));
  }
  while (stack.length > 0) normalize(stack.pop() as Item[]);
  return root;
}

function cmpNum(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Item.compareTo, `b` null meaning "nothing here" (padding). */
function compareItem(a: Item, b: Item | null): number {
  switch (a.kind) {
    case 'int':
      if (b === null) return /^0+$/.test(a.value) ? 0 : 1;
      return b.kind === 'int' ? cmpNum(a.value, b.value) : 1;
    case 'string':
      if (b === null) return cmpStr(comparableQualifier(a.value), RELEASE_INDEX);
      if (b.kind === 'string') return cmpStr(comparableQualifier(a.value), comparableQualifier(b.value));
      return -1;
    case 'list':
      if (b === null) return a.items.length === 0 ? 0 : compareItem(a.items[0] as Item, null);
      if (b.kind === 'int') return -1;
      if (b.kind === 'string') return 1;
      return compareLists(a.items, b.items);
  }
}

function compareLists(a: Item[], b: Item[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const l = a[i] ?? null, r = b[i] ?? null;
    const c = l === null ? (r === null ? 0 : -compareItem(r, l)) : compareItem(l, r);
    if (c !== 0) return c;
  }
  return 0;
}

/** ComparableVersion.getCanonical(): the normalised items, lists joined with '-', others with '.'. */
export function mavenCanonical(version: string): string {
  const show = (items: Item[]): string =>
    items
      .map((it, i) => {
        const s = it.kind === 'list' ? show(it.items) : it.value;
        return i === 0 ? s : `${it.kind === 'list' ? '-' : '.'}${s}`;
      })
      .join('');
  return show(parseMavenVersion(version));
}

const MAX_LENGTH = 1024;

function isValidMaven(v: string): boolean {
  return v !== '' && v.length <= MAX_LENGTH && !/[\s\p{Cc}]/u.test(v) && !/(?![0-9])\p{Nd}/u.test(v);
}

export const maven: VersionScheme = {
  id: 'maven',
  url: 'https://maven.apache.org/pom.html#version-order-specification',
  isValid: isValidMaven,
  compare(a: string, b: string): -1 | 0 | 1 {
    for (const v of [a, b]) if (!isValidMaven(v)) throw invalidVersion('maven', v, 'empty, over 1,024 characters, or with whitespace, control characters or non-ASCII digits');
    const c = compareLists(parseMavenVersion(a), parseMavenVersion(b));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  },
};
