import assert from 'node:assert/strict';
import { test } from 'node:test';
import { debianUpdater } from '../../src/ecosystems/debian/updater.ts';
import { runUpdaterInCluster } from '../../src/updater/cluster-updater-run.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { openTestPostgres } from '../support/postgres.ts';
import { manifestOf, sharedLayerImages, startCountingServer, startServeProcess, trackerFeed, until, withSearchPath, type ServeProcess } from './cluster-kit.ts';

// Three `clair-ts serve` processes (two combo, one matcher) on one PostgreSQL schema:
// - the debian updater, due at start in all three, runs once across them (one fetch of the feed, one operation);
// - concurrent POST index_report of overlapping images, on both combo instances, fetch every layer once and index
//   every manifest once; every instance answers the same index and vulnerability reports;
// - two command-line style updates at once (runUpdaterInCluster with wait) of a changed feed add one operation, and
//   every instance's next vulnerability report is made from it (no instance keeps serving its cached report).

const INDEX = '/indexer/api/v1/index_report';
const VULN = '/matcher/api/v1/vulnerability_report';
const FEED = '/feeds/debian.json';

type Json = Record<string, any>;

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: Json }> {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Json) : {} };
}

test('three instances on one PostgreSQL: updaters once, layers scanned once, the same reports everywhere', { timeout: 180_000 }, async (t) => {
  const pgt = await openTestPostgres();
  if (!pgt) return t.skip('PostgreSQL not reachable; set CLAIR_TS_POSTGRES_URL (CI runs it)');
  t.after(() => pgt.drop());
  const db = withSearchPath(pgt.url, pgt.schema);

  const server = await startCountingServer();
  t.after(() => server.close());
  const { images, layers } = await sharedLayerImages(pgt.schema);
  for (const l of Object.values(layers)) server.put(`/blobs/${l.digest}`, l.bytes);
  server.put(FEED, trackerFeed());
  // Each response waits: the first updater run lasts long enough for every instance to find it running, and the
  // index requests below overlap on every layer.
  server.delayMs = 1500;

  // A period longer than the test: after the first run, no instance is due again.
  const yaml = (extra = '') =>
    `indexer:\n  allow_private_addresses: true\nmatcher:\n  period: 1h\n${extra}updaters:\n  sets: [debian]\n  config:\n    debian:\n      url: ${server.url}${FEED}\n`;
  const procs: ServeProcess[] = [];
  t.after(async () => {
    for (const p of procs) await p.stop();
  });
  const [a, b] = await Promise.all([startServeProcess('combo-a', 'combo', db, yaml()), startServeProcess('combo-b', 'combo', db, yaml())]);
  procs.push(a!, b!);
  const m = await startServeProcess('matcher', 'matcher', db, yaml(`  indexer_addr: ${a!.apiUrl}\n`));
  procs.push(m);
  const all = [a!, b!, m];
  const describe = () => all.map((p) => `--- ${p.name}\n${p.output()}`).join('\n');

  for (const p of all) assert.equal(p.logLines(/ready$/)[0]?.coordination, 'shared store: advisory locks', `${p.name} says it coordinates`);

  // ---- updaters: one run across the cluster
  const ops = await until('the first update operation', async () => {
    const r = await getJson(`${m.apiUrl}/matcher/api/v1/internal/update_operation`);
    return r.body.debian?.length ? (r.body.debian as Json[]) : undefined;
  }, 30_000, describe);
  // Every instance has had its start-up run (or its skip) once the other two logged a skip.
  await until('every instance to decide about its first updater run', async () => {
    const decided = all.filter((p) => p.logLines(/^(update operation stored|feed unchanged|updater run skipped)/).length > 0);
    return decided.length === 3 ? true : undefined;
  }, 30_000, describe);
  assert.equal(server.hits.get(FEED), 1, `the feed was fetched once across three instances\n${describe()}`);
  const stored = all.flatMap((p) => p.logLines(/^update operation stored$/).map(() => p.name));
  const skipped = all.flatMap((p) => p.logLines(/^updater run skipped/).map(() => p.name));
  assert.equal(stored.length, 1, `one instance stored the operation: ${stored.join(', ')}`);
  assert.equal(skipped.length, 2, `the two others skipped: ${skipped.join(', ')}`);
  assert.equal(ops.length, 1);
  for (const p of all) {
    const r = await getJson(`${p.apiUrl}/matcher/api/v1/internal/update_operation`);
    assert.deepEqual(r.body.debian?.map((o: Json) => o.ref), [ops[0]!.ref], `${p.name} sees one operation`);
  }

  // ---- concurrent index requests for overlapping images, on both indexers; "web" twice on each
  server.delayMs = 300;
  const requests = [...images, images[0]!].flatMap((img) => [a!, b!].map((p) => ({ img, p })));
  const answers = await Promise.all(
    requests.map(async ({ img, p }) => {
      const r = await fetch(p.apiUrl + INDEX, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(manifestOf(img, server)) });
      return { img, p, status: r.status, body: (await r.json()) as Json };
    }),
  );
  for (const x of answers) assert.equal(x.status, 201, `${x.img.name} on ${x.p.name}: ${JSON.stringify(x.body)}\n${describe()}`);
  for (const [name, l] of Object.entries(layers)) {
    assert.equal(server.hits.get(`/blobs/${l.digest}`), 1, `layer ${name} fetched once across ${requests.length} requests on two instances\n${describe()}`);
  }
  const reports = new Map<string, Json>();
  for (const x of answers) {
    assert.equal(x.body.state, 'IndexFinished');
    const first = reports.get(x.img.manifestHash);
    if (first) assert.deepEqual(x.body, first, `${x.img.name} on ${x.p.name} answered the same report`);
    else reports.set(x.img.manifestHash, x.body);
  }
  assert.deepEqual(
    Object.values(reports.get(images[0]!.manifestHash)!.packages as Record<string, { name: string }>).map((p) => p.name).sort(),
    ['curl', 'libssl3', 'zlib1g'],
  );

  // ---- every instance answers the same reports
  for (const img of images) {
    const ia = await getJson(`${a!.apiUrl}${INDEX}/${img.manifestHash}`);
    const ib = await getJson(`${b!.apiUrl}${INDEX}/${img.manifestHash}`);
    assert.equal(ia.status, 200);
    assert.deepEqual(ia.body, reports.get(img.manifestHash));
    assert.deepEqual(ib.body, ia.body, `${img.name}: both indexers answer the same index report`);
    const vr = await Promise.all(all.map((p) => getJson(`${p.apiUrl}${VULN}/${img.manifestHash}`)));
    for (const [i, r] of vr.entries()) assert.equal(r.status, 200, `${img.name} on ${all[i]!.name}: ${JSON.stringify(r.body)}`);
    for (const r of vr.slice(1)) assert.deepEqual(r.body, vr[0]!.body, `${img.name}: the three instances answer the same vulnerability report`);
    const names = Object.values(vr[0]!.body.vulnerabilities as Record<string, { name: string }>).map((v) => v.name).sort();
    assert.deepEqual(names, img.layers.includes(layers.curl) ? ['CVE-2099-1001', 'CVE-2099-2001'] : ['CVE-2099-1001'], img.name);
  }

  // ---- a delete on one instance is seen by the other
  const gone = images[2]!.manifestHash;
  const del = await fetch(`${b!.apiUrl}${INDEX}/${gone}`, { method: 'DELETE' });
  assert.equal(del.status, 204, await del.text());
  assert.equal((await fetch(`${a!.apiUrl}${INDEX}/${gone}`)).status, 404);

  // ---- two updates of a changed feed at once, as two `clair-ts update` beside the services: one new operation
  server.put(FEED, trackerFeed({ bash: { 'CVE-2099-4001': { description: 'bash', scope: 'local', releases: { bookworm: { repositories: { bookworm: '5.2' }, status: 'open', urgency: 'low' } } } } }));
  // Every instance has a cached report (and validator) for the first image from before the update.
  const before = await Promise.all(all.map((p) => fetch(`${p.apiUrl}${VULN}/${images[0]!.manifestHash}`)));
  for (const r of before) {
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  }
  const stores = await Promise.all([PostgresStore.open(db), PostgresStore.open(db)]);
  let newest = '';
  try {
    const runs = await Promise.all(stores.map((s) => runUpdaterInCluster(s, debianUpdater, `${server.url}${FEED}`, { wait: true })));
    const results = runs.map((r) => (r.kind === 'ran' ? r.result : assert.fail(`waiting run answered ${r.kind}`)));
    assert.deepEqual(results.map((r) => r.unchanged).sort(), [false, true], 'one run stored the new feed, the other found it unchanged');
    const after = await stores[0]!.listUpdateOperations('debian');
    assert.equal(after.length, 2, 'one operation per feed content');
    assert.equal(after[0]!.count, 5);
    newest = after[0]!.ref;
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
  // No instance stored that operation, yet each one's next report is made from it: the report cache is checked
  // against the database's operations on every request, not only against the instance's own updates.
  for (const [i, p] of all.entries()) {
    const r = await fetch(`${p.apiUrl}${VULN}/${images[0]!.manifestHash}`, { headers: { 'if-none-match': before[i]!.headers.get('etag')! } });
    assert.equal(r.status, 200, `${p.name}: the validator from before the update no longer matches`);
    assert.notEqual(r.headers.get('etag'), before[i]!.headers.get('etag'));
    assert.match(r.headers.get('clair-ts-feed-freshness') ?? '', new RegExp(`operation="${newest}"`), `${p.name} answers from the new operation`);
    await r.arrayBuffer();
  }

  for (const p of all) assert.equal(await p.stop(), 0, `${p.name} stopped cleanly\n${p.output()}`);
});
