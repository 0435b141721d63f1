import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jwtVerify } from 'jose';
import { startTestService } from '../http/serve-kit.ts';
import { startReceiver } from '../notifier/notifier-kit.ts';
import { runCli } from '../support/run-cli.ts';
import type { StoredNotification } from '../../src/store/store.ts';

// `clair-ts subscriptions` and `clair-ts notifications` against a PSK-protected server and against the local
// database: tables for people, JSON with --format json, clear errors; subscription webhooks signed as Clair's.

const NID = 'a0000000-0000-4000-8000-000000000001';
const note = (n: number, name: string, severity: string): StoredNotification => ({
  id: `c0000000-0000-4000-8000-00000000000${n}`, manifest: 'sha256:' + 'b'.repeat(64), reason: 'added',
  vulnerability: { name, normalized_severity: severity, fixed_in_version: '1.2-3', package: { name: 'curl' } },
});

test('notifications and subscriptions CLI against a PSK-protected server', async (t) => {
  const key = randomBytes(32);
  const s = await startTestService(t, `auth:\n  psk:\n    key: ${key.toString('base64')}\nmatcher:\n  disable_updaters: true\nnotifier:\n  poll_interval: 1h\n  delivery_interval: 1h\n  allow_private_addresses: true\n`);
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-notifier-cli-'));
  const pskFile = join(dir, 'psk');
  await writeFile(pskFile, key.toString('base64') + '\n');
  const hook = await startReceiver();
  t.after(() => hook.close());
  const server = ['--server', s.apiUrl, '--psk-file', pskFile];
  const db = join(dir, 'unused.db');

  const add = await runCli(db, ['subscriptions', 'add', ...server, '--name', 'high', '--webhook', hook.url, '--min-severity', 'High']);
  assert.equal(add.code, 0, add.err);
  assert.match(add.out, /^ID\s+NAME\s+CHANNEL\s+MANIFESTS\s+THRESHOLD\n[0-9a-f-]{36}\s+high\s+webhook http:\/\/127\.0\.0\.1:\d+\/hook\s+all manifests\s+>= High\n$/);
  const list = await runCli(db, ['subscriptions', 'list', ...server, '--format', 'json'], '', {});
  assert.equal(list.code, 0, list.err);
  const subs = JSON.parse(list.out) as { id: string; min_severity: string }[];
  assert.equal(subs.length, 1);
  assert.equal(subs[0]!.min_severity, 'High');

  // A set with one High and one Low notification; the subscription receives the High one, signed.
  await s.store!.putNotifications({ operationRef: '00000000-0000-4000-8000-000000000001', updater: 'testfeed', notificationId: NID, notifications: [note(1, 'CVE-2099-0001', 'High'), note(2, 'CVE-2099-0002', 'Low')] });
  await s.notifier!.deliverDue();
  assert.equal(hook.received.length, 1);
  const auth = String(hook.received[0]!.headers.authorization);
  assert.match(auth, /^Bearer /);
  const { payload } = await jwtVerify(auth.slice('Bearer '.length), key, { issuer: 'clair-notifier' });
  assert.ok(payload.exp! > payload.iat!, 'signed as Clair signs webhooks (iss clair-notifier, iat, nbf, exp)');
  assert.deepEqual((hook.received[0]!.body.notifications as StoredNotification[]).map((n) => n.vulnerability.name), ['CVE-2099-0001']);

  const sets = await runCli(db, ['notifications', 'list', ...server]);
  assert.equal(sets.code, 0, sets.err);
  assert.match(sets.out, new RegExp(`^ID\\s+UPDATER\\s+STATUS\\s+NOTIFICATIONS\\s+CREATED\\n${NID}\\s+testfeed\\s+pending\\s+2\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n$`));
  const show = await runCli(db, ['notifications', 'show', NID, ...server]);
  assert.equal(show.code, 0, show.err);
  assert.equal(show.out.split('\n')[0]!.replace(/\s+/g, ' '), 'MANIFEST REASON VULNERABILITY SEVERITY PACKAGE FIXED IN');
  assert.match(show.out, /bbbbbbbbbbbb\s+added\s+CVE-2099-0001\s+High\s+curl\s+1\.2-3/);
  const json = JSON.parse((await runCli(db, ['notifications', 'show', NID, ...server, '--format', 'json'])).out) as { notifications: unknown[] };
  assert.equal(json.notifications.length, 2);
  const ack = await runCli(db, ['notifications', 'ack', NID, ...server]);
  assert.equal(ack.code, 0, ack.err);
  const gone = await runCli(db, ['notifications', 'show', NID, ...server]);
  assert.equal(gone.code, 2);
  assert.match(gone.err, /404 notification a0000000-0000-4000-8000-000000000001 not found/);

  const unsigned = await runCli(db, ['notifications', 'list', '--server', s.apiUrl]);
  assert.equal(unsigned.code, 2);
  assert.match(unsigned.err, /401 .*give the PSK: --psk-file or CLAIR_TS_PSK/);
  const viaEnv = await runCli(db, ['subscriptions', 'remove', subs[0]!.id, '--server', s.apiUrl], '', { CLAIR_TS_PSK: key.toString('base64') });
  assert.equal(viaEnv.code, 0, viaEnv.err);
  const empty = await runCli(db, ['subscriptions', 'list', '--server', s.apiUrl], '', { CLAIR_TS_PSK: key.toString('base64') });
  assert.equal(empty.out, 'no subscriptions\n');
  const refused = await runCli(db, ['subscriptions', 'add', ...server, '--webhook', 'http://10.0.0.1/x', '--allow-private']);
  assert.match(refused.err, /--allow-private applies to the local database/);
});

test('subscriptions CLI on the local database: add, list, remove, clear errors', async () => {
  const db = join(await mkdtemp(join(tmpdir(), 'clair-ts-subs-cli-')), 'db.sqlite');
  const priv = await runCli(db, ['subscriptions', 'add', '--webhook', 'http://127.0.0.1:9/hook']);
  assert.equal(priv.code, 2);
  assert.match(priv.err, /channel\.url host 127\.0\.0\.1 is a loopback, private or link-local address; pass --allow-private to allow it/);
  const add = await runCli(db, ['subscriptions', 'add', '--stomp', '127.0.0.1:61613', '--destination', '/queue/x', '--repository', 'quay.io/org/*', '--fixable-only', '--kev-only', '--allow-private', '--format', 'json']);
  assert.equal(add.code, 0, add.err);
  const created = JSON.parse(add.out) as { id: string; channel: Record<string, string>; repository: string; fixable_only: boolean; kev_only: boolean };
  assert.deepEqual(created.channel, { type: 'stomp', uri: '127.0.0.1:61613', destination: '/queue/x' });
  assert.equal(created.repository, 'quay.io/org/*');
  const list = await runCli(db, ['subscriptions', 'list']);
  assert.match(list.out, /stomp 127\.0\.0\.1:61613 \/queue\/x\s+repository quay\.io\/org\/\*\s+fixable, KEV/);
  for (const [args, message] of [
    [['subscriptions', 'add'], /a channel is required: --webhook URL, --amqp URI/],
    [['subscriptions', 'add', '--webhook', 'https://h.example/', '--amqp', 'amqp://b/'], /one channel per subscription: --webhook and --amqp given/],
    [['subscriptions', 'add', '--webhook', 'hook'], /channel\.url must be an absolute http or https URL, got "hook"/],
    [['subscriptions', 'add', '--stomp', 'b.example:61613'], /channel\.destination is required/],
    [['subscriptions', 'remove', 'nope'], /subscription id must be a UUID/],
    [['subscriptions', 'remove', 'e0000000-0000-4000-8000-000000000001'], /subscription e0000000-0000-4000-8000-000000000001 not found/],
    [['notifications', 'list', '--format', 'xml'], /--format must be one of table, json/],
    [['notifications', 'list', '--server', 'ftp://x'], /--server must be an http or https URL/],
  ] as [string[], RegExp][]) {
    const r = await runCli(db, args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
    assert.match(r.err, message);
  }
  assert.equal((await runCli(db, ['subscriptions', 'remove', created.id])).code, 0);
  assert.equal((await runCli(db, ['subscriptions', 'list'])).out, 'no subscriptions\n');
  assert.equal((await runCli(db, ['notifications', 'list'])).out, 'no notifications\n');
});
