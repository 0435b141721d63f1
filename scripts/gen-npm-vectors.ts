// Generates src/versions/testdata/npm-vectors.tsv (pairs ordered by node-semver) and npm-ranges.tsv
// (version, range, satisfies), answered by the semver copy bundled inside the npm CLI
// (/usr/lib/node_modules/npm/node_modules/semver), with the options npm's audit uses
// (`{ loose: true, includePrerelease: true }`, @npmcli/metavuln-calculator).
//
// Version strings: the npm OSV records' events (GHSA slice), the Node security WG's vulnerable/patched
// ranges, and the published versions of the packages listed below (`npm view NAME versions --json`,
// which needs the registry: rerun with network). Ranges: the security WG's ranges and OSV
// introduced/fixed pairs written as npm ranges.
//
// Rerun (from the repo root): node_modules/.bin/node scripts/gen-npm-vectors.ts

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { osvVersions, SHARED } from './lib/feed-versions.ts';
import { seededRandom } from './lib/seeded-random.ts';

const NPM_DIR = '/usr/lib/node_modules/npm';
const require = createRequire(join(NPM_DIR, 'package.json'));
const semver = require('semver') as typeof import('semver');
const semverVersion = (require('semver/package.json') as { version: string }).version;
const npmVersion = (JSON.parse(readFileSync(join(NPM_DIR, 'package.json'), 'utf8')) as { version: string }).version;
const OPTS = { loose: true, includePrerelease: true };

// Packages with long, varied version histories (pre-releases, tags, old loose versions).
const PACKAGES = [
  'react', 'typescript', 'next', '@angular/core', 'webpack', 'vue', 'express', 'lodash', 'semver', 'npm',
  'electron', 'esbuild', 'eslint', '@babel/core', 'jquery', 'moment', 'minimist', 'node-fetch', 'axios',
  'tar', 'glob', 'ws', 'underscore', 'coffee-script', 'grunt', 'request', 'socket.io', 'handlebars', 'marked', 'uglify-js',
];

const { rand, pick } = seededRandom(20261201);
const byPackage = new Map<string, Set<string>>();
const add = (pkg: string, v: string) => {
  let s = byPackage.get(pkg);
  if (!s) byPackage.set(pkg, (s = new Set()));
  s.add(v);
};
const osv = osvVersions('npm');
for (const [p, vs] of osv.byPackage) for (const v of vs) add(p, v);

const ranges = new Set<string>();
const nswg = join(SHARED, 'data/feeds/osv/nodejs-security-wg/vuln/npm');
for (const f of readdirSync(nswg).filter((n) => /^\d+\.json$/.test(n))) {
  const doc = JSON.parse(readFileSync(join(nswg, f), 'utf8')) as { module_name?: string; vulnerable_versions?: string; patched_versions?: string };
  for (const r of [doc.vulnerable_versions, doc.patched_versions]) {
    if (typeof r !== 'string' || r === '') continue;
    ranges.add(r);
    for (const m of r.matchAll(/\d+(?:\.[0-9x*]+){0,2}(?:-[0-9A-Za-z.-]+)?/g)) add(doc.module_name ?? '', m[0]);
  }
}
let fetched = 0;
for (const p of PACKAGES) {
  const r = spawnSync('npm', ['view', p, 'versions', '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`npm view ${p} failed: ${r.stderr}`);
  for (const v of JSON.parse(r.stdout) as string[]) add(p, v);
  fetched++;
}
const all = [...new Set([...byPackage.values()].flatMap((s) => [...s]))].sort();
const multi = [...byPackage.values()].filter((s) => s.size >= 2).map((s) => [...s]);
const pre = all.filter((v) => v.includes('-'));
console.error(`${all.length} distinct versions from ${byPackage.size} packages; ${ranges.size} ranges`);

const pairs = new Map<string, [string, string]>();
const addPair = (a: string, b: string) => {
  if (/[\t\n]/.test(a + b)) return;
  if (rand() < 0.5) [a, b] = [b, a];
  pairs.set(`${a}\t${b}`, [a, b]);
};
const edge: Array<[string, string]> = [
  ['1.0.0-alpha', '1.0.0-alpha.1'], ['1.0.0-alpha.1', '1.0.0-alpha.beta'], ['1.0.0-alpha.beta', '1.0.0-beta'],
  ['1.0.0-beta', '1.0.0-beta.2'], ['1.0.0-beta.2', '1.0.0-beta.11'], ['1.0.0-beta.11', '1.0.0-rc.1'], ['1.0.0-rc.1', '1.0.0'],
  ['1.0.0+build.1', '1.0.0+build.2'], ['1.0.0+build', '1.0.0'], ['v1.2.3', '1.2.3'], ['=1.2.3', '1.2.3'], [' 1.2.3 ', '1.2.3'],
  ['1.2.3beta', '1.2.3-beta'], ['1.2', '1.2.0'], ['1', '1.0.0'], ['01.2.3', '1.2.3'], ['1.02.3', '1.2.3'], ['1.2.3-01', '1.2.3-1'],
  ['1.2.3-0', '1.2.3-a'], ['1.2.3-a.b', '1.2.3-a'], ['9007199254740991.0.0', '1.0.0'], ['9007199254740992.0.0', '1.0.0'],
  ['1.2.3-', '1.2.3'], ['1.2.3.4', '1.2.3'], ['', '1.0.0'], ['x', '1.0.0'], ['1.2.x', '1.2.0'], ['V1.2.3', '1.2.3'],
  ['1.2.3-alpha.-1', '1.2.3-alpha.0'], ['1.2.3--', '1.2.3-0'], ['1.2.3-x.7.z.92', '1.2.3-x.7.z.93'],
];
for (const [a, b] of edge) addPair(a, b);
const mutations: Array<(v: string) => string> = [
  (v) => `v${v}`, (v) => `=${v}`, (v) => v.replace(/-.*$/, ''), (v) => `${v}-0`, (v) => `${v}+build.7`,
  (v) => v.replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + 1)), (v) => v.replace(/-/, ''), (v) => v.replace(/\.\d+$/, ''),
  (v) => v.replace(/^(\d)/, '0$1'), (v) => v.toUpperCase(),
];
const TARGET = 5000;
while (pairs.size < 0.45 * TARGET) {
  const vs = pick(multi);
  const a = pick(vs), b = pick(vs);
  if (a !== b) addPair(a, b);
}
while (pairs.size < 0.6 * TARGET) addPair(pick(pre), pick(rand() < 0.5 ? pre : all));
while (pairs.size < 0.8 * TARGET) {
  const v = pick(all);
  addPair(v, pick(mutations)(v));
}
while (pairs.size < 0.97 * TARGET) addPair(pick(all), pick(all));
for (let i = 0; i < 0.03 * TARGET; i++) {
  const v = pick(all);
  pairs.set(`${v}\t${v}`, [v, v]);
}

const valid = (v: string) => (semver.parse(v, OPTS) === null ? '0' : '1');
const lines: string[] = [];
for (const [a, b] of pairs.values()) {
  const cmp = valid(a) === '1' && valid(b) === '1' ? String(semver.compare(a, b, OPTS)) : '!';
  lines.push(`${a}\t${b}\t${cmp}\t${valid(a)}\t${valid(b)}`);
}
const header = [
  `# Generated by scripts/gen-npm-vectors.ts with node-semver ${semverVersion} as bundled in npm ${npmVersion}, options { loose: true, includePrerelease: true }.`,
  `# Versions: ${osv.sources.join(', ')}, feeds/osv/nodejs-security-wg ranges, and \`npm view\` of ${fetched} packages (${all.length} distinct).`,
  '# Columns: A, B, semver.compare(A,B) (! when one is invalid), semver.parse(A) valid (1/0), semver.parse(B) valid.',
];
writeFileSync('src/versions/testdata/npm-vectors.tsv', `${header.join('\n')}\n${lines.join('\n')}\n`);
console.error(`wrote ${lines.length} pairs`);

// Ranges: the WG's ranges and OSV events written as ranges, against versions of the same package and random ones.
for (const [, vs] of osv.byPackage) {
  const s = [...vs].filter((v) => semver.valid(v)).sort(semver.compare);
  for (let i = 0; i + 1 < s.length; i++) ranges.add(`>=${s[i]} <${s[i + 1]}`);
}
for (const r of ['*', '', '^1.2.3', '~1.2.3', '1.x', '1.2.3 - 2.3.4', '>=1.0.0 <2.0.0 || >=3.0.0', '<1.0.0-rc.1', '^0.0.1', '~>1.2', '>=1.2.3-beta.1 <1.2.3', 'not a range', '>=', '>1.2.3 <=', '^1.2.3-alpha', '1.2.3', '=1.2.3', 'v1.2.3']) ranges.add(r);
const rangeList = [...ranges];
const rlines: string[] = [];
const seen = new Set<string>();
while (rlines.length < 3000) {
  const r = pick(rangeList);
  const v = rand() < 0.3 ? pick(pre) : pick(all);
  const k = `${v}\t${r}`;
  if (seen.has(k) || /[\t\n]/.test(v + r)) continue;
  seen.add(k);
  let want: string;
  if (semver.parse(v, OPTS) === null || semver.validRange(r, OPTS) === null) want = '!';
  else want = semver.satisfies(v, r, OPTS) ? '1' : '0';
  rlines.push(`${v}\t${r}\t${want}`);
}
const rheader = [
  `# Generated by scripts/gen-npm-vectors.ts with node-semver ${semverVersion} as bundled in npm ${npmVersion}, options { loose: true, includePrerelease: true }.`,
  `# Ranges: feeds/osv/nodejs-security-wg vulnerable/patched ranges, OSV npm introduced/fixed pairs, hand-written ones (${rangeList.length}).`,
  '# Columns: version, range, semver.satisfies(version, range) (1/0; ! when semver.parse or semver.validRange rejects one).',
];
writeFileSync('src/versions/testdata/npm-ranges.tsv', `${rheader.join('\n')}\n${rlines.join('\n')}\n`);
console.error(`wrote ${rlines.length} range checks`);
