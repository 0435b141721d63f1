// Generates src/versions/testdata/dpkg-vectors.tsv: pairs of Debian version strings and the order that the
// real dpkg gives them (`dpkg --compare-versions`), so src/versions/dpkg.test.ts checks our dpkg scheme
// against the tool itself rather than against our reading of it.
//
// Rerun (as root on a Debian machine, from the repo root):
//   apt-get update            # fills /var/lib/apt/lists/*Packages*
//   node_modules/.bin/node scripts/gen-dpkg-vectors.ts
//
// Version strings come from the Packages (and Sources, when present) lists in /var/lib/apt/lists:
// each binary's Version, its Source "(version)", and the versions in Depends/Pre-Depends/Breaks/...
// constraints. Pairs are drawn with a fixed seed: versions of the same package (close versions), a
// dependency constraint against the version of the package it names, versions with '~', epochs and '+',
// random pairs, small edits of real versions (strip/append '~…', '+b1', leading zeros, epochs), and a
// handwritten list of edge cases (including ones dpkg only warns about, and ones it rejects). The
// expected column is -1, 0 or 1, or `!` when dpkg refuses one of the versions (exit status 2).

import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './lib/seeded-random.ts';

const LISTS = '/var/lib/apt/lists';
const OUT = 'src/versions/testdata/dpkg-vectors.tsv';
const TARGET_PAIRS = 5000;

const { rand, pick } = seededRandom(20240613);

function readList(path: string): string {
  const r = spawnSync('/usr/lib/apt/apt-helper', ['cat-file', path], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`apt-helper cat-file ${path} failed: ${r.stderr}`);
  return r.stdout;
}

const byPackage = new Map<string, Set<string>>();
const constraints: Array<{ pkg: string; version: string }> = [];
function add(pkg: string, version: string): void {
  let s = byPackage.get(pkg);
  if (!s) byPackage.set(pkg, (s = new Set()));
  s.add(version);
}

const files = readdirSync(LISTS).filter((f) => /_(Packages|Sources)(\.[a-z0-9]+)?$/.test(f));
if (files.length === 0) throw new Error(`no Packages lists in ${LISTS}: run apt-get update first`);
for (const f of files) {
  let pkg = '';
  for (const line of readList(join(LISTS, f)).split('\n')) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^Package: (\S+)/))) pkg = m[1] ?? '';
    else if ((m = line.match(/^Version: (\S+)/))) add(pkg, m[1] ?? '');
    else if ((m = line.match(/^Source: (\S+) \((\S+)\)/))) add(m[1] ?? '', m[2] ?? '');
    else if (/^(Pre-Depends|Depends|Recommends|Suggests|Breaks|Conflicts|Replaces|Provides|Build-Depends): /.test(line)) {
      for (const c of line.matchAll(/([a-z0-9][a-z0-9+.-]*)(?::\w+)? \((?:<<|<=|=|>=|>>) ([^)\s]+)\)/g)) {
        constraints.push({ pkg: c[1] ?? '', version: c[2] ?? '' });
      }
    }
  }
}
const all = [...new Set([...byPackage.values()].flatMap((s) => [...s]).concat(constraints.map((c) => c.version)))].sort();
const multi = [...byPackage.values()].filter((s) => s.size >= 2).map((s) => [...s].sort());
const tilde = all.filter((v) => v.includes('~'));
const epoch = all.filter((v) => v.includes(':'));
const plus = all.filter((v) => v.includes('+'));
console.error(`${files.length} lists, ${all.length} distinct versions, ${multi.length} packages with several, ${constraints.length} constraints`);

const pairs = new Map<string, [string, string]>();
function addPair(a: string, b: string): void {
  if (a.includes('\t') || b.includes('\t') || a.includes('\n') || b.includes('\n')) return;
  if (rand() < 0.5) [a, b] = [b, a];
  pairs.set(`${a}\t${b}`, [a, b]);
}

// Handwritten edge cases: policy examples, '~' at ends, leading zeros, letters vs punctuation, epochs,
// missing revisions, versions dpkg only warns about, and versions it rejects.
const edge: Array<[string, string]> = [
  ['1.0~rc1', '1.0'], ['1.0~', '1.0'], ['1.0~~', '1.0~'], ['1.0~~a', '1.0~~'], ['1.0~rc1-1', '1.0-1'],
  ['1.0', '1.0+b1'], ['1.0', '1.0.0'], ['1.0', '1.00'], ['1.01', '1.1'], ['0:1.0', '1.0'], ['1:0.1', '2.0'],
  ['1.0-1', '1.0'], ['1.0-0', '1.0'], ['1.0-', '1.0'], ['1.0a', '1.0+'], ['1.0a', '1.0.'], ['1.0A', '1.0a'],
  ['1.0Z', '1.0a'], ['1.0-1~bpo1', '1.0-1'], ['2:1', '10:1'], ['1.2.3-4+deb12u1', '1.2.3-4'],
  ['1.2.3-4+deb12u1', '1.2.3-4+deb12u10'], ['7.6.0-2+b1', '7.6.0-2.1'], ['1:2:3-4', '1:2:3-5'], ['1:2-3-4', '1:2-3-5'],
  ['1.0-1-1', '1.0-1.1'], ['a1.0', '1.0'], ['1.0_1', '1.0.1'], ['1.0-a_b', '1.0-a.b'], ['1.0', ' 1.0'],
  ['1.0 ', '1.0'], ['+1:1.0', '1:1.0'], ['01:1.0', '1:1.0'], ['2147483647:1', '1:1'], ['2147483648:1', '1:1'],
  [':1.0', '1.0'], ['1:', '1.0'], ['1:-1', '1.0'], ['1.0 a', '1.0'], ['x:1.0', '1.0'], ['-1:1.0', '1.0'],
  ['1.0é', '1.0e'], ['1.0é', '1.0~'], ['1.0é', '1.0+'], ['1.0-ü', '1.0-z'], ['00000000000000000000001', '1'],
  ['99999999999999999999999', '99999999999999999999998'], ['1.0~rc1~git', '1.0~rc1'], ['1.0+~', '1.0+'],
  ['1.0+', '1.0'], ['1.0.', '1.0'], ['1.0~a', '1.0~B'], ['1.0..1', '1.0.1'], ['1..0', '1.0'], ['0', '0:0-0'],
];
for (const [a, b] of edge) addPair(a, b);

function bumpLastDigit(v: string): string {
  return v.replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + 1));
}
const mutations: Array<(v: string) => string> = [
  (v) => v.replace(/~.*$/, ''),
  (v) => `${v}~`,
  (v) => `${v}~rc1`,
  (v) => `${v}+b1`,
  (v) => `${v}.0`,
  (v) => (v.includes('-') ? v.replace(/-[^-]*$/, '') : `${v}-1`),
  (v) => (v.includes(':') ? v.replace(/^\d+:/, '') : `1:${v}`),
  (v) => v.replace(/\.(\d)/, '.0$1'),
  bumpLastDigit,
  (v) => v.replace(/[a-z]/, (c) => c.toUpperCase()),
];

while (pairs.size < 0.16 * TARGET_PAIRS) {
  const vs = pick(multi);
  const a = pick(vs);
  const b = pick(vs);
  if (a !== b) addPair(a, b);
}
let guard = 0;
while (pairs.size < 0.32 * TARGET_PAIRS && guard++ < 100000) {
  const c = pick(constraints);
  const vs = byPackage.get(c.pkg);
  if (vs) addPair(c.version, pick([...vs]));
}
while (pairs.size < 0.44 * TARGET_PAIRS) addPair(pick(tilde), rand() < 0.5 ? pick(tilde) : pick(tilde).replace(/~.*$/, ''));
while (pairs.size < 0.52 * TARGET_PAIRS) addPair(pick(epoch), pick(rand() < 0.5 ? epoch : all));
while (pairs.size < 0.60 * TARGET_PAIRS) addPair(pick(plus), pick(plus));
while (pairs.size < 0.80 * TARGET_PAIRS) {
  const v = pick(all);
  addPair(v, pick(mutations)(v));
}
while (pairs.size < 0.97 * TARGET_PAIRS) addPair(pick(all), pick(all));
for (let i = 0; i < 0.03 * TARGET_PAIRS; i++) {
  const v = pick(all);
  pairs.set(`${v}\t${v}`, [v, v]);
}

// Ask dpkg: `lt` first, then `eq`; exit 0 = true, 1 = false, anything else = dpkg refused a version.
function dpkgSays(a: string, op: string, b: string): boolean | 'error' {
  const r = spawnSync('dpkg', ['--compare-versions', '--', a, op, b], { stdio: ['ignore', 'ignore', 'ignore'] });
  if (r.status === 0) return true;
  if (r.status === 1) return false;
  return 'error';
}
const lines: string[] = [];
let refused = 0;
for (const [a, b] of pairs.values()) {
  const lt = dpkgSays(a, 'lt', b);
  let expected: string;
  if (lt === 'error') {
    expected = '!';
    refused++;
  } else if (lt) expected = '-1';
  else expected = dpkgSays(a, 'eq', b) === true ? '0' : '1';
  lines.push(`${a}\t${b}\t${expected}`);
}

const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'dpkg'], { encoding: 'utf8' }).stdout;
const header = [
  `# Generated by scripts/gen-dpkg-vectors.ts with dpkg ${version} from ${files.length} apt lists (${all.length} distinct versions).`,
  '# Columns: version A, version B, dpkg --compare-versions result (-1 A<B, 0 equal, 1 A>B, ! dpkg rejects A or B).',
  '# Rerun: apt-get update && node_modules/.bin/node scripts/gen-dpkg-vectors.ts',
];
writeFileSync(OUT, `${header.join('\n')}\n${lines.join('\n')}\n`);
console.error(`wrote ${lines.length} pairs (${refused} refused by dpkg) to ${OUT}`);
