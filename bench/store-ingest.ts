// Measures what the store's design choices rest on (not a test; run by hand):
//   node bench/store-ingest.ts [records=100000]
// 1. ingest of N synthetic Debian-like records in one operation: SQLite file store, PostgreSQL store (unnest
//    batches, what PostgresOperationWriter does), and the alternative it was chosen over: COPY (pg-copy-streams)
//    into a temp table, then the same INSERT … SELECT from it;
// 2. a second operation with the same records (an unchanged feed: every record already stored);
// 3. queryVulnerabilities for a 500-package report, both stores, and the EXPLAIN ANALYZE of the PostgreSQL plan.
// Uses CLAIR_TS_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test), in throwaway schemas.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { PostgresStore, MATCH_SQL } from '../src/store/postgres/postgres-store.ts';
import { INGEST_SQL } from '../src/store/postgres/operation-writer.ts';
import { newVulnerability, type Vulnerability } from '../src/model/vulnerability.ts';
import type { Store } from '../src/store/store.ts';
import type { VulnerabilityQuery } from '../src/matcher/vulnerability-query.ts';
import { vulnerabilityHash } from '../src/store/vulnerability-hash.ts';
import { openTestPostgres } from '../test/support/postgres.ts';

const N = Number(process.argv[2] ?? 100_000);
const PACKAGES = 5000;
const CODENAMES = ['bookworm', 'bullseye', 'trixie'];

function record(i: number): Vulnerability {
  return newVulnerability({
    updater: `debian/updater/${CODENAMES[i % 3]}`,
    name: `CVE-${2000 + (i % 25)}-${i}`,
    description: `Synthetic advisory ${i}: a buffer overflow in a parser lets a crafted input crash the process or run code. `.repeat(2),
    links: `https://security-tracker.debian.org/tracker/CVE-${i}`,
    severity: ['low', 'medium', 'high'][i % 3]!,
    package: { name: `pkg${i % PACKAGES}`, kind: 'source', module: '', arch: '' },
    dist: { did: 'debian', versionId: String(11 + (i % 3)), versionCodeName: CODENAMES[i % 3]!, cpe: '', name: 'Debian GNU/Linux', version: '', prettyName: '', arch: '' },
    fixedInVersion: i % 4 === 0 ? '' : `1.${i % 97}-${i % 7}`,
    versionScheme: 'dpkg',
  });
}

const records = Array.from({ length: N }, (_, i) => record(i));
const queries: VulnerabilityQuery[] = Array.from({ length: 500 }, (_, i) => ({
  packageNames: [`pkg${(i * 7) % PACKAGES}`, `lib${i}`],
  updaterPrefix: 'debian',
  dist: { did: 'debian', versionCodeName: 'bookworm' },
}));

async function ingest(s: Store): Promise<number> {
  const t0 = performance.now();
  const w = await s.beginUpdateOperation('debian');
  for (let i = 0; i < records.length; i += 1000) await w.add(records.slice(i, i + 1000));
  const op = await w.commit('bench');
  if (op.count !== N) throw new Error(`count ${op.count} != ${N}`);
  return performance.now() - t0;
}

async function queryTime(s: Store): Promise<{ ms: number; found: number }> {
  let found = 0;
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    const res = await s.queryVulnerabilities(queries);
    times.push(performance.now() - t0);
    found = res.reduce((n, r) => n + r.length, 0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[2]!, found };
}

const rate = (ms: number) => `${Math.round(N / (ms / 1000)).toLocaleString('en')} records/s (${(ms / 1000).toFixed(2)} s)`;

// COPY variant: same transaction shape as the writer, records streamed as COPY text into a temp table per chunk.
function copyText(v: Vulnerability, hash: string): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return [hash, v.updater, v.name, v.package.name, v.dist.did, v.dist.versionId, v.dist.versionCodeName, JSON.stringify(v)].map(esc).join('\t') + '\n';
}

async function ingestByCopy(url: string, schema: string, chunk: number): Promise<number> {
  const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await c.connect();
  const t0 = performance.now();
  try {
    await c.query('BEGIN');
    const op = (await c.query<{ id: string }>('INSERT INTO update_operation (ref, updater, date) VALUES ($1, $2, now()) RETURNING id', [randomUUID(), 'debian'])).rows[0]!.id;
    await c.query(`CREATE TEMP TABLE ingest_tmp (hash text, updater text, name text, package_name text, dist_did text,
      dist_version_id text, dist_version_code_name text, data text) ON COMMIT DROP`);
    const fromTemp = INGEST_SQL
      .replace(/SELECT \* FROM unnest\([^)]*\)\s*AS t\([^)]*\)/, 'SELECT DISTINCT ON (hash) * FROM ingest_tmp')
      .replace('v.hash = ANY($2::text[])', 'v.hash IN (SELECT hash FROM ingest_tmp)');
    for (let i = 0; i < records.length; i += chunk) {
      const lines = records.slice(i, i + chunk).map((v) => copyText(v, vulnerabilityHash(v)));
      await pipeline(Readable.from(lines), c.query(copyFrom('COPY ingest_tmp FROM STDIN')));
      const r = await c.query<{ resolved: string }>(fromTemp, [op]);
      if (Number(r.rows[0]!.resolved) !== Math.min(chunk, records.length - i)) throw new Error('copy variant lost records');
      await c.query('TRUNCATE ingest_tmp');
    }
    await c.query(`UPDATE update_operation SET seq = nextval('update_operation_commit_seq'), count = (SELECT count(*) FROM uo_vuln WHERE uo_id = $1) WHERE id = $1`, [op]);
    await c.query('COMMIT');
    return performance.now() - t0;
  } finally {
    await c.end();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-'));
const pgt = await openTestPostgres();
if (!pgt) throw new Error('PostgreSQL not reachable; set CLAIR_TS_POSTGRES_URL');
const copySchemas = [`${pgt.schema}_copy1`, `${pgt.schema}_copy2`];
try {
  console.log(`${N} records, ${PACKAGES} packages; Node ${process.version}`);

  const sqlite = SqliteStore.open(join(dir, 'bench.db'));
  console.log(`sqlite   ingest (new records):      ${rate(await ingest(sqlite))}`);
  console.log(`sqlite   ingest (unchanged feed):   ${rate(await ingest(sqlite))}`);
  const sq = await queryTime(sqlite);
  console.log(`sqlite   500-package query: ${sq.ms.toFixed(1)} ms (median of 5), ${sq.found} records`);
  await sqlite.close();

  const store = await PostgresStore.open(pgt.url, { schema: pgt.schema });
  console.log(`postgres ingest unnest (new):       ${rate(await ingest(store))}`);
  console.log(`postgres ingest unnest (unchanged): ${rate(await ingest(store))}`);
  const pq = await queryTime(store);
  console.log(`postgres 500-package query, before ANALYZE: ${pq.ms.toFixed(1)} ms (median of 5), ${pq.found} records`);
  const admin = new pg.Client({ connectionString: pgt.url, options: `-c search_path=${pgt.schema}` });
  await admin.connect();
  await admin.query('VACUUM ANALYZE'); // what autovacuum does within a minute or so of a large commit
  await admin.end();
  const pqa = await queryTime(store);
  console.log(`postgres 500-package query, after ANALYZE: ${pqa.ms.toFixed(1)} ms (median of 5), ${pqa.found} records`);
  await store.close();

  for (const [i, chunk] of [[0, 2000], [1, N]] as const) {
    await (await PostgresStore.open(pgt.url, { schema: copySchemas[i] })).close(); // migrate
    console.log(`postgres ingest COPY chunk ${chunk} (new): ${rate(await ingestByCopy(pgt.url, copySchemas[i]!, chunk))}`);
  }

  // The plan the matching query relies on, on the store filled above.
  const c = new pg.Client({ connectionString: pgt.url, options: `-c search_path=${pgt.schema}` });
  await c.connect();
  await c.query('ANALYZE');
  const qi: number[] = [], names: string[] = [], prefix: string[] = [], did: string[] = [], vid: (string | null)[] = [], code: string[] = [];
  queries.forEach((q, i) => q.packageNames.forEach((n) => {
    qi.push(i); names.push(n); prefix.push('debian'); did.push('debian'); vid.push(null); code.push('bookworm');
  }));
  const plan = await c.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, BUFFERS) ${MATCH_SQL}`, [qi, names, prefix, did, vid, code]);
  console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  await c.end();
} finally {
  rmSync(dir, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: pgt.url });
  await c.connect();
  for (const s of copySchemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await c.end();
  await pgt.drop();
}
