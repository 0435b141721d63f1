import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { asV1, asV3, cargoMetadataPackages, DEBIAN_CRATES, makeRustWorkspace, readText, type RustProject } from '../../../test/support/rust-project.ts';
import { hasTool } from '../../../test/support/system-tool.ts';
import { isCratesIo, parseCargoLock } from './cargo-lock.ts';

// Truth: `cargo metadata --locked --offline` on a workspace resolved here (v4 as cargo writes it; v3 and v1 rewrites
// that cargo accepts unchanged under --locked), and Python's tomllib on the Kata Containers lockfiles (no manifests
// ship with those, so cargo cannot run on them), plus the per-file counts in the fixture's README.

const haveCargo = hasTool('cargo') && hasTool('ls', [join(DEBIAN_CRATES, 'semver-1.0.14')]);
if (!haveCargo && process.env.CI) throw new Error('cargo and Debian crates are required under CI (.ci/run installs them)');

const list = (pkgs: { name: string; version: string; source?: string }[]): string[] =>
  pkgs.map((p) => `${p.name} ${p.version} ${p.source ?? ''}`).sort();

describe('Cargo.lock read like cargo metadata --locked', { skip: !haveCargo && 'cargo or librust-*-dev missing' }, () => {
  let p: RustProject;
  before(() => {
    p = makeRustWorkspace();
  });
  after(() => rmSync(p.dir, { recursive: true, force: true }));

  for (const [format, rewrite] of [['v4', (s: string) => s], ['v3', asV3], ['v1', asV1]] as const) {
    it(`${format}: every package, workspace members included`, () => {
      const v4 = readText(p.lockfile);
      const text = rewrite(v4);
      writeFileSync(p.lockfile, text);
      try {
        const lock = parseCargoLock(text, 'Cargo.lock');
        // As written: v4 by cargo ≥ 1.83, v3 by Debian bookworm's cargo; the rewrites are v3 and v1.
        const written = Number(/^version = (\d+)$/m.exec(v4)?.[1] ?? 0);
        assert.equal(lock.version, format === 'v4' ? written : format === 'v3' ? 3 : 1);
        const truth = cargoMetadataPackages(p.dir);
        assert.deepEqual(list(lock.packages), truth);
        assert.equal(lock.packages.length, 6);
        assert.deepEqual(lock.packages.filter((x) => !isCratesIo(x.source)).map((x) => x.name).sort(), ['app', 'helper']);
      } finally {
        writeFileSync(p.lockfile, v4);
      }
    });
  }
});

// The README of the fixture: packages, crates.io, git, local per file.
const KATA: [string, number, number, number, number][] = [
  ['Cargo.lock', 901, 845, 7, 49],
  ['history-3.18.0/src/agent/Cargo.lock', 546, 531, 3, 12],
  ['history-3.18.0/src/dragonball/Cargo.lock', 273, 258, 0, 15],
  ['history-3.18.0/src/libs/Cargo.lock', 286, 278, 0, 8],
  ['history-3.18.0/src/mem-agent/Cargo.lock', 106, 105, 0, 1],
  ['history-3.18.0/src/mem-agent/example/Cargo.lock', 177, 175, 0, 2],
  ['history-3.18.0/src/runtime-rs/Cargo.lock', 537, 501, 2, 34],
  ['history-3.18.0/src/tools/agent-ctl/Cargo.lock', 544, 531, 5, 8],
  ['history-3.18.0/src/tools/genpolicy/Cargo.lock', 327, 322, 2, 3],
  ['history-3.18.0/src/tools/kata-ctl/Cargo.lock', 387, 376, 1, 10],
  ['history-3.18.0/src/tools/runk/Cargo.lock', 388, 377, 1, 10],
  ['history-3.18.0/src/tools/trace-forwarder/Cargo.lock', 138, 136, 0, 2],
];

const havePython = spawnSync('python3', ['-c', 'import tomllib'], { stdio: 'ignore' }).status === 0;

describe('Kata Containers lockfiles index to exactly the packages they list', () => {
  for (const [rel, total, cratesIo, git, local] of KATA) {
    it(rel, (t) => {
      const f = requireSharedData(t, 'fixtures', 'kata-containers', ...rel.split('/'));
      if (!f) return;
      const lock = parseCargoLock(readFileSync(f, 'utf8'), rel);
      assert.equal(lock.packages.length, total);
      assert.equal(lock.packages.filter((x) => isCratesIo(x.source)).length, cratesIo);
      assert.equal(lock.packages.filter((x) => x.source?.startsWith('git+')).length, git);
      assert.equal(lock.packages.filter((x) => x.source === undefined).length, local);
      if (!havePython) return;
      const py = spawnSync(
        'python3',
        ['-c', 'import sys,tomllib,json; d=tomllib.load(open(sys.argv[1],"rb")); print(json.dumps([[p["name"],p["version"],p.get("source","")] for p in d["package"]]))', f],
        { encoding: 'utf8' },
      );
      const truth = (JSON.parse(py.stdout) as string[][]).map((x) => x.join(' ')).sort();
      assert.deepEqual(list(lock.packages), truth);
    });
  }

  it('git crates are not crates.io crates, even when a crates.io crate has the same name', (t) => {
    const f = requireSharedData(t, 'fixtures', 'kata-containers', 'history-3.18.0', 'src', 'agent', 'Cargo.lock');
    if (!f) return;
    const cgroups = parseCargoLock(readFileSync(f, 'utf8'), 'x').packages.filter((x) => x.name === 'cgroups-rs');
    assert.ok(cgroups.some((x) => x.source?.startsWith('git+') && !isCratesIo(x.source)));
  });
});

describe('malformed lockfiles name the file', () => {
  it('not TOML', () => {
    assert.throws(() => parseCargoLock('[[package]\nname = "x"', 'opt/app/Cargo.lock'), /opt\/app\/Cargo\.lock is not valid TOML \(line 1/);
  });
  it('a package without a version', () => {
    assert.throws(() => parseCargoLock('version = 4\n[[package]]\nname = "x"\n', 'Cargo.lock'), /Cargo\.lock: \[\[package\]\] #1 has no string name and version/);
  });
  it('package is not an array of tables', () => {
    assert.throws(() => parseCargoLock('package = "x"\n', 'Cargo.lock'), /"package" is not an array/);
  });
  it('an empty lockfile lists nothing (v2 without [metadata])', () => {
    assert.deepEqual(parseCargoLock('', 'Cargo.lock'), { version: 2, packages: [] });
  });
});
