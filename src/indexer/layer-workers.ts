import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { ClairError, isClairError, type ErrorCode } from '../model/errors.ts';
import type { HardLink, WalkResult } from './layer-scan.ts';

// Large layers are decompressed, walked and scanned in worker threads: the main thread only reads the blob (and
// checks its digest, in the image source) and posts the compressed chunks; the tar walk, the scanners, the zlib
// callbacks and the garbage of the decompressed chunks are the worker's. With layers scanned at the same time, that
// work runs on as many cores instead of queueing on the main thread's one.
//
// Memory: at most MAX_IN_FLIGHT compressed bytes per layer are posted and not yet taken by the worker's
// decompressor; the reader is paused until the worker catches up. Inside the worker the pipeline is the in-process
// one (bounded per stage). Workers are started on first use, kept while layers keep coming, and end after
// IDLE_MS without work; an idle worker never keeps the process alive.

/** How the worker builds the same scanners as the main thread: `(await import(module))[export](options)`. */
export interface ScannerRecipe {
  /** A module URL. */
  module: string;
  export: string;
  /** Structured-cloneable. */
  options: unknown;
}

export type ToWorker =
  | { type: 'start'; id: number; digest: string }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'abort'; id: number };

export type FromWorker =
  | { type: 'ack'; id: number; bytes: number }
  | { type: 'done'; id: number; walk: WalkResult & { hardLinks: HardLink[] } }
  | { type: 'error'; id: number; code: ErrorCode; message: string };

const MAX_IN_FLIGHT = 8 << 20;
const IDLE_MS = 10_000;
const WORKER_URL = new URL('./layer-worker.ts', import.meta.url);

interface Slot {
  worker: Worker;
  /** The layer it scans now, if any. */
  job: Job | undefined;
  idle: NodeJS.Timeout | undefined;
}

interface Job {
  id: number;
  onMessage(m: FromWorker): void;
  /** The worker died (crash, out of memory, terminate). */
  onExit(err: Error): void;
}

export class LayerWorkers {
  readonly #recipe: ScannerRecipe;
  readonly #max: number;
  readonly #slots: Slot[] = [];
  readonly #waiting: ((slot: Slot) => void)[] = [];
  #nextId = 1;
  #closed = false;

  constructor(recipe: ScannerRecipe, max: number) {
    this.#recipe = recipe;
    this.#max = Math.max(1, max);
  }

  /**
   * Walks and scans the layer whose compressed bytes `raw` streams. Errors of `raw` (digest mismatch, read errors)
   * reject as they are; the worker's errors come back as the ClairError it raised ('bad-layer', 'unsupported', …).
   * `raw` is consumed to its end, or destroyed when the scan fails.
   */
  async walk(raw: Readable, digest: string): Promise<WalkResult & { hardLinks: HardLink[] }> {
    const slot = await this.#acquire();
    try {
      return await this.#run(slot, raw, digest);
    } finally {
      this.#release(slot);
    }
  }

  /** Ends every worker (idle or not). */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map((s) => {
      clearTimeout(s.idle);
      return s.worker.terminate();
    }));
  }

  #run(slot: Slot, raw: Readable, digest: string): Promise<WalkResult & { hardLinks: HardLink[] }> {
    const id = this.#nextId++;
    const worker = slot.worker;
    return new Promise((resolve, reject) => {
      let inFlight = 0;
      let settled = false;
      const finish = (err: Error | undefined, walk?: WalkResult & { hardLinks: HardLink[] }): void => {
        if (settled) return;
        settled = true;
        slot.job = undefined;
        raw.off('data', onData);
        raw.off('end', onEnd);
        raw.off('error', onError);
        if (err) {
          try {
            worker.postMessage({ type: 'abort', id } satisfies ToWorker);
          } catch {
            // the worker is gone: nothing to stop
          }
          raw.on('error', () => {}); // a late error of a stream given up
          raw.destroy();
          reject(err);
        } else {
          resolve(walk!);
        }
      };
      const onData = (chunk: Buffer): void => {
        inFlight += chunk.length;
        // A chunk that is a whole ArrayBuffer of its own (fs reads) moves to the worker; views into shared or
        // pooled memory (HTTP bodies) are copied, since moving would take the rest of that memory too.
        const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
        const data = owned ? new Uint8Array(chunk.buffer) : new Uint8Array(chunk);
        worker.postMessage({ type: 'chunk', id, data } satisfies ToWorker, owned ? [data.buffer as ArrayBuffer] : []);
        if (inFlight > MAX_IN_FLIGHT) raw.pause();
      };
      const onEnd = (): void => worker.postMessage({ type: 'end', id } satisfies ToWorker);
      const onError = (err: Error): void => finish(err);
      slot.job = {
        id,
        onMessage: (m) => {
          if (m.type === 'ack') {
            inFlight -= m.bytes;
            if (raw.isPaused() && inFlight <= MAX_IN_FLIGHT / 2 && !settled) raw.resume();
          } else if (m.type === 'done') {
            finish(undefined, m.walk);
          } else {
            finish(new ClairError(m.code, m.message));
          }
        },
        onExit: (err) => finish(err),
      };
      worker.postMessage({ type: 'start', id, digest } satisfies ToWorker);
      raw.on('data', onData);
      raw.on('end', onEnd);
      raw.on('error', onError);
    });
  }

  #acquire(): Promise<Slot> {
    if (this.#closed) return Promise.reject(new ClairError('internal', 'the indexer is closed'));
    const free = this.#slots.find((s) => s.job === undefined && !this.#reserved.has(s));
    if (free) return Promise.resolve(this.#reserve(free));
    if (this.#slots.length < this.#max) return Promise.resolve(this.#reserve(this.#spawn()));
    return new Promise((resolve) => this.#waiting.push((s) => resolve(this.#reserve(s))));
  }

  /** Slots handed out and not released (a job is set only once the scan starts). */
  readonly #reserved = new Set<Slot>();

  #reserve(slot: Slot): Slot {
    clearTimeout(slot.idle);
    slot.idle = undefined;
    slot.worker.ref();
    this.#reserved.add(slot);
    return slot;
  }

  #release(slot: Slot): void {
    this.#reserved.delete(slot);
    if (!this.#slots.includes(slot)) return; // it died
    const next = this.#waiting.shift();
    if (next) {
      next(slot);
      return;
    }
    slot.worker.unref();
    slot.idle = setTimeout(() => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      void slot.worker.terminate();
    }, IDLE_MS);
    slot.idle.unref();
  }

  #spawn(): Slot {
    const worker = new Worker(WORKER_URL, { workerData: this.#recipe });
    const slot: Slot = { worker, job: undefined, idle: undefined };
    worker.on('message', (m: FromWorker) => {
      if (slot.job && m.id === slot.job.id) slot.job.onMessage(m);
    });
    let dead = false;
    const died = (err: Error): void => {
      if (dead) return;
      dead = true;
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      clearTimeout(slot.idle);
      slot.job?.onExit(err);
      // A waiting scan gets a fresh worker instead of waiting for one that will not come back.
      const next = this.#closed ? undefined : this.#waiting.shift();
      if (next) next(this.#spawn());
    };
    worker.on('error', (e) => died(isClairError(e) ? e : new ClairError('internal', `layer worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => died(new ClairError('internal', `layer worker exited (code ${code})`)));
    this.#slots.push(slot);
    return slot;
  }
}
