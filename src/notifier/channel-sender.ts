import amqp from 'amqplib';
import { ClairError, errorMessage } from '../model/errors.ts';
import { withIdleTimeout } from '../model/idle-timeout-fetch.ts';
import { redactUrl } from '../model/redact-url.ts';
import type { SubscriptionChannel } from '../model/subscription.ts';
import type { StoredNotification } from '../store/store.ts';
import { StompConnection, stompAddress } from './stomp-client.ts';
import type { HostCheck } from './subscription-input.ts';
import type { RequestSigner } from './webhook-signer.ts';

// Sends one subscription's share of a notification set as one message, on the subscription's channel; resolves only
// when the receiver confirmed it (a 2xx answer, a publisher confirm, a STOMP RECEIPT). A connection per message:
// subscriptions are many and messages few (one per update operation), and a broker that dropped a connection is
// simply reached again next time. The message (JSON) is the same on every channel:
//   {"notification_id", "subscription_id", "subscription" (its name), "notifications": [notification, ...]}
// Receivers see a message at least once: repeats carry the same notification_id and subscription_id.

export interface SubscriptionMessage {
  notification_id: string;
  subscription_id: string;
  subscription: string;
  notifications: StoredNotification[];
}

export interface ChannelOptions {
  /** Webhooks are signed as Clair signs its own (auth.psk). */
  sign?: RequestSigner;
  fetch?: typeof fetch;
  /** Checked again before each delivery: a name may resolve elsewhere than when the subscription was made. */
  checkHost?: HostCheck;
}

const TIMEOUT_MS = 30_000;

export function channelName(c: SubscriptionChannel): string {
  return c.type === 'webhook' ? `webhook ${redactUrl(c.url)}` : c.type === 'amqp' ? `amqp ${redactUrl(c.uri)} exchange ${JSON.stringify(c.exchange)}` : `stomp ${c.uri} ${c.destination}`;
}

export async function sendToChannel(c: SubscriptionChannel, m: SubscriptionMessage, opts: ChannelOptions = {}): Promise<void> {
  const body = Buffer.from(JSON.stringify(m));
  try {
    if (c.type === 'webhook') {
      await opts.checkHost?.(new URL(c.url).hostname.replace(/^\[|\]$/g, ''), 'channel.url');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.sign) headers.authorization = await opts.sign();
      const res = await withIdleTimeout(opts.fetch ?? fetch)(c.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
      await res.body?.cancel();
      if (res.status < 200 || res.status > 299) throw new Error(`answered ${res.status}`);
      return;
    }
    if (c.type === 'amqp') {
      await opts.checkHost?.(new URL(c.uri).hostname.replace(/^\[|\]$/g, ''), 'channel.uri');
      const conn = await amqp.connect(c.uri, { timeout: TIMEOUT_MS });
      conn.on('error', () => undefined); // reported through the failing publish below
      try {
        const ch = await conn.createConfirmChannel();
        ch.on('error', () => undefined);
        // The exchange must exist (a 404 closes the channel and fails the delivery): the subscriber owns it.
        if (c.exchange !== '') await ch.checkExchange(c.exchange);
        await new Promise<void>((resolve, reject) => {
          ch.publish(c.exchange, c.routingKey, body, { persistent: true, contentType: 'application/json', headers: { notification_id: m.notification_id, subscription_id: m.subscription_id } }, (err: unknown) =>
            err ? reject(err instanceof Error ? err : new Error('broker refused the message (nack)')) : resolve(),
          );
        });
      } finally {
        await conn.close().catch(() => undefined); // a broken connection needs no closing
      }
      return;
    }
    const addr = stompAddress(c.uri);
    await opts.checkHost?.(addr.host, 'channel.uri');
    const conn = await StompConnection.connect(addr, { ...(c.login !== undefined ? { login: c.login } : {}), ...(c.passcode !== undefined ? { passcode: c.passcode } : {}) });
    try {
      await conn.send(c.destination, body, { persistent: 'true', 'notification-id': m.notification_id, 'subscription-id': m.subscription_id });
    } finally {
      await conn.close();
    }
  } catch (e) {
    throw new ClairError('unavailable', `${channelName(c)}: delivery of notifications ${m.notification_id} to subscription ${m.subscription_id} failed: ${errorMessage(e)}`, { cause: e });
  }
}
