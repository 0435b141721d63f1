import { randomUUID } from 'node:crypto';
import { ClairError } from '../model/errors.ts';
import { redactUrl } from '../model/redact-url.ts';
import { NORMALIZED_SEVERITIES, parseSeverity } from '../model/severity.ts';
import type { Subscription, SubscriptionChannel } from '../model/subscription.ts';
import { stompAddress } from './stomp-client.ts';

// A subscription from its JSON form (the API's body; the CLI builds the same object), checked whole: every error
// names the field and the value. The JSON form, snake_case as Clair's API:
//   {"name": "...", "channel": {"type": "webhook", "url": "https://..."}
//                           | {"type": "amqp", "uri": "amqp://...", "exchange": "x", "routing_key": "k"}
//                           | {"type": "stomp", "uri": "host:61613", "destination": "/queue/x", "login": "...", "passcode": "..."},
//    "manifests": ["sha256:..."], "repository": "quay.io/org/*",
//    "min_severity": "High", "fixable_only": true, "kev_only": true}
// Targets on loopback, private or link-local addresses are refused unless the caller allows them (checkHost):
// a subscription must not become a way to make the server talk to its own network.

/** Throws ClairError('bad-input') when the host (name or address literal) may not be a delivery target. */
export type HostCheck = (host: string, field: string) => Promise<void>;

const CHANNELS = ['webhook', 'amqp', 'stomp'] as const;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const MAX_MANIFESTS = 10_000;

function bad(message: string): ClairError {
  return new ClairError('bad-input', `subscription: ${message}`);
}

function optString(o: Record<string, unknown>, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${field} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function optBool(o: Record<string, unknown>, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(`${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function url(value: string | undefined, field: string, schemes: readonly string[]): URL {
  if (!value) throw bad(`${field} is required`);
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw bad(`${field} must be an absolute ${schemes.join(' or ')} URL, got ${JSON.stringify(redactUrl(value) === '(unparseable URL)' ? value.replace(/:[^:@/]*@/, ':***@') : value)}`);
  }
  const scheme = u.protocol.slice(0, -1);
  if (!schemes.includes(scheme)) throw bad(`${field} must be a ${schemes.join(' or ')} URL, got scheme ${scheme} in ${JSON.stringify(redactUrl(value))}`);
  if (u.hostname === '') throw bad(`${field} has no host: ${JSON.stringify(redactUrl(value))}`);
  return u;
}

function channel(v: unknown, hosts: [string, string][]): SubscriptionChannel {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`channel must be an object with a type (${CHANNELS.join(', ')}), got ${JSON.stringify(v ?? null)}`);
  const c = v as Record<string, unknown>;
  const type = c.type;
  if (typeof type !== 'string' || !(CHANNELS as readonly string[]).includes(type)) throw bad(`channel.type must be one of ${CHANNELS.join(', ')}, got ${JSON.stringify(type ?? null)}`);
  if (type === 'webhook') {
    const u = url(optString(c, 'url', 'channel.url'), 'channel.url', ['http', 'https']);
    hosts.push([u.hostname.replace(/^\[|\]$/g, ''), 'channel.url']);
    return { type, url: u.toString() };
  }
  if (type === 'amqp') {
    const raw = optString(c, 'uri', 'channel.uri');
    const u = url(raw, 'channel.uri', ['amqp', 'amqps']);
    hosts.push([u.hostname.replace(/^\[|\]$/g, ''), 'channel.uri']);
    return { type, uri: raw!, exchange: optString(c, 'exchange', 'channel.exchange') ?? '', routingKey: optString(c, 'routing_key', 'channel.routing_key') ?? '' };
  }
  const raw = optString(c, 'uri', 'channel.uri');
  if (!raw) throw bad('channel.uri is required (host:port or stomp://host:port)');
  let addr;
  try {
    addr = stompAddress(raw);
  } catch (e) {
    throw bad(`channel.uri: ${(e as Error).message}`);
  }
  hosts.push([addr.host, 'channel.uri']);
  const destination = optString(c, 'destination', 'channel.destination');
  if (!destination) throw bad('channel.destination is required (e.g. /queue/clair-notifications)');
  if (/[\r\n\0]/.test(destination)) throw bad(`channel.destination must not hold line breaks or NUL, got ${JSON.stringify(destination)}`);
  const login = optString(c, 'login', 'channel.login');
  const passcode = optString(c, 'passcode', 'channel.passcode');
  return { type: 'stomp', uri: raw, destination, ...(login !== undefined ? { login } : {}), ...(passcode !== undefined ? { passcode } : {}) };
}

/** A new subscription (fresh id and creation time) from its JSON form. */
export async function parseSubscription(body: unknown, checkHost: HostCheck): Promise<Subscription> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object');
  const o = body as Record<string, unknown>;
  const known = new Set(['name', 'channel', 'manifests', 'repository', 'min_severity', 'fixable_only', 'kev_only']);
  const unknown = Object.keys(o).filter((k) => !known.has(k));
  if (unknown.length > 0) throw bad(`unknown field ${JSON.stringify(unknown[0])} (known: ${[...known].join(', ')})`);
  const hosts: [string, string][] = [];
  const sub: Subscription = { id: randomUUID(), name: optString(o, 'name', 'name') ?? '', channel: channel(o.channel, hosts), created: new Date().toISOString() };
  if (o.manifests !== undefined && o.manifests !== null) {
    if (!Array.isArray(o.manifests) || o.manifests.length === 0) throw bad('manifests must be a non-empty list of manifest digests (omit it for every manifest)');
    if (o.manifests.length > MAX_MANIFESTS) throw bad(`manifests lists ${o.manifests.length} digests; at most ${MAX_MANIFESTS}`);
    for (const m of o.manifests) if (typeof m !== 'string' || !DIGEST.test(m)) throw bad(`manifests: ${JSON.stringify(m)} is not a digest (algorithm:hex)`);
    sub.manifests = [...new Set(o.manifests as string[])];
  }
  const repository = optString(o, 'repository', 'repository');
  if (repository !== undefined) {
    if (repository === '' || repository.length > 1024) throw bad('repository must be a pattern of 1 to 1024 characters');
    sub.repository = repository;
  }
  const min = optString(o, 'min_severity', 'min_severity');
  if (min !== undefined) {
    const s = parseSeverity(min);
    if (!s) throw bad(`min_severity must be one of ${NORMALIZED_SEVERITIES.join(', ')}, got ${JSON.stringify(min)}`);
    sub.minSeverity = s;
  }
  if (optBool(o, 'fixable_only')) sub.fixableOnly = true;
  if (optBool(o, 'kev_only')) sub.kevOnly = true;
  // Last: the one check that may need the network (DNS).
  for (const [host, field] of hosts) await checkHost(host, field);
  return sub;
}

/** The JSON form served by the API and printed by the CLI: the same fields, with id and created, secrets hidden. */
export function subscriptionJson(s: Subscription): Record<string, unknown> {
  const c = s.channel;
  const ch =
    c.type === 'webhook' ? { type: c.type, url: redactUrl(c.url) }
    : c.type === 'amqp' ? { type: c.type, uri: redactUrl(c.uri), exchange: c.exchange, routing_key: c.routingKey }
    : { type: c.type, uri: c.uri, destination: c.destination, ...(c.login !== undefined ? { login: c.login } : {}), ...(c.passcode !== undefined ? { passcode: '***' } : {}) };
  return {
    id: s.id,
    name: s.name,
    channel: ch,
    ...(s.manifests ? { manifests: s.manifests } : {}),
    ...(s.repository ? { repository: s.repository } : {}),
    ...(s.minSeverity ? { min_severity: s.minSeverity } : {}),
    ...(s.fixableOnly ? { fixable_only: true } : {}),
    ...(s.kevOnly ? { kev_only: true } : {}),
    created: s.created,
  };
}
