import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import amqp from 'amqplib';
import { StompConnection, stompAddress } from '../../src/notifier/stomp-client.ts';

// Real RabbitMQ for the subscription tests: AMQP on CLAIR_TS_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672)
// and its STOMP plugin on CLAIR_TS_STOMP_ADDR (default 127.0.0.1:61613; .ci/run enables the plugin). Every test
// uses exchanges and queues of its own (random names), removed afterwards: the broker is shared.

export const AMQP_URL = process.env['CLAIR_TS_AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672';
export const STOMP_ADDR = process.env['CLAIR_TS_STOMP_ADDR'] || '127.0.0.1:61613';

/** Undefined when AMQP and STOMP answer; else why the tests skip (under CI they fail instead). */
export async function brokerSkipReason(): Promise<string | undefined> {
  try {
    const c = await amqp.connect(AMQP_URL, { timeout: 2000 });
    await c.close();
    const s = await StompConnection.connect(stompAddress(STOMP_ADDR), { login: 'guest', passcode: 'guest', timeoutMs: 2000 });
    await s.close();
    return undefined;
  } catch (e) {
    if (process.env['CI']) throw new Error(`RabbitMQ (AMQP ${AMQP_URL}, STOMP ${STOMP_ADDR}) not reachable but CI is set: ${(e as Error).message}`, { cause: e });
    return `RabbitMQ with the STOMP plugin not reachable (AMQP ${AMQP_URL}, STOMP ${STOMP_ADDR}: ${(e as Error).message}); set CLAIR_TS_AMQP_URL / CLAIR_TS_STOMP_ADDR`;
  }
}

export const uniqueName = (what: string) => `clair-ts-test-${what}-${randomBytes(4).toString('hex')}`;

/** Messages arriving somewhere, parsed as JSON, with a way to wait for a number of them. */
export class Inbox {
  readonly messages: { body: unknown; headers: Record<string, unknown> }[] = [];
  #waiters: (() => void)[] = [];

  add(body: unknown, headers: Record<string, unknown>): void {
    this.messages.push({ body, headers });
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves when at least n messages arrived; fails after 10 s. */
  async atLeast(n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.messages.length < n) {
      if (Date.now() > deadline) throw new Error(`${this.messages.length} message(s) arrived within 10 s, expected ${n}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }
}

/** A fresh direct exchange with an exclusive queue bound to it by routingKey; both removed after the test. */
export async function amqpInbox(t: TestContext, routingKey = 'notifications'): Promise<{ exchange: string; routingKey: string; inbox: Inbox }> {
  const exchange = uniqueName('x');
  const conn = await amqp.connect(AMQP_URL);
  t.after(() => conn.close().catch(() => undefined));
  const ch = await conn.createChannel();
  t.after(() => ch.deleteExchange(exchange).catch(() => undefined));
  await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: false });
  const q = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(q.queue, exchange, routingKey);
  const inbox = new Inbox();
  await ch.consume(q.queue, (m) => {
    if (m) inbox.add(JSON.parse(m.content.toString('utf8')), m.properties.headers ?? {});
  }, { noAck: true });
  return { exchange, routingKey, inbox };
}

/** A STOMP destination /queue/<unique> with a subscriber on it; the queue is deleted after the test. */
export async function stompInbox(t: TestContext): Promise<{ destination: string; inbox: Inbox }> {
  const queue = uniqueName('q');
  const destination = `/queue/${queue}`;
  const conn = await StompConnection.connect(stompAddress(STOMP_ADDR), { login: 'guest', passcode: 'guest' });
  const inbox = new Inbox();
  await conn.subscribe(destination, (f) => inbox.add(JSON.parse(f.body.toString('utf8')), f.headers));
  t.after(async () => {
    await conn.close();
    const c = await amqp.connect(AMQP_URL);
    const ch = await c.createChannel();
    await ch.deleteQueue(queue).catch(() => undefined);
    await c.close().catch(() => undefined);
  });
  return { destination, inbox };
}

/**
 * A TCP proxy in front of a broker that the test can take down and bring back: while down it refuses (resets) new
 * connections and cuts the open ones, as a broker that restarts would, without touching the shared broker.
 */
export async function brokerProxy(t: TestContext, target: { host: string; port: number }): Promise<{ port: number; down(): void; up(): void; connections(): number }> {
  let up = true;
  let count = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!up) {
      client.resetAndDestroy();
      return;
    }
    count++;
    const upstream = net.connect(target);
    open.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of open) s.destroy();
    server.close();
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    down() {
      up = false;
      for (const s of open) s.destroy();
    },
    up() {
      up = true;
    },
    connections: () => count,
  };
}
