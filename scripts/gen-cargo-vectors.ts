// Generates src/versions/testdata/cargo-vectors.tsv (pairs ordered by the `semver` crate's Version::cmp)
// and cargo-reqs.tsv (version, requirement, VersionReq::matches), answered by the small Rust program in
// scripts/oracles/cargo-semver built OFFLINE with Debian's cargo and rustc against Debian's
// librust-semver-dev (its .cargo/config.toml points crates-io at /usr/share/cargo/registry).
//
// Versions: the crates.io OSV records (GHSA slice), the versions inside RustSec's `patched`/`unaffected`
// requirements, every package version in the Kata Containers Cargo.lock files, edits of them and
// hand-written edge cases. Requirements: RustSec's, plus operators, partial versions, wildcards and spacing
// applied to real versions.
//
// Rerun (Debian, as root):
//   apt-get install -y --no-install-recommends cargo rustc librust-semver-dev
//   node_modules/.bin/node scripts/gen-cargo-vectors.ts

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonMutations, drawPairs } from './lib/draw-pairs.ts';
import { osvVersions, rustsecRequirements, SHARED } from './lib/feed-versions.ts';
import { seededRandom } from './lib/seeded-random.ts';

const ORACLE_DIR = 'scripts/oracles/cargo-semver';
const TARGET = '/tmp/clair-ts-cargo-semver-oracle';
const env = { ...process.env, RUSTC: '/usr/bin/rustc', CARGO_HOME: `${TARGET}/cargo-home`, CARGO_TARGET_DIR: TARGET };
const build = spawnSync('/usr/bin/cargo', ['build', '--release', '--offline', '--quiet'], { cwd: ORACLE_DIR, env, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`cargo build failed: ${build.stderr}`);

const osv = osvVersions('crates.io');
const byPackage = new Map<string, Set<string>>(osv.byPackage);
const add = (p: string, v: string) => {
  let s = byPackage.get(p);
  if (!s) byPackage.set(p, (s = new Set()));
  s.add(v);
};
const reqsByCrate = rustsecRequirements();
const requirements = new Set<string>();
for (const [crate, rs] of reqsByCrate) {
  for (const r of rs) {
    requirements.add(r);
    for (const m of r.matchAll(/\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?/g)) add(crate, m[0]);
  }
}
const locks: string[] = [];
const walk = (d: string) => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n === 'Cargo.lock') locks.push(p);
  }
};
walk(join(SHARED, 'data/fixtures/kata-containers'));
for (const f of locks) {
  let name = '';
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const n = line.match(/^name = "(.*)"$/);
    if (n) name = n[1] ?? '';
    const v = line.match(/^version = "(.*)"$/);
    if (v && name) add(name, v[1] ?? '');
  }
}
const all = [...new Set([...byPackage.values()].flatMap((s) => [...s]))];
const special = all.filter((v) => /[-+]/.test(v));

const edge: Array<[string, string]> = [
  ['1.0.0-alpha', '1.0.0-alpha.1'], ['1.0.0-alpha.1', '1.0.0-alpha.beta'], ['1.0.0-beta.2', '1.0.0-beta.11'], ['1.0.0-rc.1', '1.0.0'],
  ['1.0.0+a', '1.0.0+b'], ['1.0.0+build', '1.0.0'], ['1.0.0+0', '1.0.0+00'], ['1.0.0+1', '1.0.0+01'], ['1.0.0+a.1', '1.0.0+a'],
  ['1.0.0+1', '1.0.0+a'], ['1.0.0-1', '1.0.0-a'], ['1.0.0-a.b', '1.0.0-a'], ['01.0.0', '1.0.0'], ['1.0.0-01', '1.0.0-1'],
  ['v1.0.0', '1.0.0'], ['1.0', '1.0.0'], ['1', '1.0.0'], [' 1.0.0', '1.0.0'], ['1.0.0 ', '1.0.0'], ['1.0.0-', '1.0.0'],
  ['1.0.0+', '1.0.0'], ['1.0.0-a..b', '1.0.0'], ['18446744073709551615.0.0', '1.0.0'], ['18446744073709551616.0.0', '1.0.0'],
  ['1.0.0-x-y-z.-', '1.0.0-x'], ['1.0.0-é', '1.0.0'], ['1.0.0.0', '1.0.0'], ['', '1.0.0'], ['1.0.0-0', '1.0.0-00'],
  ['0.0.0', '0.0.0-0'], ['1.0.0-alpha+001', '1.0.0-alpha+1'],
];
const mutations = [
  ...commonMutations,
  (v: string) => `${v}+build.5`,
  (v: string) => `${v}-rc.1`,
  (v: string) => v.replace(/[-+].*$/, ''),
  (v: string) => `v${v}`,
];
const { pairs, distinct } = drawPairs({ byPackage, special, edge, mutations, target: 5000, seed: 2015 });

// Requirements: RustSec's, plus forms built on real versions.
const { rand, pick } = seededRandom(1015);
const ops = ['', '=', '>', '>=', '<', '<=', '~', '^', '= ', '>= ', '< ', ' ^'];
const partial = (v: string) => {
  const core = v.replace(/[-+].*$/, '').split('.');
  const r = rand();
  if (r < 0.2) return core.slice(0, 1).join('.');
  if (r < 0.4) return core.slice(0, 2).join('.');
  if (r < 0.5) return `${core.slice(0, 2).join('.')}.${pick(['*', 'x', 'X'])}`;
  if (r < 0.55) return `${core[0]}.${pick(['*', 'x'])}`;
  return v;
};
const hand = ['*', 'x', ' * ', '', ',', '>= 1.0.0,', '>= 1.0.0, < 2.0.0', '>=1.0.0 <2.0.0', '^1.2.3, *', '1.*.3', '*.1', '>=1.*', '=1.*', '~1', '^0', '^0.0',
  '^0.0.3', '^0.2.3', '~0.2', '>= 1.0.0-alpha', '<1.0.0-rc.1', '=1.0.0+build', '1.0.0-', '1.2-beta', '>=01.0.0', '>= 1.0.0 ,< 2', '\v1.0', '>==1', '>1.2.3-alpha.1', '1.2.3 - 2.0.0', '1 || 2'];
for (const h of hand) requirements.add(h);
let guard = 0;
while (requirements.size < 1500 && guard++ < 100000) {
  const n = rand() < 0.7 ? 1 : 2;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`${pick(ops)}${partial(pick(rand() < 0.3 ? special : all))}`);
  requirements.add(parts.join(pick([', ', ',', ' , '])));
}
const reqList = [...requirements];
const reqChecks = new Map<string, [string, string]>();
// Every hand-written requirement against a fixed set of probes.
for (const r of hand) for (const v of ['0.0.3', '0.2.5', '1.0.0', '1.0.0-alpha', '1.2.3', '1.2.4-rc.1', '1.5.0', '2.0.0']) reqChecks.set(`${v}\t${r}`, [v, r]);
guard = 0;
while (reqChecks.size < 4000 && guard++ < 100000) {
  const r = pick(reqList);
  // Versions near the requirement's own numbers are the interesting ones.
  const near = r.match(/\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?/)?.[0];
  let v = rand() < 0.5 && near ? near : pick(rand() < 0.3 ? special : all);
  if (rand() < 0.3) v = pick(mutations)(v);
  if (!/[\t\n]/.test(v + r)) reqChecks.set(`${v}\t${r}`, [v, r]);
}

const input = [...pairs.map(([a, b]) => `cmp\t${a}\t${b}`), ...[...reqChecks.values()].map(([v, r]) => `req\t${v}\t${r}`)].join('\n') + '\n';
const res = spawnSync(join(TARGET, 'release/cargo-semver-oracle'), [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
if (res.status !== 0) throw new Error(`oracle failed: ${res.stderr}`);
const out = res.stdout.trimEnd().split('\n');
const cmpLines = out.slice(0, pairs.length);
const reqLines = out.slice(pairs.length);

const cargoVersion = spawnSync('/usr/bin/cargo', ['--version'], { encoding: 'utf8' }).stdout.trim();
const rustcVersion = spawnSync('/usr/bin/rustc', ['--version'], { encoding: 'utf8' }).stdout.trim();
const semverDeb = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'librust-semver-dev'], { encoding: 'utf8' }).stdout;
const lock = readFileSync(join(ORACLE_DIR, 'Cargo.lock'), 'utf8').match(/name = "semver"\nversion = "([^"]+)"/)?.[1];
const tool = `the semver crate ${lock} (Debian librust-semver-dev ${semverDeb}), built by ${cargoVersion} with ${rustcVersion}`;
writeFileSync(
  'src/versions/testdata/cargo-vectors.tsv',
  [
    `# Generated by scripts/gen-cargo-vectors.ts with ${tool}.`,
    `# Versions: ${osv.sources.join(', ')}, feeds/osv/rustsec requirements, ${locks.length} Kata Containers Cargo.lock files (${distinct} distinct), edits, edge cases.`,
    '# Columns: A, B, Version::cmp(A,B) (-1/0/1; ! when Version::parse rejects one), A parses (1/0), B parses.',
    ...cmpLines,
  ].join('\n') + '\n',
);
writeFileSync(
  'src/versions/testdata/cargo-reqs.tsv',
  [
    `# Generated by scripts/gen-cargo-vectors.ts with ${tool}.`,
    `# Requirements: feeds/osv/rustsec patched/unaffected (${[...reqsByCrate.values()].reduce((n, s) => n + s.size, 0)}), operators/partials/wildcards on real versions, hand-written ones.`,
    '# Columns: version, requirement, VersionReq::matches (1/0; ! when Version::parse or VersionReq::parse rejects one).',
    ...reqLines,
  ].join('\n') + '\n',
);
console.error(`wrote ${cmpLines.length} pairs from ${distinct} versions and ${reqLines.length} requirement checks`);
