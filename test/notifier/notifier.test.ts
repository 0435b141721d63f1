import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { manifestFor, postJson, schemaChecker, startBlobServer, startTestService, testEcosystems, type TestService } from '../http/serve-kit.ts';
import { imageWith, silentLog, startReceiver, updateWith, type FeedRecord } from './notifier-kit.ts';
import { Notifier } from '../../src/notifier/notifier.ts';
import { parseNotifierConfig } from '../../src/notifier/notifier-config.ts';
import { processNewOperations, processUpdateOperation } from '../../src/notifier/processor.ts';
import type { TestImage } from '../http/serve-kit.ts';

// The notifier end to end on the combo service (SQLite): two update operations of a small feed against two indexed
// images; notifications for the second; the API's pages; webhook delivery with a retry. Bodies are checked against
// Clair's schemas (skipped without the shared data, as every API test).

const OPENSSL = { name: 'CVE-2023-5678', package: 'openssl', release: 'bookworm', fixed: '3.0.13-1~deb12u1', severity: 'Medium' } as const;
const ZLIB = { name: 'CVE-2099-1000', package: 'zlib', release: 'bookworm', fixed: '', severity: 'Low' } as const;
const CURL = { name: 'CVE-2023-38545', package: 'curl', release: 'bookworm', fixed: '7.88.1-10+deb12u5', severity: 'High' } as const;
const FEED_1: FeedRecord[] = [OPENSSL, ZLIB];
const FEED_2: FeedRecord[] = [OPENSSL, CURL]; // adds curl's CVE, removes zlib's

interface World {
  s: TestService;
  affected: TestImage;
  unaffected: TestImage;
}

async function world(t: TestContext): Promise<World> {
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  // Vulnerable to all three records.
  const affected = await imageWith([['libssl3', '3.0.11-1~deb12u1', 'openssl'], ['zlib1g', '1:1.2.13.dfsg-1', 'zlib'], ['curl', '7.88.1-10+deb12u4']], 'affected');
  // Has curl and openssl too, at fixed versions (a candidate by name that the matcher rules out), and no zlib.
  const unaffected = await imageWith([['libssl3', '3.0.13-1~deb12u1', 'openssl'], ['curl', '7.88.1-10+deb12u5']], 'unaffected');
  for (const img of [affected, unaffected]) for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\nnotifier:\n  poll_interval: 1h\n');
  for (const img of [affected, unaffected]) {
    const res = await s.call('/indexer/api/v1/index_report', postJson(manifestFor(img, blobs)));
    assert.equal(res.status, 201, await res.text());
  }
  return { s, affected, unaffected };
}

test('an update operation that adds and removes a CVE notifies the affected manifest only; paging; delete', async (t) => {
  const check = await schemaChecker(t);
  if (!check) return;
  const { s, affected } = await world(t);
  const store = s.store!;
  const op1 = await updateWith(store, FEED_1);
  assert.deepEqual(await processUpdateOperation(store, testEcosystems.matchers, op1), { kind: 'first-operation' }, 'the first operation of an updater notifies nothing');
  const op2 = await updateWith(store, FEED_2);
  const r = await s.notifier!.processOperation(op2);
  assert.equal(r?.kind, 'created');
  const nid = r.kind === 'created' ? r.notificationId : '';
  assert.equal(r.kind === 'created' && r.count, 2);
  assert.deepEqual(await processUpdateOperation(store, testEcosystems.matchers, op2), { kind: 'already-processed' }, 'processing twice creates nothing');
  assert.deepEqual(await processNewOperations(store, testEcosystems.matchers), [], 'the poll finds nothing new');

  const page = await s.call(`/notifier/api/v1/notification/${nid}`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'application/vnd.clair.notification_page.v1+json');
  const body = (await page.json()) as { page: { size: number; next?: string }; notifications: { id: string; manifest: string; reason: string; vulnerability: { name: string; normalized_severity: string } }[] };
  check('notification_page', body);
  assert.deepEqual(body.page, { size: 2 });
  const got = body.notifications.map((n) => [n.manifest, n.reason, n.vulnerability.name]).sort();
  assert.deepEqual(got, [[affected.manifestHash, 'added', CURL.name], [affected.manifestHash, 'removed', ZLIB.name]]);
  assert.equal(body.notifications.find((n) => n.reason === 'added')!.vulnerability.normalized_severity, 'High');

  // page_size=1 walks the set with next cursors.
  const walked: string[] = [];
  let next: string | undefined;
  for (let i = 0; i < 5; i++) {
    const res = await s.call(`/notifier/api/v1/notification/${nid}?page_size=1${next ? `&next=${next}` : ''}`);
    const p = (await res.json()) as typeof body;
    check('notification_page', p);
    assert.equal(p.page.size, p.notifications.length);
    walked.push(...p.notifications.map((n) => n.id));
    next = p.page.next;
    if (!next) break;
  }
  assert.deepEqual(walked, body.notifications.map((n) => n.id).sort(), 'every notification once, in id order');

  const unknown = await s.call('/notifier/api/v1/notification/5e4b387e-88d3-4364-86fd-063447a6fad2');
  assert.equal(unknown.status, 404);
  check('error', await unknown.json());
  assert.equal((await s.call(`/notifier/api/v1/notification/${nid}?page_size=x`)).status, 400);
  assert.equal((await s.call(`/notifier/api/v1/notification/${nid}`, { method: 'DELETE' })).status, 200);
  const gone = await s.call(`/notifier/api/v1/notification/${nid}`);
  assert.equal(gone.status, 404, 'a deleted set cannot be retrieved');
  check('error', await gone.json());
  assert.equal((await s.call('/notifier/api/v1/notification/5e4b387e-88d3-4364-86fd-063447a6fad2', { method: 'DELETE' })).status, 404);
});

test('disable_summary: one notification per vulnerability; summary: the most severe per manifest and reason', async (t) => {
  const { s, affected } = await world(t);
  const store = s.store!;
  await processUpdateOperation(store, testEcosystems.matchers, await updateWith(store, [ZLIB]));
  const op = await updateWith(store, [ZLIB, OPENSSL, CURL]); // two added records affect the image
  const summary = await processUpdateOperation(store, testEcosystems.matchers, op);
  assert.equal(summary.kind, 'created');
  const page = await store.getNotificationPage(summary.kind === 'created' ? summary.notificationId : '', 10);
  assert.deepEqual(page!.notifications.map((n) => [n.manifest, n.reason, n.vulnerability.name]), [[affected.manifestHash, 'added', CURL.name]], 'High beats Medium');
  const op3 = await updateWith(store, [ZLIB]);
  const all = await processUpdateOperation(store, testEcosystems.matchers, op3, { disableSummary: true });
  const page3 = await store.getNotificationPage(all.kind === 'created' ? all.notificationId : '', 10);
  assert.deepEqual(page3!.notifications.map((n) => n.vulnerability.name).sort(), [CURL.name, OPENSSL.name].sort());
  assert.ok(page3!.notifications.every((n) => n.reason === 'removed'));
});

test('webhook: a 500 is retried, then delivered exactly once; the callback answers the page', async (t) => {
  const check = await schemaChecker(t);
  if (!check) return;
  const { s } = await world(t);
  const store = s.store!;
  await processUpdateOperation(store, testEcosystems.matchers, await updateWith(store, FEED_1));
  const created = await processUpdateOperation(store, testEcosystems.matchers, await updateWith(store, FEED_2));
  assert.equal(created.kind, 'created');
  const nid = created.kind === 'created' ? created.notificationId : '';

  const hook = await startReceiver([500]);
  t.after(() => hook.close());
  const config = parseNotifierConfig({
    webhook: { target: hook.url, callback: `${s.apiUrl}/notifier/api/v1/notification`, headers: { 'X-Clair-Test': ['a', 'b'] } },
  });
  // A second notifier on the same store, as another instance would be; retries are due at once.
  const n = new Notifier(store, testEcosystems.matchers, config, { log: silentLog, retryBaseMs: 0 });
  t.after(() => n.stop());
  assert.deepEqual(await n.deliverDue(), [], 'the first attempt fails');
  assert.equal((await store.getNotificationReceipt({ notificationId: nid }))?.status, 'pending');
  assert.deepEqual(await n.deliverDue(), [nid], 'the retry is delivered');
  assert.deepEqual(await n.deliverDue(), [], 'nothing is delivered twice');
  assert.deepEqual(hook.received.map((r) => r.status), [500, 200]);
  const receipt = await store.getNotificationReceipt({ notificationId: nid });
  assert.deepEqual([receipt?.status, receipt?.attempts], ['delivered', 2]);
  for (const r of hook.received) {
    check('notification_webhook', r.body);
    assert.deepEqual(r.body, { notification_id: nid, callback: `${s.apiUrl}/notifier/api/v1/notification/${nid}` });
    assert.equal(r.headers['x-clair-test'], 'a, b');
    assert.equal(r.headers['content-type'], 'application/json');
  }
  const page = await fetch(hook.received[1]!.body.callback as string);
  assert.equal(page.status, 200);
  const body = (await page.json()) as { notifications: unknown[] };
  check('notification_page', body);
  assert.equal(body.notifications.length, 2);
});

test('a set deleted before delivery is not delivered', async (t) => {
  const { s } = await world(t);
  const store = s.store!;
  await processUpdateOperation(store, testEcosystems.matchers, await updateWith(store, FEED_1));
  const created = await processUpdateOperation(store, testEcosystems.matchers, await updateWith(store, FEED_2));
  assert.equal(created.kind, 'created');
  assert.equal(await store.deleteNotificationSet(created.kind === 'created' ? created.notificationId : ''), true);
  const hook = await startReceiver();
  t.after(() => hook.close());
  const n = new Notifier(store, testEcosystems.matchers, parseNotifierConfig({ webhook: { target: hook.url, callback: 'http://clair.example/n' } }), { log: silentLog });
  t.after(() => n.stop());
  assert.deepEqual(await n.deliverDue(), []);
  assert.equal(hook.received.length, 0);
});

test('the service processes each update operation its scheduler commits (the hook), without waiting for the poll', async (t) => {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-notifier-hook-'));
  const feed = join(dir, 'feed.json');
  await writeFile(feed, JSON.stringify(FEED_1));
  // The poll runs once at start (before any operation exists) and then not for an hour: only the hook can process.
  const s = await startTestService(t, `matcher:\n  period: 1s\nupdaters:\n  config:\n    testfeed:\n      url: ${feed}\nnotifier:\n  poll_interval: 1h\n`);
  const store = s.store!;
  const receiptOfNewest = async () => {
    const [op] = await store.listUpdateOperations('testfeed');
    return op ? store.getNotificationReceipt({ operationRef: op.ref }) : undefined;
  };
  const waitFor = async (what: string, ok: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await ok(), what);
  };
  await waitFor('the first operation gets a receipt', async () => (await receiptOfNewest())?.status === 'none');
  await writeFile(feed, JSON.stringify(FEED_2));
  await waitFor('the second operation is processed', async () => (await store.listUpdateOperations('testfeed')).length === 2 && (await receiptOfNewest()) !== undefined);
  // Nothing is indexed here, so the second operation affects no manifest: processed, nothing to notify.
  assert.equal((await receiptOfNewest())?.status, 'none');
});
