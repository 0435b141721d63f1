import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Notifier } from '../../src/notifier/notifier.ts';
import { parseNotifierConfig } from '../../src/notifier/notifier-config.ts';
import { processUpdateOperation } from '../../src/notifier/processor.ts';
import { postgresSkipReason } from '../support/postgres.ts';
import { silentLog, startReceiver, twoPostgresStores } from './notifier-kit.ts';

// Two notifier instances on one PostgreSQL schema (two store handles, as two processes would have): each set is
// delivered by one of them, and an update operation is processed by one of them.

const skip = await postgresSkipReason();


test('postgres: two instances delivering at once deliver each set once', { skip }, async (t) => {
  const [a, b] = await twoPostgresStores(t);
  const ids = Array.from({ length: 12 }, (_, i) => `a0000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  for (const [i, nid] of ids.entries()) {
    await a.putNotifications({
      operationRef: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, updater: 'testfeed', notificationId: nid,
      notifications: [{ id: `c0000000-0000-4000-8000-${String(i).padStart(12, '0')}`, manifest: 'sha256:' + 'b'.repeat(64), reason: 'added', vulnerability: { name: 'CVE-1', normalized_severity: 'Low' } }],
    });
  }
  const hook = await startReceiver();
  t.after(() => hook.close());
  const config = parseNotifierConfig({ webhook: { target: hook.url, callback: 'http://clair.example/notifier/api/v1/notification' } });
  const na = new Notifier(a, [], config, { log: silentLog });
  const nb = new Notifier(b, [], config, { log: silentLog });
  t.after(() => Promise.all([na.stop(), nb.stop()]));
  const [da, db] = await Promise.all([na.deliverDue(), nb.deliverDue()]);
  assert.deepEqual([...da, ...db].sort(), ids, 'every set delivered, by one instance');
  const received = hook.received.map((r) => r.body.notification_id as string).sort();
  assert.deepEqual(received, ids, 'each set posted exactly once');
  t.diagnostic(`instance a delivered ${da.length}, instance b ${db.length}`);
  assert.deepEqual(await Promise.all([na.deliverDue(), nb.deliverDue()]), [[], []]);
});

test('postgres: two instances processing one update operation at once store its receipt once', { skip }, async (t) => {
  const [a, b] = await twoPostgresStores(t);
  for (const fp of ['one', 'two']) await (await a.beginUpdateOperation('testfeed')).commit(fp);
  const [op] = await a.listUpdateOperations('testfeed');
  const results = await Promise.all([processUpdateOperation(a, [], op!), processUpdateOperation(b, [], op!)]);
  const kinds = results.map((r) => r.kind).sort();
  // The one that stored the receipt found nothing affected (no manifests are indexed); the other stored nothing.
  assert.deepEqual(kinds, ['already-processed', 'nothing-affected']);
  assert.equal((await b.getNotificationReceipt({ operationRef: op!.ref }))?.status, 'none');
});
