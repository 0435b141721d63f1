import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coalesce } from './coalesce.ts';
import type { LayerReport } from '../model/layer-report.ts';
import type { Package } from '../model/package.ts';
import { emptyDistribution } from '../model/distribution.ts';

const pkg = (name: string, version: string, db = 'var/lib/dpkg/status'): Package => ({
  name, version, kind: 'binary', arch: 'amd64', module: '', cpe: '', packageDb: db, repositoryHint: '', source: { name, version },
});

const layer = (n: number, parts: Partial<LayerReport>): LayerReport => ({
  digest: `sha256:${String(n).repeat(64)}`, scannerSet: 's', packageDbs: [], distributions: [], repositories: [],
  whiteouts: [], opaqueDirs: [], errors: [], size: 0, ...parts,
});

const bookworm = { ...emptyDistribution(), did: 'debian', versionId: '12', versionCodeName: 'bookworm' };
const L1 = layer(1, {
  packageDbs: [{ path: 'var/lib/dpkg/status', packages: [pkg('bash', '5.2'), pkg('libc6', '2.36-9')] }],
  distributions: [{ path: 'usr/lib/os-release', distribution: bookworm, priority: 1 }],
});
const L2 = layer(2, { packageDbs: [{ path: 'var/lib/dpkg/status', packages: [pkg('bash', '5.2'), pkg('libc6', '2.36-9+deb12u3'), pkg('curl', '7.88')] }] });
const L3 = layer(3, { packageDbs: [{ path: 'var/lib/dpkg/status', packages: [pkg('bash', '5.2'), pkg('libc6', '2.36-9+deb12u3')] }] });

function summary(r: ReturnType<typeof coalesce>) {
  return Object.entries(r.packages)
    .map(([id, p]) => `${p.name} ${p.version} @${r.environments[id]![0]!.introducedIn.slice(7, 8)}`)
    .sort();
}

test('each package keeps the layer that introduced it in that version', () => {
  const r = coalesce('sha256:' + 'f'.repeat(64), [L1, L2, L3]);
  assert.deepEqual(summary(r), ['bash 5.2 @1', 'libc6 2.36-9+deb12u3 @2']);
  assert.deepEqual(r.distributions['1'], bookworm);
  assert.ok(Object.values(r.environments).every((e) => e[0]!.distributionId === '1'));
  assert.deepEqual(r.layers, [L1.digest, L2.digest, L3.digest]);
});

test('a package removed and re-added is introduced by the layer that re-added it', () => {
  const L4 = layer(4, { packageDbs: [{ path: 'var/lib/dpkg/status', packages: [pkg('bash', '5.2'), pkg('libc6', '2.36-9+deb12u3'), pkg('curl', '7.88')] }] });
  assert.deepEqual(summary(coalesce('m', [L1, L2, L3, L4])), ['bash 5.2 @1', 'curl 7.88 @4', 'libc6 2.36-9+deb12u3 @2']);
});

test('a whiteout of the database file removes its packages; a file whiteout below leaves siblings', () => {
  const distroless = layer(5, {
    packageDbs: [
      { path: 'var/lib/dpkg/status.d/base', packages: [pkg('base-files', '12', 'var/lib/dpkg/status.d/base')] },
      { path: 'var/lib/dpkg/status.d/tzdata', packages: [pkg('tzdata', '2024a', 'var/lib/dpkg/status.d/tzdata')] },
    ],
  });
  const rmTz = layer(6, { whiteouts: ['var/lib/dpkg/status.d/tzdata'] });
  assert.deepEqual(summary(coalesce('m', [distroless, rmTz])), ['base-files 12 @5']);
  const rmDir = layer(7, { whiteouts: ['var/lib/dpkg'] });
  assert.deepEqual(summary(coalesce('m', [distroless, rmDir])), []);
  const rmOther = layer(8, { whiteouts: ['var/lib/dpkg/status.d/base-files-extra'] });
  assert.equal(summary(coalesce('m', [distroless, rmOther])).length, 2, 'a whiteout matches whole path segments only');
});

test('an opaque directory hides what lower layers had below it, not what the same layer adds', () => {
  const opaque = layer(9, {
    opaqueDirs: ['var/lib/dpkg'],
    packageDbs: [{ path: 'var/lib/dpkg/status', packages: [pkg('zsh', '5.9')] }],
  });
  assert.deepEqual(summary(coalesce('m', [L1, opaque])), ['zsh 5.9 @9']);
  const rootOpaque = layer(10, { opaqueDirs: [''] });
  assert.deepEqual(summary(coalesce('m', [L1, rootOpaque])), []);
  assert.deepEqual(coalesce('m', [L1, rootOpaque]).distributions, {});
});

test('etc/os-release wins over usr/lib/os-release; a whiteout removes a release file', () => {
  const trixie = { ...bookworm, versionId: '13', versionCodeName: 'trixie' };
  const etc = layer(11, { distributions: [{ path: 'etc/os-release', distribution: trixie, priority: 2 }] });
  assert.equal(coalesce('m', [L1, etc]).distributions['1']?.versionCodeName, 'trixie');
  const rm = layer(12, { whiteouts: ['etc/os-release'] });
  assert.equal(coalesce('m', [L1, etc, rm]).distributions['1']?.versionCodeName, 'bookworm');
});

test('scanner errors of any layer reach the report', () => {
  const bad = layer(13, { errors: ['dpkg: var/lib/dpkg/status is too big'] });
  const r = coalesce('m', [L1, bad]);
  assert.match(r.err, /layer sha256:1{64}|dpkg: var\/lib\/dpkg\/status is too big/);
  assert.equal(r.success, true);
});

const pypi = { name: 'pypi', key: '', uri: 'https://pypi.org/simple', cpe: '' };
const META = 'usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info/PKG-INFO';
const jinja = (v = '3.1.2'): Package => ({
  name: 'jinja2', version: v, kind: 'binary', arch: '', module: '', cpe: '', packageDb: 'python:usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info', repositoryHint: '',
});

test('language packages: their registry as repository, no distribution, packageDb as found', () => {
  const py = layer(20, { packageDbs: [{ path: META, packages: [jinja()], repository: pypi }] });
  const r = coalesce('m', [L1, py]);
  const [id, p] = Object.entries(r.packages).find(([, p]) => p.name === 'jinja2')!;
  assert.equal(p.ownedBy, undefined);
  const env = r.environments[id]![0]!;
  assert.equal(env.distributionId, '');
  assert.equal(env.packageDb, 'python:usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info');
  assert.deepEqual(env.repositoryIds.map((i) => r.repositories[i]), [pypi]);
  assert.ok(Object.entries(r.packages).filter(([, q]) => q.name !== 'jinja2').every(([i]) => r.environments[i]![0]!.distributionId === '1'));
  // The metadata file's real path is what a whiteout names: removing the egg-info folder removes the package.
  const rm = layer(21, { whiteouts: ['usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info'] });
  assert.deepEqual(summary(coalesce('m', [L1, py, rm])), ['bash 5.2 @1', 'libc6 2.36-9 @1']);
});

test('ownership: a dpkg file list naming the metadata file marks the package owned, with the installed version', () => {
  const deb = layer(22, {
    packageDbs: [
      { path: 'var/lib/dpkg/status', packages: [pkg('python3-jinja2', '3.1.2-1')] },
      { path: META, packages: [jinja()], repository: pypi },
    ],
    fileOwners: [{ path: 'var/lib/dpkg/info/python3-jinja2.list', owners: [{ owner: { name: 'python3-jinja2', version: '', packageDb: 'var/lib/dpkg/status' }, files: [META] }] }],
  });
  const owned = (ls: LayerReport[]) => Object.values(coalesce('m', ls).packages).find((p) => p.name === 'jinja2')?.ownedBy;
  assert.deepEqual(owned([deb]), { name: 'python3-jinja2', version: '3.1.2-1', packageDb: 'var/lib/dpkg/status' });
  // dpkg -r removes the .list (a whiteout); the package files stay here only for the test's sake.
  assert.equal(owned([deb, layer(23, { whiteouts: ['var/lib/dpkg/info/python3-jinja2.list'] })]), undefined);
  // A list whose package is no longer installed owns nothing.
  const gone = layer(24, { packageDbs: [{ path: 'var/lib/dpkg/status', packages: [pkg('bash', '5.2')] }] });
  assert.equal(owned([deb, gone]), undefined);
  // A pip install of the same name elsewhere is not owned.
  const pip = layer(25, { packageDbs: [{ path: 'usr/local/lib/python3.11/dist-packages/jinja2-3.1.4.dist-info/METADATA', packages: [jinja('3.1.4')], repository: pypi }] });
  const ps = Object.values(coalesce('m', [deb, pip]).packages).filter((p) => p.name === 'jinja2');
  assert.deepEqual(ps.map((p) => [p.version, p.ownedBy?.name]), [['3.1.2', 'python3-jinja2'], ['3.1.4', undefined]]);
});

test('ownership from rpm: owner versions given by the database, and a later database rewrite keeps it', () => {
  const rpmDb = 'var/lib/rpm/rpmdb.sqlite';
  const six = 'usr/lib/python3.9/site-packages/six-1.15.0.dist-info/METADATA';
  const base = layer(26, {
    packageDbs: [
      { path: rpmDb, packages: [pkg('python3-six', '1.15.0-9.el9', rpmDb)] },
      { path: six, packages: [{ ...jinja(), name: 'six', version: '1.15.0', packageDb: `python:${six.slice(0, -9)}` }], repository: pypi },
    ],
    fileOwners: [{ path: rpmDb, owners: [{ owner: { name: 'python3-six', version: '1.15.0-9.el9', packageDb: rpmDb }, files: [six] }] }],
  });
  const dnf = layer(27, {
    packageDbs: [{ path: rpmDb, packages: [pkg('python3-six', '1.15.0-9.el9', rpmDb), pkg('vim', '9', rpmDb)] }],
    fileOwners: [{ path: rpmDb, owners: [{ owner: { name: 'python3-six', version: '1.15.0-9.el9', packageDb: rpmDb }, files: [six] }] }],
  });
  const p = Object.values(coalesce('m', [base, dnf]).packages).find((q) => q.name === 'six')!;
  assert.equal(p.ownedBy?.name, 'python3-six');
  assert.equal(p.ownedBy?.version, '1.15.0-9.el9');
});

test('one file, several registries (a Cargo.lock with crates.io, git and path crates): one database, replaced whole', () => {
  const lock = 'opt/kata/Cargo.lock';
  const crates = { name: 'crates.io', key: '', uri: 'https://crates.io/', cpe: '' };
  const git = { name: 'git', key: '', uri: 'https://github.com/kata-containers/cgroups-rs', cpe: '' };
  const crate = (name: string, version: string): Package => ({ name, version, kind: 'binary', arch: '', module: '', cpe: '', packageDb: `cargo:${lock}`, repositoryHint: '' });
  const l1 = layer(30, {
    packageDbs: [
      { path: lock, packages: [crate('cgroups-rs', '0.3.5'), crate('libc', '0.2.1')], repository: crates },
      { path: lock, packages: [crate('cgroups-rs', '0.3.5')], repository: git },
    ],
  });
  const r = coalesce('m', [l1]);
  const repos = Object.entries(r.packages)
    .map(([id, p]) => `${p.name} ${r.environments[id]![0]!.repositoryIds.map((i) => r.repositories[i]!.name).join(',')}`)
    .sort();
  assert.deepEqual(repos, ['cgroups-rs crates.io', 'cgroups-rs git', 'libc crates.io']);
  // A later layer rewriting the lockfile replaces every group of it; unchanged packages keep their layer.
  const l2 = layer(31, { packageDbs: [{ path: lock, packages: [crate('libc', '0.2.1')], repository: crates }] });
  const r2 = coalesce('m', [l1, l2]);
  assert.deepEqual(Object.values(r2.packages).map((p) => p.name), ['libc']);
  assert.equal(r2.environments['1']![0]!.introducedIn, l1.digest);
});
