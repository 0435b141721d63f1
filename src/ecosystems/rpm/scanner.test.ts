import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { rpmPackageScanner } from './scanner.ts';
import { coalesce } from '../../indexer/coalesce.ts';
import type { LayerReport } from '../../model/layer-report.ts';
import { contentManifestScanner } from '../rhel/content-manifest-scanner.ts';

const rpmTestdata = join(import.meta.dirname, 'testdata');
const file = (path: string, data: Buffer) => ({ path, data, mode: 0o644 });

test('rpm scanner: wants the database files at both rpmdb locations, nothing else', () => {
  const wants = (path: string) => rpmPackageScanner.wants({ path, size: 1, mode: 0o644 });
  for (const p of ['var/lib/rpm/Packages', 'var/lib/rpm/rpmdb.sqlite', 'var/lib/rpm/rpmdb.sqlite-wal', 'var/lib/rpm/Packages.db', 'usr/lib/sysimage/rpm/rpmdb.sqlite']) assert.ok(wants(p), p);
  for (const p of ['var/lib/rpm/Name', 'var/lib/rpm/rpmdb.sqlite-shm', 'var/lib/rpm/x/Packages', 'opt/var/lib/rpm/Packages', 'var/lib/rpm/.rpm.lock']) assert.ok(!wants(p), p);
});

test('rpm scanner: go-rpmdb real Amazon Linux 2023 sqlite db → packages as rpm -qa lists them', async (t) => {
  const dir = requireSharedData(t, 'fixtures', 'go-rpmdb', 'pkg', 'testdata', 'amazonlinux2023-plain');
  if (!dir) return;
  const f = await rpmPackageScanner.scan([file('var/lib/rpm/rpmdb.sqlite', readFileSync(join(dir, 'rpmdb.sqlite')))]);
  assert.deepEqual(f.errors, []);
  const [db] = f.packageDbs!;
  assert.equal(db!.path, 'var/lib/rpm/rpmdb.sqlite');
  // packages.csv: `rpm -qa --queryformat` columns epoch¶name¶version¶release¶arch¶sourcerpm¶…
  // gpg-pubkey rows are imported signing keys, which the scanner (like claircore) does not report.
  const want = readFileSync(join(dir, 'packages.csv'), 'utf8').split('\n').filter((l) => l && !l.includes('¶gpg-pubkey¶')).map((l) => {
    const [epoch, name, version, release, arch, srpm] = l.split('¶');
    return `${name} ${epoch && epoch !== '(none)' ? `${epoch}:` : ''}${version}-${release} ${arch} ${srpm}`;
  });
  const got = db!.packages.map((p) => `${p.name} ${p.version} ${p.arch} ${p.source ? `${p.source.name}-${p.source.version}.src.rpm` : ''}`);
  assert.deepEqual(got.sort(), want.sort());
  assert.ok(db!.packages.every((p) => p.kind === 'binary' && p.packageDb === 'var/lib/rpm/rpmdb.sqlite'));
});

test('rpm scanner: own fixtures (bdb, sqlite+WAL), module streams; stale files of another backend hold nothing', async () => {
  const f = await rpmPackageScanner.scan([
    file('usr/lib/sysimage/rpm/rpmdb.sqlite', readFileSync(join(rpmTestdata, 'sqlite/rpmdb.sqlite'))),
    file('usr/lib/sysimage/rpm/rpmdb.sqlite-wal', readFileSync(join(rpmTestdata, 'sqlite-wal/rpmdb.sqlite-wal'))),
    file('usr/lib/sysimage/rpm/Packages', readFileSync(join(rpmTestdata, 'bdb-le/Packages'))),
  ]);
  assert.deepEqual(f.errors, []);
  assert.deepEqual(f.packageDbs!.map((d) => [d.path, d.packages.length]), [['usr/lib/sysimage/rpm/rpmdb.sqlite', 3], ['usr/lib/sysimage/rpm/Packages', 0]]);
  const beta = f.packageDbs![0]!.packages.find((p) => p.name === 'beta')!;
  assert.deepEqual([beta.module, beta.source?.name], ['beta:2.3', 'beta']);
  const alpha = (await rpmPackageScanner.scan([file('var/lib/rpm/Packages', readFileSync(join(rpmTestdata, 'bdb-le/Packages')))])).packageDbs![0]!.packages.find((p) => p.name === 'alpha')!;
  assert.equal(alpha.version, '1:1.0-1.fx', 'the epoch only when the header has one');
});

test('rpm scanner: a damaged or truncated database is an error for that database, not a crash', async () => {
  const good = readFileSync(join(rpmTestdata, 'bdb-le/Packages'));
  const f = await rpmPackageScanner.scan([
    file('var/lib/rpm/Packages', good.subarray(0, 5000)),
    file('usr/lib/sysimage/rpm/rpmdb.sqlite', Buffer.from('not a database at all')),
  ]);
  assert.deepEqual(f.packageDbs, []);
  assert.equal(f.errors!.length, 2);
  assert.match(f.errors![0]!, /usr\/lib\/sysimage\/rpm.*SQLite/);
  assert.match(f.errors![1]!, /var\/lib\/rpm\/Packages/);
  const walOnly = await rpmPackageScanner.scan([file('var/lib/rpm/rpmdb.sqlite-wal', Buffer.alloc(32))]);
  assert.match(walOnly.errors![0]!, /without the database file/);
});

test('coalesce: content-manifest repositories attach to every rpm package, not to dpkg ones; whiteouts remove the db', async () => {
  const repos = await contentManifestScanner().scan([file('root/buildinfo/content_manifests/x.json', Buffer.from('{"content_sets":["rhel-9-for-x86_64-baseos-rpms"]}'))]);
  const pkg = (name: string, db: string) => ({ name, version: '1-1', kind: 'binary' as const, arch: 'x86_64', module: '', cpe: '', packageDb: db, repositoryHint: '' });
  const layer = (n: number, parts: Partial<LayerReport>): LayerReport => ({
    digest: `sha256:${String(n).repeat(64)}`, scannerSet: 's', packageDbs: [], distributions: [], repositories: [], whiteouts: [], opaqueDirs: [], errors: [], size: 0, ...parts,
  });
  const l1 = layer(1, { packageDbs: [{ path: 'var/lib/rpm/rpmdb.sqlite', packages: [pkg('bash', 'var/lib/rpm/rpmdb.sqlite')] }, { path: 'var/lib/dpkg/status', packages: [pkg('dash', 'var/lib/dpkg/status')] }] });
  const l2 = layer(2, { repositories: repos.repositories! });
  const r = coalesce('m', [l1, l2]);
  const byName = Object.fromEntries(Object.entries(r.packages).map(([id, p]) => [p.name, r.environments[id]![0]!.repositoryIds.map((i) => r.repositories[i]!.name)]));
  assert.deepEqual(byName, { bash: ['rhel-9-for-x86_64-baseos-rpms'], dash: [] });
  const gone = coalesce('m', [l1, l2, layer(3, { whiteouts: ['var/lib/rpm/rpmdb.sqlite'] })]);
  assert.deepEqual(Object.values(gone.packages).map((p) => p.name), ['dash']);
});
