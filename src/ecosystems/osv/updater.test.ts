import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { runUpdater } from '../../updater/run-updater.ts';
import { goUpdater, osvUpdater } from './updater.ts';

// The OSV updaters on the real feeds in ../shared/data/feeds/osv: PyPA's OSV YAML, the Go vulnerability database,
// GitHub advisories (VulnFeed's OSV.dev copies), and zips as OSV publishes them.

async function records(store: SqliteStore, names: string[]) {
  return (await store.queryVulnerabilities([{ packageNames: names }]))[0]!;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'osv-updater-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A zip written by Python's zipfile to a pipe: deflated entries with data descriptors, as streamed zips have. */
function pythonZip(out: string, files: Record<string, string>): void {
  const script = 'import sys,zipfile,json\nfiles=json.load(sys.stdin)\nz=zipfile.ZipFile(sys.stdout.buffer,"w",zipfile.ZIP_DEFLATED)\nfor n,p in files.items():\n  z.writestr(n, open(p,"rb").read())\nz.close()';
  writeFileSync(out, execFileSync('python3', ['-c', script], { input: JSON.stringify(files) }));
}

test('osv: PyPA advisory-database folder (OSV YAML), withdrawn dropped, aliases kept, second run unchanged', async (t) => {
  const pypa = requireSharedData(t, 'feeds', 'osv', 'pypa');
  if (!pypa) return;
  const store = SqliteStore.open(':memory:');
  const warnings: string[] = [];
  const r = await runUpdater(store, osvUpdater, pypa, { warn: (m) => warnings.push(m) });
  assert.equal(r.updater, 'osv');
  assert.ok(r.records > 4000, `${r.records} records`);
  assert.deepEqual(warnings, []);
  // PYSEC-2023-73 (redis) is withdrawn in this snapshot.
  assert.equal((await records(store, ['redis'])).filter((v) => v.name === 'PYSEC-2023-73').length, 0);
  // One record for its range, one for its versions list (OSV: a version is affected when either holds it).
  const waitress = (await records(store, ['waitress'])).filter((v) => v.name === 'PYSEC-2020-178');
  assert.equal(waitress.length, 2);
  assert.ok(waitress[1]!.affectedVersions!.includes('1.3.0'));
  assert.deepEqual(waitress[0]!.aliases, ['CVE-2019-16792', 'GHSA-4ppp-gpcr-7qf6', 'GHSA-j7j6-7hfx-5522']);
  assert.deepEqual([waitress[0]!.repo.name, waitress[0]!.versionScheme, waitress[0]!.fixedInVersion], ['pypi', 'pypi', '1.4.0']);
  // YAML read as strings only: a version written 1.10 stays "1.10".
  for (const v of await records(store, ['django'])) for (const s of [v.fixedInVersion, v.range.introduced, v.range.lastAffected]) assert.equal(typeof s, 'string');
  assert.equal((await runUpdater(store, osvUpdater, pypa)).unchanged, true);
});

test('go: Go vulnerability database with stdlib and toolchain; withdrawn GO records dropped', async (t) => {
  const osv = requireSharedData(t, 'feeds', 'osv', 'go-vulndb', 'data', 'osv');
  if (!osv) return;
  const store = SqliteStore.open(':memory:');
  const r = await runUpdater(store, goUpdater, osv);
  assert.equal(r.updater, 'go');
  assert.ok(r.records > 5000);
  const stdlib = await records(store, ['stdlib']);
  assert.ok(stdlib.length > 100);
  assert.ok(stdlib.every((v) => v.repo.name === 'go' && v.versionScheme === 'go' && v.updater === 'go'));
  assert.ok((await records(store, ['toolchain'])).length > 10);
  // GO-2024-2730 is withdrawn in this snapshot; GO-2024-2916 has three intervals.
  const withdrawn = JSON.parse(readFileSync(join(osv, 'GO-2024-2730.json'), 'utf8'));
  assert.ok(withdrawn.withdrawn);
  const all = await records(store, withdrawn.affected.map((a: { package: { name: string } }) => a.package.name));
  assert.equal(all.filter((v) => v.name === 'GO-2024-2730').length, 0);
  const harbor = (await records(store, ['github.com/goharbor/harbor'])).filter((v) => v.name === 'GO-2024-2916');
  assert.deepEqual(harbor.map((v) => [v.range.introduced, v.fixedInVersion]), [['', '2.8.6+incompatible'], ['2.9.0+incompatible', '2.9.4+incompatible'], ['2.10.0+incompatible', '2.10.2+incompatible']]);
});

test('osv: per-ecosystem zips and GitHub advisories are separate feeds (#ecosystems=, #name=)', async (t) => {
  const osvDir = requireSharedData(t, 'feeds', 'osv');
  if (!osvDir) return;
  const dir = tempDir(t);
  const go = join(osvDir, 'go-vulndb', 'data', 'osv');
  const zip = join(dir, 'all.zip');
  pythonZip(zip, { 'GO-2024-2916.json': join(go, 'GO-2024-2916.json'), 'GO-2022-0515.json': join(go, 'GO-2022-0515.json') });
  const store = SqliteStore.open(':memory:');
  const a = await runUpdater(store, osvUpdater, `${zip}#ecosystems=go`);
  assert.deepEqual([a.updater, a.records > 0], ['osv/Go', true]);
  // GitHub's reviewed advisories for npm, as OSV.dev serves them (a JSON array of records).
  const b = await runUpdater(store, osvUpdater, `${join(osvDir, 'ghsa-vulnfeed', 'npm.json')}#ecosystems=npm`);
  assert.equal(b.updater, 'osv/npm');
  const c = await runUpdater(store, osvUpdater, `${join(osvDir, 'ghsa-vulnfeed', 'rubygems.json.gz')}#name=ghsa-rubygems`);
  assert.equal(c.updater, 'osv/ghsa-rubygems');
  assert.ok(c.records > 100);
  // Each is its own feed: none replaced another.
  assert.deepEqual((await store.listUpdateOperations()).map((o) => o.updater).sort(), ['osv/Go', 'osv/ghsa-rubygems', 'osv/npm']);
  const npm = await records(store, ['localeval']);
  assert.deepEqual(npm.map((v) => [v.name, v.fixedInVersion, v.repo.name]), [['GHSA-mmqv-m45h-q2hp', '15.3.0', 'npm']]);
  await assert.rejects(runUpdater(store, osvUpdater, `${zip}#ecosystems=Hackage`), { code: 'bad-input', message: /unknown ecosystem "Hackage"/ });
  await assert.rejects(runUpdater(store, osvUpdater, `${zip}#colour=blue`), { code: 'bad-input', message: /unknown option "colour"/ });
  // The zip holds Go records only: limited to PyPI it has nothing, which is refused.
  await assert.rejects(runUpdater(store, osvUpdater, `${zip}#ecosystems=PyPI`), { code: 'bad-feed', message: /holds no records/ });
});

test('osv: bad records are skipped with a warning; empty, truncated and non-feed inputs are refused', async (t) => {
  const go = requireSharedData(t, 'feeds', 'osv', 'go-vulndb', 'data', 'osv');
  if (!go) return;
  const dir = tempDir(t);
  const folder = join(dir, 'feed');
  mkdirSync(join(folder, 'sub'), { recursive: true });
  mkdirSync(join(folder, '.git'));
  cpSync(join(go, 'GO-2024-2916.json'), join(folder, 'sub', 'GO-2024-2916.json'));
  writeFileSync(join(folder, 'broken.json'), '{"id": "GO-1", "affected": [');
  writeFileSync(join(folder, 'not-osv.json'), '{"hello": "world"}');
  writeFileSync(join(folder, 'README.md'), '# not read');
  writeFileSync(join(folder, '.git', 'x.json'), '{ not read');
  const store = SqliteStore.open(':memory:');
  const warnings: string[] = [];
  const r = await runUpdater(store, osvUpdater, folder, { warn: (m) => warnings.push(m) });
  assert.equal(r.records, 3);
  assert.equal(r.skipped, 2);
  assert.match(warnings.join('\n'), /broken\.json: not JSON or YAML/);
  assert.match(warnings.join('\n'), /not-osv\.json: no "id"/);

  const empty = join(dir, 'empty');
  mkdirSync(empty);
  await assert.rejects(runUpdater(store, osvUpdater, empty), { code: 'bad-feed', message: /holds no records/ });
  const zip = join(dir, 'x.zip');
  pythonZip(zip, { 'GO-2024-2916.json': join(go, 'GO-2024-2916.json') });
  const truncated = join(dir, 'truncated.zip');
  writeFileSync(truncated, readFileSync(zip).subarray(0, 200));
  await assert.rejects(runUpdater(store, osvUpdater, truncated), { code: 'bad-feed', message: /zip/ });
  const html = join(dir, 'page.html');
  writeFileSync(html, '<html>Service unavailable</html>');
  await assert.rejects(runUpdater(store, osvUpdater, html), { code: 'bad-feed' });
  // The failed runs left the stored operation as it was.
  assert.deepEqual((await store.listUpdateOperations()).map((o) => o.count), [3]);
});
