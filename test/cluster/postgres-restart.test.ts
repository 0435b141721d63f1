import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { syntheticTracker } from '../../bench/synthetic-tracker.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { dpkgStatusScanner } from '../../src/ecosystems/dpkg/scanner.ts';
import { debianMatcher } from '../../src/ecosystems/debian/matcher.ts';
import { debianRecords, debianUpdater } from '../../src/ecosystems/debian/updater.ts';
import { osRelease } from '../../src/ecosystems/os-release/index.ts';
import { startService, type RunningService } from '../../src/composition/start-service.ts';
import { openTestPostgres, type TestPostgres } from '../support/postgres.ts';
import { manifestOf, sharedLayerImages, sleep, startCountingServer, until } from './cluster-kit.ts';

// PostgreSQL restarted (`pg_ctlcluster … restart -m fast`: every session is cut) in the middle of an update and in
// the middle of an index request, under a running service:
// - the update operation is entirely present or entirely absent, never partial, and the service's next attempt
//   stores it whole;
// - no half-indexed manifest is reported as finished, and index requests after the restart succeed;
// - the same process recovers, without a restart of its own.
// This restarts the machine's shared PostgreSQL: it runs under CI (where test files run one at a time) or when
// CLAIR_TS_PG_RESTART_TESTS=1, and always leaves PostgreSQL running.

const enabled = Boolean(process.env.CI) || process.env.CLAIR_TS_PG_RESTART_TESTS === '1';
const SKIP = 'restarts the shared PostgreSQL server: runs under CI or with CLAIR_TS_PG_RESTART_TESTS=1';
const INDEX = '/indexer/api/v1/index_report';

function clusterVersion(): string {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  if (versions.length === 0) throw new Error('no PostgreSQL cluster in /etc/postgresql: this test restarts the local one with pg_ctlcluster');
  return versions.sort()[0]!;
}

function pgCtl(action: 'restart' | 'start' | 'status'): number {
  const args = ['--skip-systemctl-redirect', clusterVersion(), 'main', action, ...(action === 'restart' ? ['-m', 'fast'] : [])];
  return spawnSync('pg_ctlcluster', args, { stdio: 'ignore' }).status ?? -1;
}

function restartPostgres(): void {
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', clusterVersion(), 'main', 'restart', '-m', 'fast'], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Whatever happened, PostgreSQL is left running (pg_ctlcluster status: 0 running, 3 stopped). */
function ensurePostgresRunning(): void {
  if (pgCtl('status') !== 0) pgCtl('start');
}

async function query<R extends pg.QueryResultRow>(pgt: TestPostgres, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: pgt.url, options: `-c search_path=${pgt.schema}` });
  c.on('error', () => {});
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** The service on the test's schema, its sessions named after the schema so the test can find them. */
async function startOn(t: TestContext, pgt: TestPostgres, yaml: string): Promise<RunningService & { logs: string[] }> {
  const url = new URL(pgt.url);
  url.searchParams.set('options', `-c search_path=${pgt.schema}`);
  url.searchParams.set('application_name', pgt.schema);
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const s = await startService(parseConfig(`http_listen_addr: "127.0.0.1:0"\nintrospection_addr: "127.0.0.1:0"\n${yaml}`, 'restart test'), {
    mode: 'combo',
    db: url.toString(),
    env: {},
    logger,
    ecosystems: { scanners: [...osRelease.scanners, dpkgStatusScanner], matchers: [debianMatcher], updaters: [debianUpdater] },
    updaterRetryBaseMs: 200,
  });
  t.after(() => s.close());
  return Object.assign(s, { logs });
}

async function prepare(t: TestContext): Promise<TestPostgres | undefined> {
  if (!enabled) {
    t.skip(SKIP);
    return undefined;
  }
  const pgt = await openTestPostgres();
  if (!pgt) {
    t.skip('PostgreSQL not reachable; set CLAIR_TS_POSTGRES_URL');
    return undefined;
  }
  clusterVersion(); // fails now, not mid-test, when there is no local cluster to restart
  t.after(async () => {
    ensurePostgresRunning();
    await until('PostgreSQL to accept connections', async () => (await query(pgt, 'SELECT 1').then(() => true, () => undefined)), 30_000);
    await pgt.drop();
  });
  return pgt;
}

test('PostgreSQL restarts in the middle of an update: the operation is whole or absent, and the next attempt stores it', { timeout: 300_000 }, async (t) => {
  const pgt = await prepare(t);
  if (!pgt) return;
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-pg-restart-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const feed = join(dir, 'tracker.json');
  // Large enough that ingest takes seconds on PostgreSQL (tens of thousands of records).
  syntheticTracker(feed, ['openssl', 'curl', 'zlib'], 20_000);
  let expected = 0;
  for await (const _ of debianRecords(createReadStream(feed), feed)) expected++;

  try {
    const s = await startOn(t, pgt, `matcher:\n  period: 1h\nupdaters:\n  sets: [debian]\n  config:\n    debian:\n      url: ${feed}\n`);
    // Mid-way: the writer's transaction has been inserting records (their texts, as batches come in) for a second.
    await until('the update to be writing', async () => {
      const rows = await query<{ n: string }>(pgt, "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL AND query LIKE '%INSERT INTO vuln%'", [pgt.schema]);
      return Number(rows[0]!.n) > 0 ? true : undefined;
    }, 60_000);
    await sleep(1000);
    restartPostgres();

    const ops = await query<{ ref: string; count: number; seq: string | null; linked: string }>(
      pgt,
      `SELECT ref, count, seq, (SELECT coalesce(sum(p.count), 0) FROM uo_pack_run r JOIN vuln_pack p ON p.id BETWEEN r.first AND r.last
         WHERE r.uo_id = o.id) AS linked FROM update_operation o`,
    );
    for (const o of ops) {
      assert.notEqual(o.seq, null, 'no operation is left half-written');
      assert.equal(Number(o.linked), expected, `operation ${o.ref} holds every record of the feed`);
    }
    assert.ok(ops.length <= 1, 'at most the one operation');
    t.diagnostic(`right after the restart: ${ops.length === 0 ? 'no operation (the run was cut and rolled back)' : 'the operation had committed'}`);

    // The same process tries again (scheduler backoff) and stores the feed whole.
    const done = await until('an update operation after the restart', async () => {
      const list = await s.store!.listUpdateOperations('debian');
      return list.length > 0 ? list : undefined;
    }, 120_000, () => s.logs.join(''));
    assert.equal(done.length, 1);
    assert.equal(done[0]!.count, expected, 'the operation counts every record of the feed');
    const [linked] = await query<{ n: string }>(
      pgt,
      `SELECT coalesce(sum(p.count), 0) AS n FROM uo_pack_run r JOIN update_operation o ON o.id = r.uo_id
       JOIN vuln_pack p ON p.id BETWEEN r.first AND r.last WHERE o.ref = $1`,
      [done[0]!.ref],
    );
    assert.equal(Number(linked!.n), expected);
    if (ops.length === 0) assert.match(s.logs.join(''), /updater run failed/, 'the cut run was reported as failed');
  } finally {
    ensurePostgresRunning();
  }
});

test('PostgreSQL restarts in the middle of an index request: nothing half-indexed is reported finished, and indexing recovers', { timeout: 300_000 }, async (t) => {
  const pgt = await prepare(t);
  if (!pgt) return;
  const server = await startCountingServer();
  t.after(() => server.close());
  const { images, layers } = await sharedLayerImages(pgt.schema);
  for (const l of Object.values(layers)) server.put(`/blobs/${l.digest}`, l.bytes);
  const [web, worker] = [images[0]!, images[1]!];

  try {
    const s = await startOn(t, pgt, 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\n');
    const post = (img: typeof web) =>
      fetch(s.apiUrl + INDEX, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(manifestOf(img, server)) });

    // The "curl" layer is held until PostgreSQL is back; the other layers of "web" are fetched, scanned and stored.
    const hold = server.hold(`/blobs/${layers.curl.digest}`);
    const inflight = post(web).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));
    await hold.reached;
    await until('the other layers to be stored', async () => {
      const rows = await query<{ n: string }>(pgt, 'SELECT count(*) AS n FROM layer_report WHERE digest = ANY($1)', [[layers.base.digest, layers.app.digest]]);
      return Number(rows[0]!.n) === 2 ? true : undefined;
    });
    restartPostgres();
    const finishedDuring = await query(pgt, 'SELECT 1 FROM index_report WHERE manifest_hash = $1', [web.manifestHash]);
    assert.equal(finishedDuring.length, 0, 'no report for the manifest while a layer is missing');
    hold.release();
    const first = await inflight;
    t.diagnostic(`the request cut by the restart answered ${first.status}`);
    assert.ok(first.status === 201 || first.status >= 500, `a success or a server-side failure, not ${first.status}: ${JSON.stringify(first.body)}`);

    // Whatever that request answered, a finished report is whole, and a failed one left none.
    const got = await fetch(`${s.apiUrl}${INDEX}/${web.manifestHash}`);
    const gotBody = (await got.json()) as Record<string, any>;
    if (first.status === 201) {
      assert.equal(got.status, 200);
      assert.equal(gotBody.state, 'IndexFinished');
      assert.deepEqual(Object.values(gotBody.packages as Record<string, { name: string }>).map((p) => p.name).sort(), ['curl', 'libssl3', 'zlib1g']);
    } else {
      assert.equal(got.status, 404, `a failed index leaves no report: ${JSON.stringify(gotBody)}`);
    }

    // The same process indexes after the restart: the cut manifest (again or from the store) and one it never saw.
    for (const img of [web, worker]) {
      const r = await post(img);
      const body = (await r.json()) as Record<string, any>;
      assert.equal(r.status, 201, `${img.name} after the restart: ${JSON.stringify(body)}\n${s.logs.join('')}`);
      assert.equal(body.state, 'IndexFinished');
      assert.deepEqual(Object.values(body.packages as Record<string, { name: string }>).map((p) => p.name).sort(), ['curl', 'libssl3', 'zlib1g']);
    }
    assert.equal((await fetch(`${s.introspectionUrl}/readyz`)).status, 200, 'still ready');
  } finally {
    ensurePostgresRunning();
  }
});
