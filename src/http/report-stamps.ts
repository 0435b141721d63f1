import type { ReportStamps } from '../store/store.ts';

// The per-request freshness check of cached vulnerability reports, batched: every request needs the current stamps
// (store.getReportStamps: the set of update operations, its manifest's index report), and a request must see every
// operation committed before it arrived, by this instance or by any other sharing the database. Reading them once
// per request costs a PostgreSQL round trip each; here, requests that arrive while a read is in flight wait for the
// next read, which starts when the current one ends and answers all of them in one statement. So the check is never
// stale (each answer comes from a read that began after its request arrived) and costs one round trip per batch:
// under load, one per in-flight read's worth of requests instead of one per request.
// A read starts on the event loop's next check phase (setImmediate), not in the call that finds none in flight:
// the requests whose bytes arrived in the same poll phase (several connections' at once, under load) are parsed and
// routed one after another there, and all of them join the read that starts after the last. Started at once, the
// read would carry the first request alone and the rest would wait a whole round trip for the next one.

export type StampReader = (manifestHashes: string[]) => Promise<ReportStamps>;

interface Waiter {
  hash: string;
  resolve(v: { operations: string; indexReport: string | undefined }): void;
  reject(e: unknown): void;
}

export class ReportStampBatcher {
  readonly #read: StampReader;
  #queue: Waiter[] = [];
  #reading = false;
  #scheduled = false;

  constructor(read: StampReader) {
    this.#read = read;
  }

  /** The stamps as of a read that began after this call. */
  get(manifestHash: string): Promise<{ operations: string; indexReport: string | undefined }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ hash: manifestHash, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#reading || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#next();
    });
  }

  async #next(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    this.#reading = true;
    const hashes = [...new Set(batch.map((w) => w.hash))];
    try {
      const got = await this.#read(hashes);
      const byHash = new Map(hashes.map((h, i) => [h, got.indexReports[i]]));
      for (const w of batch) w.resolve({ operations: got.operations, indexReport: byHash.get(w.hash) });
    } catch (e) {
      for (const w of batch) w.reject(e);
    } finally {
      this.#reading = false;
      if (this.#queue.length > 0) this.#schedule();
    }
  }
}
