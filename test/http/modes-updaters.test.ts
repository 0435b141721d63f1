import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runUpdater } from '../../src/updater/run-updater.ts';
import { debianLikeImage, manifestFor, postJson, startBlobServer, startTestService, TEST_FEED, testFeedUpdater } from './serve-kit.ts';

// Split deployment (an indexer and a matcher talking over HTTP with the PSK) and the background updaters.

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('matcher mode reads index reports from a remote indexer with the PSK', async (t) => {
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage('split');
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const key = Buffer.from('split deployment key').toString('base64');
  const auth = `auth:\n  psk:\n    key: ${key}\n    iss: [tests]\n`;
  const indexer = await startTestService(t, `${auth}indexer:\n  allow_private_addresses: true\n`, { mode: 'indexer' });
  const matcher = await startTestService(t, `${auth}matcher:\n  disable_updaters: true\n  indexer_addr: ${indexer.apiUrl}\n`, { mode: 'matcher' });
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-split-'));
  await writeFile(join(dir, 'feed.json'), JSON.stringify(TEST_FEED));
  await runUpdater(matcher.store!, testFeedUpdater, join(dir, 'feed.json'));
  const { SignJWT } = await import('jose');
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('tests').setExpirationTime('5m').sign(Buffer.from(key, 'base64'));
  const authz = { authorization: `Bearer ${token}` };

  const indexed = await indexer.call('/indexer/api/v1/index_report', postJson(manifestFor(img, blobs), authz));
  assert.equal(indexed.status, 201);
  const vr = await matcher.call(`/matcher/api/v1/vulnerability_report/${img.manifestHash}`, { headers: authz });
  assert.equal(vr.status, 200, await vr.clone().text());
  const names = Object.values(((await vr.json()) as { vulnerabilities: Record<string, { name: string }> }).vulnerabilities).map((v) => v.name).sort();
  assert.deepEqual(names, ['CVE-2023-38545', 'CVE-2023-5678']);
  assert.equal((await matcher.call(`/matcher/api/v1/vulnerability_report/sha256:${'4'.repeat(64)}`, { headers: authz })).status, 404);
  // The matcher reads the report as the indexer stored it (layer order, OS ownership); Clair's clients get Clair's JSON.
  const internal = await indexer.call(`/indexer/api/v1/index_report/${img.manifestHash}`, { headers: { ...authz, accept: 'application/vnd.clair-ts.index-report.v1+json, application/json;q=0.5' } });
  assert.equal(internal.headers.get('content-type'), 'application/vnd.clair-ts.index-report.v1+json');
  assert.deepEqual(await internal.json(), JSON.parse(JSON.stringify((await indexer.store!.getIndexReport(img.manifestHash))!.report)));
  const clair = (await (await indexer.call(`/indexer/api/v1/index_report/${img.manifestHash}`, { headers: authz })).json()) as Record<string, unknown>;
  assert.equal(clair['manifest_hash'], img.manifestHash);
  assert.equal(clair['manifestHash'], undefined);
  // Each mode serves its own routes only.
  assert.equal((await matcher.call('/indexer/api/v1/index_state', { headers: authz })).status, 404);
  assert.equal((await indexer.call('/matcher/api/v1/internal/update_operation', { headers: authz })).status, 404);
  assert.equal((await indexer.call(`/notifier/api/v1/notification/5e4b387e-88d3-4364-86fd-063447a6fad2`, { headers: authz })).status, 404);
});

test('matcher mode without indexer_addr is a startup error', async (t) => {
  await assert.rejects(startTestService(t, 'matcher:\n  disable_updaters: true\n', { mode: 'matcher' }), /matcher\.indexer_addr/);
});

test('unknown updater names in the config are a startup error', async (t) => {
  await assert.rejects(startTestService(t, 'updaters:\n  sets: [nosuch]\n'), /updaters\.sets: unknown updater nosuch; known: testfeed/);
  await assert.rejects(startTestService(t, 'updaters:\n  config:\n    nosuch:\n      url: /x\n'), /updaters\.config: unknown updater nosuch/);
});

test('background updaters: load the feed, survive a broken feed, keep serving the last good data', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-updaters-'));
  const feed = join(dir, 'feed.json');
  await writeFile(feed, JSON.stringify(TEST_FEED));
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage('updaters');
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const s = await startTestService(t, `indexer:\n  allow_private_addresses: true\nmatcher:\n  period: 200ms\nupdaters:\n  sets: [testfeed]\n  config:\n    testfeed:\n      url: ${feed}\n`);
  const ref = await until('the first update operation', async () => {
    const ops = (await (await s.call('/matcher/api/v1/internal/update_operation')).json()) as Record<string, { ref: string }[]>;
    return ops.testfeed?.[0]?.ref;
  });
  assert.equal((await s.call('/indexer/api/v1/index_report', postJson(manifestFor(img, blobs)))).status, 201);

  await writeFile(feed, '[{"name": "CVE-broken", '); // the feed breaks
  await until('a failed updater run', async () => {
    const m = await (await fetch(`${s.introspectionUrl}/metrics`)).text();
    return /clair_ts_updater_errors_total\{updater="testfeed"\} [1-9]/.test(m) ? true : undefined;
  });
  assert.equal((await fetch(`${s.introspectionUrl}/readyz`)).status, 200, 'still ready');
  const ops = (await (await s.call('/matcher/api/v1/internal/update_operation')).json()) as Record<string, { ref: string }[]>;
  assert.deepEqual(ops.testfeed?.map((o) => o.ref), [ref], 'the last good operation is still the current one');
  const vr = (await (await s.call(`/matcher/api/v1/vulnerability_report/${img.manifestHash}`)).json()) as { vulnerabilities: object };
  assert.equal(Object.keys(vr.vulnerabilities).length, 2, 'matching still uses the last good data');

  await writeFile(feed, JSON.stringify(TEST_FEED.slice(0, 1))); // the feed recovers with different content
  await until('a new operation after recovery', async () => {
    const o = (await (await s.call('/matcher/api/v1/internal/update_operation?latest=true')).json()) as Record<string, { ref: string }[]>;
    return o.testfeed?.[0]?.ref !== ref ? true : undefined;
  });
});
