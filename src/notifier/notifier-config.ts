import { ClairError } from '../model/errors.ts';
import { redactUrl } from '../model/redact-url.ts';
import { stompAddress } from './stomp-client.ts';

// The notifier's settings, from the validated config tree under `notifier` (config-schema.ts checked the types;
// this checks what the types cannot: URLs that must be http(s) or amqp(s), an exchange that needs a name, …).
// Every error names the key. Keys as in Clair's notifier config.

export interface WebhookConfig {
  target: string;
  /** Base URL clients fetch notifications from; the notification id is appended. */
  callback: string | undefined;
  headers: Record<string, string[]>;
}

export interface AmqpConfig {
  uris: string[];
  exchange: { name: string; type: string; durable: boolean; autoDelete: boolean };
  routingKey: string;
  callback: string | undefined;
  /** Send the notifications themselves (paged into messages of `rollup`) instead of a callback. */
  direct: boolean;
  rollup: number;
}

export interface StompConfig {
  /** Broker addresses, host:port as Clair's (stomp://host:port too), tried in order. */
  uris: string[];
  destination: string;
  callback: string | undefined;
  direct: boolean;
  rollup: number;
  login?: string;
  passcode?: string;
}

export interface NotifierConfig {
  connstring?: string;
  pollIntervalMs: number;
  deliveryIntervalMs: number;
  /** One notification per manifest, vulnerability and reason, instead of the most severe per manifest and reason. */
  disableSummary: boolean;
  webhook?: WebhookConfig;
  amqp?: AmqpConfig;
  stomp?: StompConfig;
  /** Subscriptions may target loopback, private and link-local addresses (a clair-ts addition). */
  allowPrivateAddresses: boolean;
}

type Tree = Record<string, unknown>;

const DEFAULT_POLL_MS = 5 * 60_000;
const DEFAULT_DELIVERY_MS = 5 * 60_000;
/** Clair's default for amqp.rollup / stomp.rollup when direct delivery is on. */
const DEFAULT_ROLLUP = 1;

function bad(key: string, what: string): ClairError {
  return new ClairError('bad-input', `config notifier.${key} ${what}`);
}

function urlWithScheme(value: string, key: string, schemes: readonly string[]): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw bad(key, `must be an absolute ${schemes.join(' or ')} URL, got ${JSON.stringify(value)}`);
  }
  if (!schemes.includes(u.protocol.slice(0, -1))) throw bad(key, `must be a ${schemes.join(' or ')} URL, got scheme ${u.protocol.slice(0, -1)} in ${JSON.stringify(redactUrl(value))}`);
  return value;
}


const str = (t: Tree | undefined, k: string): string | undefined => {
  const v = t?.[k];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** Notifier settings from the `notifier` subtree (already type-checked by load-config). */
export function parseNotifierConfig(tree: Tree): NotifierConfig {
  const poll = typeof tree.poll_interval === 'number' ? tree.poll_interval : DEFAULT_POLL_MS;
  const delivery = typeof tree.delivery_interval === 'number' ? tree.delivery_interval : DEFAULT_DELIVERY_MS;
  if (poll <= 0) throw bad('poll_interval', 'must be longer than 0s');
  if (delivery <= 0) throw bad('delivery_interval', 'must be longer than 0s');
  const out: NotifierConfig = {
    ...(str(tree, 'connstring') ? { connstring: str(tree, 'connstring')! } : {}),
    pollIntervalMs: poll,
    deliveryIntervalMs: delivery,
    disableSummary: tree.disable_summary === true,
    allowPrivateAddresses: tree.allow_private_addresses === true,
  };
  const wh = tree.webhook as Tree | undefined;
  if (wh !== undefined) {
    const target = str(wh, 'target');
    if (!target) throw bad('webhook.target', 'is required when notifier.webhook is set');
    const callback = str(wh, 'callback');
    // notifier.webhook.signed is deprecated in Clair and changes nothing: deliveries are signed whenever auth.psk is set.
    out.webhook = {
      target: urlWithScheme(target, 'webhook.target', ['http', 'https']),
      callback: callback === undefined ? undefined : urlWithScheme(callback, 'webhook.callback', ['http', 'https']),
      headers: (wh.headers as Record<string, string[]> | undefined) ?? {},
    };
  }
  const amqp = tree.amqp as Tree | undefined;
  if (amqp !== undefined) {
    const uris = (amqp.uris as string[] | undefined) ?? [];
    if (uris.length === 0) throw bad('amqp.uris', 'must list at least one amqp:// or amqps:// URI when notifier.amqp is set');
    uris.forEach((u, i) => urlWithScheme(u, `amqp.uris[${i}]`, ['amqp', 'amqps']));
    const ex = (amqp.exchange as Tree | undefined) ?? {};
    const type = str(ex, 'type') ?? 'direct';
    if (!['direct', 'fanout', 'topic', 'headers'].includes(type)) throw bad('amqp.exchange.type', `must be direct, fanout, topic or headers, got ${JSON.stringify(type)}`);
    const callback = str(amqp, 'callback');
    if (amqp.tls !== undefined) throw new ClairError('unsupported', 'config notifier.amqp.tls: client certificates are not implemented; use an amqps:// URI with a publicly trusted broker');
    out.amqp = {
      uris,
      // "" is the default exchange (routes by queue name), as in Clair.
      exchange: { name: str(ex, 'name') ?? '', type, durable: ex.durable === true, autoDelete: ex.auto_delete === true },
      routingKey: str(amqp, 'routing_key') ?? '',
      callback: callback === undefined ? undefined : urlWithScheme(callback, 'amqp.callback', ['http', 'https']),
      direct: amqp.direct === true,
      rollup: typeof amqp.rollup === 'number' && amqp.rollup > 0 ? amqp.rollup : DEFAULT_ROLLUP,
    };
  }
  const stomp = tree.stomp as Tree | undefined;
  if (stomp !== undefined) {
    const uris = (stomp.uris as string[] | undefined) ?? [];
    if (uris.length === 0) throw bad('stomp.uris', 'must list at least one broker (host:port) when notifier.stomp is set');
    uris.forEach((u, i) => {
      try {
        stompAddress(u);
      } catch (e) {
        throw bad(`stomp.uris[${i}]`, `${(e as Error).message}`);
      }
    });
    const destination = str(stomp, 'destination');
    if (!destination) throw bad('stomp.destination', 'is required when notifier.stomp is set');
    if (stomp.tls !== undefined) throw new ClairError('unsupported', 'config notifier.stomp.tls: client certificates are not implemented; use a stomp+ssl:// URI with a publicly trusted broker');
    const callback = str(stomp, 'callback');
    const user = (stomp.user as Tree | undefined) ?? {};
    out.stomp = {
      uris,
      destination,
      callback: callback === undefined ? undefined : urlWithScheme(callback, 'stomp.callback', ['http', 'https']),
      direct: stomp.direct === true,
      rollup: typeof stomp.rollup === 'number' && stomp.rollup > 0 ? stomp.rollup : DEFAULT_ROLLUP,
      ...(str(user, 'login') !== undefined ? { login: str(user, 'login')! } : {}),
      ...(str(user, 'passcode') !== undefined ? { passcode: str(user, 'passcode')! } : {}),
    };
  }
  return out;
}

/** Checks made when deliveries start: a callback deliverer needs its callback URL. */
export function checkDeliveryConfig(c: NotifierConfig): void {
  if (c.webhook && !c.webhook.callback) throw bad('webhook.callback', 'is required: receivers fetch the notifications from <callback>/<notification id>');
  if (c.amqp && !c.amqp.direct && !c.amqp.callback) throw bad('amqp.callback', 'is required unless notifier.amqp.direct is true');
  if (c.stomp && !c.stomp.direct && !c.stomp.callback) throw bad('stomp.callback', 'is required unless notifier.stomp.direct is true');
}

/** <callback base>/<id>, with exactly one slash between (Clair joins them the same way). */
export function callbackUrl(base: string, notificationId: string): string {
  const u = new URL(base);
  u.pathname = u.pathname.replace(/\/*$/, '/') + notificationId;
  return u.toString();
}
