import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { runUpdater } from '../../src/updater/run-updater.ts';
import {
  debianLikeImage, manifestFor, postJson, schemaChecker, startBlobServer, startTestService, TEST_FEED, testFeedUpdater,
} from './serve-kit.ts';

// The API end to end over HTTP: index a small Debian-like image whose layers a local server serves, read the
// index report, match it against a small feed, use every other endpoint, delete, re-index. Every body is checked
// against Clair's JSON schemas.

const INDEX = '/indexer/api/v1/index_report';
const VULN = '/matcher/api/v1/vulnerability_report';

/** A service on SQLite with the test feed loaded, and a Debian-like image whose layers a local server holds. */
async function serviceWithFeed(t: TestContext, name: string) {
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage(name);
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\n');
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-api-'));
  const feed = join(dir, 'feed.json');
  await writeFile(feed, JSON.stringify(TEST_FEED));
  await runUpdater(s.store!, testFeedUpdater, feed);
  return { blobs, img, s, feed };
}

test('index, report, match, internal endpoints, delete and re-index', async (t) => {
  const check = await schemaChecker(t);
  if (!check) return;
  const { blobs, img, s } = await serviceWithFeed(t, 'flow');

  // ---- POST index_report
  const manifest = manifestFor(img, blobs);
  const res = await s.call(INDEX, postJson(manifest));
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/vnd.clair.index_report.v1+json');
  assert.equal(res.headers.get('location'), `${INDEX}/${img.manifestHash}`);
  assert.match(res.headers.get('link') ?? '', /rel="https:\/\/projectquay.io\/clair\/v1\/vulnerability_report"/);
  const etag = res.headers.get('etag');
  assert.match(etag ?? '', /^"[0-9a-f]+"$/);
  const report = (await res.json()) as Record<string, any>;
  check('index_report', report);
  assert.equal(report.manifest_hash, img.manifestHash);
  assert.equal(report.state, 'IndexFinished');
  assert.equal(report.success, true);
  const names = Object.values(report.packages as Record<string, { name: string }>).map((p) => p.name).sort();
  assert.deepEqual(names, ['curl', 'libssl3', 'zlib1g']);
  const dist = Object.values(report.distributions as Record<string, { did: string; version_code_name: string }>);
  assert.deepEqual(dist.map((d) => [d.did, d.version_code_name]), [['debian', 'bookworm']]);
  for (const l of img.layers) assert.equal(blobs.hits.get(l.digest), 1, `layer ${l.digest} fetched once`);

  // ---- the same manifest again: the stored report, nothing fetched
  const again = await s.call(INDEX, postJson(manifest));
  assert.equal(again.status, 201);
  assert.deepEqual(await again.json(), report);
  for (const l of img.layers) assert.equal(blobs.hits.get(l.digest), 1, 'a stored manifest is not fetched again');
  // Clair: a POST whose If-None-Match is the current state is a precondition failure.
  assert.equal((await s.call(INDEX, postJson(manifest, { 'if-none-match': etag! }))).status, 412);

  // ---- GET index_report, conditional GET, index_state
  const got = await s.call(`${INDEX}/${img.manifestHash}`);
  assert.equal(got.status, 200);
  const gotBody = await got.json();
  check('index_report', gotBody);
  assert.deepEqual(gotBody, report);
  assert.equal((await s.call(`${INDEX}/${img.manifestHash}`, { headers: { 'if-none-match': etag! } })).status, 304);
  const state = await s.call('/indexer/api/v1/index_state');
  assert.equal(state.status, 200);
  assert.equal(state.headers.get('etag'), etag);
  const stateBody = (await state.json()) as { state: string };
  check('index_state', stateBody);
  assert.equal(`"${stateBody.state}"`, etag);
  assert.equal((await s.call('/indexer/api/v1/index_state', { headers: { 'if-none-match': etag! } })).status, 304);

  // ---- vulnerability report
  const vr = await s.call(`${VULN}/${img.manifestHash}`);
  assert.equal(vr.status, 200);
  assert.equal(vr.headers.get('content-type'), 'application/vnd.clair.vulnerability_report.v1+json');
  // Which update operation of each feed covering the image the report was made from, and when it was stored.
  assert.match(vr.headers.get('clair-ts-feed-freshness') ?? '', /^[a-z-]+; operation="[0-9a-f-]{36}"; updated="\d{4}-\d\d-\d\dT[\d:.]+Z"/);
  const vrBody = (await vr.json()) as Record<string, any>;
  check('vulnerability_report', vrBody);
  const vulnNames = Object.values(vrBody.vulnerabilities as Record<string, { name: string }>).map((v) => v.name).sort();
  assert.deepEqual(vulnNames, ['CVE-2023-38545', 'CVE-2023-5678']);
  const byPackage: Record<string, string[]> = {};
  for (const [pid, vids] of Object.entries(vrBody.package_vulnerabilities as Record<string, string[]>)) {
    byPackage[vrBody.packages[pid].name] = vids.map((id) => vrBody.vulnerabilities[id].name);
  }
  assert.deepEqual(byPackage, { curl: ['CVE-2023-38545'], libssl3: ['CVE-2023-5678'] });
  const asJson = await s.call(`${VULN}/${img.manifestHash}`, { headers: { accept: 'application/json' } });
  assert.equal(asJson.headers.get('content-type'), 'application/json');
  await asJson.body?.cancel();
  const notAcceptable = await s.call(`${VULN}/${img.manifestHash}`, { headers: { accept: 'text/html' } });
  assert.equal(notAcceptable.status, 415);
  check('error', await notAcceptable.json());

  // ---- update operations and diff
  const ops = await s.call('/matcher/api/v1/internal/update_operation');
  assert.equal(ops.status, 200);
  const opsBody = (await ops.json()) as Record<string, { ref: string; updater: string }[]>;
  check('update_operations', opsBody);
  assert.deepEqual(Object.keys(opsBody), ['testfeed']);
  const ref = opsBody.testfeed![0]!.ref;
  assert.equal((await s.call('/matcher/api/v1/internal/update_operation?latest=true', { headers: { 'if-none-match': ops.headers.get('etag')! } })).status, 304);
  const latest = await s.call('/matcher/api/v1/internal/update_operation?latest=true');
  check('update_operations', await latest.json());
  const enrich = await s.call('/matcher/api/v1/internal/update_operation?kind=enrichment');
  assert.deepEqual(await enrich.json(), {});
  const diff = await s.call(`/matcher/api/v1/internal/update_diff?cur=${ref}`);
  assert.equal(diff.status, 200);
  const diffBody = (await diff.json()) as { prev: { ref: string }; added: unknown[]; removed: unknown[] };
  check('update_diff', diffBody);
  assert.equal(diffBody.prev.ref, '00000000-0000-0000-0000-000000000000', "no prev: Go's zero operation, as Clair writes it");
  assert.equal(diffBody.added.length, TEST_FEED.length);
  assert.equal(diffBody.removed.length, 0);

  // ---- affected manifests, run backwards from vulnerability summaries
  const summary = (name: string, pkg: string, fixed: string, release = 'bookworm') => ({
    name, normalized_severity: 'High', fixed_in_version: fixed, arch_op: 'pattern match',
    package: { name: pkg, version: '' }, distribution: { id: '', did: 'debian', version_code_name: release },
  });
  const affected = await s.call('/indexer/api/v1/internal/affected_manifest', postJson([
    summary('CVE-2023-38545', 'curl', '7.88.1-10+deb12u5'),
    summary('CVE-2023-0001', 'openssl', '3.0.1-1'), // fixed before the installed version
    summary('CVE-2099-0001', 'curl', '7.88.1-10+deb12u5', 'bullseye'), // another release
  ]));
  assert.equal(affected.status, 200);
  const affectedBody = (await affected.json()) as { vulnerabilities: Record<string, { name: string }>; vulnerable_manifests: Record<string, string[]> };
  check('affected_manifests', affectedBody);
  assert.deepEqual(affectedBody.vulnerable_manifests, { [img.manifestHash]: ['0'] });
  assert.equal(affectedBody.vulnerabilities['0']?.name, 'CVE-2023-38545');
  // Clair's handler shape, {"vulnerabilities": [...]}, is accepted too.
  const wrapped = await s.call('/indexer/api/v1/internal/affected_manifest', postJson({ vulnerabilities: [summary('CVE-2023-38545', 'curl', '7.88.1-10+deb12u5')] }));
  assert.deepEqual(((await wrapped.json()) as { vulnerable_manifests: unknown }).vulnerable_manifests, { [img.manifestHash]: ['0'] });

  // ---- notifier: a notification id that was never created is a 404 (test/notifier covers real notifications)
  const nid = '5e4b387e-88d3-4364-86fd-063447a6fad2';
  const page = await s.call(`/notifier/api/v1/notification/${nid}?page_size=10`);
  assert.equal(page.status, 404);
  check('error', await page.json());
  assert.equal((await s.call(`/notifier/api/v1/notification/${nid}`, { method: 'DELETE' })).status, 404);

  // ---- metrics saw it all
  const metrics = await (await fetch(`${s.introspectionUrl}/metrics`)).text();
  assert.match(metrics, /clair_ts_http_request_duration_seconds_count\{route="\/indexer\/api\/v1\/index_report",method="POST",status="201"\} [1-9]/);
  assert.match(metrics, /clair_ts_index_total\{result="new"\} 1\b/);
  assert.match(metrics, /clair_ts_index_total\{result="stored"\} [1-9]/);
  assert.match(metrics, /clair_ts_layer_cache_total\{result="miss"\} 2\b/);
  assert.match(metrics, /clair_ts_match_total\{result="ok"\} [1-9]/);

  // ---- delete, then it is gone, then re-index from the layer cache
  const del = await s.call(`${INDEX}/${img.manifestHash}`, { method: 'DELETE' });
  assert.equal(del.status, 204);
  const gone = await s.call(`${INDEX}/${img.manifestHash}`);
  assert.equal(gone.status, 404);
  const goneBody = (await gone.json()) as { code: string; message: string };
  check('error', goneBody);
  assert.equal(goneBody.code, 'not-found');
  assert.equal((await s.call(`${VULN}/${img.manifestHash}`)).status, 404);
  const reindexed = await s.call(INDEX, postJson(manifest));
  assert.equal(reindexed.status, 201);
  assert.deepEqual(await reindexed.json(), report);
  for (const l of img.layers) assert.equal(blobs.hits.get(l.digest), 1, 'layers come from the layer cache on re-index');
  assert.match(await (await fetch(`${s.introspectionUrl}/metrics`)).text(), /clair_ts_layer_cache_total\{result="hit"\} 2\b/);

  // ---- bulk delete answers what was deleted
  const other = `sha256:${'0'.repeat(64)}`;
  const bulk = await s.call(INDEX, { method: 'DELETE', headers: { 'content-type': 'application/vnd.clair.bulk_delete.v1+json' }, body: JSON.stringify([img.manifestHash, other]) });
  assert.equal(bulk.status, 200);
  const bulkBody = await bulk.json();
  check('bulk_delete', bulkBody);
  assert.deepEqual(bulkBody, [img.manifestHash]);

  // ---- deleting the update operation removes it
  assert.equal((await s.call(`/matcher/api/v1/internal/update_operation/${ref}`, { method: 'DELETE' })).status, 200);
  assert.deepEqual(await (await s.call('/matcher/api/v1/internal/update_operation')).json(), {});
});

test('concurrent POSTs of one manifest index it once', async (t) => {
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage('concurrent');
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\n');
  const answers = await Promise.all(Array.from({ length: 5 }, () => s.call(INDEX, postJson(manifestFor(img, blobs)))));
  const bodies = await Promise.all(answers.map((r) => r.text()));
  assert.deepEqual(answers.map((r) => r.status), [201, 201, 201, 201, 201]);
  assert.equal(new Set(bodies).size, 1);
  for (const l of img.layers) assert.equal(blobs.hits.get(l.digest), 1);
});

test('layer headers are sent to the layer URI', async (t) => {
  const blobs = await startBlobServer({ requireAuth: 'Bearer hunter2' });
  t.after(() => blobs.close());
  const img = await debianLikeImage('auth');
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\n');
  const denied = await s.call(INDEX, postJson(manifestFor(img, blobs)));
  // As Clair: a layer the registry refuses is a fetch failure (5xx, retried by clients), not a bad manifest.
  assert.equal(denied.status, 502);
  assert.match(((await denied.json()) as { message: string }).message, /HTTP 401/);
  assert.equal(((await (await s.call(`${INDEX}/${img.manifestHash}`)).json()) as { state: string }).state, 'IndexError');
  // The stored IndexError report does not stop the next request from indexing.
  const ok = await s.call(INDEX, postJson(manifestFor(img, blobs, { Authorization: ['Bearer hunter2'] })));
  assert.equal(ok.status, 201);
  assert.equal(((await ok.json()) as { state: string }).state, 'IndexFinished');
});

test('vulnerability reports carry an ETag that changes when the feed data changes', async (t) => {
  const check = await schemaChecker(t);
  if (!check) return;
  const { blobs, img, s, feed } = await serviceWithFeed(t, 'etag');
  assert.equal((await s.call(INDEX, postJson(manifestFor(img, blobs)))).status, 201);

  const first = await s.call(`${VULN}/${img.manifestHash}`);
  const etag = first.headers.get('etag');
  assert.match(etag ?? '', /^"vr-[0-9a-f]{40}(-gzip|-br)?"$/, 'fetch asks for gzip: the coded form has a validator of its own');
  const firstBody = await first.json();
  check('vulnerability_report', firstBody);
  const again = await s.call(`${VULN}/${img.manifestHash}`);
  assert.equal(again.headers.get('etag'), etag);
  assert.deepEqual(await again.json(), firstBody, 'served again from the cache, same content');
  const notModified = await s.call(`${VULN}/${img.manifestHash}`, { headers: { 'if-none-match': etag! } });
  assert.equal(notModified.status, 304);

  // New feed data (one record fewer): a new operation, so a new report and a new validator.
  await writeFile(feed, JSON.stringify(TEST_FEED.slice(1)));
  const r = await runUpdater(s.store!, testFeedUpdater, feed);
  assert.equal(r.unchanged, false);
  const changed = await s.call(`${VULN}/${img.manifestHash}`, { headers: { 'if-none-match': etag! } });
  assert.equal(changed.status, 200);
  assert.notEqual(changed.headers.get('etag'), etag);
  const names = (b: unknown) => Object.values((b as { vulnerabilities: Record<string, { name: string }> }).vulnerabilities).map((v) => v.name).sort();
  assert.deepEqual(names(firstBody), ['CVE-2023-38545', 'CVE-2023-5678']);
  assert.deepEqual(names(await changed.json()), ['CVE-2023-38545'], 'the new data, not the cached report');
});

test('vulnerability reports are sent gzip or br coded when the client accepts it, each coding with its own validator', async (t) => {
  const { blobs, img, s } = await serviceWithFeed(t, 'coding');
  assert.equal((await s.call(INDEX, postJson(manifestFor(img, blobs)))).status, 201);
  // Raw HTTP (fetch would decode the body and hide the coding).
  const get = (headers: Record<string, string>) => new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const req = httpGet(`${s.apiUrl}${VULN}/${img.manifestHash}`, { headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
  });
  const plain = await get({ 'accept-encoding': 'identity' });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.headers.vary, 'accept-encoding');
  const gz = await get({ 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.deepEqual(gunzipSync(gz.body), plain.body);
  const br = await get({ 'accept-encoding': 'gzip;q=0.5, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.deepEqual(brotliDecompressSync(br.body), plain.body);
  const noBr = await get({ 'accept-encoding': 'br;q=0, gzip' });
  assert.equal(noBr.headers['content-encoding'], 'gzip');
  const etags = [plain, gz, br].map((r) => r.headers.etag);
  assert.equal(new Set(etags).size, 3, `one validator per coding: ${etags.join(' ')}`);
  assert.equal((await get({ 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag! })).status, 304);
  assert.equal((await get({ 'accept-encoding': 'identity', 'if-none-match': gz.headers.etag! })).status, 200);
});
