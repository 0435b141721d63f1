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
import { namedLinkRecords, oldEnrichment, oldRows, oldVulnerabilities, rowLayoutDatabase, unmarkedText } from '../split-records-fixture.ts';
import { chooseBuckets, openPackLines, PACK_BUCKETS, packBucket, parseLine, recordId } from '../vulnerability-pack.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import { serializeVulnerability } from '../vulnerability-hash.ts';

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

test('sqlite: the operations-stamp migration keeps the stamp in a row the writers bump and drops stored scan results', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'clair.db');
    const a = SqliteStore.open(path);
    const op = await (await a.beginUpdateOperation('debian')).commit('fp');
    const hash = 'sha256:' + '7'.repeat(64);
    await a.putIndexReport({ manifestHash: hash, state: 'IndexFinished', success: true, err: '', packages: {}, distributions: {}, repositories: {}, environments: {}, layers: [] }, 'state-1');
    const st = await a.getReportStamps([hash]);
    assert.equal(await a.putScanResult(hash, 'json', { operations: st.operations, indexReport: st.indexReports[0]! }, 'code', { meta: '{}', output: new Uint8Array(1) }), true);
    await a.close();
    // Back to the schema before it (13), holding an operation and a scan result.
    const version = migrations.findIndex((m) => typeof m === 'string' && m.includes('CREATE TABLE update_operation_stamp')) + 1;
    assert.ok(version > 0);
    const db = new DatabaseSync(path);
    db.exec(`DROP TRIGGER update_operation_added; DROP TRIGGER update_operation_deleted; DROP TABLE update_operation_stamp; DELETE FROM schema_migration WHERE version >= ${version}`);
    db.close();
    const b = SqliteStore.open(path);
    try {
      assert.equal(count(path, 'SELECT count(*) AS n FROM scan_result'), 0, 'stamps of the old form are never current again');
      const migrated = (await b.getReportStamps([])).operations;
      assert.match(migrated, /^0 [0-9a-f]{32}$/);
      const op2 = await (await b.beginUpdateOperation('debian')).commit('fp-2');
      const committed = (await b.getReportStamps([])).operations;
      assert.notEqual(committed, migrated);
      await b.deleteUpdateOperations([op.ref, op2.ref]);
      assert.notEqual((await b.getReportStamps([])).operations, committed);
    } finally {
      await b.close();
    }
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
      // Ids are those of the packs (migration 11): pack 1 is openssl in bookworm, 3 jinja2.
      assert.deepEqual(deb!.map(({ id, ...v }) => [id, v]), [[recordId(1, 0), oldVulnerabilities[0]]]);
      assert.deepEqual(py!.map(({ id, ...v }) => [id, v]), [[recordId(3, 0), oldVulnerabilities[2]]]);
      assert.deepEqual(await s.queryEnrichments('epss', ['CVE-2024-0001']), [oldEnrichment]);
      // Records written after the migration find the migrated rows by their (new, shorter) hashes: no duplicates.
      const w = await s.beginUpdateOperation('debian');
      await w.add(oldVulnerabilities.slice(0, 2));
      await w.commit('again');
      const probe = new DatabaseSync(path);
      // Three vulnerabilities, each alone in its package and context (three packs, the second operation links
      // the two of its records); the EPSS record moved to a pack of its operation (migration 7).
      assert.equal(probe.prepare('SELECT count(*) AS n FROM vuln_pack').get()!.n, 3);
      assert.equal(probe.prepare('SELECT count(*) AS n FROM uo_pack').get()!.n, 5);
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
    // The form before the name-mark migration: a text per record, the name written out.
    const markNames = migrations.findIndex((m) => typeof m === 'function' && m.name === 'markNamesInTexts') + 1;
    assert.ok(markNames > 0);
    const db = new DatabaseSync(path);
    rowLayoutDatabase(db, migrations, markNames - 1, [{ ref: '00000000-0000-4000-8000-000000000001', updater: 'alpine', records: namedLinkRecords }], unmarkedText);
    assert.equal(db.prepare('SELECT count(*) AS n FROM vuln_text').get()!.n, 2);
    db.close();
    const b = SqliteStore.open(path);
    try {
      const [found] = await b.queryVulnerabilities([{ packageNames: ['busybox'] }]);
      assert.deepEqual(found!.map(({ id: _, ...v }) => v).sort((x, y) => (x.name < y.name ? -1 : 1)), [...namedLinkRecords].sort((x, y) => (x.name < y.name ? -1 : 1)));
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

const recordOf = (name: string, pkg: string, codename: string, extra: Partial<Vulnerability> = {}) => newVulnerability({
  // The description does not hold the name as such (texts differing only by the name are one, record-row.ts).
  updater: 'debian', name, description: `About ${[...name].reverse().join('')}`, links: `https://security-tracker.debian.org/tracker/${name}`,
  package: { name: pkg, kind: 'source', module: '', arch: '' },
  dist: { did: 'debian', versionId: '', versionCodeName: codename, cpe: '', name: 'Debian', version: '', prettyName: '', arch: '' },
  versionScheme: 'dpkg', ...extra,
});
const count = (path: string, sql: string) => {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(db.prepare(sql).get()!.n);
  } finally {
    db.close();
  }
};
/** Every stored pack holds only lines of its bucket in its context's count (vuln_context.buckets). */
const assertPacksCutByTheirContexts = (path: string) => {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    for (const p of db.prepare('SELECT p.id, p.bucket, c.buckets, p.data FROM vuln_pack p JOIN vuln_context c ON c.id = p.context_id').all()) {
      for (const l of openPackLines(p.data as Uint8Array)) {
        assert.equal(packBucket(parseLine(l).packageName) % (p.buckets as number), p.bucket, `pack ${p.id as number}: ${l.slice(0, 40)}`);
      }
    }
  } finally {
    db.close();
  }
};
const exportOf = async (s: SqliteStore, ref: string) => {
  const out: string[] = [];
  for await (const batch of s.readUpdateOperation(ref, 7)) out.push(...batch);
  return out;
};

test('sqlite: the pack migration keeps every operation\'s records, shares packs between operations and drops the row tables', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'old.db');
    const ssl1 = recordOf('CVE-1', 'openssl', 'bookworm', { fixedInVersion: '3.0.1' });
    const ssl2 = recordOf('CVE-2', 'openssl', 'bookworm');
    const sslOld = recordOf('CVE-1', 'openssl', 'bullseye');
    const curl = recordOf('CVE-3', 'curl', 'bookworm');
    const curlFixed = recordOf('CVE-3', 'curl', 'bookworm', { fixedInVersion: '8.0' });
    const zlib = recordOf('CVE-4', 'zlib', 'bookworm');
    const py = oldVulnerabilities[2]!;
    const ops = [
      { ref: '00000000-0000-4000-8000-000000000001', updater: 'debian', records: [ssl1, ssl2, sslOld, curl] },
      { ref: '00000000-0000-4000-8000-000000000002', updater: 'debian', records: [ssl2, ssl1, sslOld, curlFixed, zlib] },
      { ref: '00000000-0000-4000-8000-000000000003', updater: 'osv', records: [py] },
    ];
    const db = new DatabaseSync(path);
    const packRecords = migrations.findIndex((m) => typeof m === 'function' && m.name === 'packRecords') + 1;
    rowLayoutDatabase(db, migrations, packRecords - 1, ops);
    db.close();
    const s = SqliteStore.open(path);
    try {
      for (const op of ops) {
        assert.deepEqual((await exportOf(s, op.ref)).sort(), op.records.map((v) => serializeVulnerability(v).json).sort(), `records of ${op.ref}`);
      }
      const diff = await s.diffUpdateOperations(ops[0]!.ref, ops[1]!.ref);
      assert.deepEqual(diff.added.map((v) => `${v.package.name} ${v.name} ${v.fixedInVersion}`).sort(), ['curl CVE-3 8.0', 'zlib CVE-4 ']);
      assert.deepEqual(diff.removed.map(({ id: _, ...v }) => v), [curl]);
      const [found] = await s.queryVulnerabilities([{ packageNames: ['openssl'], dist: { versionCodeName: 'bookworm' } }]);
      assert.deepEqual(found!.map(({ id: _, ...v }) => v).sort((a, b) => (a.name < b.name ? -1 : 1)), [ssl1, ssl2]);
    } finally {
      await s.close();
    }
    // openssl's two keys are one pack each, shared by both operations; curl has two; zlib and jinja2 one.
    assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), 6);
    assert.equal(count(path, 'SELECT count(*) AS n FROM uo_pack'), 3 + 4 + 1);
    assert.equal(count(path, "SELECT count(*) AS n FROM sqlite_master WHERE name IN ('vuln', 'uo_vuln', 'uo_staging') OR name LIKE 'vuln\\_%' ESCAPE '\\' AND tbl_name = 'vuln'"), 0);
    assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_text WHERE refs <= 0'), 0);
    assert.equal(count(path, 'SELECT freelist_count AS n FROM pragma_freelist_count'), 0, 'the dropped tables\' pages given back');
    // The same records written after the migration, in the order of their rows (the first operation's for openssl),
    // make the same packs: linked, none written.
    const again = SqliteStore.open(path);
    try {
      const w = await again.beginUpdateOperation('debian');
      await w.add([ssl1, ssl2, sslOld, curlFixed, zlib]);
      const op = await w.commit('again');
      assert.equal(op.count, 5);
      assert.deepEqual(await again.diffUpdateOperations(ops[1]!.ref, op.ref), { added: [], removed: [] });
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), 6);
      // Deleting every operation deletes every pack and text.
      await again.deleteUpdateOperations([...ops.map((o) => o.ref), op.ref]);
    } finally {
      await again.close();
    }
    assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), 0);
    assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_text'), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: the text migration deflates every stored text; records read back byte for byte and new writes find the texts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'old.db');
    const long = recordOf('CVE-7', 'openssl', 'bookworm', { description: 'A flaw in the parser allows remote attackers to cause a denial of service. '.repeat(20) });
    const records = [recordOf('CVE-1', 'openssl', 'bookworm', { fixedInVersion: '3.0.1' }), recordOf('CVE-1', 'openssl', 'bullseye'), long, recordOf('CVE-2', 'curl', 'bookworm')];
    const ref = '00000000-0000-4000-8000-000000000001';
    // The database as the text migration finds it: rows moved into packs (migration 11), texts as plain JSON.
    const deflate = migrations.findIndex((m) => typeof m === 'function' && m.name === 'deflateTexts') + 1;
    assert.ok(deflate > 0);
    const db = new DatabaseSync(path);
    rowLayoutDatabase(db, migrations, deflate - 2, [{ ref, updater: 'debian', records }]);
    (migrations[deflate - 2] as (db: DatabaseSync) => void)(db);
    db.prepare('INSERT INTO schema_migration VALUES (?, ?)').run(deflate - 1, 'then');
    const plain = db.prepare('SELECT sum(length(data)) AS n FROM vuln_text').get()!.n as number;
    assert.equal(db.prepare("SELECT count(*) AS n FROM vuln_text WHERE typeof(data) = 'text'").get()!.n, 3);
    db.close();
    const s = SqliteStore.open(path);
    try {
      assert.deepEqual((await exportOf(s, ref)).sort(), records.map((v) => serializeVulnerability(v).json).sort());
      const [found] = await s.queryVulnerabilities([{ packageNames: ['openssl'], dist: { versionCodeName: 'bookworm' } }]);
      assert.deepEqual(found!.map(({ id: _, ...v }) => v).sort((a, b) => (a.name < b.name ? -1 : 1)), [records[0], long]);
      // The same records written again find their texts by the hash of the plain form: no text added.
      const w = await s.beginUpdateOperation('debian');
      await w.add(records);
      const op = await w.commit('again');
      assert.deepEqual(await s.diffUpdateOperations(ref, op.ref), { added: [], removed: [] });
    } finally {
      await s.close();
    }
    assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_text'), 3);
    assert.equal(count(path, "SELECT count(*) AS n FROM vuln_text WHERE typeof(data) = 'blob'"), 3);
    assert.equal(count(path, "SELECT count(*) AS n FROM sqlite_sequence WHERE name = 'vuln_text'"), 1, 'text ids never given again');
    assert.ok(count(path, 'SELECT sum(length(data)) AS n FROM vuln_text') < plain / 2, 'texts deflated');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: records are packed per bucket and context; identical runs share every pack; texts go with their last pack', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'packs.db');
    const s = SqliteStore.open(path);
    const records = Array.from({ length: 3000 }, (_, i) => recordOf(`CVE-${i % 1000}`, `pkg${i % 40}`, ['bookworm', 'bullseye', 'trixie'][Math.floor(i / 1000)]!));
    try {
      const w1 = await s.beginUpdateOperation('debian');
      await w1.add(records);
      const op1 = await w1.commit('a');
      assert.equal(op1.count, 3000);
      // Each release (1,000 records of 40 packages) in the buckets its writer chose for it: fewer than PACK_BUCKETS.
      const buckets = count(path, 'SELECT max(buckets) AS n FROM vuln_context');
      assert.equal(count(path, 'SELECT min(buckets) AS n FROM vuln_context'), buckets);
      assert.equal(buckets, chooseBuckets(Array.from({ length: 40 }, (_, i) => packBucket(`pkg${i}`)), 1000));
      assert.ok(buckets < PACK_BUCKETS, `${buckets} buckets`);
      const packs = 3 * new Set(Array.from({ length: 40 }, (_, i) => packBucket(`pkg${i}`) % buckets)).size;
      assert.ok(packs < 120, 'fewer packs than packages');
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), packs, 'a pack per bucket of packages and release');
      assertPacksCutByTheirContexts(path);
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_text'), 1000, 'a text per advisory, shared by its releases');
      const w2 = await s.beginUpdateOperation('debian');
      for (let i = 0; i < records.length; i += 700) await w2.add(records.slice(i, i + 700));
      await w2.add(records.slice(0, 3));
      const op2 = await w2.commit('b');
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), packs, 'the second run links the first run\'s packs');
      assert.equal(count(path, 'SELECT count(*) AS n FROM uo_pack'), 2 * packs);
      // One record changed: one new pack, the others shared; the diff is that record.
      const w3 = await s.beginUpdateOperation('debian');
      await w3.add([...records.slice(0, 5), recordOf('CVE-5', 'pkg5', 'bookworm', { fixedInVersion: '1.0' }), ...records.slice(6)]);
      const op3 = await w3.commit('c');
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), packs + 1);
      const d = await s.diffUpdateOperations(op2.ref, op3.ref);
      assert.deepEqual([d.added.map((v) => `${v.name}:${v.fixedInVersion}`), d.removed.map((v) => `${v.name}:${v.fixedInVersion}`)], [['CVE-5:1.0'], ['CVE-5:']]);
      await s.deleteUpdateOperations([op1.ref, op2.ref]);
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), packs);
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_text'), 1000, 'texts of a deleted pack that others use stay');
      await s.deleteUpdateOperations([op3.ref]);
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack') + count(path, 'SELECT count(*) AS n FROM vuln_text'), 0);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a writer past its memory budget writes packs as it goes; the records, their count and the diff are exact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'budget.db');
    // Interleaved packages (OSV's order): a small budget cuts every key into several packs.
    const records = Array.from({ length: 2000 }, (_, i) => recordOf(`CVE-${i}`, `pkg${(i * 7) % 13}`, i % 2 === 0 ? 'bookworm' : 'bullseye'));
    const small = SqliteStore.open(path, { packBufferBytes: 8_000 });
    let smallRef: string;
    try {
      const w = await small.beginUpdateOperation('debian');
      for (let i = 0; i < records.length; i += 50) await w.add(records.slice(i, i + 50));
      // A duplicate in a later cut of its key: stored twice, one record for queries, the diff and the count.
      await w.add([records[0]!]);
      const op = await w.commit('small');
      smallRef = op.ref;
      assert.ok(count(path, 'SELECT count(*) AS n FROM vuln_pack') > 26 * 4, `${count(path, 'SELECT count(*) AS n FROM vuln_pack')} packs`);
      assert.equal(op.count, 2000);
      assert.equal((await small.listUpdateOperations('debian'))[0]!.count, 2000);
      const [all] = await small.queryVulnerabilities([{ packageNames: Array.from({ length: 13 }, (_, i) => `pkg${i}`) }]);
      assert.equal(all!.length, 2000);
      assert.equal(new Set(all!.map((v) => v.id)).size, 2000);
      assert.deepEqual(all!.map(({ id: _, ...v }) => serializeVulnerability(v).json).sort(), records.map((v) => serializeVulnerability(v).json).sort());
    } finally {
      await small.close();
    }
    const big = SqliteStore.open(path);
    try {
      const w = await big.beginUpdateOperation('debian');
      await w.add([...records.slice(0, 100), recordOf('CVE-new', 'pkg3', 'bookworm'), ...records.slice(101)]);
      const op = await w.commit('big');
      // Whole keys now, other packs: records compared, not packs.
      const d = await big.diffUpdateOperations(smallRef, op.ref);
      assert.deepEqual([d.added.map((v) => v.name), d.removed.map((v) => v.name)], [['CVE-new'], ['CVE-100']]);
      const back = await big.diffUpdateOperations(op.ref, smallRef);
      assert.deepEqual([back.added.map((v) => v.name), back.removed.map((v) => v.name)], [['CVE-100'], ['CVE-new']]);
    } finally {
      await big.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a writer past its memory budget with the feed grouped by package counts a record given on both sides of a drain once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'grouped.db');
    // The Debian tracker's order: each package's records together, so a drain splits only the package being read.
    const records = Array.from({ length: 2000 }, (_, i) => recordOf(`CVE-${i}`, `pkg${Math.floor(i / 150)}`, i % 2 === 0 ? 'bookworm' : 'bullseye'));
    const s = SqliteStore.open(path, { packBufferBytes: 8_000 });
    try {
      const w = await s.beginUpdateOperation('debian');
      for (let i = 0; i < records.length; i += 50) await w.add(records.slice(i, i + 50));
      // Given again after several drains: pkg0 is now on both sides of a drain.
      await w.add([records[0]!]);
      const op = await w.commit('grouped');
      assert.ok(count(path, 'SELECT count(*) AS n FROM vuln_pack') > 14 * 2, `${count(path, 'SELECT count(*) AS n FROM vuln_pack')} packs`);
      assert.equal(op.count, 2000);
      const [all] = await s.queryVulnerabilities([{ packageNames: Array.from({ length: 14 }, (_, i) => `pkg${i}`) }]);
      assert.equal(all!.length, 2000);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a context\'s bucket count is chosen by the writer that creates it and kept by later operations of other sizes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'buckets.db');
    const bucketsOf = (codename: string) => count(path, `SELECT buckets AS n FROM vuln_context WHERE dist_version_code_name = '${codename}'`);
    const fineOf = (pkgs: string[]) => pkgs.map((p) => packBucket(p));
    // A small release (300 records of 30 packages) and a large one (1,600 records of 4 packages: more than
    // PACK_TARGET_RECORDS a pack even at PACK_BUCKETS).
    const pkgs = (n: number) => Array.from({ length: n }, (_, i) => `pkg${i}`);
    const small = Array.from({ length: 300 }, (_, i) => recordOf(`CVE-${i}`, `pkg${i % 30}`, 'bookworm'));
    const large = Array.from({ length: 1600 }, (_, i) => recordOf(`CVE-${i}`, `pkg${i % 4}`, 'bullseye'));
    const s = SqliteStore.open(path);
    try {
      const w1 = await s.beginUpdateOperation('debian');
      await w1.add([...small, ...large]);
      await w1.commit('1');
      const chosen = bucketsOf('bookworm');
      assert.equal(chosen, chooseBuckets(fineOf(pkgs(30)), 300));
      assert.ok(chosen < PACK_BUCKETS, `${chosen}`);
      assert.equal(bucketsOf('bullseye'), PACK_BUCKETS);
      // 33 times the records and packages of the small release: its count stays; every pack is cut by it.
      const grown = Array.from({ length: 10_000 }, (_, i) => recordOf(`CVE-${i}`, `pkg${i % 1000}`, 'bookworm', { fixedInVersion: `1.${i}` }));
      const w2 = await s.beginUpdateOperation('debian');
      await w2.add([...grown, ...large]);
      const op2 = await w2.commit('2');
      assert.equal(bucketsOf('bookworm'), chosen);
      assert.notEqual(chooseBuckets(fineOf(pkgs(1000)), 10_000), chosen, 'a writer holding these alone would choose another count');
      assertPacksCutByTheirContexts(path);
      const [found] = await s.queryVulnerabilities([{ packageNames: ['pkg7', 'pkg250'], dist: { versionCodeName: 'bookworm' } }]);
      // Each package's records, in the feed's order (ids follow it within a package).
      for (const p of ['pkg7', 'pkg250']) {
        assert.deepEqual(found!.filter((v) => v.package.name === p).map(({ id: _, ...v }) => v), grown.filter((v) => v.package.name === p), p);
      }
      assert.equal(found!.length, 20);
      // The same feed again: every pack linked, none written; no difference.
      const packs = count(path, 'SELECT count(*) AS n FROM vuln_pack');
      const w3 = await s.beginUpdateOperation('debian');
      await w3.add([...grown, ...large]);
      const op3 = await w3.commit('3');
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), packs);
      assert.deepEqual(await s.diffUpdateOperations(op2.ref, op3.ref), { added: [], removed: [] });
    } finally {
      await s.close();
    }
    // A writer past its memory budget creates a context at a drain that is not its last, where it may not hold all of
    // the context's records yet: PACK_BUCKETS, not a count chosen from a part.
    const tight = SqliteStore.open(path, { packBufferBytes: 8_000 });
    try {
      const w = await tight.beginUpdateOperation('debian');
      await w.add(Array.from({ length: 300 }, (_, i) => recordOf(`CVE-${i}`, `pkg${i % 30}`, 'trixie')));
      await w.commit('4');
      assert.equal(bucketsOf('trixie'), PACK_BUCKETS);
    } finally {
      await tight.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: the bucket-count migration gives the contexts stored before it PACK_BUCKETS; their records are found and their packs linked again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'old.db');
    // The schema before (12: texts deflated), records packed by the migrations before it at PACK_BUCKETS buckets:
    // two releases of 200 packages.
    const deflate = migrations.findIndex((m) => typeof m === 'function' && m.name === 'deflateTexts') + 1;
    assert.match(String(migrations[deflate]), /ADD COLUMN buckets/, 'the bucket-count migration follows the text migration');
    const records = Array.from({ length: 600 }, (_, i) => recordOf(`CVE-${i % 300}`, `pkg${i % 200}`, i < 300 ? 'bookworm' : 'bullseye', { fixedInVersion: `2.${i}` }));
    const ref = '00000000-0000-4000-8000-000000000001';
    const db = new DatabaseSync(path);
    rowLayoutDatabase(db, migrations, deflate - 2, [{ ref, updater: 'debian', records }]);
    for (const v of [deflate - 1, deflate]) {
      (migrations[v - 1] as (db: DatabaseSync) => void)(db);
      db.prepare('INSERT INTO schema_migration VALUES (?, ?)').run(v, 'then');
    }
    const packs = db.prepare('SELECT count(*) AS n FROM vuln_pack').get()!.n as number;
    assert.equal(packs, 2 * new Set(Array.from({ length: 200 }, (_, i) => packBucket(`pkg${i}`))).size, 'a pack per bucket of PACK_BUCKETS');
    db.close();
    const s = SqliteStore.open(path);
    try {
      assert.equal(count(path, `SELECT count(*) AS n FROM vuln_context WHERE buckets = ${PACK_BUCKETS}`), 2);
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_context'), 2);
      const names = Array.from({ length: 200 }, (_, i) => `pkg${i}`);
      const [found] = await s.queryVulnerabilities([{ packageNames: names, dist: { versionCodeName: 'bookworm' } }]);
      assert.deepEqual(found!.map(({ id: _, ...v }) => serializeVulnerability(v).json).sort(), records.slice(0, 300).map((v) => serializeVulnerability(v).json).sort());
      // The same records written again make the same packs (the stored count, not a new one): linked, none written.
      const w = await s.beginUpdateOperation('debian');
      await w.add(records);
      const op = await w.commit('again');
      assert.deepEqual(await s.diffUpdateOperations(ref, op.ref), { added: [], removed: [] });
      assert.equal(count(path, 'SELECT count(*) AS n FROM vuln_pack'), packs);
      // A context created after the migration gets a count of its own.
      const w2 = await s.beginUpdateOperation('debian');
      await w2.add([...records, ...records.slice(0, 300).map((v) => ({ ...v, dist: { ...v.dist, versionCodeName: 'trixie' } }))]);
      await w2.commit('trixie');
      assert.ok(count(path, "SELECT buckets AS n FROM vuln_context WHERE dist_version_code_name = 'trixie'") < PACK_BUCKETS);
      assertPacksCutByTheirContexts(path);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a text found stored when its record came, collected before the write, is stored again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  const path = join(dir, 'db');
  const s = SqliteStore.open(path);
  const rec = (i: number, pkg: string) => newVulnerability({
    updater: 'demo', name: `CVE-2099-${i}`, description: `issue ${i}`,
    package: { name: pkg, kind: 'source', module: '', arch: '' },
    dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: 'Debian GNU/Linux', version: '', prettyName: '', arch: '' },
    fixedInVersion: '1.0', versionScheme: 'dpkg',
  });
  const texts = () => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return Number(db.prepare('SELECT count(*) AS n FROM vuln_text').get()!.n);
    } finally {
      db.close();
    }
  };
  try {
    const w1 = await s.beginUpdateOperation('demo');
    await w1.add(Array.from({ length: 50 }, (_, i) => rec(i, 'a')));
    const op1 = await w1.commit('1');
    assert.equal(texts(), 50);
    // The writer finds the 50 texts stored as its records come; the only operation holding them goes before it writes.
    const w2 = await s.beginUpdateOperation('demo');
    await w2.add(Array.from({ length: 50 }, (_, i) => rec(i, 'b')));
    assert.deepEqual(await s.deleteUpdateOperations([op1.ref]), [op1.ref]);
    assert.equal(texts(), 0, 'collected');
    await w2.commit('2');
    assert.equal(texts(), 50);
    const [found] = await s.queryVulnerabilities([{ packageNames: ['b'] }]);
    assert.deepEqual(found!.map((v) => v.description).sort(), Array.from({ length: 50 }, (_, i) => `issue ${i}`).sort());
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
