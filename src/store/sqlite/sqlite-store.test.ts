import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanResultBytesBound, storeSuite } from '../store.suite.ts';
import { MAX_CACHED_STATEMENTS, SqliteStore } from './sqlite-store.ts';
import { DatabaseSync } from 'node:sqlite';
import { migrations } from './migrations.ts';
import { assertPackageIndex, packageIndexReports } from '../package-index-fixture.ts';
import { namedLinkRecords, oldEnrichment, oldRows, oldVulnerabilities, unmarkedText } from '../split-records-fixture.ts';

storeSuite('sqlite', async () => SqliteStore.open(':memory:'));

test('sqlite: stored scan results are bounded in bytes', async () => {
  const s = SqliteStore.open(':memory:', { maxScanResultBytes: 10 });
  try {
    await scanResultBytesBound(s);
  } finally {
    await s.close();
  }
});

test('sqlite: the prepared-statement cache stays bounded while new operations keep changing the query text', async () => {
  const s = SqliteStore.open(':memory:');
  try {
    // Each new operation changes the current-operation list queryVulnerabilities embeds in its SQL: a new text.
    for (let i = 0; i < MAX_CACHED_STATEMENTS + 20; i++) {
      const w = await s.beginUpdateOperation(`u${i}`);
      await w.commit(`fp-${i}`);
      await s.queryVulnerabilities([{ packageNames: ['openssl'] }]);
    }
    assert.equal(s.cachedStatements, MAX_CACHED_STATEMENTS);
  } finally {
    await s.close();
  }
});

test('sqlite: a file database keeps its data across reopen and migrates once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'nested', 'clair.db');
    const a = SqliteStore.open(path);
    const w = await a.beginUpdateOperation('debian');
    const op = await w.commit('fp');
    await a.close();
    const b = SqliteStore.open(path);
    assert.equal((await b.getUpdateOperation(op.ref))?.fingerprint, 'fp');
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a file that is not a database is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'junk.db');
    writeFileSync(path, 'this is not sqlite'.repeat(100));
    assert.throws(() => SqliteStore.open(path), (e: Error & { code?: string }) => e.code === 'bad-input' && e.message.includes(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: migrations 5 and 7 split stored records into parts and packs and give every record back byte for byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'old.db');
    const db = new DatabaseSync(path);
    db.exec('CREATE TABLE schema_migration (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)');
    for (let v = 1; v <= 4; v++) {
      db.exec(migrations[v - 1] as string);
      db.prepare('INSERT INTO schema_migration VALUES (?, ?)').run(v, 'then');
    }
    const rows = oldRows();
    for (const r of rows) db.prepare('INSERT INTO vuln (hash, updater, name, package_name, dist_did, dist_version_id, dist_version_code_name, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(...r);
    const ops: [string, string][] = [['00000000-0000-4000-8000-000000000001', 'debian'], ['00000000-0000-4000-8000-000000000002', 'osv/pypi'], ['00000000-0000-4000-8000-000000000003', 'epss']];
    ops.forEach(([ref, u], i) => db.prepare('INSERT INTO update_operation (id, ref, updater, fingerprint, date, count) VALUES (?, ?, ?, ?, ?, 0)').run(i + 1, ref, u, '', '2026-01-01T00:00:00Z'));
    db.exec('INSERT INTO uo_vuln (uo_id, vuln_id) VALUES (1, 1), (1, 2), (2, 3), (3, 4)');
    db.close();

    const s = SqliteStore.open(path);
    try {
      const exported: string[] = [];
      for (const [ref] of ops) for await (const batch of s.readUpdateOperation(ref)) exported.push(...batch);
      assert.deepEqual(exported, rows.map((r) => r[7]));
      const [deb, py] = await s.queryVulnerabilities([
        { packageNames: ['openssl'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bookworm' } },
        { packageNames: ['jinja2'], updaterPrefix: 'osv' },
      ]);
      assert.deepEqual(deb!.map(({ id, ...v }) => [id, v]), [['1', oldVulnerabilities[0]]]);
      assert.deepEqual(py!.map(({ id, ...v }) => [id, v]), [['3', oldVulnerabilities[2]]]);
      assert.deepEqual(await s.queryEnrichments('epss', ['CVE-2024-0001']), [oldEnrichment]);
      // Records written after the migration find the migrated rows by their (new, shorter) hashes: no duplicates.
      const w = await s.beginUpdateOperation('debian');
      await w.add(oldVulnerabilities.slice(0, 2));
      await w.commit('again');
      const probe = new DatabaseSync(path);
      // Three vulnerabilities; the EPSS record moved to a pack of its operation (migration 7).
      assert.equal(probe.prepare('SELECT count(*) AS n FROM vuln').get()!.n, 3);
      assert.deepEqual(probe.prepare('SELECT uo_id, updater, first, last, count FROM enrichment_pack').all().map((r) => ({ ...r })), [{ uo_id: 3, updater: 'epss', first: 'CVE-2024-0001', last: 'CVE-2024-0001', count: 1 }]);
      assert.equal(probe.prepare('SELECT count(*) AS n FROM vuln_text').get()!.n, 2);
      probe.close();
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: the migration that builds the package index indexes the reports stored before it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'old.db');
    const db = new DatabaseSync(path);
    db.exec('PRAGMA foreign_keys = ON');
    db.exec('CREATE TABLE schema_migration (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)');
    const target = migrations.findIndex((m) => typeof m === 'function' && m.name === 'indexPackages');
    assert.ok(target > 0);
    for (let v = 1; v <= target; v++) {
      const m = migrations[v - 1]!;
      if (typeof m === 'string') db.exec(m);
      else m(db);
      db.prepare('INSERT INTO schema_migration VALUES (?, ?)').run(v, 'then');
    }
    for (const r of packageIndexReports()) {
      db.prepare('INSERT INTO index_report (manifest_hash, index_state, data, updated) VALUES (?, ?, ?, ?)').run(r.manifestHash, 's', JSON.stringify(r), 'then');
      db.prepare('INSERT INTO manifest_package (name, manifest_hash) VALUES (?, ?)').run('openssl', r.manifestHash);
    }
    db.close();
    const s = SqliteStore.open(path);
    try {
      await assertPackageIndex(s);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: the name-mark migration points records at one shared text where their texts differ only by their names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'old.db');
    const a = SqliteStore.open(path);
    const w = await a.beginUpdateOperation('alpine');
    await w.add(namedLinkRecords);
    await w.commit('fp');
    const before = await a.queryVulnerabilities([{ packageNames: ['busybox'] }]);
    await a.close();
    // Back to the form before the name-mark migration: a text per record, the name written out.
    const db = new DatabaseSync(path);
    for (const v of namedLinkRecords) {
      const t = unmarkedText(v);
      const id = db.prepare('INSERT INTO vuln_text (hash, data) VALUES (unhex(?), ?) RETURNING id').get(t.hash, t.text)!.id as number;
      db.prepare('UPDATE vuln SET text_id = ? WHERE name = ?').run(id, v.name);
    }
    const markNames = migrations.findIndex((m) => typeof m === 'function' && m.name === 'markNamesInTexts') + 1;
    assert.ok(markNames > 0);
    db.exec(`DELETE FROM vuln_text WHERE id NOT IN (SELECT text_id FROM vuln); DELETE FROM schema_migration WHERE version >= ${markNames}`);
    assert.equal(db.prepare('SELECT count(*) AS n FROM vuln_text').get()!.n, 2);
    db.close();
    const b = SqliteStore.open(path);
    try {
      assert.deepEqual(await b.queryVulnerabilities([{ packageNames: ['busybox'] }]), before);
      const probe = new DatabaseSync(path);
      assert.equal(probe.prepare('SELECT count(*) AS n FROM vuln_text').get()!.n, 1);
      probe.close();
    } finally {
      await b.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
