import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { constants, deflateRawSync, DeflateRaw } from 'node:zlib';
import { encodeText, TEXT_DEFLATE_OPTIONS } from './stored-text.ts';
import { deflatePack, PACK_DEFLATE_OPTIONS } from './vulnerability-pack.ts';

// A worker thread for the writers' deflates, so that they run on the second core:
// - a feed's new texts (stored-text.ts encodeText), deflated while the feed is still being parsed instead of on the
//   main thread inside the writer's transaction: a deflate there costs ~12 us a text, nearly all of it zlib's
//   per-stream setup (options do not change it; the worker reuses one stream instead: reusedDeflate), and the 40k new
//   texts of the Debian tracker took 0.5 s of a 2.5 s ingest, all after parsing had ended;
// - the packs of a write (vulnerability-pack.ts deflatePack), which can only be made inside its transaction (their
//   lines hold the ids of texts it inserts), which must not yield to the event loop (another caller of the store
//   would run inside it): the worker deflates the next slice of packs while the main thread stores the last, whose
//   bytes it reads synchronously (receiveMessageOnPort); while they are not back, it deflates that slice's packs
//   itself, from the last, so it never waits (a starved or dead worker costs only the work it does not do).
// The worker deflates with the same options, so the bytes are the same.
//
// One worker per process, started on first use (only for enough work: small feeds and the daily re-load, whose
// texts are stored already, never start it for texts), ended after IDLE_MS without work. It is unref'd while it has
// no request in flight, so it never keeps the process alive; a worker that fails fails its requests, and the
// writers deflate those themselves.

export interface DeflateRequest {
  id: number;
  /** text: encodeText; pack: deflatePack; raw: deflateRaw with zlib's defaults (enrichment packs). */
  kind: 'text' | 'pack' | 'raw';
  items: string[];
  /** Answered on the synchronous port (DeflateWorkerData). */
  sync?: boolean;
}

export type DeflateReply = { id: number; data: Uint8Array; ends: Uint32Array } | { id: number; error: string };

export interface DeflateWorkerData {
  syncPort: MessagePort;
  /** Int32: the last synchronous request the main thread gave up (the worker skips those up to it). */
  abandoned: SharedArrayBuffer;
  /** The options of encodeText and deflatePack. */
  textOptions: { dictionary: Uint8Array; chunkSize: number };
  packOptions: { dictionary: Uint8Array; chunkSize: number };
}

/**
 * The worker's code: plain JavaScript run with `eval`, so that its start costs ~70 ms of CPU, where a .ts file
 * (Node's type stripper loaded in the worker first) took ~90 ms, and ~130 ms importing stored-text.ts and
 * vulnerability-pack.ts for their deflates. It deflates as encodeText, deflatePack (their options, from workerData: the
 * same bytes) or zlib's defaults (enrichment packs), and posts the bytes back as one transferred buffer and the end
 * offset of each. Requests marked `sync` are answered on the synchronous port, or skipped when the main thread has
 * given them up (done them itself).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { constants, deflateRawSync, DeflateRaw } = require('node:zlib');
const { syncPort, abandoned, textOptions, packOptions } = workerData;
const givenUp = new Int32Array(abandoned);
${reusedDeflate.toString()}
const deflates = { text: reusedDeflate(textOptions), pack: reusedDeflate(packOptions), raw: reusedDeflate({}) };
parentPort.on('message', (m) => {
  if (m.sync && m.id <= Atomics.load(givenUp, 0)) return;
  const to = m.sync ? syncPort : parentPort;
  try {
    const parts = m.items.map(deflates[m.kind]);
    const ends = new Uint32Array(parts.length);
    let total = 0;
    parts.forEach((p, i) => (ends[i] = total += p.length));
    const data = new Uint8Array(total);
    parts.forEach((p, i) => data.set(p, i === 0 ? 0 : ends[i - 1]));
    to.postMessage({ id: m.id, data, ends }, [data.buffer, ends.buffer]);
  } catch (e) {
    to.postMessage({ id: m.id, error: String(e && e.message) });
  }
});
`;
const IDLE_MS = 10_000;

/**
 * deflateRawSync with these options, as a function that keeps one zlib stream and resets it between items. A fresh
 * deflateRawSync builds a stream object, allocates and clears zlib's ~260 KB of state and loads the dictionary for
 * every item; the texts and packs it deflates are a few hundred bytes each, so that setup was about half the cost
 * (40,000 Debian texts: 0.78-0.97 s of CPU, 0.42-0.55 s reused). deflateReset then the dictionary again (what the
 * handle's reset() does) leaves the stream as a new one, so the bytes are the same. It drives the stream's handle
 * (writeSync, reset: Node's own sync path, zlibBufferSync, calls the same) because the public sync API closes the
 * stream after one item; where the handle lacks them, or after a zlib error, it is deflateRawSync as before.
 * Runs in the worker (WORKER_SOURCE has its source: plain JavaScript, no types); exported for its test.
 */
export function reusedDeflate(options: { dictionary?: Uint8Array; chunkSize?: number }): ((s: string) => Buffer) & { fresh: number } {
  // Items deflated by deflateRawSync instead (counted for the test).
  const fresh = (s: string) => {
    deflate.fresh++;
    return deflateRawSync(s, options);
  };
  type Stream = { _handle?: unknown; _writeState?: unknown; destroyed: boolean; on(e: 'error', f: () => void): void };
  let stream: Stream | undefined;
  let used = false;
  const out = Buffer.allocUnsafe(options.chunkSize ?? 16 * 1024);
  const deflate = Object.assign((s: string): Buffer => {
    if (stream === undefined) {
      stream = new DeflateRaw(options) as unknown as Stream;
      // A zlib error destroys the stream (synchronously; the event follows): the item is then deflated afresh.
      stream.on('error', () => undefined);
      used = false;
    }
    const handle = stream._handle as { writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void; reset(): void } | undefined;
    const state = stream._writeState;
    if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array)) return fresh(s);
    if (used) handle.reset();
    used = true;
    const input = Buffer.from(s);
    const parts: Buffer[] = [];
    let inOff = 0;
    let inLeft = input.length;
    for (;;) {
      handle.writeSync(constants.Z_FINISH, input, inOff, inLeft, out, 0, out.length);
      if (stream.destroyed) {
        stream = undefined;
        return fresh(s);
      }
      const outLeft = state[0]!;
      const inAfter = state[1]!;
      if (outLeft < out.length) parts.push(Buffer.from(out.subarray(0, out.length - outLeft)));
      inOff += inLeft - inAfter;
      inLeft = inAfter;
      // Output space left over: zlib finished the stream (with none left, it may have more to give).
      if (outLeft > 0) break;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }, { fresh: 0 });
  return deflate;
}

function split(m: { data: Uint8Array; ends: Uint32Array }): Buffer[] {
  const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  const out: Buffer[] = new Array(m.ends.length);
  for (let i = 0, start = 0; i < m.ends.length; start = m.ends[i++]!) out[i] = data.subarray(start, m.ends[i]);
  return out;
}

interface Pending {
  resolve(bytes: Buffer[]): void;
  reject(e: Error): void;
}

class DeflateWorker {
  #worker: Worker | undefined;
  #syncPort: MessagePort | undefined;
  #abandoned: Int32Array | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #idle: NodeJS.Timeout | undefined;
  /** Workers started and requests made (for tests). */
  started = 0;
  requests = 0;

  /** Texts deflated as encodeText does. */
  deflate(texts: string[]): Promise<Buffer[]> {
    return this.#request('text', texts);
  }

  /** Packs (each its lines joined by '\n') deflated as deflatePack does. */
  deflatePacks(joined: string[]): Promise<Buffer[]> {
    return this.#request('pack', joined);
  }

  /** Strings deflated (raw) with zlib's default options. */
  deflateRaw(items: string[]): Promise<Buffer[]> {
    return this.#request('raw', items);
  }

  #request(kind: DeflateRequest['kind'], items: string[]): Promise<Buffer[]> {
    const w = this.#start();
    this.requests++;
    const id = this.#nextId++;
    return new Promise<Buffer[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) w.ref();
      const m: DeflateRequest = { id, kind, items };
      w.postMessage(m);
    });
  }

  /**
   * Starts deflating packs (each its lines joined by '\n') for a synchronous read (pollPacks); requests are answered
   * in the order they were made.
   */
  postPacks(joined: string[]): number {
    const w = this.#start();
    this.requests++;
    const id = this.#nextId++;
    const m: DeflateRequest = { id, kind: 'pack', items: joined, sync: true };
    w.postMessage(m);
    return id;
  }

  /** The caller deflated the packs of request `id` itself: the worker skips it (and those before) if not begun. */
  abandonPacks(id: number): void {
    if (this.#abandoned) Atomics.store(this.#abandoned, 0, id);
  }

  /**
   * The packs of request `id` if the worker has answered, 'pending' if not yet, undefined if it failed them (the
   * caller deflates them itself). Never waits. Answers to earlier requests (given up) are dropped.
   */
  pollPacks(id: number): Buffer[] | 'pending' | undefined {
    const port = this.#syncPort;
    if (!port) return 'pending';
    for (;;) {
      const got = (receiveMessageOnPort(port) as { message: DeflateReply } | undefined)?.message;
      if (!got) return 'pending';
      if (got.id < id) continue;
      if (got.id > id || 'error' in got) return undefined;
      if (this.#worker) this.#idleSoon(this.#worker);
      return split(got);
    }
  }

  /**
   * Starts the worker ahead of a synchronous use (a write's packs), so that its start-up (~70 ms of CPU) does not
   * fall inside the write. Idle until asked, ended after IDLE_MS.
   */
  warm(): void {
    this.#idleSoon(this.#start());
  }

  /** Whether a worker is running. */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Ends the worker (its requests fail); the next request starts another. */
  async terminate(): Promise<void> {
    const w = this.#worker;
    if (w) await w.terminate();
  }

  #start(): Worker {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
    if (this.#worker) return this.#worker;
    const { port1, port2 } = new MessageChannel();
    port1.unref();
    const abandoned = new SharedArrayBuffer(4);
    const data: DeflateWorkerData = { syncPort: port2, abandoned, textOptions: { ...TEXT_DEFLATE_OPTIONS }, packOptions: { ...PACK_DEFLATE_OPTIONS } };
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: data, transferList: [port2] });
    this.started++;
    w.unref();
    w.on('message', (m: DeflateReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if ('error' in m) p.reject(new Error(`deflate worker: ${m.error}`));
      else p.resolve(split(m));
      this.#idleSoon(w);
    });
    const gone = (e: Error) => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      this.#syncPort = undefined;
      this.#abandoned = undefined;
      port1.close();
      if (this.#idle) clearTimeout(this.#idle);
      this.#idle = undefined;
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(e);
    };
    w.on('error', (e) => gone(e));
    w.on('exit', (code) => gone(new Error(`deflate worker exited (code ${code})`)));
    this.#worker = w;
    this.#syncPort = port1;
    this.#abandoned = new Int32Array(abandoned);
    return w;
  }

  /** With no request in flight: unref'd, and ended after IDLE_MS unless asked again. */
  #idleSoon(w: Worker): void {
    if (this.#pending.size > 0 || this.#worker !== w) return;
    w.unref();
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => void w.terminate(), IDLE_MS).unref();
  }
}

/** The process's deflate worker. */
export const deflateWorker = new DeflateWorker();

/**
 * A writer's new texts are deflated on the worker once it has minTexts (fewer are deflated at write, as before).
 * Settable for tests (Infinity: never the worker).
 */
export const deflateSettings = { minTexts: 1000 };
/** Texts per request to the worker. */
const AHEAD_CHUNK = 500;

/**
 * The stored bytes of a writer's new texts (not in the store when it looked), deflated ahead on the worker. The
 * writer still resolves texts in its transaction as before (a text found stored then is not inserted, and one not
 * found is inserted with these bytes, or deflated then when they are not here): this only moves the deflate.
 */
export class TextsAhead {
  readonly #min: number;
  /** Texts given and not yet sent to the worker. */
  #queue: { hash: string; text: string }[] = [];
  #given = 0;
  readonly #bytes = new Map<string, Uint8Array>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Texts given (or found stored) since the last clear: not looked up again. */
  readonly #seen = new Set<string>();
  /** Texts given and not yet taken. */
  readonly #unstored = new Set<string>();

  constructor(minTexts = deflateSettings.minTexts) {
    this.#min = minTexts;
  }

  /** Whether this text was given (or marked seen) since the last clear. */
  seen(hash: string): boolean {
    return this.#seen.has(hash);
  }

  markSeen(hash: string): void {
    this.#seen.add(hash);
  }

  /** Whether this text was missing from the store when given, and is not written yet. */
  unstored(hash: string): boolean {
    return this.#unstored.has(hash);
  }

  /** A text the store does not hold: deflated ahead (once enough have come). */
  add(hash: string, text: string): void {
    this.#seen.add(hash);
    this.#unstored.add(hash);
    this.#queue.push({ hash, text });
    this.#given++;
    if (this.#given >= this.#min && this.#queue.length >= AHEAD_CHUNK) this.#send();
  }

  #send(): void {
    const chunk = this.#queue;
    this.#queue = [];
    if (chunk.length === 0) return;
    const run = deflateWorker.deflate(chunk.map((c) => c.text)).then(
      (bytes) => {
        chunk.forEach((c, i) => this.#bytes.set(c.hash, bytes[i]!));
      },
      () => undefined, // the worker failed: these are deflated at write
    );
    this.#inFlight.add(run);
    void run.then(() => this.#inFlight.delete(run));
  }

  /** Waits for what is on the worker, the rest sent first when the worker is in use. Never rejects. */
  async settle(): Promise<void> {
    if (this.#given >= this.#min) this.#send();
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** A text's stored bytes, deflated ahead (and forgotten here), or deflated now. */
  take(hash: string, text: string): Uint8Array {
    this.#unstored.delete(hash);
    const b = this.#bytes.get(hash);
    if (b === undefined) return encodeText(text);
    this.#bytes.delete(hash);
    return b;
  }

  /**
   * The writer drained the records it held: the texts seen so far are resolved by its next write, and the records
   * that come after are looked up again.
   */
  drained(): void {
    this.#seen.clear();
  }

  /** Forgets everything (the writer is done): what is still on the worker is dropped. */
  clear(): void {
    this.#queue = [];
    this.#bytes.clear();
    this.#seen.clear();
    this.#unstored.clear();
  }
}

/**
 * A writer's deflate of the new texts of each batch (PostgreSQL's writer, which inserts them batch by batch): on the
 * worker once the writer has had deflateSettings.minTexts, here before that or when the worker fails.
 */
export class BatchDeflate {
  readonly #min: number;
  #given = 0;

  constructor(minTexts = deflateSettings.minTexts) {
    this.#min = minTexts;
  }

  readonly deflate = async (texts: string[]): Promise<Uint8Array[]> => {
    this.#given += texts.length;
    if (this.#given < this.#min) return texts.map(encodeText);
    try {
      return await deflateWorker.deflate(texts);
    } catch {
      return texts.map(encodeText);
    }
  };
}

/** Packs a write deflates on the worker at least (fewer are deflated here, unless the worker is running). */
export const PACK_WORKER_MIN = 1000;
/** Packs per request to the worker: the first small (the main thread waits for it), the next ones larger. */
const FIRST_SLICE = 64;
const SLICE = 512;

/**
 * Deflates packs and hands each to `store` with its bytes, in order, synchronously (inside the caller's
 * transaction): on the worker, which deflates the next slice of packs while `store` takes the last (and here, the
 * packs of a slice whose bytes are not back yet). `packs` is
 * pulled a slice ahead (their lines can be made as they are needed); `count` is how many it will give, about.
 */
export function deflatePacks<T extends { lines: readonly string[] }>(packs: Iterable<T>, count: number, store: (p: T, data: Buffer) => void): void {
  if (count < PACK_WORKER_MIN && !deflateWorker.running) {
    for (const p of packs) store(p, deflatePack(p.lines));
    return;
  }
  const it = packs[Symbol.iterator]();
  const pull = (n: number): T[] => {
    const out: T[] = [];
    for (let r = it.next(); !r.done; r = it.next()) {
      out.push(r.value);
      if (out.length >= n) break;
    }
    return out;
  };
  const post = (slice: T[]) => (slice.length === 0 ? -1 : deflateWorker.postPacks(slice.map((p) => p.lines.join('\n'))));
  let slice = pull(FIRST_SLICE);
  let id = post(slice);
  while (slice.length > 0) {
    const next = pull(SLICE);
    const nextId = post(next);
    // The worker's bytes of this slice, or, while they are not back, its packs deflated here from the last.
    const own: Buffer[] = [];
    let got = deflateWorker.pollPacks(id);
    for (let k = slice.length - 1; got === 'pending' && k >= 0; k--) {
      own[k] = deflatePack(slice[k]!.lines);
      got = deflateWorker.pollPacks(id);
    }
    if (got === 'pending') deflateWorker.abandonPacks(id);
    const bytes = got === 'pending' ? undefined : got;
    slice.forEach((p, i) => store(p, own[i] ?? bytes?.[i] ?? deflatePack(p.lines)));
    slice = next;
    id = nextId;
  }
}

/**
 * Packs deflated (each its lines), for a writer that can wait (PostgreSQL's: the worker deflates a batch while the
 * server writes the one before): on the worker with as many packs as PACK_WORKER_MIN or when it is running, here
 * otherwise or when it fails.
 */
export async function deflatePacksAsync(packs: readonly (readonly string[])[]): Promise<Buffer[]> {
  if (packs.length >= PACK_WORKER_MIN || deflateWorker.running) {
    try {
      return await deflateWorker.deflatePacks(packs.map((l) => l.join('\n')));
    } catch {
      // deflated here
    }
  }
  return packs.map((l) => deflatePack(l));
}

/** Records a writer holds at least before it starts the worker for its packs (deflatePacks: PACK_WORKER_MIN packs). */
export const WARM_RECORDS = 10_000;
