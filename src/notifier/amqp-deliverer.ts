import amqp from 'amqplib';
import { ClairError, errorMessage } from '../model/errors.ts';
import type { Store } from '../store/store.ts';
import type { Deliverer, NotificationCallback } from './deliverer.ts';
import { callbackUrl, type AmqpConfig } from './notifier-config.ts';
import { redactUrl } from '../model/redact-url.ts';

// notifier.amqp: publish to an exchange with publisher confirms; a set counts as delivered only when the broker
// confirmed every message of it. The connection is opened on first use, to the first of notifier.amqp.uris that
// answers, and dropped on any failure so that the next attempt starts afresh (possibly on another URI): a broker
// that is down leaves the sets pending, never lost. Message bodies are JSON, persistent:
//   callback mode: {"notification_id", "callback"} (as the webhook)
//   direct mode:   an array of at most `rollup` notifications; a set spans as many messages as it needs.

const CONNECT_TIMEOUT_MS = 10_000;

interface Session {
  conn: amqp.ChannelModel;
  channel: amqp.ConfirmChannel;
}

export class AmqpDeliverer implements Deliverer {
  readonly name: string;
  readonly #c: AmqpConfig;
  readonly #store: Store;
  #session: Promise<Session> | undefined;

  constructor(c: AmqpConfig, store: Store) {
    this.#c = c;
    this.#store = store;
    this.name = `amqp exchange ${JSON.stringify(c.exchange.name)}`;
  }

  async #open(): Promise<Session> {
    const failures: string[] = [];
    for (const uri of this.#c.uris) {
      let conn: amqp.ChannelModel | undefined;
      try {
        conn = await amqp.connect(uri, { timeout: CONNECT_TIMEOUT_MS });
        // Without listeners a broker-side close would be an unhandled 'error' event: the session is dropped instead.
        conn.on('error', () => this.#drop());
        conn.on('close', () => this.#drop());
        const channel = await conn.createConfirmChannel();
        channel.on('error', () => this.#drop());
        channel.on('close', () => this.#drop());
        const ex = this.#c.exchange;
        if (ex.name !== '') await channel.assertExchange(ex.name, ex.type, { durable: ex.durable, autoDelete: ex.autoDelete });
        return { conn, channel };
      } catch (e) {
        failures.push(`${redactUrl(uri)}: ${errorMessage(e)}`);
        await conn?.close().catch(() => undefined); // already failing; the failure above is the one to report
      }
    }
    throw new ClairError('unavailable', `no AMQP broker of notifier.amqp.uris accepted a connection: ${failures.join('; ')}`);
  }

  #drop(): void {
    const s = this.#session;
    this.#session = undefined;
    s?.then((x) => x.conn.close()).catch(() => undefined); // closing a broken connection: nothing left to report
  }

  async #publish(channel: amqp.ConfirmChannel, body: unknown): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      channel.publish(this.#c.exchange.name, this.#c.routingKey, Buffer.from(JSON.stringify(body)), { persistent: true, contentType: 'application/json' }, (err: unknown) =>
        err ? reject(err instanceof Error ? err : new Error(`broker refused the message (nack)`)) : resolve(),
      );
    });
  }

  async deliver(notificationId: string): Promise<void> {
    let session: Session;
    try {
      session = await (this.#session ??= this.#open());
    } catch (e) {
      this.#session = undefined;
      throw e;
    }
    try {
      if (!this.#c.direct) {
        const body: NotificationCallback = { notification_id: notificationId, callback: callbackUrl(this.#c.callback!, notificationId) };
        await this.#publish(session.channel, body);
        return;
      }
      let after: string | undefined;
      for (;;) {
        const page = await this.#store.getNotificationPage(notificationId, this.#c.rollup, after);
        if (!page) return; // deleted meanwhile: nothing left to deliver
        if (page.notifications.length > 0) await this.#publish(session.channel, page.notifications);
        if (!page.next) return;
        after = page.next;
      }
    } catch (e) {
      this.#drop();
      throw new ClairError('unavailable', `${this.name}: publishing notification ${notificationId} failed: ${errorMessage(e)}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (s) await s.then((x) => x.conn.close()).catch(() => undefined); // a broken connection needs no closing
  }
}
