import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { detectRpmDb, evr, moduleStream, parseSourceRpm, readRpmDatabase, type RpmDbFile, type RpmPackage } from './rpmdb.ts';

const testdata = join(import.meta.dirname, 'testdata');
const local = (...rel: string[]): RpmDbFile[] => rel.map((r) => ({ path: `testdata/${r}`, data: readFileSync(join(testdata, r)) }));

// The columns of `rpm -qa --qf` that want.tsv and go-rpmdb's packages.csv hold.
function row(p: RpmPackage): string[] {
  return [p.epoch === undefined ? '' : String(p.epoch), p.name, p.version, p.release, p.arch, p.sourceRpm, String(p.size), p.license, p.vendor];
}

// want.tsv: the real rpm's `rpm -qa` for the fixture db, in its order (header number order), with MODULARITYLABEL last.
const want = readFileSync(join(testdata, 'want.tsv'), 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\t'));

const ownDbs: { name: string; files: string[]; without?: string }[] = [
  { name: 'sqlite (rpm 4.18, WAL-mode header, read in memory)', files: ['sqlite/rpmdb.sqlite'] },
  { name: 'Berkeley DB little-endian, 4 KiB pages, overflow chains', files: ['bdb-le/Packages'] },
  { name: 'Berkeley DB big-endian, 8 KiB pages, inline and overflow values', files: ['bdb-be/Packages'] },
  { name: 'sqlite with a WAL that deletes libbeta', files: ['sqlite/rpmdb.sqlite', 'sqlite-wal/rpmdb.sqlite-wal'], without: 'libbeta' },
];

for (const db of ownDbs) {
  test(`rpmdb fixture: ${db.name} lists what rpm -qa lists`, async () => {
    const pkgs = await readRpmDatabase(local(...db.files));
    const expected = want.filter((w) => w[1] !== db.without);
    assert.deepEqual(pkgs.map(row), expected.map((w) => w.slice(0, 9)));
    assert.deepEqual(pkgs.map((p) => p.module), expected.map((w) => moduleStream(w[9] ?? '')));
    assert.ok(pkgs.every((p) => p.files === undefined));
  });
}

test('rpmdb fixture: derived fields (source, module, evr, files)', async () => {
  const pkgs = await readRpmDatabase(local('bdb-le/Packages'), { files: true });
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const libbeta = byName.get('libbeta')!;
  assert.deepEqual([libbeta.sourceName, libbeta.sourceVersion, libbeta.module], ['beta', '2.3.4-5.el9', 'beta:2.3']);
  assert.equal(evr(byName.get('alpha')!), '1:1.0-1.fx');
  assert.equal(evr(byName.get('gamma')!), '0.9~rc1-0');
  assert.deepEqual(byName.get('alpha')!.files, ['/usr/bin/alpha', '/usr/share/doc/alpha', '/usr/share/doc/alpha/README']);
  assert.equal(byName.get('gamma')!.files!.length, readFileSync(join(testdata, 'gamma.files'), 'utf8').trimEnd().split('\n').length);
});

test('rpmdb: helpers', () => {
  assert.deepEqual(parseSourceRpm('util-linux-2.32.1-42.el8_8.src.rpm'), { name: 'util-linux', version: '2.32.1-42.el8_8' });
  assert.deepEqual(parseSourceRpm('kernel-5.14.0-1.nosrc.rpm'), { name: 'kernel', version: '5.14.0-1' });
  for (const bad of ['', '(none)', 'foo.src.rpm', 'foo-1.src.rpm', '-1-2.src.rpm', 'foo-1-.src.rpm', 'foo-1-2.rpm']) {
    assert.equal(parseSourceRpm(bad), undefined, bad);
  }
  assert.equal(moduleStream('nodejs:18:8090020240101:a75119d5'), 'nodejs:18');
  assert.equal(moduleStream('nodejs:18:1'), 'nodejs:18');
  assert.equal(moduleStream('nodejs:18'), '');
  assert.equal(moduleStream(''), '');
  assert.equal(evr({ epoch: 0, version: '1', release: '2' }), '0:1-2');
  assert.equal(evr({ version: '1', release: '2' }), '1-2');
});

test('rpmdb: detection by name and magic', async () => {
  const sqlite = local('sqlite/rpmdb.sqlite')[0]!;
  const bdb = local('bdb-le/Packages')[0]!;
  assert.equal(detectRpmDb([bdb, sqlite])?.format, 'sqlite', 'the newest backend wins');
  assert.equal(detectRpmDb([bdb, { path: 'var/lib/rpm/Name', data: bdb.data }])?.format, 'bdb');
  assert.equal(detectRpmDb([{ path: 'var/lib/rpm/Name', data: bdb.data }]), undefined);
  await assert.rejects(readRpmDatabase([]), { code: 'not-found' });
  await assert.rejects(readRpmDatabase([{ path: 'var/lib/rpm/Packages', data: sqlite.data }]), { code: 'bad-database', message: /var\/lib\/rpm\/Packages: not a Berkeley DB/ });
  await assert.rejects(readRpmDatabase([{ path: 'usr/lib/sysimage/rpm/Packages.db', data: bdb.data }]), { code: 'bad-database', message: /not an rpm ndb/ });
  await assert.rejects(readRpmDatabase([{ path: 'var/lib/rpm/rpmdb.sqlite', data: bdb.data }]), { code: 'bad-database', message: /not an SQLite database/ });
});

// go-rpmdb's databases (see /work/shared/data/README.md). packages.csv is `rpm -qa --queryformat` output, ¶-separated.
const goRpmdb: { name: string; dir: string; file: string }[] = [
  { name: 'sqlite amazonlinux 2023', dir: 'amazonlinux2023-plain', file: 'rpmdb.sqlite' },
  { name: 'ndb SLE 15 BCI', dir: 'sle15-bci', file: 'Packages.db' },
];

for (const c of goRpmdb) {
  test(`go-rpmdb ${c.name}: exactly the packages of packages.csv, gpg-pubkey left out`, async (t) => {
    const dir = requireSharedData(t, 'fixtures/go-rpmdb/pkg/testdata', c.dir);
    if (!dir) return;
    const pkgs = await readRpmDatabase([{ path: `${c.dir}/${c.file}`, data: readFileSync(join(dir, c.file)) }]);
    const csv = readFileSync(join(dir, 'packages.csv'), 'utf8').trimEnd().split('\n').map((l) => l.split('¶'));
    const expected = csv.filter((r) => r[1] !== 'gpg-pubkey').map((r) => r.slice(0, 9));
    assert.ok(expected.length < csv.length || c.dir !== 'amazonlinux2023-plain', 'the amazon db has a gpg-pubkey to skip');
    assert.deepEqual(pkgs.map(row), expected);
  });
}

test('go-rpmdb bdb libuuid: the one package rpm 4.18 (bdb_ro backend) lists', async (t) => {
  const dir = requireSharedData(t, 'fixtures/go-rpmdb/pkg/testdata/libuuid');
  if (!dir) return;
  const pkgs = await readRpmDatabase([{ path: 'libuuid/Packages', data: readFileSync(join(dir, 'Packages')) }], { files: true });
  // `rpm -qa --dbpath libuuid --define '_db_backend bdb_ro' --qf …` and `rpm -ql`.
  assert.deepEqual(pkgs, [{
    name: 'libuuid', version: '2.32.1', release: '42.el8_8', arch: 'x86_64', sourceRpm: 'util-linux-2.32.1-42.el8_8.src.rpm',
    sourceName: 'util-linux', sourceVersion: '2.32.1-42.el8_8', module: '', vendor: 'Red Hat, Inc.', license: 'BSD', size: 35104,
    files: [
      '/usr/lib/.build-id', '/usr/lib/.build-id/df/ef6a880adac817216ab9866779a0725e017647', '/usr/lib64/libuuid.so.1',
      '/usr/lib64/libuuid.so.1.3.0', '/usr/share/licenses/libuuid', '/usr/share/licenses/libuuid/COPYING', '/usr/share/licenses/libuuid/COPYING.BSD-3',
    ],
  }]);
});

test('go-rpmdb sqlite CBL-Mariner 2.0: curl as curl.json says, and the whole list as rpm 4.18 prints it', async (t) => {
  const dir = requireSharedData(t, 'fixtures/go-rpmdb/pkg/testdata/cbl-mariner-2.0');
  if (!dir) return;
  const pkgs = await readRpmDatabase([{ path: 'rpmdb.sqlite', data: readFileSync(join(dir, 'rpmdb.sqlite')) }], { files: true });
  const curl = JSON.parse(readFileSync(join(dir, 'curl.json'), 'utf8')) as Record<string, unknown>;
  const got = pkgs.find((p) => p.name === 'curl')!;
  assert.deepEqual(
    [got.epoch ?? null, got.name, got.version, got.release, got.arch, got.sourceRpm, got.size, got.license, got.vendor, got.module],
    [curl.Epoch, curl.Name, curl.Version, curl.Release, curl.Arch, curl.SourceRpm, curl.Size, curl.License, curl.Vendor, curl.Modularitylabel],
  );
  assert.deepEqual(got.files, JSON.parse(readFileSync(join(dir, 'curl_file_names.json'), 'utf8')));
  // sha256 of `rpm -qa --qf '%{NAME}-%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}.%{ARCH} %{SOURCERPM}\n'` (129 lines).
  assert.equal(pkgs.length, 129);
  const listing = pkgs.map((p) => `${p.name}-${evr(p)}.${p.arch} ${p.sourceRpm}\n`).join('');
  assert.equal(createHash('sha256').update(listing).digest('hex'), 'c6001f902ad4d4bf0294646bbc20e7b2a89247a1de6644a02d984f97754497f4');
});
