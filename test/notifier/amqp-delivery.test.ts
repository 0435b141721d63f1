import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import amqp from 'amqplib';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store, StoredNotification } from '../../src/store/store.ts';
import { Notifier } from '../../src/notifier/notifier.ts';
import { parseNotifierConfig } from '../../src/notifier/notifier-config.ts';
import { silentLog } from './notifier-kit.ts';

// AMQP delivery against a real RabbitMQ (CLAIR_TS_AMQP_URL, default amqp://guest:guest@127.0.0.1:5672, which .ci/run
// starts). Unreachable → skipped with the reason; under CI (env CI set) the tests fail instead.

const AMQP_URL = process.env['CLAIR_TS_AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672';
const DEAD_URL = 'amqp://guest:guest@127.0.0.1:1'; // nothing listens on port 1

async function brokerSkipReason(): Promise<string | undefined> {
  try {
    const c = await amqp.connect(AMQP_URL, { timeout: 2000 });
    await c.close();
    return undefined;
  } catch (e) {
    if (process.env['CI']) throw new Error(`RabbitMQ not reachable at ${AMQP_URL} but CI is set: ${(e as Error).message}`, { cause: e });
    return `RabbitMQ not reachable at ${AMQP_URL} (${(e as Error).message}); set CLAIR_TS_AMQP_URL`;
  }
}

const skip = await brokerSkipReason();

interface Listener {
  exchange: string;
  routingKey: string;
  /** The next message on the bound queue, parsed; fails when none arrives. */
  next(): Promise<unknown>;
}

/** A test exchange and an exclusive queue bound to it, removed after the test. */
async function listen(t: TestContext): Promise<Listener> {
  const exchange = `clair-ts-test-${randomBytes(4).toString('hex')}`;
  const routingKey = 'notifications';
  const conn = await amqp.connect(AMQP_URL);
  t.after(() => conn.close());
  const ch = await conn.createChannel();
  t.after(() => ch.deleteExchange(exchange).catch(() => undefined));
  await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: false });
  const q = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(q.queue, exchange, routingKey);
  const messages: unknown[] = [];
  const waiting: ((m: unknown) => void)[] = [];
  await ch.consume(q.queue, (m) => {
    if (!m) return;
    const body = JSON.parse(m.content.toString('utf8')) as unknown;
    const w = waiting.shift();
    if (w) w(body);
    else messages.push(body);
  }, { noAck: true });
  return {
    exchange,
    routingKey,
    next: () => (messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message arrived within 10 s')), 10_000);
      waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    })),
  };
}

const note = (id: string): StoredNotification => ({
  id, manifest: 'sha256:' + 'a'.repeat(64), reason: 'added', vulnerability: { name: `CVE-${id.slice(-4)}`, normalized_severity: 'High' },
});

async function storeWithSet(t: TestContext, nid: string, ids: string[]): Promise<Store> {
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  await store.putNotifications({ operationRef: '00000000-0000-4000-8000-000000000001', updater: 'testfeed', notificationId: nid, notifications: ids.map(note) });
  return store;
}

function notifier(store: Store, l: Listener, uris: string[], extra: Record<string, unknown> = {}): Notifier {
  const config = parseNotifierConfig({
    amqp: { uris, exchange: { name: l.exchange, type: 'direct' }, routing_key: l.routingKey, callback: 'http://clair.example/notifier/api/v1/notification', ...extra },
  });
  return new Notifier(store, [], config, { log: silentLog, retryBaseMs: 0 });
}

test('amqp: the callback message is published with confirms; a broker that is down leaves the set pending until it is back', { skip }, async (t) => {
  const l = await listen(t);
  const nid = 'b0000000-0000-4000-8000-000000000001';
  const store = await storeWithSet(t, nid, ['c0000000-0000-4000-8000-000000000001']);
  const down = notifier(store, l, [DEAD_URL]);
  t.after(() => down.stop());
  assert.deepEqual(await down.deliverDue(), [], 'nothing delivered while no broker answers');
  assert.equal((await store.getNotificationReceipt({ notificationId: nid }))?.status, 'pending');
  // The broker "comes back": the first URI still fails, the second answers.
  const up = notifier(store, l, [DEAD_URL, AMQP_URL]);
  t.after(() => up.stop());
  assert.deepEqual(await up.deliverDue(), [nid]);
  assert.deepEqual(await l.next(), { notification_id: nid, callback: `http://clair.example/notifier/api/v1/notification/${nid}` });
  assert.equal((await store.getNotificationReceipt({ notificationId: nid }))?.status, 'delivered');
  assert.deepEqual(await up.deliverDue(), [], 'delivered once');
});

test('amqp direct: the notifications themselves, rollup per message', { skip }, async (t) => {
  const l = await listen(t);
  const nid = 'b0000000-0000-4000-8000-000000000002';
  const ids = ['c0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000002', 'c0000000-0000-4000-8000-000000000003'];
  const store = await storeWithSet(t, nid, ids);
  const n = notifier(store, l, [AMQP_URL], { direct: true, rollup: 2, callback: undefined });
  t.after(() => n.stop());
  assert.deepEqual(await n.deliverDue(), [nid]);
  assert.deepEqual(await l.next(), [note(ids[0]!), note(ids[1]!)]);
  assert.deepEqual(await l.next(), [note(ids[2]!)]);
});
