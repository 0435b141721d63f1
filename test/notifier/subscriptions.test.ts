import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { manifestFor, postJson, startBlobServer, startTestService, type TestImage, type TestService } from '../http/serve-kit.ts';
import { imageWith, startReceiver, updateWith, type FeedRecord } from './notifier-kit.ts';
import { amqpInbox, AMQP_URL, brokerSkipReason, STOMP_ADDR, stompInbox } from './broker-kit.ts';
import { KEV_UPDATER } from '../../src/enrichment/kev/updater.ts';
import type { Store } from '../../src/store/store.ts';

// Subscriptions end to end on the combo service: one update operation, several subscriptions with different filters
// and thresholds on each channel (webhook, AMQP and STOMP against the real RabbitMQ), each receiving exactly its
// share, once; the API refusing bad subscriptions; the metrics.

const OPENSSL = { name: 'CVE-2023-5678', package: 'openssl', release: 'bookworm', fixed: '3.0.13-1~deb12u1', severity: 'Medium' } as const;
const CURL = { name: 'CVE-2023-38545', package: 'curl', release: 'bookworm', fixed: '7.88.1-10+deb12u5', severity: 'High' } as const;
const ZLIB = { name: 'CVE-2099-1000', package: 'zlib', release: 'bookworm', fixed: '', severity: 'Low' } as const;
const FEED_1: FeedRecord[] = [OPENSSL];
const FEED_2: FeedRecord[] = [OPENSSL, CURL, ZLIB]; // adds curl's (High, fixable) and zlib's (Low, no fix, in KEV)

const skipBrokers = await brokerSkipReason();

interface World {
  s: TestService;
  app: TestImage;
  other: TestImage;
}

/** Two indexed images: app (curl, zlib; indexed as quay.io/org/app) and other (curl; indexed as docker.io/x/other). */
async function world(t: TestContext, yaml = ''): Promise<World> {
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const app = await imageWith([['zlib1g', '1:1.2.13.dfsg-1', 'zlib'], ['curl', '7.88.1-10+deb12u4']], 'app');
  const other = await imageWith([['curl', '7.88.1-10+deb12u4']], 'other');
  for (const img of [app, other]) for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const s = await startTestService(t, `indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\nnotifier:\n  poll_interval: 1h\n  delivery_interval: 1h\n  disable_summary: true\n${yaml}`);
  for (const [img, repository] of [[app, 'quay.io/org/app'], [other, 'docker.io/x/other']] as const) {
    const res = await s.call('/indexer/api/v1/index_report', postJson({ ...manifestFor(img, blobs), repository }));
    assert.equal(res.status, 201, await res.text());
  }
  return { s, app, other };
}

async function kev(store: Store, cves: string[]): Promise<void> {
  const w = await store.beginUpdateOperation(KEV_UPDATER);
  await w.addEnrichments(cves.map((tag) => ({ updater: KEV_UPDATER, tag, enrichment: { cveID: tag, dateAdded: '2026-01-01' } })));
  await w.commit(`kev ${cves.join(',')}`);
}

async function subscribe(s: TestService, body: unknown): Promise<string> {
  const res = await s.call('/notifier/api/v1/subscriptions', postJson(body));
  const json = (await res.json()) as { id: string; message?: string };
  assert.equal(res.status, 201, json.message);
  return json.id;
}

/** What a message holds: [manifest, vulnerability name], sorted. */
function contents(body: unknown): string[][] {
  const m = body as { notifications: { manifest: string; vulnerability: { name: string } }[] };
  return m.notifications.map((n) => [n.manifest, n.vulnerability.name]).sort((a, b) => a.join().localeCompare(b.join()));
}

test('subscriptions: different thresholds on one update, over webhook, AMQP and STOMP, each exactly its share once', { skip: skipBrokers }, async (t) => {
  const { s, app, other } = await world(t, '  allow_private_addresses: true\n');
  const store = s.store!;
  await kev(store, [ZLIB.name]);
  const hook = await startReceiver();
  t.after(() => hook.close());
  const [amqpA, amqpB] = [await amqpInbox(t), await amqpInbox(t)];
  const [stompA, stompB] = [await stompInbox(t), await stompInbox(t)];
  const stomp = (destination: string) => ({ type: 'stomp', uri: STOMP_ADDR, destination, login: 'guest', passcode: 'guest' });
  const amqpCh = (x: { exchange: string; routingKey: string }) => ({ type: 'amqp', uri: AMQP_URL, exchange: x.exchange, routing_key: x.routingKey });
  const subs = {
    webhookHigh: await subscribe(s, { name: 'high', channel: { type: 'webhook', url: hook.url + '/high' }, min_severity: 'High' }),
    webhookRepo: await subscribe(s, { name: 'org fixable', channel: { type: 'webhook', url: hook.url + '/repo' }, repository: 'quay.io/org/*', fixable_only: true }),
    amqpHigh: await subscribe(s, { name: 'amqp high', channel: amqpCh(amqpA), min_severity: 'High' }),
    amqpKev: await subscribe(s, { name: 'amqp kev', channel: amqpCh(amqpB), kev_only: true }),
    stompLow: await subscribe(s, { name: 'stomp low+ of app', channel: stomp(stompA.destination), manifests: [app.manifestHash], min_severity: 'Low' }),
    stompCritical: await subscribe(s, { name: 'stomp critical', channel: stomp(stompB.destination), min_severity: 'Critical' }),
  };
  const list = (await (await s.call('/notifier/api/v1/subscriptions')).json()) as { subscriptions: { id: string; channel: { passcode?: string } }[] };
  assert.equal(list.subscriptions.length, 6);
  assert.ok(list.subscriptions.every((x) => x.channel.passcode === undefined || x.channel.passcode === '***'), 'secrets are not served');

  await updateWith(store, FEED_1);
  await s.notifier!.processNew(); // the first operation: no notifications
  const op2 = await updateWith(store, FEED_2);
  const r = await s.notifier!.processOperation(op2);
  assert.equal(r?.kind, 'created');
  assert.equal(r.kind === 'created' && r.count, 3, 'curl on both images, zlib on app');
  await s.notifier!.deliverDue();
  await s.notifier!.deliverDue(); // a second pass sends nothing more

  const curlApp = [app.manifestHash, CURL.name];
  const curlOther = [other.manifestHash, CURL.name];
  const zlibApp = [app.manifestHash, ZLIB.name];
  const sortRows = (rows: string[][]) => rows.sort((a, b) => a.join().localeCompare(b.join()));
  const hooks = (path: string) => hook.received.filter((x) => x.body.subscription_id === (path === 'high' ? subs.webhookHigh : subs.webhookRepo));
  assert.equal(hooks('high').length, 1, 'one message per update operation and subscription');
  assert.deepEqual(contents(hooks('high')[0]!.body), sortRows([curlApp, curlOther]));
  assert.equal(hooks('high')[0]!.body.notification_id, r.kind === 'created' ? r.notificationId : '');
  assert.equal(hooks('repo').length, 1);
  assert.deepEqual(contents(hooks('repo')[0]!.body), [curlApp], 'repository pattern and fixable only');
  assert.equal(hook.received.length, 2);

  await amqpA.inbox.atLeast(1);
  await amqpB.inbox.atLeast(1);
  await stompA.inbox.atLeast(1);
  await new Promise((r) => setTimeout(r, 300)); // anything extra would have arrived by now
  assert.equal(amqpA.inbox.messages.length, 1);
  assert.deepEqual(contents(amqpA.inbox.messages[0]!.body), sortRows([curlApp, curlOther]), 'AMQP: High and above');
  assert.equal(amqpA.inbox.messages[0]!.headers.subscription_id, subs.amqpHigh);
  assert.equal(amqpB.inbox.messages.length, 1);
  assert.deepEqual(contents(amqpB.inbox.messages[0]!.body), [zlibApp], 'AMQP: only KEV');
  assert.equal(stompA.inbox.messages.length, 1);
  assert.deepEqual(contents(stompA.inbox.messages[0]!.body), sortRows([curlApp, zlibApp]), 'STOMP: one manifest, Low and above');
  assert.equal(stompA.inbox.messages[0]!.headers['subscription-id'], subs.stompLow);
  assert.equal(stompB.inbox.messages.length, 0, 'STOMP: nothing reaches Critical');

  const metrics = await (await fetch(`${s.introspectionUrl}/metrics`)).text();
  assert.match(metrics, /clair_ts_notifier_notifications_created_total 3/);
  assert.match(metrics, new RegExp(`clair_ts_notifier_deliveries_total\\{subscription="${subs.amqpKev}",result="delivered"\\} 1`));
  assert.match(metrics, new RegExp(`clair_ts_notifier_notifications_delivered_total\\{subscription="${subs.webhookHigh}"\\} 2`));

  // Removing a subscription: gone from the list; removing again is a 404.
  assert.equal((await s.call(`/notifier/api/v1/subscriptions/${subs.stompCritical}`, { method: 'DELETE' })).status, 204);
  assert.equal((await s.call(`/notifier/api/v1/subscriptions/${subs.stompCritical}`, { method: 'DELETE' })).status, 404);
  assert.equal((await s.call(`/notifier/api/v1/subscriptions/${subs.stompCritical}`)).status, 404);
});

test('subscriptions: bad ones are refused with a clear error', async (t) => {
  const { s } = await world(t); // notifier.allow_private_addresses not set
  const bad: [unknown, RegExp][] = [
    [{ channel: { type: 'sms', number: '123' } }, /channel\.type must be one of webhook, amqp, stomp, got "sms"/],
    [{ channel: { type: 'webhook', url: 'not a url' } }, /channel\.url must be an absolute http or https URL, got "not a url"/],
    [{ channel: { type: 'webhook', url: 'ftp://hooks.example/x' } }, /channel\.url must be a http or https URL, got scheme ftp/],
    [{ channel: { type: 'webhook', url: 'http://127.0.0.1:8080/hook' } }, /channel\.url host 127\.0\.0\.1 is a loopback, private or link-local address; set notifier\.allow_private_addresses/],
    [{ channel: { type: 'webhook', url: 'http://169.254.169.254/latest' } }, /169\.254\.169\.254 is a loopback, private or link-local/],
    [{ channel: { type: 'amqp', uri: 'amqp://guest:sekrit@10.1.2.3/', exchange: 'x' } }, /channel\.uri host 10\.1\.2\.3 is a loopback, private/],
    [{ channel: { type: 'amqp', uri: 'http://broker/' } }, /channel\.uri must be a amqp or amqps URL, got scheme http/],
    [{ channel: { type: 'stomp', uri: '192.168.1.1:61613', destination: '/queue/x' } }, /192\.168\.1\.1 is a loopback, private/],
    [{ channel: { type: 'stomp', uri: 'broker.example:61613' } }, /channel\.destination is required/],
    [{ channel: { type: 'webhook', url: 'http://[::1]/' } }, /host ::1 is a loopback/],
    [{ channel: { type: 'webhook', url: 'https://hooks.example/' }, min_severity: 'Severe' }, /min_severity must be one of Unknown, Negligible, Low, Medium, High, Critical, got "Severe"/],
    [{ channel: { type: 'webhook', url: 'https://hooks.example/' }, manifests: ['latest'] }, /manifests: "latest" is not a digest/],
    [{ channel: { type: 'webhook', url: 'https://hooks.example/' }, colour: 'red' }, /unknown field "colour"/],
    [{ name: 'no channel' }, /channel must be an object with a type/],
    [[], /the body must be a JSON object/],
  ];
  for (const [body, message] of bad) {
    const res = await s.call('/notifier/api/v1/subscriptions', postJson(body));
    const json = (await res.json()) as { code: string; message: string };
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${json.message}`);
    assert.match(json.message, message);
    assert.doesNotMatch(json.message, /sekrit/);
  }
  assert.deepEqual(await (await s.call('/notifier/api/v1/subscriptions')).json(), { subscriptions: [] }, 'nothing stored');
  assert.equal((await s.call('/notifier/api/v1/subscriptions/not-a-uuid', { method: 'DELETE' })).status, 400);
});

test('metrics: failed deliveries and the retry backlog per subscription, the configured deliverers as "config"', async (t) => {
  const hook = await startReceiver([500, 500]);
  t.after(() => hook.close());
  const s = await startTestService(t, `matcher:\n  disable_updaters: true\nnotifier:\n  poll_interval: 1h\n  delivery_interval: 1h\n  allow_private_addresses: true\n  webhook:\n    target: ${hook.url}/config\n    callback: http://clair.example/notifier/api/v1/notification\n`);
  const id = await subscribe(s, { name: 'all', channel: { type: 'webhook', url: hook.url + '/sub' } });
  await s.store!.putNotifications({
    operationRef: '00000000-0000-4000-8000-000000000001', updater: 'testfeed', notificationId: 'a0000000-0000-4000-8000-000000000001',
    notifications: [{ id: 'c0000000-0000-4000-8000-000000000001', manifest: 'sha256:' + 'b'.repeat(64), reason: 'added', vulnerability: { name: 'CVE-2099-1', normalized_severity: 'Low' } }],
  });
  await s.notifier!.deliverDue();
  assert.equal(hook.received.length, 2, 'both attempted and refused');
  const metrics = await (await fetch(`${s.introspectionUrl}/metrics`)).text();
  assert.match(metrics, /clair_ts_notifier_deliveries_total\{subscription="config",result="failed"\} 1/);
  assert.match(metrics, new RegExp(`clair_ts_notifier_deliveries_total\\{subscription="${id}",result="failed"\\} 1`));
  assert.match(metrics, /clair_ts_notifier_retry_backlog\{subscription="config"\} 1/);
  assert.match(metrics, new RegExp(`clair_ts_notifier_retry_backlog\\{subscription="${id}"\\} 1`));
});
