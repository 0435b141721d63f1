import { Indexer } from '../indexer/indexer.ts';
import type { Scanner } from '../indexer/scanner.ts';
import type { ScannerRecipe } from '../indexer/layer-workers.ts';
import { ClairError, errorMessage } from '../model/errors.ts';
import type { IndexReport } from '../model/index-report.ts';
import type { Store } from '../store/store.ts';
import { checkManifestPolicy, manifestImage, type LayerFetchPolicy, type Manifest } from './manifest-image.ts';

// The indexer side of the API: a manifest in, its IndexReport stored and returned. A manifest already indexed
// under the current index_state is answered from the store without fetching anything; concurrent requests for the
// same manifest in this process share one indexing run.

export interface IndexObserver {
  indexed(result: 'new' | 'stored' | 'error', seconds: number): void;
  layer(result: 'hit' | 'miss'): void;
}

export interface IndexOutcome {
  report: IndexReport;
  /** True when the stored report was returned and nothing was fetched. */
  stored: boolean;
}

/** The report Clair stores for a manifest whose indexing failed. */
export function indexErrorReport(m: Manifest, err: string): IndexReport {
  return {
    manifestHash: m.hash,
    state: 'IndexError',
    success: false,
    err,
    packages: {},
    distributions: {},
    repositories: {},
    environments: {},
    layers: m.layers.map((l) => l.hash),
  };
}

/**
 * Is this indexing failure the content's fault (a layer that is not a tar, or is compressed in a way clair-ts does
 * not read)? Clair answers those 400 (tarfs.ErrFormat) and every other failure, fetch failures included, 500: a
 * client such as Quay never retries a 400 and retries a 5xx later.
 */
export function isLayerContentError(e: unknown): boolean {
  return e instanceof ClairError && (e.code === 'bad-layer' || e.code === 'unsupported');
}

export class IndexingService {
  readonly #store: Store;
  readonly #indexer: Indexer;
  readonly #policy: LayerFetchPolicy;
  readonly #concurrency: number;
  readonly #observer: IndexObserver | undefined;
  readonly #inflight = new Map<string, Promise<IndexOutcome>>();

  constructor(store: Store, scanners: readonly Scanner[], opts: { policy: LayerFetchPolicy; concurrency: number; observer?: IndexObserver; workers?: ScannerRecipe }) {
    this.#store = store;
    this.#indexer = new Indexer(store, scanners, opts.workers ? { workers: opts.workers } : {});
    this.#policy = opts.policy;
    this.#concurrency = opts.concurrency;
    this.#observer = opts.observer;
  }

  /** Clair's index_state: changes when the scanners change, telling clients to re-index. */
  get state(): string {
    return this.#indexer.indexState;
  }

  /** Throws ClairError: 'bad-input' for refused URIs, the layer's error (digest-mismatch, bad-layer, unavailable, …) otherwise. */
  index(m: Manifest): Promise<IndexOutcome> {
    checkManifestPolicy(m, this.#policy);
    let p = this.#inflight.get(m.hash);
    if (!p) {
      p = this.#run(m).finally(() => this.#inflight.delete(m.hash));
      this.#inflight.set(m.hash, p);
    }
    return p;
  }

  async #run(m: Manifest): Promise<IndexOutcome> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const stored = async (): Promise<IndexOutcome | undefined> => {
      // As Clair: a report that ended in IndexError is indexed again on the next request.
      const report = await this.#indexer.storedReport(m.hash);
      if (!report) return undefined;
      this.#observer?.indexed('stored', seconds());
      return { report, stored: true };
    };
    const done = await stored();
    if (done) return done;
    const c = this.#store.coordination;
    if (!c) return this.#indexNow(m, seconds);
    // Several instances share the store: the first to take the manifest's lock indexes it; the others wait, then
    // find its finished report (re-checked under the lock) and return that instead of indexing again.
    return c.withManifestLock(m.hash, async () => (await stored()) ?? this.#indexNow(m, seconds));
  }

  async #indexNow(m: Manifest, seconds: () => number): Promise<IndexOutcome> {
    const image = manifestImage(m, this.#policy);
    try {
      const { report } = await this.#indexer.index(image, {
        concurrency: this.#concurrency,
        progress: (e) => {
          if (e.kind === 'layer-reused') this.#observer?.layer('hit');
          else if (e.kind === 'layer-start') this.#observer?.layer('miss');
        },
      });
      this.#observer?.indexed('new', seconds());
      return { report, stored: false };
    } catch (e) {
      this.#observer?.indexed('error', seconds());
      // As Clair's indexer: the failure is kept as the manifest's report (state IndexError, success false, err),
      // which GET index_report answers until the next successful index. If even that cannot be stored, the
      // original error is still the one reported.
      await this.#store.putIndexReport(indexErrorReport(m, errorMessage(e)), this.state).catch(() => undefined);
      throw e;
    } finally {
      await image.close();
    }
  }

  async report(hash: string): Promise<IndexReport | undefined> {
    return (await this.#store.getIndexReport(hash))?.report;
  }

  delete(hashes: string[]): Promise<string[]> {
    if (hashes.some((h) => this.#inflight.has(h))) {
      // Deleting while the same manifest is being stored would race with its putIndexReport.
      throw new ClairError('conflict', `manifest ${hashes.find((h) => this.#inflight.has(h))} is being indexed right now; delete it when that ends`);
    }
    const c = this.#store.coordination;
    if (!c) return this.#store.deleteIndexReports(hashes);
    // Another instance may be indexing one of them: wait for it under the manifest's lock, or its report would
    // reappear after the delete. One lock at a time, so two deletes never wait on each other in a cycle.
    return (async () => {
      const deleted: string[] = [];
      for (const h of hashes) deleted.push(...(await c.withManifestLock(h, () => this.#store.deleteIndexReports([h]))));
      return deleted;
    })();
  }
}
