import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { scanResultBytesBound, storeSuite } from '../store.suite.ts';
import { PostgresStore } from './postgres-store.ts';
import { PostgresCoordination } from './coordination.ts';
import { redactUrl } from '../../model/redact-url.ts';
import { migrations } from './migrations.ts';
import { assertPackageIndex, packageIndexReports } from '../package-index-fixture.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import { namedLinkRecords, oldEnrichment, oldRows, oldVulnerabilities, unmarkedText } from '../split-records-fixture.ts';
import { vulnerabilityRow } from '../record-row.ts';
import { encodeText } from '../stored-text.ts';
import { serializeVulnerability } from '../vulnerability-hash.ts';
import { chooseBuckets, openPackLines, PACK_BUCKETS, packBucket, parseLine } from '../vulnerability-pack.ts';
import { openTestPostgres, postgresSkipReason, postgresTestUrl, type TestPostgres } from '../../../test/support/postgres.ts';

// Every test runs in a schema of its own (test/support/postgres.ts), dropped after. Sessions are tagged with the
// schema as application_name so a test can find and kill its own backends and nobody else's.

const skip = await postgresSkipReason();

async function withSchema(t: TestContext): Promise<TestPostgres> {
  const pgt = await openTestPostgres();
  assert.ok(pgt, 'PostgreSQL became unreachable during the run');
  t.after(() => pgt.drop());
  return pgt;
}

async function openIn(pgt: TestPostgres, extra: { schema?: string; maxScanResultBytes?: number; packBufferBytes?: number; contextBuckets?: number } = {}): Promise<PostgresStore> {
  const schema = extra.schema ?? pgt.schema;
  return PostgresStore.open(pgt.url, {
    schema, applicationName: schema, maxConnections: 4, maxLockConnections: 4,
    ...(extra.maxScanResultBytes ? { maxScanResultBytes: extra.maxScanResultBytes } : {}),
    ...(extra.packBufferBytes ? { packBufferBytes: extra.packBufferBytes } : {}),
    ...(extra.contextBuckets ? { contextBuckets: extra.contextBuckets } : {}),
  });
}

/** Every stored pack holds only lines of its bucket in its context's count (vuln_context.buckets). */
async function assertPacksCutByTheirContexts(pgt: TestPostgres): Promise<void> {
  const packs = await sql<{ id: string; bucket: number; buckets: number; data: Buffer }>(pgt, 'SELECT p.id, p.bucket, c.buckets, p.data FROM vuln_pack p JOIN vuln_context c ON c.id = p.context_id');
  for (const p of packs) {
    for (const l of openPackLines(p.data)) assert.equal(packBucket(parseLine(l).packageName) % p.buckets, p.bucket, `pack ${p.id}: ${l.slice(0, 40)}`);
  }
}

/** One-off SQL in the test's schema, outside the store. */
async function sql<R extends pg.QueryResultRow>(pgt: TestPostgres, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: pgt.url, options: `-c search_path=${pgt.schema}` });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** Rows of the record tables: packs, the records they hold, operation links (packs in runs), texts, operations. */
async function counts(pgt: TestPostgres): Promise<{ packs: number; records: number; links: number; texts: number; update_operation: number }> {
  const [r] = await sql<{ packs: number; records: number; links: number; texts: number; update_operation: number }>(
    pgt,
    `SELECT (SELECT count(*) FROM vuln_pack)::int AS packs, (SELECT coalesce(sum(count), 0) FROM vuln_pack)::int AS records,
       (SELECT coalesce(sum(last - first + 1), 0) FROM uo_pack_run)::int AS links, (SELECT count(*) FROM vuln_text)::int AS texts,
       (SELECT count(*) FROM update_operation)::int AS update_operation`,
  );
  return r!;
}

function vuln(updater: string, name: string, pkg: string, fixed = ''): Vulnerability {
  return newVulnerability({
    updater,
    name,
    package: { name: pkg, kind: 'source', module: '', arch: '' },
    dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: '', version: '', prettyName: '', arch: '' },
    fixedInVersion: fixed,
    versionScheme: 'dpkg',
  });
}

if (skip) {
  test('postgres store', { skip }, () => {});
} else {
  storeSuite('postgres', async () => {
    const pgt = await openTestPostgres();
    assert.ok(pgt, 'PostgreSQL became unreachable during the run');
    const s = await openIn(pgt);
    const close = s.close.bind(s);
    s.close = async () => {
      try {
        await close();
      } finally {
        await pgt.drop();
      }
    };
    return s;
  });

  test('postgres: a writer past its memory budget writes packs as it goes; the records and their count are exact', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt, { packBufferBytes: 8_000 });
    try {
      // Interleaved packages (OSV's order): a small budget cuts every key into several packs.
      const records = Array.from({ length: 2000 }, (_, i) => vuln('debian', `CVE-${i}`, `pkg${(i * 7) % 13}`, `1.${i}`));
      const w = await s.beginUpdateOperation('debian');
      for (let i = 0; i < records.length; i += 50) await w.add(records.slice(i, i + 50));
      // A duplicate in a later cut of its key: stored twice, one record for queries and for the count.
      await w.add([records[0]!]);
      const op = await w.commit('small');
      assert.ok((await counts(pgt)).packs > 13 * 2, `${(await counts(pgt)).packs} packs`);
      assert.equal((await counts(pgt)).records, 2001, 'the duplicate is in two packs');
      assert.equal(op.count, 2000);
      assert.equal((await s.listUpdateOperations('debian'))[0]!.count, 2000);
      const [all] = await s.queryVulnerabilities([{ packageNames: Array.from({ length: 13 }, (_, i) => `pkg${i}`) }]);
      assert.equal(all!.length, 2000);
      assert.deepEqual(all!.map(({ id: _, ...v }) => serializeVulnerability(v).json).sort(), records.map((v) => serializeVulnerability(v).json).sort());
    } finally {
      await s.close();
    }
  });

  test('postgres: three instances opening a new schema at once migrate it once', async (t) => {
    const pgt = await withSchema(t);
    const schema = `${pgt.schema}_m`; // not created yet: CREATE SCHEMA races too
    t.after(() => sql(pgt, `DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    const stores = await Promise.all([1, 2, 3].map(() => openIn(pgt, { schema })));
    await Promise.all(stores.map((s) => s.close()));
    const rows = await sql<{ version: number }>(pgt, `SELECT version FROM ${schema}.schema_migration ORDER BY version`);
    assert.deepEqual(rows.map((r) => r.version), migrations.map((_, i) => i + 1));
    // and a later open finds nothing to do
    await (await openIn(pgt, { schema })).close();
    assert.equal((await sql(pgt, `SELECT 1 FROM ${schema}.schema_migration`)).length, migrations.length);
  });

  test('postgres: the operations-stamp migration keeps the stamp in a row that commits and deletes bump, in any session', async (t) => {
    const pgt = await withSchema(t);
    const a = await openIn(pgt);
    const hash = 'sha256:' + '7'.repeat(64);
    try {
      await (await a.beginUpdateOperation('debian')).commit('fp');
      await a.putIndexReport({ manifestHash: hash, state: 'IndexFinished', success: true, err: '', packages: {}, distributions: {}, repositories: {}, environments: {}, layers: [] }, 'state-1');
      const st = await a.getReportStamps([hash]);
      assert.equal(await a.putScanResult(hash, 'json', { operations: st.operations, indexReport: st.indexReports[0]! }, 'code', { meta: '{}', output: new Uint8Array(1) }), true);
    } finally {
      await a.close();
    }
    // Back to the schema before it, holding an operation and a scan result.
    const version = migrations.findIndex((m) => typeof m === 'string' && m.includes('CREATE TABLE update_operation_stamp')) + 1;
    assert.ok(version > 0);
    await sql(pgt, `DROP TABLE update_operation_stamp; DROP FUNCTION update_operation_stamp_bump() CASCADE; DELETE FROM schema_migration WHERE version >= ${version}`);
    const b = await openIn(pgt);
    try {
      assert.deepEqual(await sql(pgt, 'SELECT 1 FROM scan_result'), [], 'stamps of the old form are never current again');
      const stamp = async () => (await b.getReportStamps([])).operations;
      const migrated = await stamp();
      assert.match(migrated, /^0 [0-9a-f-]{36}$/);
      await (await b.beginUpdateOperation('debian')).commit('fp-2');
      const committed = await stamp();
      assert.notEqual(committed, migrated);
      // Another session whose search_path does not name the schema (an operator's psql, another tool) commits an
      // operation and deletes it: the trigger bumps the row in the operations' own schema.
      const c = new pg.Client({ connectionString: pgt.url, options: '-c search_path=public' });
      await c.connect();
      try {
        const ref = randomUUID();
        await c.query(`INSERT INTO ${pgt.schema}.update_operation (ref, updater, date, seq) VALUES ($1, 'other', now(), nextval('${pgt.schema}.update_operation_commit_seq'))`, [ref]);
        const inserted = await stamp();
        assert.notEqual(inserted, committed);
        await c.query(`DELETE FROM ${pgt.schema}.update_operation WHERE ref = $1`, [ref]);
        assert.notEqual(await stamp(), inserted);
      } finally {
        await c.end();
      }
    } finally {
      await b.close();
    }
  });

  test('postgres: stored scan results are bounded in bytes', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt, { maxScanResultBytes: 10 });
    try {
      await scanResultBytesBound(s);
    } finally {
      await s.close();
    }
  });

  test('postgres: an aborted writer leaves no rows at all', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt);
    try {
      const w = await s.beginUpdateOperation('debian');
      await w.add(Array.from({ length: 3000 }, (_, i) => vuln('debian', `CVE-${i}`, `p${i % 40}`)));
      await w.abort();
      assert.deepEqual(await counts(pgt), { packs: 0, records: 0, links: 0, texts: 0, update_operation: 0 });
    } finally {
      await s.close();
    }
  });

  test('postgres: a writer whose connection is killed fails clearly and leaves no rows', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt);
    try {
      const w = await s.beginUpdateOperation('debian');
      await w.add([vuln('debian', 'CVE-1', 'openssl')]);
      const killed = await sql<{ ok: boolean }>(
        pgt,
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'`,
        [pgt.schema],
      );
      assert.deepEqual(killed, [{ ok: true }], 'exactly the writer was in a transaction');
      await assert.rejects(w.add([vuln('debian', 'CVE-2', 'curl')]), (e: Error & { code?: string }) =>
        e.code === 'unavailable' && /update operation for debian failed and was rolled back/.test(e.message));
      await assert.rejects(w.commit('fp'), /already failed/);
      assert.deepEqual(await counts(pgt), { packs: 0, records: 0, links: 0, texts: 0, update_operation: 0 });
      // the store itself carries on with new connections
      const w2 = await s.beginUpdateOperation('debian');
      await w2.add([vuln('debian', 'CVE-3', 'zlib')]);
      assert.equal((await w2.commit('fp2')).count, 1);
    } finally {
      await s.close();
    }
  });

  test('postgres: reads survive the server killing every pooled connection', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt);
    try {
      await s.putIndexReport(
        { manifestHash: 'sha256:m', state: 'IndexFinished', success: true, err: '', packages: {}, distributions: {}, repositories: {}, environments: {}, layers: [] },
        'st',
      );
      await Promise.all([s.getIndexReport('sha256:m'), s.getIndexReport('sha256:m'), s.listUpdateOperations()]); // fill the pool
      const killed = await sql(pgt, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [pgt.schema]);
      assert.ok(killed.length >= 1);
      assert.equal((await s.getIndexReport('sha256:m'))?.indexState, 'st');
    } finally {
      await s.close();
    }
  });

  test('postgres: writers of two updaters run concurrently and both commit whole', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt);
    try {
      const [a, b] = await Promise.all([s.beginUpdateOperation('debian'), s.beginUpdateOperation('ubuntu')]);
      // Same advisories and packages, interleaved batches, in opposite orders.
      const recs = (u: string) => Array.from({ length: 4000 }, (_, i) => vuln(u, `CVE-${i}`, `p${i % 100}`));
      const ra = recs('debian');
      const rb = recs('ubuntu').reverse();
      for (let i = 0; i < 4000; i += 1000) await Promise.all([a.add(ra.slice(i, i + 1000)), b.add(rb.slice(i, i + 1000))]);
      const [oa, ob] = await Promise.all([a.commit('a'), b.commit('b')]);
      assert.deepEqual([oa.count, ob.count], [4000, 4000]);
      const [fa, fb] = await s.queryVulnerabilities([
        { packageNames: ['p7'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bookworm' } },
        { packageNames: ['p7'], updaterPrefix: 'ubuntu' },
      ]);
      assert.deepEqual([fa!.length, fb!.length], [40, 40]);
      // One pack per (updater's context, bucket of package names): 100 packages each, in the buckets of the count
      // each writer chose for its context (the same records: the same count).
      const contexts = await sql<{ buckets: number }>(pgt, 'SELECT buckets FROM vuln_context');
      assert.deepEqual(contexts.map((c) => c.buckets), [0, 1].map(() => chooseBuckets(Array.from({ length: 100 }, (_, i) => packBucket(`p${i}`)), 4000)));
      const buckets = new Set(Array.from({ length: 100 }, (_, i) => packBucket(`p${i}`) % contexts[0]!.buckets)).size;
      assert.deepEqual(await counts(pgt), { packs: 2 * buckets, records: 8000, links: 2 * buckets, texts: 2, update_operation: 2 });
    } finally {
      await s.close();
    }
  });

  test('postgres: a second writer of the same records waits for the first, then shares its texts', async (t) => {
    const pgt = await withSchema(t);
    // A budget each add() fills: its records are written (texts inserted) before it returns. (A writer resolves a
    // few texts only when it writes its packs: operation-writer.ts #resolveQueuedTexts.)
    const s = await openIn(pgt, { packBufferBytes: 8_000 });
    try {
      const all = Array.from({ length: 300 }, (_, i) => vuln('debian', `CVE-${i}`, 'openssl'));
      const a = await s.beginUpdateOperation('debian');
      const b = await s.beginUpdateOperation('debian');
      await a.add(all.slice(0, 200));
      const events: string[] = [];
      const bAdded = b.add(all.slice(100)).then(() => events.push('b added'));
      await new Promise((r) => setTimeout(r, 200)); // b is now waiting on a's uncommitted inserts of the texts of 100..199
      events.push('a commits');
      await a.commit('a');
      await bAdded;
      assert.deepEqual(events, ['a commits', 'b added']);
      const ob = await b.commit('b');
      assert.equal(ob.count, 200);
      // Each operation's records of openssl are one pack (CVE-0..199, CVE-100..299); the text is shared.
      assert.deepEqual(await counts(pgt), { packs: 2, records: 400, links: 2, texts: 1, update_operation: 2 });
    } finally {
      await s.close();
    }
  });

  test('postgres: two writers of one updater writing the same new packs at once both commit; each record is found once; a context both create has one count', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt);
    try {
      // The texts exist already (an earlier operation): neither writer waits for the other on them.
      const w0 = await s.beginUpdateOperation('debian');
      await w0.add(Array.from({ length: 50 }, (_, i) => vuln('debian', `CVE-${i}`, 'openssl')));
      await w0.commit('0');
      const same = Array.from({ length: 3000 }, (_, i) => vuln('debian', `CVE-${i % 50}`, `p${i % 60}`, String(i)));
      const [a, b] = await Promise.all([s.beginUpdateOperation('debian'), s.beginUpdateOperation('debian')]);
      await Promise.all([a.add(same), b.add([...same].reverse())]);
      const [oa, ob] = await Promise.all([a.commit('a'), b.commit('b')]);
      assert.deepEqual([oa.count, ob.count], [3000, 3000]);
      const [found] = await s.queryVulnerabilities([{ packageNames: ['p7', 'openssl'] }]);
      assert.equal(found!.length, 50, 'p7 of the newest operation (openssl is not in it)');
      assert.equal(new Set(found!.map((v) => v.id)).size, 50);
      // Either both wrote every pack (neither saw the other's before committing: two copies, each linked to its
      // operation) or the later one found the packs the first had committed; never a failure.
      // In the buckets of the context's count (w0 created it).
      const [context] = await sql<{ buckets: number }>(pgt, 'SELECT buckets FROM vuln_context');
      const buckets = new Set(Array.from({ length: 60 }, (_, i) => packBucket(`p${i}`) % context!.buckets)).size;
      const n = await counts(pgt);
      assert.ok(n.packs === 1 + buckets || n.packs === 1 + 2 * buckets, `packs: ${n.packs}`);
      assert.deepEqual(n, { packs: n.packs, records: 50 + (n.packs === 1 + buckets ? 1 : 2) * 3000, links: 1 + 2 * buckets, texts: 1, update_operation: 3 });
      const diff = await s.diffUpdateOperations(oa.ref, ob.ref);
      assert.deepEqual([diff.added.length, diff.removed.length], [0, 0], 'the same records, whichever copy of a pack holds them');

      // Two writers creating one new context at once, each holding a share of it for which it would choose another
      // bucket count: the second waits for the first's context row, then reads back its count and cuts by it.
      const trixie = (v: Vulnerability): Vulnerability => ({ ...v, dist: { ...v.dist, versionId: '13', versionCodeName: 'trixie' } });
      const rc = Array.from({ length: 6000 }, (_, i) => trixie(vuln('debian', `CVE-${i % 50}`, `q${i % 200}`, String(i))));
      const rd = rc.filter((_, i) => i % 10 === 0);
      const fine = Array.from({ length: 200 }, (_, i) => packBucket(`q${i}`));
      const choices = [chooseBuckets(fine, rc.length), chooseBuckets(fine, rd.length)];
      assert.notEqual(choices[0], choices[1]);
      const [c, d] = await Promise.all([s.beginUpdateOperation('debian'), s.beginUpdateOperation('debian')]);
      await Promise.all([c.add(rc), d.add(rd)]);
      const [oc, od] = await Promise.all([c.commit('c'), d.commit('d')]);
      const [stored] = await sql<{ buckets: number }>(pgt, "SELECT buckets FROM vuln_context WHERE dist_version_code_name = 'trixie'");
      assert.ok(choices.includes(stored!.buckets), `${stored!.buckets} buckets`);
      await assertPacksCutByTheirContexts(pgt);
      const cd = await s.diffUpdateOperations(oc.ref, od.ref);
      assert.deepEqual([cd.added.length, cd.removed.length], [0, rc.length - rd.length]);
      const newest = (await s.listUpdateOperations('debian'))[0]!.ref === oc.ref ? rc : rd;
      const [q] = await s.queryVulnerabilities([{ packageNames: fine.map((_, i) => `q${i}`), dist: { versionCodeName: 'trixie' } }]);
      assert.deepEqual(q!.map(({ id: _, ...v }) => serializeVulnerability(v).json).sort(), newest.map((v) => serializeVulnerability(v).json).sort());
    } finally {
      await s.close();
    }
  });

  test('postgres: a context\'s bucket count is chosen by the writer that creates it and kept by later operations of other sizes', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt);
    const bucketsOf = async (codename: string) => (await sql<{ buckets: number }>(pgt, 'SELECT buckets FROM vuln_context WHERE dist_version_code_name = $1', [codename]))[0]?.buckets;
    const release = (codename: string) => (v: Vulnerability): Vulnerability => ({ ...v, dist: { ...v.dist, versionCodeName: codename } });
    try {
      // A small release (300 records of 30 packages) and a large one (1,600 records of 4 packages: more than
      // PACK_TARGET_RECORDS a pack even at PACK_BUCKETS).
      const small = Array.from({ length: 300 }, (_, i) => vuln('debian', `CVE-${i}`, `p${i % 30}`));
      const large = Array.from({ length: 1600 }, (_, i) => release('bullseye')(vuln('debian', `CVE-${i}`, `p${i % 4}`)));
      const w1 = await s.beginUpdateOperation('debian');
      await w1.add([...small, ...large]);
      await w1.commit('1');
      const chosen = await bucketsOf('bookworm');
      assert.equal(chosen, chooseBuckets(Array.from({ length: 30 }, (_, i) => packBucket(`p${i}`)), 300));
      assert.ok(chosen! < PACK_BUCKETS, `${chosen}`);
      assert.equal(await bucketsOf('bullseye'), PACK_BUCKETS);
      // Ten times the records and packages: the count stays; every pack is cut by it; lookups find them.
      const grown = Array.from({ length: 3000 }, (_, i) => vuln('debian', `CVE-${i}`, `p${i % 300}`, `1.${i}`));
      const w2 = await s.beginUpdateOperation('debian');
      await w2.add([...grown, ...large]);
      const op2 = await w2.commit('2');
      assert.equal(await bucketsOf('bookworm'), chosen);
      await assertPacksCutByTheirContexts(pgt);
      const [found] = await s.queryVulnerabilities([{ packageNames: ['p7', 'p250'], dist: { versionCodeName: 'bookworm' } }]);
      for (const p of ['p7', 'p250']) {
        assert.deepEqual(found!.filter((v) => v.package.name === p).map(({ id: _, ...v }) => v), grown.filter((v) => v.package.name === p), p);
      }
      assert.equal(found!.length, 20);
      // The same feed again: every pack linked, none written; no difference.
      const before = (await counts(pgt)).packs;
      const w3 = await s.beginUpdateOperation('debian');
      await w3.add([...grown, ...large]);
      const op3 = await w3.commit('3');
      assert.equal((await counts(pgt)).packs, before);
      assert.deepEqual(await s.diffUpdateOperations(op2.ref, op3.ref), { added: [], removed: [] });
    } finally {
      await s.close();
    }
    // A writer past its memory budget creates a context at a drain that is not its last: PACK_BUCKETS.
    const tight = await openIn(pgt, { packBufferBytes: 8_000 });
    try {
      const w = await tight.beginUpdateOperation('debian');
      await w.add(Array.from({ length: 300 }, (_, i) => release('trixie')(vuln('debian', `CVE-${i}`, `p${i % 30}`))));
      await w.commit('4');
      assert.equal(await bucketsOf('trixie'), PACK_BUCKETS);
    } finally {
      await tight.close();
    }
  });

  test('postgres: a pack over TOAST\'s threshold stays in its row (it does not compress again)', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt);
    try {
      // One package's records with fixed versions that deflate poorly: one pack of a few KB.
      const hex = (i: number) => createHash('sha256').update(String(i)).digest('hex');
      const records = Array.from({ length: 100 }, (_, i) => vuln('debian', `CVE-${i}`, 'openssl', hex(i)));
      const w = await s.beginUpdateOperation('debian');
      await w.add(records);
      await w.commit('1');
      const [pack] = await sql<{ bytes: number; toast: number }>(
        pgt,
        "SELECT octet_length(data) AS bytes, (SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'vuln_pack'::regclass)::int AS toast FROM vuln_pack",
      );
      assert.ok(pack!.bytes > 2100 && pack!.bytes < 8000, `${pack!.bytes} bytes`);
      assert.equal(pack!.toast, 0);
      assert.equal((await s.queryVulnerabilities([{ packageNames: ['openssl'] }]))[0]!.length, 100);
    } finally {
      await s.close();
    }
  });

  test('postgres: packages sharing a bucket share a pack, and each is found, diffed and exported on its own', async (t) => {
    const pgt = await withSchema(t);
    const s = await openIn(pgt);
    try {
      let other = 0;
      while (packBucket(`pkg${other}`) !== packBucket('openssl')) other++;
      const twin = `pkg${other}`;
      const w1 = await s.beginUpdateOperation('debian');
      await w1.add([vuln('debian', 'CVE-1', 'openssl', '1'), vuln('debian', 'CVE-2', twin, '1'), vuln('debian', 'CVE-3', twin, '1')]);
      const op1 = await w1.commit('1');
      assert.deepEqual(await counts(pgt), { packs: 1, records: 3, links: 1, texts: 1, update_operation: 1 });
      const [ssl, tw, both] = await s.queryVulnerabilities([{ packageNames: ['openssl'] }, { packageNames: [twin] }, { packageNames: [twin, 'openssl'] }]);
      assert.deepEqual(ssl!.map((v) => v.name), ['CVE-1']);
      assert.deepEqual(tw!.map((v) => `${v.name}:${v.package.name}`), [`CVE-2:${twin}`, `CVE-3:${twin}`]);
      assert.deepEqual(both!.map((v) => v.name).sort(), ['CVE-1', 'CVE-2', 'CVE-3']);
      assert.equal(new Set(both!.map((v) => v.id)).size, 3);
      const w2 = await s.beginUpdateOperation('debian');
      await w2.add([vuln('debian', 'CVE-1', 'openssl', '2'), vuln('debian', 'CVE-2', twin, '1'), vuln('debian', 'CVE-3', twin, '1')]);
      const op2 = await w2.commit('2');
      const diff = await s.diffUpdateOperations(op1.ref, op2.ref);
      assert.deepEqual([diff.added.map((v) => `${v.name}:${v.fixedInVersion}`), diff.removed.map((v) => `${v.name}:${v.fixedInVersion}`)], [['CVE-1:2'], ['CVE-1:1']]);
      const lines: string[] = [];
      for await (const b of s.readUpdateOperation(op2.ref)) lines.push(...b);
      assert.deepEqual(lines.map((l) => (JSON.parse(l) as Vulnerability).package.name).sort(), [twin, twin, 'openssl'].sort());
      await s.deleteUpdateOperations([op1.ref]);
      assert.deepEqual(await counts(pgt), { packs: 1, records: 3, links: 1, texts: 1, update_operation: 1 });
    } finally {
      await s.close();
    }
  });

  test('postgres: an operation deleted while a writer re-adds its records: the writer keeps its texts and commits every record', async (t) => {
    const pgt = await withSchema(t);
    // w2's add() fills this budget: its texts are resolved (locked) and its packs written before the delete.
    const s = await openIn(pgt, { packBufferBytes: 8_000 });
    try {
      // Descriptions that do not name the record: a text of its own each (a name is stored as a mark).
      const recs = Array.from({ length: 2000 }, (_, i) => ({ ...vuln('debian', `CVE-${i}`, `p${i % 300}`, String(i)), description: `Issue ${i}` }));
      const w1 = await s.beginUpdateOperation('debian');
      await w1.add(recs);
      const op1 = await w1.commit('1');
      // The writer has resolved (and locked) the texts; its packs are found or written at commit.
      const w2 = await s.beginUpdateOperation('debian');
      await w2.add(recs.slice(0, 1500));
      assert.deepEqual(await s.deleteUpdateOperations([op1.ref]), [op1.ref]);
      assert.equal((await counts(pgt)).texts, 1500, 'the texts the running writer holds (locked) are kept, the others go');
      await w2.add(recs.slice(1500, 1800));
      const op2 = await w2.commit('2');
      assert.equal(op2.count, 1800);
      const found = (await s.queryVulnerabilities([{ packageNames: Array.from({ length: 300 }, (_, i) => `p${i}`) }]))[0]!;
      assert.deepEqual(found.map((v) => v.name).sort(), recs.slice(0, 1800).map((v) => v.name).sort());
      assert.ok(found.every((v) => v.description === `Issue ${v.name.slice(4)}`), 'every record has its text');
      // The texts of records no operation holds any more go with the next delete.
      const w3 = await s.beginUpdateOperation('debian');
      await w3.add(recs.slice(0, 10));
      await w3.commit('3');
      await s.deleteUpdateOperations([op2.ref]);
      const { records, texts, update_operation } = await counts(pgt);
      assert.deepEqual({ records, texts, update_operation }, { records: 10, texts: 10, update_operation: 1 });
    } finally {
      await s.close();
    }
  });

  test('postgres: deleting operations collects the records only they held', async (t) => {
    const pgt = await withSchema(t);
    // A pack per package (contexts of PACK_BUCKETS buckets), as in a large context.
    const s = await openIn(pgt, { contextBuckets: PACK_BUCKETS });
    try {
      assert.equal(new Set(['a', 'b', 'c'].map(packBucket)).size, 3, 'a pack per package here');
      const w1 = await s.beginUpdateOperation('debian');
      await w1.add([{ ...vuln('debian', 'CVE-1', 'a'), description: 'only in the first operation' }, vuln('debian', 'CVE-2', 'b')]);
      const op1 = await w1.commit('1');
      const w2 = await s.beginUpdateOperation('debian');
      await w2.add([vuln('debian', 'CVE-2', 'b'), vuln('debian', 'CVE-3', 'c')]);
      await w2.commit('2');
      assert.deepEqual(await counts(pgt), { packs: 3, records: 3, links: 4, texts: 2, update_operation: 2 }, 'the pack of b is shared');
      // Links are runs of consecutive pack ids: the first operation's two packs, written together, are one.
      assert.deepEqual(
        await sql(pgt, 'SELECT count(*)::int AS runs, sum(last - first + 1)::int AS packs FROM uo_pack_run GROUP BY uo_id ORDER BY uo_id LIMIT 1'),
        [{ runs: 1, packs: 2 }],
      );
      assert.deepEqual(await s.deleteUpdateOperations([op1.ref]), [op1.ref]);
      // The pack of a and the text of CVE-1 went; the shared pack of b and its text stayed.
      assert.deepEqual(await counts(pgt), { packs: 2, records: 2, links: 2, texts: 1, update_operation: 1 });
      assert.deepEqual((await s.queryVulnerabilities([{ packageNames: ['a', 'b', 'c'] }]))[0]!.map((v) => v.name), ['CVE-2', 'CVE-3']);
    } finally {
      await s.close();
    }
  });

  test('postgres: the updater lock admits one instance; the manifest lock makes requests take turns', async (t) => {
    const pgt = await withSchema(t);
    const [s1, s2] = await Promise.all([openIn(pgt), openIn(pgt)]);
    try {
      const inner = await s1.coordination.tryWithUpdaterLock('debian', async () => ({
        other: await s2.coordination.tryWithUpdaterLock('debian', async () => 'ran'),
        unrelated: await s2.coordination.tryWithUpdaterLock('ubuntu', async () => 'ran'),
      }));
      assert.deepEqual(inner, { other: undefined, unrelated: 'ran' });
      assert.equal(await s2.coordination.tryWithUpdaterLock('debian', async () => 'ran'), 'ran', 'released after fn');

      const events: string[] = [];
      const hold = (s: PostgresStore, who: string) =>
        s.coordination.withManifestLock('sha256:abc', async () => {
          events.push(`${who} in`);
          await new Promise((r) => setTimeout(r, 100));
          events.push(`${who} out`);
        });
      await Promise.all([hold(s1, 'a'), hold(s2, 'b'), hold(s1, 'c')]);
      for (let i = 0; i < events.length; i += 2) assert.equal(events[i]!.split(' ')[0], events[i + 1]!.split(' ')[0], `turns interleaved: ${events}`);
      await assert.rejects(s1.coordination.withManifestLock('sha256:abc', async () => { throw new Error('boom'); }), /boom/);
      assert.equal(await s2.coordination.tryWithUpdaterLock('x', () => s2.coordination.withManifestLock('sha256:abc', async () => 'free again')), 'free again');
    } finally {
      await Promise.all([s1.close(), s2.close()]);
    }
  });

  test('postgres: layer locks have connections of their own; the waiting updater lock; the record of updater runs', async (t) => {
    const pgt = await withSchema(t);
    const [s1, s2] = await Promise.all([openIn(pgt), openIn(pgt)]);
    try {
      // s1 holds as many manifest locks as it has lock connections (4); each holder then takes a layer lock, which
      // must still get a connection. On one shared pool this would wait until the connect timeout and fail.
      const layered = await Promise.all(
        ['m1', 'm2', 'm3', 'm4'].map((m, i) => s1.coordination.withManifestLock(m, async () => {
          await new Promise((r) => setTimeout(r, 50));
          return s1.coordination.withLayerLock(`sha256:layer${i % 2}`, async () => `${m} scanned`);
        })),
      );
      assert.deepEqual(layered, ['m1 scanned', 'm2 scanned', 'm3 scanned', 'm4 scanned']);

      const events: string[] = [];
      const scan = (s: PostgresStore, who: string) =>
        s.coordination.withLayerLock('sha256:shared', async () => {
          events.push(`${who} in`);
          await new Promise((r) => setTimeout(r, 100));
          events.push(`${who} out`);
        });
      await Promise.all([scan(s1, 'a'), scan(s2, 'b')]);
      assert.deepEqual(events.map((e) => e.split(' ')[1]), ['in', 'out', 'in', 'out'], `layer lock turns interleaved: ${events}`);

      // withUpdaterLock waits where tryWithUpdaterLock gives up.
      const order: string[] = [];
      let waiting: Promise<unknown> | undefined;
      await s1.coordination.withUpdaterLock('debian', async () => {
        waiting = s2.coordination.withUpdaterLock('debian', async () => order.push('s2'));
        assert.equal(await s2.coordination.tryWithUpdaterLock('debian', async () => 'ran'), undefined);
        await new Promise((r) => setTimeout(r, 100));
        order.push('s1');
      });
      await waiting;
      assert.deepEqual(order, ['s1', 's2']);

      assert.equal(await s1.coordination.msSinceUpdaterRun('debian'), undefined, 'never ran');
      await s1.coordination.recordUpdaterRun('debian');
      const ago = await s2.coordination.msSinceUpdaterRun('debian');
      assert.ok(ago !== undefined && ago >= 0, `seen by the other instance: ${ago}`);
      assert.equal(await s2.coordination.msSinceUpdaterRun('ubuntu'), undefined);
      await sql(pgt, "UPDATE updater_run SET finished = finished - interval '1 hour' WHERE updater = 'debian'");
      assert.ok((await s1.coordination.msSinceUpdaterRun('debian'))! >= 3_600_000, 'measured by the database clock');
      assert.ok(s1.coordination instanceof PostgresCoordination);
    } finally {
      await Promise.all([s1.close(), s2.close()]);
    }
  });

  test('postgres: open names what is wrong', async () => {
    const bad = await PostgresStore.open(postgresTestUrl(), { schema: 'Bad-Name' }).catch((e: unknown) => e);
    assert.equal((bad as { code?: string }).code, 'bad-input');
    const u = new URL(postgresTestUrl());
    u.port = '1';
    u.password = 'sekret';
    const down = await PostgresStore.open(u.toString(), { retry: { attempts: 2, baseDelayMs: 1 } }).catch((e: unknown) => e as Error);
    assert.equal((down as { code?: string }).code, 'unavailable');
    assert.match((down as Error).message, /cannot open PostgreSQL store .*:1\/.*after 2 attempts/);
    assert.doesNotMatch((down as Error).message, /sekret/);
    assert.equal(redactUrl('postgres://u:pw@h/db'), 'postgres://u:***@h/db');
  });
}

test('postgres: migrations 5 and 7 split stored records into parts and packs and give every record back byte for byte', { skip }, async (t) => {
  const pgt = await withSchema(t);
  const c = new pg.Client({ connectionString: pgt.url, options: `-c search_path=${pgt.schema}` });
  await c.connect();
  const rows = oldRows();
  const ops: [string, string][] = [['00000000-0000-4000-8000-000000000001', 'debian'], ['00000000-0000-4000-8000-000000000002', 'osv/pypi'], ['00000000-0000-4000-8000-000000000003', 'epss']];
  try {
    await c.query('CREATE TABLE schema_migration (version integer PRIMARY KEY, applied timestamptz NOT NULL)');
    for (let v = 1; v <= 4; v++) {
      await c.query(migrations[v - 1] as string);
      await c.query('INSERT INTO schema_migration VALUES ($1, now())', [v]);
    }
    const ids: string[] = [];
    for (const r of rows) ids.push((await c.query<{ id: string }>('INSERT INTO vuln (hash, updater, name, package_name, dist_did, dist_version_id, dist_version_code_name, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id', r)).rows[0]!.id);
    const opIds: string[] = [];
    for (const [i, [ref, u]] of ops.entries()) {
      opIds.push((await c.query<{ id: string }>("INSERT INTO update_operation (ref, updater, date, seq) VALUES ($1, $2, now(), nextval('update_operation_commit_seq')) RETURNING id", [ref, u])).rows[0]!.id);
      void i;
    }
    for (const [op, v] of [[0, 0], [0, 1], [1, 2], [2, 3]] as const) await c.query('INSERT INTO uo_vuln (uo_id, vuln_id) VALUES ($1, $2)', [opIds[op], ids[v]]);
  } finally {
    await c.end();
  }
  const s = await openIn(pgt);
  try {
    const exported: string[] = [];
    for (const [ref] of ops) for await (const batch of s.readUpdateOperation(ref)) exported.push(...batch);
    assert.deepEqual(exported, rows.map((r) => r[7]));
    const [deb, py] = await s.queryVulnerabilities([
      { packageNames: ['openssl'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bookworm' } },
      { packageNames: ['jinja2'], updaterPrefix: 'osv' },
    ]);
    assert.deepEqual(deb!.map(({ id: _, ...v }) => v), [oldVulnerabilities[0]]);
    assert.deepEqual(py!.map(({ id: _, ...v }) => v), [oldVulnerabilities[2]]);
    assert.deepEqual(await s.queryEnrichments('epss', ['CVE-2024-0001']), [oldEnrichment]);
    const w = await s.beginUpdateOperation('debian');
    await w.add(oldVulnerabilities.slice(0, 2));
    await w.commit('again');
    // Three vulnerabilities, one pack each (migration 12), the new operation's two linked, not written again; the
    // EPSS record moved to a pack of its operation (migration 7).
    const [n] = await sql<{ vuln: string; text: string; packs: string }>(pgt, "SELECT (SELECT sum(count) FROM vuln_pack) AS vuln, (SELECT count(*) FROM vuln_text) AS text, (SELECT string_agg(updater || ' ' || first || ' ' || count, ',') FROM enrichment_pack) AS packs");
    assert.deepEqual(n, { vuln: '3', text: '2', packs: 'epss CVE-2024-0001 1' });
  } finally {
    await s.close();
  }
});

test('postgres: the migration that builds the package index indexes the reports stored before it', { skip }, async (t) => {
  const pgt = await withSchema(t);
  const c = new pg.Client({ connectionString: pgt.url, options: `-c search_path=${pgt.schema}` });
  await c.connect();
  try {
    await c.query('CREATE TABLE schema_migration (version integer PRIMARY KEY, applied timestamptz NOT NULL)');
    const target = migrations.findIndex((m) => typeof m === 'function' && m.name === 'indexPackages');
    assert.ok(target > 0);
    for (let v = 1; v <= target; v++) {
      const m = migrations[v - 1]!;
      if (typeof m === 'string') await c.query(m);
      else await m(c);
      await c.query('INSERT INTO schema_migration VALUES ($1, now())', [v]);
    }
    for (const r of packageIndexReports()) {
      await c.query('INSERT INTO index_report (manifest_hash, index_state, data, updated) VALUES ($1, $2, $3, now())', [r.manifestHash, 's', JSON.stringify(r)]);
      await c.query('INSERT INTO manifest_package (name, manifest_hash) VALUES ($1, $2)', ['openssl', r.manifestHash]);
    }
  } finally {
    await c.end();
  }
  const s = await openIn(pgt);
  try {
    await assertPackageIndex(s);
  } finally {
    await s.close();
  }
});

test('postgres: the name-mark migration points records at one shared text where their texts differ only by their names', { skip }, async (t) => {
  const pgt = await withSchema(t);
  const markNames = migrations.findIndex((m) => typeof m === 'function' && m.name === 'markNamesInTexts') + 1;
  assert.ok(markNames > 0);
  // The schema before the name-mark migration, holding a text per record with the name written out.
  const c = await schemaAt(pgt, markNames - 1);
  try {
    await insertRecordRows(c, '00000000-0000-4000-8000-000000000001', 'alpine', namedLinkRecords, unmarkedText);
    assert.deepEqual((await c.query('SELECT count(*)::int AS n FROM vuln_text')).rows, [{ n: 2 }]);
  } finally {
    await c.end();
  }
  const b = await openIn(pgt);
  try {
    const got = (await b.queryVulnerabilities([{ packageNames: ['busybox'] }]))[0]!.map(({ id: _, ...v }) => v);
    assert.deepEqual(got.sort((x, y) => x.name.localeCompare(y.name)), [...namedLinkRecords].sort((x, y) => x.name.localeCompare(y.name)));
    assert.deepEqual(await sql(pgt, 'SELECT count(*)::int AS n FROM vuln_text'), [{ n: 1 }]);
  } finally {
    await b.close();
  }
});

/**
 * A client on the test's schema, migrated to `version` (from nothing) by the migrations themselves, each in a
 * transaction of its own as the store applies them (the text migration's temporary table lives until COMMIT).
 */
async function schemaAt(pgt: TestPostgres, version: number): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: pgt.url, options: `-c search_path=${pgt.schema}` });
  await c.connect();
  try {
    await c.query('CREATE TABLE schema_migration (version integer PRIMARY KEY, applied timestamptz NOT NULL)');
    for (let v = 1; v <= version; v++) {
      const m = migrations[v - 1]!;
      await c.query('BEGIN');
      if (typeof m === 'string') await c.query(m);
      else await m(c);
      await c.query('INSERT INTO schema_migration VALUES ($1, now())', [v]);
      await c.query('COMMIT');
    }
  } catch (e) {
    await c.end();
    throw e;
  }
  return c;
}

/**
 * A committed operation of `records` as the schema of migrations 5 to 11 stored them: a vuln row per record (found
 * by its hash when another operation stored it), its context and text rows, a link per record. `text` replaces a
 * record's text (an older form of it).
 */
async function insertRecordRows(c: pg.ClientBase, ref: string, updater: string, records: Vulnerability[], text?: (v: Vulnerability) => { hash: string; text: string }): Promise<void> {
  const op = (await c.query<{ id: string }>("INSERT INTO update_operation (ref, updater, date, count, seq) VALUES ($1, $2, now(), $3, nextval('update_operation_commit_seq')) RETURNING id", [ref, updater, records.length])).rows[0]!.id;
  const rows = records.map((v) => ({ r: vulnerabilityRow(v), t: text ? text(v) : undefined }));
  for (const { r } of rows) {
    await c.query('INSERT INTO vuln_context (updater, dist_did, dist_version_id, dist_version_code_name, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (data) DO NOTHING', [r.updater, r.did, r.versionId, r.codeName, r.context]);
  }
  const texts = rows.map(({ r, t }) => t ?? { hash: r.textHash!, text: r.text! });
  await c.query("INSERT INTO vuln_text (hash, data) SELECT decode(h, 'hex'), d FROM unnest($1::text[], $2::text[]) AS t(h, d) ON CONFLICT (hash) DO NOTHING", [texts.map((t) => t.hash), texts.map((t) => t.text)]);
  await c.query(
    `INSERT INTO vuln (hash, name, package_name, context_id, text_id, data)
     SELECT decode(r.hash, 'hex'), r.name, r.package_name, c.id, t.id, r.data
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS r(hash, name, package_name, context, text_hash, data)
     JOIN vuln_context c ON c.data = r.context JOIN vuln_text t ON t.hash = decode(r.text_hash, 'hex')
     ON CONFLICT (hash) DO NOTHING`,
    [rows.map(({ r }) => r.hash), rows.map(({ r }) => r.name), rows.map(({ r }) => r.packageName), rows.map(({ r }) => r.context), texts.map((t) => t.hash), rows.map(({ r }) => r.data)],
  );
  await c.query("INSERT INTO uo_vuln (uo_id, vuln_id) SELECT $1, v.id FROM vuln v WHERE v.hash = ANY(SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h) ON CONFLICT DO NOTHING", [op, rows.map(({ r }) => r.hash)]);
}

test('postgres: the pack migration (12) packs every operation\'s records, shares the packs of equal records, and gives them back byte for byte', { skip }, async (t) => {
  const pgt = await withSchema(t);
  const packMigration = migrations.findIndex((m) => typeof m === 'function' && m.name === 'packVulnerabilities') + 1;
  assert.ok(packMigration > 0);
  const rec = (name: string, pkg: string, codename: string, fixed = '', updater = 'debian') => newVulnerability({
    updater, name, description: `About ${name}`, links: `https://security-tracker.debian.org/tracker/${name}`,
    package: { name: pkg, kind: 'source', module: '', arch: '' },
    dist: { did: 'debian', versionId: '', versionCodeName: codename, cpe: '', name: 'Debian GNU/Linux', version: '', prettyName: '', arch: '' },
    fixedInVersion: fixed, versionScheme: 'dpkg',
  });
  // Two Debian operations sharing most records (openssl unchanged, curl changed, zlib gone, bash new) and one of
  // another updater; 6,000 records of one key (more than a pack holds) in each Debian operation.
  const many = Array.from({ length: 6000 }, (_, i) => rec(`CVE-2020-${10000 + i}`, 'linux', 'bookworm', `6.1.${i}`));
  // A package sharing openssl's bucket: its record and openssl's Bookworm one go into one pack.
  let n = 0;
  while (packBucket(`pkg${n}`) !== packBucket('openssl')) n++;
  const twin = rec('CVE-5', `pkg${n}`, 'bookworm', '1.0');
  const first = [rec('CVE-1', 'openssl', 'bookworm', '3.0.1'), twin, rec('CVE-1', 'openssl', 'bullseye'), rec('CVE-2', 'curl', 'bookworm'), rec('CVE-3', 'zlib', 'bookworm'), ...many];
  const second = [rec('CVE-1', 'openssl', 'bookworm', '3.0.1'), twin, rec('CVE-1', 'openssl', 'bullseye'), rec('CVE-2', 'curl', 'bookworm', '8.0'), rec('CVE-4', 'bash', 'bookworm'), ...many];
  const other = [rec('CVE-1', 'openssl', 'jammy', '', 'ubuntu')];
  assert.equal(new Set(['openssl', 'curl', 'zlib', 'bash', 'linux'].map(packBucket)).size, 5, 'a pack per package here');
  const refs = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003'];
  const c = await schemaAt(pgt, packMigration - 1);
  try {
    await insertRecordRows(c, refs[0]!, 'debian', first);
    await insertRecordRows(c, refs[1]!, 'debian', second);
    await insertRecordRows(c, refs[2]!, 'ubuntu', other);
  } finally {
    await c.end();
  }
  const s = await openIn(pgt);
  try {
    const json = (list: Vulnerability[]) => list.map((v) => serializeVulnerability(v).json).sort();
    for (const [ref, records] of [[refs[0]!, first], [refs[1]!, second], [refs[2]!, other]] as const) {
      const exported: string[] = [];
      for await (const batch of s.readUpdateOperation(ref)) exported.push(...batch);
      assert.deepEqual(exported.sort(), json(records), `operation ${ref}`);
      assert.equal((await s.getUpdateOperation(ref))?.count, records.length);
    }
    const diff = await s.diffUpdateOperations(refs[0], refs[1]!);
    assert.deepEqual(diff.added.map((v) => `${v.name}:${v.package.name}:${v.fixedInVersion}`).sort(), ['CVE-2:curl:8.0', 'CVE-4:bash:']);
    assert.deepEqual(diff.removed.map((v) => `${v.name}:${v.package.name}:${v.fixedInVersion}`).sort(), ['CVE-2:curl:', 'CVE-3:zlib:']);
    const [deb, ubu] = await s.queryVulnerabilities([
      { packageNames: ['openssl', 'curl', 'zlib', 'bash'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bookworm' } },
      { packageNames: ['openssl'], updaterPrefix: 'ubuntu' },
    ]);
    assert.deepEqual(deb!.map((v) => `${v.name}:${v.package.name}`).sort(), ['CVE-1:openssl', 'CVE-2:curl', 'CVE-4:bash']);
    assert.deepEqual((await s.queryVulnerabilities([{ packageNames: [twin.package.name] }]))[0]!.map(({ id: _, ...v }) => v), [twin]);
    assert.deepEqual(ubu!.map(({ id: _, ...v }) => v), other);
    assert.equal((await s.queryVulnerabilities([{ packageNames: ['linux'] }]))[0]!.length, 6000);
    // Packs (a bucket per package here, but for the twin in openssl's Bookworm pack): openssl twice (two releases)
    // shared by both operations, linux's 6,000 records as two packs shared,
    // curl twice, zlib, bash, the Ubuntu one; the tables of records are gone.
    const [n] = await sql<{ packs: number; links: number; tables: number }>(
      pgt,
      `SELECT (SELECT count(*) FROM vuln_pack)::int AS packs, (SELECT sum(last - first + 1) FROM uo_pack_run)::int AS links,
         (SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename IN ('vuln', 'uo_vuln'))::int AS tables`,
      [pgt.schema],
    );
    assert.deepEqual(n, { packs: 9, links: 13, tables: 0 });
    // Written again, the same records make the same packs: linked, not written.
    const w = await s.beginUpdateOperation('debian');
    await w.add(second);
    assert.equal((await w.commit('again')).count, second.length);
    assert.deepEqual(await sql(pgt, 'SELECT count(*)::int AS packs FROM vuln_pack'), [{ packs: 9 }]);
  } finally {
    await s.close();
  }
});

test('postgres: the text migration (13) deflates every stored text into bytea; records read back byte for byte and new writes find the texts', { skip }, async (t) => {
  const pgt = await withSchema(t);
  const packMigration = migrations.findIndex((m) => typeof m === 'function' && m.name === 'packVulnerabilities') + 1;
  const textMigration = migrations.findIndex((m) => typeof m === 'function' && m.name === 'deflateTexts') + 1;
  assert.ok(packMigration > 0 && textMigration === packMigration + 1);
  const rec = (name: string, pkg: string, codename: string, description = `About ${name}`) => newVulnerability({
    updater: 'debian', name, description, links: `https://security-tracker.debian.org/tracker/${name}`,
    package: { name: pkg, kind: 'source', module: '', arch: '' },
    dist: { did: 'debian', versionId: '', versionCodeName: codename, cpe: '', name: 'Debian GNU/Linux', version: '', prettyName: '', arch: '' },
    versionScheme: 'dpkg',
  });
  // A text over PostgreSQL's own compression threshold (~2 KB) among short ones.
  const records = [rec('CVE-1', 'openssl', 'bookworm'), rec('CVE-1', 'openssl', 'bullseye'), rec('CVE-2', 'curl', 'bookworm', 'A flaw in the parser allows remote attackers to cause a denial of service. '.repeat(60))];
  const ref = '00000000-0000-4000-8000-000000000001';
  // The database as the text migration finds it: records packed (migration 12), texts as text.
  const c = await schemaAt(pgt, packMigration - 1);
  let plain: number;
  try {
    await insertRecordRows(c, ref, 'debian', records);
    await c.query('BEGIN');
    await (migrations[packMigration - 1] as (c: pg.ClientBase) => Promise<void>)(c);
    await c.query('INSERT INTO schema_migration VALUES ($1, now())', [packMigration]);
    await c.query('COMMIT');
    const [row] = (await c.query<{ n: number; bytes: number; type: string }>("SELECT count(*)::int AS n, sum(octet_length(data))::int AS bytes, min(pg_typeof(data)::text) AS type FROM vuln_text")).rows;
    assert.deepEqual({ n: row!.n, type: row!.type }, { n: 2, type: 'text' });
    plain = row!.bytes;
  } finally {
    await c.end();
  }
  const s = await openIn(pgt);
  try {
    const exported: string[] = [];
    for await (const batch of s.readUpdateOperation(ref)) exported.push(...batch);
    assert.deepEqual(exported.sort(), records.map((v) => serializeVulnerability(v).json).sort());
    const [found] = await s.queryVulnerabilities([{ packageNames: ['openssl', 'curl'], dist: { versionCodeName: 'bookworm' } }]);
    assert.deepEqual(found!.map(({ id: _, ...v }) => v).sort((a, b) => (a.name < b.name ? -1 : 1)), [records[0], records[2]]);
    // The same records written again find their texts by the hash of the plain form: no text added.
    const w = await s.beginUpdateOperation('debian');
    await w.add(records);
    const op = await w.commit('again');
    assert.deepEqual(await s.diffUpdateOperations(ref, op.ref), { added: [], removed: [] });
  } finally {
    await s.close();
  }
  const [after] = await sql<{ n: number; bytes: number; type: string }>(pgt, 'SELECT count(*)::int AS n, sum(octet_length(data))::int AS bytes, min(pg_typeof(data)::text) AS type FROM vuln_text');
  assert.deepEqual({ n: after!.n, type: after!.type }, { n: 2, type: 'bytea' });
  assert.ok(after!.bytes < plain / 4, `texts deflated: ${plain} -> ${after!.bytes} bytes`);
});

test('postgres: the bucket-count migration (14) gives the contexts stored before it PACK_BUCKETS; their records are found and their packs linked again', { skip }, async (t) => {
  const pgt = await withSchema(t);
  const packMigration = migrations.findIndex((m) => typeof m === 'function' && m.name === 'packVulnerabilities') + 1;
  const textMigration = migrations.findIndex((m) => typeof m === 'function' && m.name === 'deflateTexts') + 1;
  assert.ok(packMigration > 0 && textMigration === packMigration + 1 && /ADD COLUMN IF NOT EXISTS buckets/.test(String(migrations[textMigration])), 'the bucket-count migration follows the text migration');
  // Two releases of 200 packages, packed by migration 12 at PACK_BUCKETS buckets.
  const inRelease = (v: Vulnerability, codename: string): Vulnerability => ({ ...v, dist: { ...v.dist, versionCodeName: codename } });
  const records = Array.from({ length: 600 }, (_, i) => inRelease(vuln('debian', `CVE-${i % 300}`, `p${i % 200}`, `2.${i}`), i < 300 ? 'bookworm' : 'bullseye'));
  const ref = '00000000-0000-4000-8000-000000000001';
  const c = await schemaAt(pgt, packMigration - 1);
  try {
    await insertRecordRows(c, ref, 'debian', records);
    for (const v of [packMigration, textMigration]) {
      await c.query('BEGIN');
      await (migrations[v - 1] as (c: pg.ClientBase) => Promise<void>)(c);
      await c.query('INSERT INTO schema_migration VALUES ($1, now())', [v]);
      await c.query('COMMIT');
    }
  } finally {
    await c.end();
  }
  const packs = (await counts(pgt)).packs;
  assert.equal(packs, 2 * new Set(Array.from({ length: 200 }, (_, i) => packBucket(`p${i}`))).size, 'a pack per bucket of PACK_BUCKETS');
  const s = await openIn(pgt);
  try {
    assert.deepEqual(await sql(pgt, 'SELECT buckets, count(*)::int AS n FROM vuln_context GROUP BY buckets'), [{ buckets: PACK_BUCKETS, n: 2 }]);
    const [found] = await s.queryVulnerabilities([{ packageNames: Array.from({ length: 200 }, (_, i) => `p${i}`), dist: { versionCodeName: 'bookworm' } }]);
    assert.deepEqual(found!.map(({ id: _, ...v }) => serializeVulnerability(v).json).sort(), records.slice(0, 300).map((v) => serializeVulnerability(v).json).sort());
    // The same records written again make the same packs (the stored count): linked, none written.
    const w = await s.beginUpdateOperation('debian');
    await w.add(records);
    const op = await w.commit('again');
    assert.deepEqual(await s.diffUpdateOperations(ref, op.ref), { added: [], removed: [] });
    assert.equal((await counts(pgt)).packs, packs);
    // A context created after the migration gets a count of its own.
    const w2 = await s.beginUpdateOperation('debian');
    await w2.add([...records, ...records.slice(0, 300).map((v) => inRelease(v, 'trixie'))]);
    await w2.commit('trixie');
    const [trixie] = await sql<{ buckets: number }>(pgt, "SELECT buckets FROM vuln_context WHERE dist_version_code_name = 'trixie'");
    assert.ok(trixie!.buckets < PACK_BUCKETS);
    await assertPacksCutByTheirContexts(pgt);
  } finally {
    await s.close();
  }
});

test('postgres: the compaction migration (17) turns text hashes into uuid, drops the TOAST tables nothing can fill and the index on seq alone; stored texts are found again', { skip }, async (t) => {
  const pgt = await withSchema(t);
  const compaction = migrations.findIndex((m) => typeof m === 'function' && m.name === 'compactTables') + 1;
  assert.ok(compaction > 0);
  const withToast = "SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'r' AND reltoastrelid <> 0 ORDER BY relname";
  const plain = ['indexed_package_name', 'manifest_repository', 'updater_run', 'vuln_context'];
  // Tables that foreign keys point at keep theirs: rewritten, they would be counted empty (reltuples 0), and the
  // planner would seq-scan them for every foreign-key check until an ANALYZE.
  const referenced = ['indexed_manifest', 'notification_receipt'];
  const records = Array.from({ length: 300 }, (_, i) => newVulnerability({
    ...vuln('debian', `CVE-${i % 120}`, `p${i % 50}`, `1.${i}`), description: `Flaw number ${i % 120} in the parser`, links: `https://example.com/advisory/${i % 120}`,
  }));
  const texts = new Map(records.map((v) => vulnerabilityRow(v)).map((r) => [r.textHash!, r.text!]));
  assert.equal(texts.size, 120);
  // The schema before, holding the records' texts (bytea hashes) and a context, as a writer stored them.
  const c = await schemaAt(pgt, compaction - 1);
  let before: string[];
  try {
    before = (await c.query<{ relname: string }>(withToast, [pgt.schema])).rows.map((r) => r.relname);
    await c.query("INSERT INTO vuln_text (hash, data) SELECT decode(h, 'hex'), d FROM unnest($1::text[], $2::bytea[]) AS t(h, d)",
      [[...texts.keys()], [...texts.values()].map((x) => encodeText(x))]);
    await c.query("INSERT INTO updater_run (updater, finished) VALUES ('debian', now())");
  } finally {
    await c.end();
  }
  assert.deepEqual(plain.filter((r) => !before.includes(r)), [], 'each had a TOAST table before');
  const stored = await sql<{ id: string; h: string }>(pgt, "SELECT id, encode(hash, 'hex') AS h FROM vuln_text ORDER BY id");
  const s = await openIn(pgt);
  try {
    const after = (await sql<{ relname: string }>(pgt, withToast, [pgt.schema])).map((r) => r.relname);
    assert.deepEqual(after, before.filter((r) => !plain.includes(r)));
    assert.deepEqual(referenced.filter((r) => !after.includes(r)), [], 'foreign-key targets keep their TOAST table');
    assert.deepEqual(await sql(pgt, "SELECT relname, reltuples FROM pg_class WHERE relnamespace = $1::regnamespace AND relname = ANY($2) ORDER BY relname", [pgt.schema, referenced]),
      referenced.map((relname) => ({ relname, reltuples: -1 })), 'foreign-key targets are left never analyzed');
    assert.deepEqual(await sql(pgt, "SELECT id, replace(hash::text, '-', '') AS h FROM vuln_text ORDER BY id"), stored, 'same ids, same hashes');
    assert.deepEqual(await sql(pgt, "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'vuln_text'::regclass AND attname = 'hash'"), [{ type: 'uuid' }]);
    assert.deepEqual(await sql(pgt, "SELECT updater FROM updater_run"), [{ updater: 'debian' }]);
    assert.deepEqual(await sql(pgt, "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'update_operation' AND indexdef LIKE '%(seq)%'", [pgt.schema]), []);
    // Written now, the records find their texts stored: none added, each record read back with its own text.
    const w = await s.beginUpdateOperation('debian');
    await w.add(records);
    await w.commit('1');
    assert.equal((await counts(pgt)).texts, 120);
    const [found] = await s.queryVulnerabilities([{ packageNames: Array.from({ length: 50 }, (_, i) => `p${i}`) }]);
    assert.deepEqual(found!.map(({ id: _, ...v }) => serializeVulnerability(v).json).sort(), records.map((v) => serializeVulnerability(v).json).sort());
  } finally {
    await s.close();
  }
});
