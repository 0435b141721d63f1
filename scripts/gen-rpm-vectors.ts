// Generates src/versions/testdata/rpm-vectors.tsv: pairs of RPM version / EVR strings and the order that
// the real librpm gives them, so src/versions/rpm.test.ts checks our rpm scheme against librpm itself.
//
// Rerun (Debian machine with the `rpm` package, which brings librpmio9, and gcc; from the repo root, with
// the project's shared data folder beside the repo or at $CLAIR_TS_SHARED):
//   node_modules/.bin/node scripts/gen-rpm-vectors.ts
//
// The truth comes from a 30-line C program, compiled here and linked against the installed
// librpmio.so.9, that calls librpm's own functions for each pair:
//   column 3  rpmvercmp(A, B)                       the raw segment comparison
//   column 4  rpmverCmp(rpmverParse(A), rpmverParse(B))   librpm's EVR comparison ('!' if it rejects one)
//   column 5  the comparison inside rpmverOverlap (dependency ranges: a missing release matches any),
//             read back from rpmverOverlap(A, op, B, EQUAL) with op = EQUAL, then GREATER
//
// Inputs: EVRs of the real rpm databases in shared go-rpmdb fixtures (packages.csv), the EVRs in the Red Hat,
// Oracle and Photon OVAL files under shared feeds ("<name> is earlier than <evr>"), claircore's rpmvercmp
// test vectors, mutations of those EVRs ('~', '^', dropped epoch/release, leading zeros, other separators)
// and random strings over a small token alphabet (digits, letters, '~', '^', separators).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { seededRandom } from './lib/seeded-random.ts';

const OUT = 'src/versions/testdata/rpm-vectors.tsv';
const SHARED = resolve(process.env.CLAIR_TS_SHARED ?? '../shared', 'data');
const LIBRPMIO = '/usr/lib/x86_64-linux-gnu/librpmio.so.9';
const TARGET_PAIRS = 4000;

const HARNESS = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef struct rpmver_s *rpmver;
extern int rpmvercmp(const char *a, const char *b);
extern rpmver rpmverParse(const char *evr);
extern int rpmverCmp(rpmver v1, rpmver v2);
extern rpmver rpmverFree(rpmver rv);
extern int rpmverOverlap(rpmver v1, int f1, rpmver v2, int f2);
enum { LESS = 1 << 1, GREATER = 1 << 2, EQUAL = 1 << 3 };
static int sgn(int x) { return x < 0 ? -1 : x > 0; }
static void evrcmp(const char *a, const char *b, char *whole, char *overlap) {
  rpmver va = rpmverParse(a), vb = rpmverParse(b);
  if (va && vb) {
    sprintf(whole, "%d", sgn(rpmverCmp(va, vb)));
    int eq = rpmverOverlap(va, EQUAL, vb, EQUAL);
    sprintf(overlap, "%d", eq ? 0 : rpmverOverlap(va, GREATER, vb, EQUAL) ? -1 : 1);
  } else {
    strcpy(whole, "!");
    strcpy(overlap, "!");
  }
  rpmverFree(va); rpmverFree(vb);
}
int main(void) {
  static char line[65536];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *b = strchr(line, '\t');
    if (!b) { puts("bad line"); return 1; }
    *b++ = 0;
    const char *a = line;
    char whole[4], overlap[4];
    evrcmp(a, b, whole, overlap);
    printf("%d\t%s\t%s\n", sgn(rpmvercmp(a, b)), whole, overlap);
  }
  return 0;
}
`;

const { rand, pick } = seededRandom(7041966);

if (!existsSync(SHARED)) throw new Error(`shared data not found at ${SHARED}: set CLAIR_TS_SHARED`);
if (!existsSync(LIBRPMIO)) throw new Error(`${LIBRPMIO} not found: apt-get install rpm`);

// Real EVRs, grouped by package name.
const byName = new Map<string, Set<string>>();
function add(name: string, evr: string): void {
  let s = byName.get(name);
  if (!s) byName.set(name, (s = new Set()));
  s.add(evr);
}
const rpmdb = join(SHARED, 'fixtures/go-rpmdb/pkg/testdata');
for (const dir of readdirSync(rpmdb)) {
  const csv = join(rpmdb, dir, 'packages.csv');
  if (!existsSync(csv)) continue;
  for (const line of readFileSync(csv, 'utf8').split('\n')) {
    const [epoch, name, version, release] = line.split('¶');
    if (!name || !version || !release) continue;
    add(name, `${epoch ? `${epoch}:` : ''}${version}-${release}`);
  }
}
function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
}
const feedFiles: string[] = [];
for (const d of ['feeds/redhat', 'feeds/oracle', 'feeds/photon']) walk(join(SHARED, d), feedFiles);
for (const f of feedFiles) {
  if (!/\.xml(\.gz)?$|mock_[a-z_]*data$/.test(f)) continue;
  const raw = readFileSync(f);
  const text = (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  for (const m of text.matchAll(/([A-Za-z0-9_.+-]+) is earlier than (\d+:[^"\s<]+)/g)) add(m[1] ?? '', m[2] ?? '');
}
const realEVRs = [...new Set([...byName.values()].flatMap((s) => [...s]))].sort();
const groups = [...byName.values()].filter((s) => s.size >= 2).map((s) => [...s].sort());
console.error(`${realEVRs.length} real EVRs, ${groups.length} names with several`);

const pairs = new Map<string, [string, string]>();
function addPair(a: string, b: string): void {
  if (/[\t\n\0]/.test(a + b)) return;
  if (rand() < 0.5) [a, b] = [b, a];
  pairs.set(`${a}\t${b}`, [a, b]);
}

// claircore's rpmvercmp vectors (ported from rpm's own tests/rpmvercmp.at).
const ccFile = join(SHARED, 'fixtures/claircore/internal/rpmver/testdata/rpmvercmp');
for (const line of readFileSync(ccFile, 'utf8').split('\n')) {
  const m = line.match(/^(\S+) (<|>|==) (\S+)$/);
  if (m) addPair(m[1] ?? '', m[3] ?? '');
}
// Handwritten EVR edge cases.
const edge: Array<[string, string]> = [
  ['1.0', '1.0-1'], ['1.0-1', '1.0-2'], ['0:1.0-1', '1.0-1'], [':1.0-1', '1.0-1'], ['1:1.0', '2.0'],
  ['01:1.0', '1:1.0'], ['1.0-1.el8', '1.0-1.el8_1'], ['1.0-1', '1.0-1~rc1'], ['1.0-~1', '1.0'], ['1.0-^1', '1.0'],
  ['1.0^', '1.0'], ['1.0^git1', '1.0'], ['1.0^git1', '1.0.1'], ['1.0~rc1^git1', '1.0~rc1'], ['1.0~rc1^git1', '1.0~rc2'],
  ['1.0-1-2', '1.0-1'], ['a:1', 'a:2'], ['1.0:1', '1.0'], ['1.0', '1.0-'], ['1:', '1:1'], ['-1', '1'],
  ['1.0 ', '1.0'], ['1.0é', '1.0'], ['1.0é1', '1.0.1'], ['00000000000000000000000000001', '1'],
  ['99999999999999999999999999999', '99999999999999999999999999998'], ['4294967296:1', '4294967295:1'],
  ['1.0', '1.0.0'], ['1.0a', '1.0.a'], ['1..0', '1.0'], ['1.0_1', '1.0.1'], ['1.0+1', '1.0-1'], ['~', ''], ['^', '~'],
];
for (const [a, b] of edge) addPair(a, b);

const mutations: Array<(v: string) => string> = [
  (v) => `${v}~rc1`,
  (v) => v.replace(/-/, '~rc1-'),
  (v) => v.replace(/-/, '^git1-'),
  (v) => `${v}^`,
  (v) => v.replace(/^\d+:/, ''),
  (v) => (v.includes(':') ? v : `0:${v}`),
  (v) => v.replace(/-[^-]*$/, ''),
  (v) => v.replace(/\.(\d)/, '.0$1'),
  (v) => v.replace(/\./, '_'),
  (v) => v.replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + 1)),
  (v) => v.replace(/\.el(\d)/, '.el$1_1'),
  (v) => `${v}.1`,
  (v) => `${v}a`,
];
const tokens = ['0', '1', '2', '9', '01', '10', '010', '123', 'a', 'b', 'z', 'A', 'Z', 'rc', 'alpha', 'el8', '~', '^', '.', '.', '_', '+', '%'];
function randomVersion(): string {
  const n = 1 + Math.floor(rand() * 6);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(tokens);
  return s;
}
function tweak(s: string): string {
  const i = Math.floor(rand() * (s.length + 1));
  return s.slice(0, i) + pick(tokens) + s.slice(i + (rand() < 0.5 ? 1 : 0));
}

while (pairs.size < 0.3 * TARGET_PAIRS) {
  const g = pick(groups);
  const a = pick(g);
  const b = pick(g);
  if (a !== b) addPair(a, b);
}
while (pairs.size < 0.45 * TARGET_PAIRS) addPair(pick(realEVRs), pick(realEVRs));
while (pairs.size < 0.65 * TARGET_PAIRS) {
  const v = pick(realEVRs);
  addPair(v, pick(mutations)(v));
}
// Raw versions and releases on their own (no epoch/release split involved).
while (pairs.size < 0.72 * TARGET_PAIRS) {
  const [, v1 = '', r1 = ''] = pick(realEVRs).match(/^(?:\d+:)?(.*)-([^-]*)$/) ?? [];
  const [, v2 = '', r2 = ''] = pick(realEVRs).match(/^(?:\d+:)?(.*)-([^-]*)$/) ?? [];
  if (rand() < 0.5) addPair(v1, v2);
  else addPair(r1, r2);
}
while (pairs.size < 0.97 * TARGET_PAIRS) {
  const a = randomVersion();
  addPair(a, rand() < 0.7 ? tweak(a) : randomVersion());
}
while (pairs.size < TARGET_PAIRS) {
  const v = pick(realEVRs);
  pairs.set(`${v}\t${v}`, [v, v]);
}

const dir = mkdtempSync(join(tmpdir(), 'rpm-vectors-'));
writeFileSync(join(dir, 'harness.c'), HARNESS);
execFileSync('gcc', ['-O2', '-o', join(dir, 'harness'), join(dir, 'harness.c'), LIBRPMIO], { stdio: 'inherit' });
const list = [...pairs.values()].filter(([a, b]) => a !== '' && b !== '');
const r = spawnSync(join(dir, 'harness'), [], { input: list.map(([a, b]) => `${a}\t${b}\n`).join(''), encoding: 'utf8', maxBuffer: 1 << 28 });
if (r.status !== 0) throw new Error(`harness failed: ${r.stderr}`);
const results = r.stdout.split('\n');
const lines = list.map(([a, b], i) => `${a}\t${b}\t${results[i]}`);
if (results.length !== list.length + 1) throw new Error(`harness gave ${results.length - 1} results for ${list.length} pairs`);

const rpmVersion = execFileSync('rpm', ['--version'], { encoding: 'utf8' }).trim();
const header = [
  `# Generated by scripts/gen-rpm-vectors.ts with librpmio.so.9 of ${rpmVersion} (${realEVRs.length} real EVRs).`,
  '# Columns: A, B, rpmvercmp(A,B), rpmverCmp(A,B) (librpm EVR compare; ! = librpm rejects one),',
  '# and the rpmverOverlap comparison (a missing release matches any; compareEVRReleaseOptional).',
  '# Rerun: node_modules/.bin/node scripts/gen-rpm-vectors.ts',
];
writeFileSync(OUT, `${header.join('\n')}\n${lines.join('\n')}\n`);
console.error(`wrote ${lines.length} pairs to ${OUT}`);
