import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Notifier } from '../../src/notifier/notifier.ts';
import { parseNotifierConfig } from '../../src/notifier/notifier-config.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store, StoredNotification } from '../../src/store/store.ts';
import type { Subscription, SubscriptionChannel } from '../../src/model/subscription.ts';
import { postgresSkipReason } from '../support/postgres.ts';
import { silentLog, startReceiver, twoPostgresStores } from './notifier-kit.ts';
import { AMQP_URL, amqpInbox, brokerProxy, brokerSkipReason, STOMP_ADDR, stompInbox } from './broker-kit.ts';
import { stompAddress } from '../../src/notifier/stomp-client.ts';

// Subscription delivery at the notifier level: at least once through broker outages (a TCP proxy we cut, never
// the shared broker), across a service restart on the same database, once per subscription with two instances on
// PostgreSQL; and notifier.stomp as Clair's (callback and direct modes).

const skipBrokers = await brokerSkipReason();
const skipPg = await postgresSkipReason();

const ref = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const setId = (n: number) => `a0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const note = (n: number, severity: string): StoredNotification => ({
  id: `c0000000-0000-4000-8000-${String(n).padStart(12, '0')}`, manifest: 'sha256:' + 'b'.repeat(64), reason: 'added',
  vulnerability: { name: `CVE-2099-${1000 + n}`, normalized_severity: severity, fixed_in_version: '' },
});

async function putSet(store: Store, n: number, notes: StoredNotification[]): Promise<string> {
  await store.putNotifications({ operationRef: ref(n), updater: 'testfeed', notificationId: setId(n), notifications: notes });
  return setId(n);
}

function sub(id: number, channel: SubscriptionChannel, extra: Partial<Subscription> = {}): Subscription {
  return { id: `e0000000-0000-4000-8000-${String(id).padStart(12, '0')}`, name: `sub ${id}`, channel, created: new Date().toISOString(), ...extra };
}

const noConfig = () => parseNotifierConfig({});
const newNotifier = (store: Store, config = noConfig()) => new Notifier(store, [], config, { log: silentLog, retryBaseMs: 0 });

test('notifier.stomp as Clair: callback message, and direct notifications in rollup-sized arrays', { skip: skipBrokers }, async (t) => {
  const callback = await stompInbox(t);
  const direct = await stompInbox(t);
  const login = { user: { login: 'guest', passcode: 'guest' } };
  const configs = [
    // The first broker (port 1) refuses: the next one of the list takes the delivery.
    { uris: ['127.0.0.1:1', STOMP_ADDR], destination: callback.destination, callback: 'http://clair.example/notifier/api/v1/notification', ...login },
    { uris: [`stomp://${STOMP_ADDR}`], destination: direct.destination, direct: true, rollup: 2, ...login },
  ];
  let nid = '';
  for (const stomp of configs) {
    const store = SqliteStore.open(':memory:');
    t.after(() => store.close());
    nid = await putSet(store, 1, [note(1, 'High'), note(2, 'Low'), note(3, 'Medium')]);
    const n = new Notifier(store, [], parseNotifierConfig({ stomp }), { log: silentLog, retryBaseMs: 0 });
    t.after(() => n.stop());
    assert.deepEqual(n.deliverers, [`stomp ${JSON.stringify(stomp.destination)}`]);
    assert.deepEqual(await n.deliverDue(), [nid]);
  }
  await callback.inbox.atLeast(1);
  assert.deepEqual(callback.inbox.messages.map((m) => m.body), [{ notification_id: nid, callback: `http://clair.example/notifier/api/v1/notification/${nid}` }]);
  assert.equal(callback.inbox.messages[0]!.headers['content-type'], 'application/json');
  await direct.inbox.atLeast(2);
  const pages = direct.inbox.messages.map((m) => (m.body as StoredNotification[]).map((x) => x.id));
  assert.deepEqual(pages, [[note(1, '').id, note(2, '').id], [note(3, '').id]], 'rollup 2: two messages, in id order, committed together');
});

test('subscriptions over STOMP and AMQP survive the broker going away: failed, retried, delivered once', { skip: skipBrokers }, async (t) => {
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  const stompProxy = await brokerProxy(t, stompAddress(STOMP_ADDR));
  const amqpTarget = new URL(AMQP_URL);
  const amqpProxy = await brokerProxy(t, { host: amqpTarget.hostname, port: Number(amqpTarget.port || 5672) });
  const st = await stompInbox(t);
  const am = await amqpInbox(t);
  const proxied = new URL(AMQP_URL);
  proxied.port = String(amqpProxy.port);
  const stompSub = sub(1, { type: 'stomp', uri: `127.0.0.1:${stompProxy.port}`, destination: st.destination, login: 'guest', passcode: 'guest' });
  const amqpSub = sub(2, { type: 'amqp', uri: proxied.toString(), exchange: am.exchange, routingKey: am.routingKey }, { minSeverity: 'High' });
  await store.putSubscription(stompSub);
  await store.putSubscription(amqpSub);
  const n = newNotifier(store);
  t.after(() => n.stop());

  stompProxy.down();
  amqpProxy.down();
  const nid = await putSet(store, 1, [note(1, 'High'), note(2, 'Low')]);
  await n.deliverDue();
  assert.deepEqual(await store.subscriptionBacklog(), new Map([[stompSub.id, 1], [amqpSub.id, 1]]), 'both shares wait for a retry');
  assert.equal(st.inbox.messages.length + am.inbox.messages.length, 0);

  // Back: the retry delivers each share once. Then a broker that drops connections mid-way (the proxy cuts every
  // open connection) fails only the attempt in flight, never loses the share.
  stompProxy.up();
  amqpProxy.up();
  await n.deliverDue();
  await st.inbox.atLeast(1);
  await am.inbox.atLeast(1);
  assert.deepEqual(await store.subscriptionBacklog(), new Map());
  assert.deepEqual((st.inbox.messages[0]!.body as { notifications: StoredNotification[] }).notifications.map((x) => x.id), [note(1, '').id, note(2, '').id]);
  assert.deepEqual((am.inbox.messages[0]!.body as { notifications: StoredNotification[] }).notifications.map((x) => x.id), [note(1, '').id], 'AMQP: High only');
  assert.equal((st.inbox.messages[0]!.body as { notification_id: string }).notification_id, nid);

  const nid2 = await putSet(store, 2, [note(3, 'Critical')]);
  stompProxy.down();
  await n.deliverDue();
  stompProxy.up();
  await n.deliverDue();
  await st.inbox.atLeast(2);
  await am.inbox.atLeast(2);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(st.inbox.messages.map((m) => (m.body as { notification_id: string }).notification_id), [nid, nid2], 'each set once on STOMP');
  assert.deepEqual(am.inbox.messages.map((m) => (m.body as { notification_id: string }).notification_id), [nid, nid2], 'each set once on AMQP');
  t.diagnostic(`connections through the STOMP proxy: ${stompProxy.connections()}, AMQP proxy: ${amqpProxy.connections()}`);
});

test('a service restart on the same database loses nothing: pending shares are delivered by the next process', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-subs-restart-'));
  const file = join(dir, 'db.sqlite');
  const hook = await startReceiver([500, 500]); // the first process's attempts fail
  t.after(() => hook.close());
  let store = SqliteStore.open(file);
  await store.putSubscription(sub(1, { type: 'webhook', url: hook.url + '/a' }));
  await store.putSubscription(sub(2, { type: 'webhook', url: hook.url + '/b' }, { minSeverity: 'Critical' }));
  const nid = await putSet(store, 1, [note(1, 'Critical'), note(2, 'Medium')]);
  let n = newNotifier(store);
  await n.deliverDue();
  assert.equal(hook.received.length, 2, 'both attempted, both refused');
  await n.stop();
  await store.close();

  store = SqliteStore.open(file); // the new process
  t.after(() => store.close());
  n = newNotifier(store);
  t.after(() => n.stop());
  await n.deliverDue();
  await n.deliverDue();
  const ok = hook.received.filter((r) => r.status === 200);
  assert.equal(ok.length, 2, 'each subscription once after the restart');
  const bySub = new Map(ok.map((r) => [r.body.subscription_id as string, (r.body.notifications as StoredNotification[]).map((x) => x.id)]));
  assert.deepEqual(bySub.get(sub(1, { type: 'webhook', url: '' }).id), [note(1, '').id, note(2, '').id]);
  assert.deepEqual(bySub.get(sub(2, { type: 'webhook', url: '' }).id), [note(1, '').id]);
  assert.ok(ok.every((r) => r.body.notification_id === nid));
});

test('a claim left by a process that died is taken over when its lease ends', async (t) => {
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  const hook = await startReceiver();
  t.after(() => hook.close());
  await store.putSubscription(sub(1, { type: 'webhook', url: hook.url }));
  await putSet(store, 1, [note(1, 'High')]);
  const n = newNotifier(store);
  t.after(() => n.stop());
  // Shared out, then claimed by "another process" that never finishes (a 1 ms lease, as if it died).
  const { fanOut } = await import('../../src/notifier/subscriptions.ts');
  await fanOut(store, silentLog);
  assert.ok(await store.claimSubscriptionDelivery(1));
  await new Promise((r) => setTimeout(r, 20));
  await n.deliverDue();
  assert.equal(hook.received.length, 1);
  assert.equal(hook.received[0]!.body.notification_id, setId(1));
});

test('postgres: two instances deliver each notification set once per subscription', { skip: skipPg }, async (t) => {
  const [a, b] = await twoPostgresStores(t);
  const hook = await startReceiver();
  t.after(() => hook.close());
  const subs = [sub(1, { type: 'webhook', url: hook.url + '/all' }), sub(2, { type: 'webhook', url: hook.url + '/high' }, { minSeverity: 'High' })];
  for (const s of subs) await a.putSubscription(s);
  const sets: string[] = [];
  for (let i = 1; i <= 10; i++) sets.push(await putSet(a, i, [note(i, i % 2 === 0 ? 'High' : 'Low')]));
  const na = newNotifier(a);
  const nb = newNotifier(b);
  t.after(() => Promise.all([na.stop(), nb.stop()]));
  await Promise.all([na.deliverDue(), nb.deliverDue(), na.deliverDue(), nb.deliverDue()]);
  await Promise.all([na.deliverDue(), nb.deliverDue()]);
  const got = hook.received.map((r) => `${r.body.subscription_id as string} ${r.body.notification_id as string}`).sort();
  const expected = [...sets.map((s) => `${subs[0]!.id} ${s}`), ...sets.filter((_, i) => (i + 1) % 2 === 0).map((s) => `${subs[1]!.id} ${s}`)].sort();
  assert.deepEqual(got, expected, 'every share delivered, each exactly once');
  assert.deepEqual(await a.subscriptionBacklog(), new Map());
});

test('notifier.amqp (the implicit subscription) keeps delivering after the broker side cuts its open connection', { skip: skipBrokers }, async (t) => {
  const target = new URL(AMQP_URL);
  const proxy = await brokerProxy(t, { host: target.hostname, port: Number(target.port || 5672) });
  const proxied = new URL(AMQP_URL);
  proxied.port = String(proxy.port);
  const am = await amqpInbox(t);
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  const config = parseNotifierConfig({ amqp: { uris: [proxied.toString()], exchange: { name: am.exchange, type: 'direct' }, routing_key: am.routingKey, callback: 'http://clair.example/n' } });
  const n = newNotifier(store, config);
  t.after(() => n.stop());
  const first = await putSet(store, 1, [note(1, 'High')]);
  assert.deepEqual(await n.deliverDue(), [first]);
  // The connection the deliverer keeps open is cut (as a broker restart or `rabbitmqctl close_connection` would),
  // and stays unreachable for one pass: the set waits; then a new connection delivers it, once.
  proxy.down();
  const second = await putSet(store, 2, [note(2, 'Low')]);
  assert.deepEqual(await n.deliverDue(), []);
  assert.equal((await store.getNotificationReceipt({ notificationId: second }))?.status, 'pending');
  proxy.up();
  assert.deepEqual(await n.deliverDue(), [second]);
  assert.deepEqual(await n.deliverDue(), []);
  await am.inbox.atLeast(2);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(am.inbox.messages.map((m) => (m.body as { notification_id: string }).notification_id), [first, second]);
  assert.equal(proxy.connections(), 2, 'one connection before the cut, one after');
});
