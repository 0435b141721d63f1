// Measures what the store's design choices rest on (not a test; run by hand):
//   node bench/store-ingest.ts [records=100000]
// 1. ingest of N synthetic Debian-like records in one operation: SQLite file store, PostgreSQL store (packs, what
//    PostgresOperationWriter does; the "unnest" labels below name the per-record writer it replaced). (The COPY
//    variant it was measured against is gone with the schema it was written for.)
// 2. a second operation with the same records (an unchanged feed: every record already stored);
// 3. queryVulnerabilities for a 500-package report, both stores, and the EXPLAIN ANALYZE of the PostgreSQL plan.
// Uses CLAIR_TS_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test), in throwaway schemas.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { PostgresStore, MATCH_SQL } from '../src/store/postgres/postgres-store.ts';
import { packBucket } from '../src/store/vulnerability-pack.ts';
import { newVulnerability, type Vulnerability } from '../src/model/vulnerability.ts';
import type { Store } from '../src/store/store.ts';
import type { VulnerabilityQuery } from '../src/matcher/vulnerability-query.ts';
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

const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-'));
const pgt = await openTestPostgres();
if (!pgt) throw new Error('PostgreSQL not reachable; set CLAIR_TS_POSTGRES_URL');
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

  // The plan the matching query relies on, on the store filled above.
  const c = new pg.Client({ connectionString: pgt.url, options: `-c search_path=${pgt.schema}` });
  await c.connect();
  await c.query('ANALYZE');
  const qi: number[] = [], names: string[] = [], prefix: string[] = [], did: string[] = [], vid: (string | null)[] = [], code: string[] = [], bucket: number[] = [];
  queries.forEach((q, i) => q.packageNames.forEach((n) => {
    qi.push(i); names.push(n); prefix.push('debian'); did.push('debian'); vid.push(null); code.push('bookworm'); bucket.push(packBucket(n));
  }));
  const plan = await c.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, BUFFERS) ${MATCH_SQL}`, [qi, names, prefix, did, vid, code, bucket]);
  console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  await c.end();
} finally {
  rmSync(dir, { recursive: true, force: true });
  await pgt.drop();
}
