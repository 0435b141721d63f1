import { readFile } from 'node:fs/promises';
import { resolveDbLocation } from '../config/db-location.ts';
import { ClairError } from '../model/errors.ts';
import { printable } from '../model/printable.ts';
import { intraserviceToken } from '../http/psk-auth.ts';
import { parseSubscription, subscriptionJson } from '../notifier/subscription-input.ts';
import { deliveryHostCheck } from '../service/delivery-host-check.ts';
import { openStore } from '../store/open-store.ts';
import type { Store, StoredNotification } from '../store/store.ts';
import { EXIT_OK } from './cli-error.ts';
import type { CliIo } from './io.ts';
import { shortDigest, table } from './render-table.ts';

// `clair-ts subscriptions add|list|remove` and `clair-ts notifications list|show|ack`, against the local database
// (--db, as the other commands) or a running server (--server URL, signed with the PSK from --psk-file or
// CLAIR_TS_PSK, base64 as auth.psk.key). Both paths build and read the same JSON (the API's), so they print alike.

export interface TargetFlags {
  db?: string;
  server?: string;
  pskFile?: string;
  format?: string;
}

/** What a command talks to: the API's JSON either way. */
interface Backend {
  request(method: string, path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

const PREFIX = '/notifier/api/v1';

async function pskKey(o: TargetFlags, io: CliIo): Promise<Uint8Array | undefined> {
  let text: string | undefined;
  if (o.pskFile) {
    try {
      text = (await readFile(o.pskFile, 'utf8')).trim();
    } catch (e) {
      throw new ClairError('bad-input', `--psk-file ${o.pskFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else text = io.env.CLAIR_TS_PSK?.trim();
  if (!text) return undefined;
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(text)) throw new ClairError('bad-input', `the PSK (${o.pskFile ? '--psk-file' : 'CLAIR_TS_PSK'}) must be base64, as auth.psk.key`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function serverBackend(server: string, key: Uint8Array | undefined): Backend {
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new ClairError('bad-input', `--server must be the server's URL (http://host:6060), got ${JSON.stringify(server)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new ClairError('bad-input', `--server must be an http or https URL, got ${JSON.stringify(server)}`);
  const origin = base.origin;
  return {
    async request(method, path, body) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (key) headers.authorization = `Bearer ${await intraserviceToken(key, origin)}`;
      let res: Response;
      try {
        res = await fetch(origin + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(60_000) });
      } catch (e) {
        throw new ClairError('unavailable', `${origin}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!res.ok) {
        const msg = (json as { message?: string } | undefined)?.message ?? text.slice(0, 200);
        const code = res.status === 404 ? 'not-found' : res.status === 401 || res.status === 403 ? 'unauthorized' : res.status < 500 ? 'bad-input' : 'unavailable';
        throw new ClairError(code, `${method} ${path}: ${res.status} ${msg}${res.status === 401 && !key ? ' (give the PSK: --psk-file or CLAIR_TS_PSK)' : ''}`);
      }
      return json;
    },
    close: async () => undefined,
  };
}

function localBackend(store: Store, allowPrivate: boolean): Backend {
  const notFound = (what: string) => new ClairError('not-found', `${what} not found`);
  return {
    async request(method, path, body) {
      const sub = /^\/notifier\/api\/v1\/subscriptions(?:\/(.+))?$/.exec(path);
      if (sub && method === 'POST') {
        const s = await parseSubscription(body, deliveryHostCheck(allowPrivate, 'pass --allow-private to allow it'));
        await store.putSubscription(s);
        return subscriptionJson(s);
      }
      if (sub && method === 'GET') return { subscriptions: (await store.listSubscriptions()).map(subscriptionJson) };
      if (sub && method === 'DELETE') {
        if (!(await store.deleteSubscription(sub[1]!.toLowerCase()))) throw notFound(`subscription ${sub[1]}`);
        return undefined;
      }
      const list = /^\/notifier\/api\/v1\/notifications\?limit=(\d+)$/.exec(path);
      if (list) {
        const sets = await store.listNotificationSets(Number(list[1]));
        return { notifications: sets.map((s) => ({ id: s.notificationId, updater: s.updater, update_operation: s.operationRef, status: s.status, count: s.count, attempts: s.attempts, created: s.created })) };
      }
      const one = /^\/notifier\/api\/v1\/notification\/([^?]+)(?:\?page_size=(\d+)(?:&next=(.+))?)?$/.exec(path);
      if (one && method === 'GET') {
        const page = await store.getNotificationPage(one[1]!.toLowerCase(), Number(one[2] ?? 500), one[3]);
        if (!page) throw notFound(`notification ${one[1]}`);
        return { page: { size: page.notifications.length, ...(page.next ? { next: page.next } : {}) }, notifications: page.notifications };
      }
      if (one && method === 'DELETE') {
        if (!(await store.deleteNotificationSet(one[1]!.toLowerCase()))) throw notFound(`notification ${one[1]}`);
        return undefined;
      }
      throw new ClairError('internal', `no local handler for ${method} ${path}`);
    },
    close: () => store.close(),
  };
}

async function withBackend<T>(o: TargetFlags & { allowPrivate?: boolean }, io: CliIo, fn: (b: Backend) => Promise<T>): Promise<T> {
  if (o.format !== undefined && o.format !== 'table' && o.format !== 'json') throw new ClairError('bad-input', `--format must be one of table, json, not "${o.format}"`);
  if (o.server && o.db) throw new ClairError('bad-input', '--server and --db exclude each other: talk to a server or open a database');
  if (o.server && o.allowPrivate) throw new ClairError('bad-input', '--allow-private applies to the local database; a server decides by notifier.allow_private_addresses');
  const b = o.server ? serverBackend(o.server, await pskKey(o, io)) : localBackend(await openStore(resolveDbLocation(o.db, io.env)), o.allowPrivate === true);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

// ---- subscriptions

export interface AddFlags extends TargetFlags {
  name?: string;
  webhook?: string;
  amqp?: string;
  exchange?: string;
  routingKey?: string;
  stomp?: string;
  destination?: string;
  login?: string;
  manifest?: string[];
  repository?: string;
  minSeverity?: string;
  fixableOnly?: boolean;
  kevOnly?: boolean;
  allowPrivate?: boolean;
}

/** The API body of `subscriptions add`'s flags. */
export function subscriptionBody(o: AddFlags, passcode?: string): Record<string, unknown> {
  const given = [o.webhook && '--webhook', o.amqp && '--amqp', o.stomp && '--stomp'].filter(Boolean);
  if (given.length === 0) throw new ClairError('bad-input', 'a channel is required: --webhook URL, --amqp URI (with --exchange/--routing-key) or --stomp HOST:PORT (with --destination)');
  if (given.length > 1) throw new ClairError('bad-input', `one channel per subscription: ${given.join(' and ')} given`);
  const channel =
    o.webhook ? { type: 'webhook', url: o.webhook }
    : o.amqp ? { type: 'amqp', uri: o.amqp, exchange: o.exchange ?? '', routing_key: o.routingKey ?? '' }
    : { type: 'stomp', uri: o.stomp, destination: o.destination, ...(o.login !== undefined ? { login: o.login } : {}), ...(passcode !== undefined ? { passcode } : {}) };
  return {
    ...(o.name ? { name: o.name } : {}),
    channel,
    ...(o.manifest && o.manifest.length > 0 ? { manifests: o.manifest } : {}),
    ...(o.repository ? { repository: o.repository } : {}),
    ...(o.minSeverity ? { min_severity: o.minSeverity } : {}),
    ...(o.fixableOnly ? { fixable_only: true } : {}),
    ...(o.kevOnly ? { kev_only: true } : {}),
  };
}

type SubJson = Record<string, unknown> & { id: string; name: string; channel: Record<string, string> };

function channelText(c: Record<string, string>): string {
  return c.type === 'webhook' ? `webhook ${c.url}` : c.type === 'amqp' ? `amqp ${c.uri} ${c.exchange || '(default)'}/${c.routing_key}` : `stomp ${c.uri} ${c.destination}`;
}

function subscriptionRow(s: SubJson): string[] {
  const what = s.manifests ? `${(s.manifests as string[]).length} manifest(s)` : s.repository ? `repository ${String(s.repository)}` : 'all manifests';
  const threshold = [s.min_severity ? `>= ${String(s.min_severity)}` : '', s.fixable_only ? 'fixable' : '', s.kev_only ? 'KEV' : ''].filter(Boolean).join(', ') || 'everything';
  return [s.id, s.name, channelText(s.channel), what, threshold];
}

const SUB_HEADERS = ['ID', 'NAME', 'CHANNEL', 'MANIFESTS', 'THRESHOLD'];

export async function subscriptionsAddCommand(o: AddFlags, io: CliIo): Promise<number> {
  // A STOMP passcode is never an argument (it would show in ps): CLAIR_TS_STOMP_PASSCODE.
  const body = subscriptionBody(o, o.stomp ? io.env.CLAIR_TS_STOMP_PASSCODE : undefined);
  return withBackend(o, io, async (b) => {
    const s = (await b.request('POST', `${PREFIX}/subscriptions`, body)) as SubJson;
    io.stdout(o.format === 'json' ? JSON.stringify(s, null, 2) + '\n' : table(SUB_HEADERS, [subscriptionRow(s)]) + '\n');
    return EXIT_OK;
  });
}

export async function subscriptionsListCommand(o: TargetFlags, io: CliIo): Promise<number> {
  return withBackend(o, io, async (b) => {
    const { subscriptions } = (await b.request('GET', `${PREFIX}/subscriptions`)) as { subscriptions: SubJson[] };
    if (o.format === 'json') io.stdout(JSON.stringify(subscriptions, null, 2) + '\n');
    else io.stdout(subscriptions.length === 0 ? 'no subscriptions\n' : table(SUB_HEADERS, subscriptions.map(subscriptionRow)) + '\n');
    return EXIT_OK;
  });
}

export async function subscriptionsRemoveCommand(id: string, o: TargetFlags, io: CliIo): Promise<number> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ClairError('bad-input', `subscription id must be a UUID, got ${JSON.stringify(printable(id))}`);
  return withBackend(o, io, async (b) => {
    await b.request('DELETE', `${PREFIX}/subscriptions/${id}`);
    io.stderr(`removed subscription ${id}\n`);
    return EXIT_OK;
  });
}

// ---- notifications

interface SetJson {
  id: string;
  updater: string;
  status: string;
  count: number;
  attempts: number;
  created: string;
}

export async function notificationsListCommand(o: TargetFlags & { limit?: string }, io: CliIo): Promise<number> {
  const limit = o.limit ?? '50';
  if (!/^[1-9]\d{0,4}$/.test(limit)) throw new ClairError('bad-input', `--limit must be an integer from 1 to 99999, got ${JSON.stringify(limit)}`);
  return withBackend(o, io, async (b) => {
    const { notifications } = (await b.request('GET', `${PREFIX}/notifications?limit=${limit}`)) as { notifications: SetJson[] };
    if (o.format === 'json') io.stdout(JSON.stringify(notifications, null, 2) + '\n');
    else if (notifications.length === 0) io.stdout('no notifications\n');
    else io.stdout(table(['ID', 'UPDATER', 'STATUS', 'NOTIFICATIONS', 'CREATED'], notifications.map((n) => [n.id, n.updater, n.status, String(n.count), n.created.replace(/\.\d+Z$/, 'Z')])) + '\n');
    return EXIT_OK;
  });
}

function checkSetId(id: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ClairError('bad-input', `notification id must be a UUID, got ${JSON.stringify(printable(id))}`);
  return id.toLowerCase();
}

export async function notificationsShowCommand(id: string, o: TargetFlags, io: CliIo): Promise<number> {
  const nid = checkSetId(id);
  return withBackend(o, io, async (b) => {
    const all: StoredNotification[] = [];
    let next: string | undefined;
    do {
      const page = (await b.request('GET', `${PREFIX}/notification/${nid}?page_size=1000${next ? `&next=${next}` : ''}`)) as { page: { next?: string }; notifications: StoredNotification[] };
      all.push(...page.notifications);
      next = page.page.next;
    } while (next);
    if (o.format === 'json') {
      io.stdout(JSON.stringify({ id: nid, notifications: all }, null, 2) + '\n');
      return EXIT_OK;
    }
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const rows = all.map((n) => {
      const v = n.vulnerability;
      const pkg = (v.package ?? {}) as Record<string, unknown>;
      return [shortDigest(n.manifest), n.reason, text(v.name), text(v.normalized_severity), text(pkg.name), text(v.fixed_in_version)];
    });
    io.stdout(rows.length === 0 ? `notification ${nid} holds no notifications\n` : table(['MANIFEST', 'REASON', 'VULNERABILITY', 'SEVERITY', 'PACKAGE', 'FIXED IN'], rows) + '\n');
    return EXIT_OK;
  });
}

export async function notificationsAckCommand(id: string, o: TargetFlags, io: CliIo): Promise<number> {
  const nid = checkSetId(id);
  return withBackend(o, io, async (b) => {
    await b.request('DELETE', `${PREFIX}/notification/${nid}`);
    io.stderr(`acknowledged notification ${nid} (deleted, as Clair's DELETE /notifier/api/v1/notification/{id})\n`);
    return EXIT_OK;
  });
}
