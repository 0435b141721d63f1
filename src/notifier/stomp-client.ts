import net from 'node:net';
import tls from 'node:tls';
import { ClairError, errorMessage } from '../model/errors.ts';

// A small STOMP 1.2 client over TCP (or TLS): CONNECT, SEND with a receipt, BEGIN/COMMIT, SUBSCRIBE (tests and
// consumers), DISCONNECT. Written here rather than taken from npm: @stomp/stompjs speaks STOMP over WebSocket and
// needs a socket adapter (@stomp/tcp-wrapper, barely used) plus its own reconnect and heart-beat machinery, while a
// deliverer needs exactly "connect, send, wait for the broker's RECEIPT, disconnect" — a few frames whose format
// (https://stomp.github.io/stomp-specification-1.2.html) fits in this file. Heart-beats are declined (0,0): a
// connection lives for one delivery, as Clair's (notifier/stomp) does.

export interface StompAddress {
  host: string;
  port: number;
  tls: boolean;
}

const DEFAULT_PORT = 61613;
const TIMEOUT_MS = 30_000;
const MAX_FRAME = 16 * 1024 * 1024;

/** host:port (Clair's form), stomp://host:port, tcp://host:port, or stomp+ssl:// / ssl:// for TLS. */
export function stompAddress(uri: string): StompAddress {
  const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s/:@[\]]+)(?::(\d{1,5}))?\/?$/.exec(uri.trim());
  if (!m) throw new ClairError('bad-input', `STOMP broker address ${JSON.stringify(uri)} is not host:port or stomp://host:port`);
  const scheme = (m[1] ?? 'stomp').toLowerCase();
  if (!['stomp', 'tcp', 'stomp+ssl', 'ssl', 'stomps'].includes(scheme)) throw new ClairError('bad-input', `STOMP broker address ${JSON.stringify(uri)}: scheme ${scheme} is not stomp, tcp, stomp+ssl or ssl`);
  const port = m[3] ? Number(m[3]) : DEFAULT_PORT;
  if (port < 1 || port > 65535) throw new ClairError('bad-input', `STOMP broker address ${JSON.stringify(uri)}: port ${port} is out of range`);
  return { host: m[2]!.replace(/^\[|\]$/g, ''), port, tls: scheme !== 'stomp' && scheme !== 'tcp' };
}

export interface StompFrame {
  command: string;
  headers: Record<string, string>;
  body: Buffer;
}

// STOMP 1.2 header escapes (not applied to CONNECT and CONNECTED frames).
const escapeHeader = (s: string) => s.replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/:/g, '\\c');
const unescapeHeader = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 'c' ? ':' : c));

export function encodeFrame(command: string, headers: Record<string, string>, body: Buffer = Buffer.alloc(0)): Buffer {
  const raw = command === 'CONNECT';
  const lines = [command, ...Object.entries(headers).map(([k, v]) => (raw ? `${k}:${v}` : `${escapeHeader(k)}:${escapeHeader(v)}`))];
  if (body.length > 0) lines.push(`content-length:${body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\n') + '\n\n'), body, Buffer.from([0])]);
}

/** Reads frames off a byte stream: heart-beat EOLs skipped, bodies by content-length or up to the NUL. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): StompFrame[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: StompFrame[] = [];
    for (;;) {
      let start = 0;
      while (start < this.#buf.length && (this.#buf[start] === 0x0a || this.#buf[start] === 0x0d)) start++;
      this.#buf = this.#buf.subarray(start);
      const headEnd = this.#buf.indexOf('\n\n');
      const crlfEnd = this.#buf.indexOf('\r\n\r\n');
      const [end, sep] = crlfEnd >= 0 && (headEnd < 0 || crlfEnd < headEnd) ? [crlfEnd, 4] : [headEnd, 2];
      if (end < 0) {
        if (this.#buf.length > MAX_FRAME) throw new ClairError('bad-input', 'STOMP broker sent a frame header larger than 16 MiB');
        return out;
      }
      const lines = this.#buf.subarray(0, end).toString('utf8').split(/\r?\n/);
      const command = lines[0]!;
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const k = unescapeHeader(line.slice(0, i));
        if (!(k in headers)) headers[k] = unescapeHeader(line.slice(i + 1)); // the first of repeated headers counts
      }
      const bodyStart = end + sep;
      const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
      let bodyEnd: number;
      if (len !== undefined && Number.isInteger(len) && len >= 0) {
        if (len > MAX_FRAME) throw new ClairError('bad-input', `STOMP broker sent a ${len}-byte frame; at most 16 MiB`);
        if (this.#buf.length < bodyStart + len + 1) return out;
        bodyEnd = bodyStart + len;
      } else {
        bodyEnd = this.#buf.indexOf(0, bodyStart);
        if (bodyEnd < 0) return out;
      }
      out.push({ command, headers, body: Buffer.from(this.#buf.subarray(bodyStart, bodyEnd)) });
      this.#buf = this.#buf.subarray(bodyEnd + 1);
    }
  }
}

export interface StompConnectOptions {
  login?: string;
  passcode?: string;
  /** The virtual host (RabbitMQ: the vhost). Default "/". */
  vhost?: string;
  timeoutMs?: number;
}

/** One STOMP session on one TCP connection. Every operation that expects an answer fails on ERROR, close or timeout. */
export class StompConnection {
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader();
  readonly #timeoutMs: number;
  #waiters: { match: (f: StompFrame) => boolean; resolve: (f: StompFrame) => void; reject: (e: Error) => void }[] = [];
  #subscriptions = new Map<string, (f: StompFrame) => void>();
  #failure: Error | undefined;
  #receipts = 0;
  readonly name: string;

  private constructor(socket: net.Socket, name: string, timeoutMs: number) {
    this.#socket = socket;
    this.name = name;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => {
      let frames: StompFrame[];
      try {
        frames = this.#reader.push(chunk);
      } catch (e) {
        this.#fail(e as Error);
        return;
      }
      for (const f of frames) this.#dispatch(f);
    });
    socket.on('error', (e) => this.#fail(new ClairError('unavailable', `STOMP broker ${name}: ${errorMessage(e)}`, { cause: e })));
    socket.on('close', () => this.#fail(new ClairError('unavailable', `STOMP broker ${name} closed the connection`)));
  }

  static async connect(address: StompAddress, opts: StompConnectOptions = {}): Promise<StompConnection> {
    const name = `${address.host}:${address.port}`;
    const timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = address.tls
        ? tls.connect({ host: address.host, port: address.port, servername: net.isIP(address.host) ? undefined : address.host }, () => resolve(s))
        : net.connect({ host: address.host, port: address.port }, () => resolve(s));
      s.setTimeout(timeoutMs, () => s.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
      s.once('error', (e) => reject(new ClairError('unavailable', `STOMP broker ${name}: ${errorMessage(e)}`, { cause: e })));
    });
    socket.setTimeout(0);
    const conn = new StompConnection(socket, name, timeoutMs);
    const headers: Record<string, string> = { 'accept-version': '1.2', host: opts.vhost ?? '/', 'heart-beat': '0,0' };
    if (opts.login !== undefined) headers.login = opts.login;
    if (opts.passcode !== undefined) headers.passcode = opts.passcode;
    try {
      await conn.#request(encodeFrame('CONNECT', headers), (f) => f.command === 'CONNECTED', 'CONNECT');
    } catch (e) {
      socket.destroy();
      throw e;
    }
    return conn;
  }

  #dispatch(f: StompFrame): void {
    if (f.command === 'ERROR') {
      const detail = f.headers.message ?? f.body.toString('utf8').trim().slice(0, 300);
      this.#fail(new ClairError('unavailable', `STOMP broker ${this.name} refused: ${detail}`));
      this.#socket.destroy();
      return;
    }
    if (f.command === 'MESSAGE') {
      this.#subscriptions.get(f.headers.subscription ?? '')?.(f);
      return;
    }
    const i = this.#waiters.findIndex((w) => w.match(f));
    if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(f);
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) w.reject(this.#failure);
  }

  #request(frame: Buffer, match: (f: StompFrame) => boolean, what: string): Promise<StompFrame> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<StompFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new ClairError('unavailable', `STOMP broker ${this.name} did not answer ${what} in ${this.#timeoutMs / 1000} s`));
      }, this.#timeoutMs);
      const waiter = {
        match,
        resolve: (f: StompFrame) => (clearTimeout(timer), resolve(f)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      this.#waiters.push(waiter);
      this.#socket.write(frame);
    });
  }

  /** Sends a frame and waits for the broker's RECEIPT of it. */
  async #withReceipt(command: string, headers: Record<string, string>, body?: Buffer): Promise<void> {
    const id = `r-${++this.#receipts}`;
    await this.#request(encodeFrame(command, { ...headers, receipt: id }, body), (f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === id, command);
  }

  /**
   * SEND, resolved when the broker confirmed it (RECEIPT; RabbitMQ answers after its publisher confirm). Inside a
   * transaction (a `transaction` header) no receipt is asked: the broker acts on the frames at COMMIT, whose receipt
   * is the confirmation.
   */
  async send(destination: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<void> {
    const all = { destination, 'content-type': 'application/json', ...headers };
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    if (headers.transaction === undefined) return this.#withReceipt('SEND', all, bytes);
    if (this.#failure) throw this.#failure;
    this.#socket.write(encodeFrame('SEND', all, bytes));
  }

  begin(transaction: string): Promise<void> {
    return this.#withReceipt('BEGIN', { transaction });
  }

  commit(transaction: string): Promise<void> {
    return this.#withReceipt('COMMIT', { transaction });
  }

  abort(transaction: string): Promise<void> {
    return this.#withReceipt('ABORT', { transaction });
  }

  /** SUBSCRIBE with automatic acknowledgement; resolves once the broker confirmed the subscription. */
  async subscribe(destination: string, onMessage: (f: StompFrame) => void, headers: Record<string, string> = {}): Promise<string> {
    const id = `s-${this.#subscriptions.size + 1}`;
    this.#subscriptions.set(id, onMessage);
    await this.#withReceipt('SUBSCRIBE', { destination, id, ack: 'auto', ...headers });
    return id;
  }

  /** DISCONNECT (waiting for its receipt, so every earlier frame was handled), then close. Never throws. */
  async close(): Promise<void> {
    if (!this.#failure) await this.#withReceipt('DISCONNECT', {}).catch(() => undefined); // closing anyway
    this.#socket.destroy();
  }
}
