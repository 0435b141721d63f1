import { pipeline, Transform, type Readable } from 'node:stream';
import { ClairError, errorMessage } from '../model/errors.ts';
import { printable } from '../model/printable.ts';
import type { IndexReport } from '../model/index-report.ts';
import type { ResolvedImage, LayerDescriptor } from '../image/resolved-image.ts';
import { streamChunks, type BlobChunks } from '../image/blob-chunks.ts';
import { STREAM_BUFFER } from '../image/compression.ts';
import type { Store } from '../store/store.ts';
import { coalesce } from './coalesce.ts';
import type { LayerReport } from '../model/layer-report.ts';
import { walkDirectory } from './directory-walker.ts';
import { tarOfBlob, toLayerReport, walkHardLinkTargets, walkLayer } from './layer-walker.ts';
import type { Scanner } from './scanner.ts';
import { indexState, scannerSetKey } from './scanner-set.ts';
import { LayerWorkers, type ScannerRecipe } from './layer-workers.ts';
import { availableParallelism } from 'node:os';

// The layer pipeline: each layer is looked up in the store by digest first and only fetched and scanned when no
// report made by the same scanners exists; then the layers are coalesced into the image's IndexReport.

export interface IndexProgress {
  (e: { kind: 'layer-start' | 'layer-done' | 'layer-reused'; digest: string; index: number; total: number; bytes?: number }): void;
}

export interface IndexResult {
  report: IndexReport;
  layersScanned: number;
  layersReused: number;
  /** Compressed bytes read from the image source for the layers scanned now. */
  bytesFetched: number;
}

export interface IndexerSetup {
  /**
   * How a worker thread builds these same scanners. Given, layers of `workerMinBytes` or more are decompressed,
   * walked and scanned in worker threads (layer-workers.ts) when the machine has more than two cores.
   */
  workers?: ScannerRecipe;
  /** Worker threads at most; default: one per core but one (for the reads and digests), none on two cores or less. */
  workerThreads?: number;
  /** Default WORKER_MIN_BYTES. */
  workerMinBytes?: number;
}

/**
 * Layers smaller than this are scanned on the main thread: a worker's start (loading every scanner module, 0.25 s of
 * CPU with Node's compile cache, 0.7 s without) would cost more than the parallel walk saves.
 */
export const WORKER_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Workers pay when cores are left for them: on two cores, decompressing two layers already fills both, and moving
 * the tar walk and scanners (a fraction of the decompression's CPU) to other threads only adds their start-up and
 * memory (~65 MiB each). With more cores the main thread's share becomes the bottleneck and workers take it.
 */
function defaultWorkerThreads(): number {
  const cores = availableParallelism();
  return cores > 2 ? Math.min(4, cores - 1) : 0;
}

export interface IndexerOptions {
  /** Layers fetched and scanned at the same time. */
  concurrency?: number;
  progress?: IndexProgress;
}

export class Indexer {
  readonly #store: Store;
  readonly #scanners: readonly Scanner[];
  readonly #scannerSet: string;
  readonly indexState: string;
  /** Layers being scanned right now in this process: a second request for one waits for the first. */
  readonly #inflight = new Map<string, Promise<{ report: LayerReport; reused: boolean }>>();

  readonly #workers: LayerWorkers | undefined;
  readonly #workerMinBytes: number;

  constructor(store: Store, scanners: readonly Scanner[], setup: IndexerSetup = {}) {
    this.#store = store;
    const threads = setup.workerThreads ?? defaultWorkerThreads();
    this.#workers = setup.workers && threads > 0 ? new LayerWorkers(setup.workers, threads) : undefined;
    this.#workerMinBytes = setup.workerMinBytes ?? WORKER_MIN_BYTES;
    this.#scanners = scanners;
    this.#scannerSet = scannerSetKey(scanners);
    this.indexState = indexState(scanners);
  }

  /**
   * The stored report of a manifest when it is still this indexer's answer: made by the same scanners and coalescing
   * rule (index_state) and finished. A manifest digest names its layers' bytes, so indexing it again would give the
   * same report; as Clair's indexer, a report that ended in IndexError is not reused.
   */
  async storedReport(manifestDigest: string): Promise<IndexReport | undefined> {
    const existing = await this.#store.getIndexReport(manifestDigest);
    if (!existing || existing.indexState !== this.indexState || existing.report.state !== 'IndexFinished') return undefined;
    return existing.report;
  }

  /** Indexes an image and stores its report. Throws (storing nothing for the manifest) when a layer cannot be read. */
  async index(image: ResolvedImage, opts: IndexerOptions = {}): Promise<IndexResult> {
    const total = image.layers.length;
    const reports: LayerReport[] = new Array(total);
    let scanned = 0;
    let reused = 0;
    let bytes = 0;
    let next = 0;
    const fresh = new Set<string>();
    let failed = false;
    const worker = async () => {
      while (next < total && !failed) {
        const i = next++;
        const layer = image.layers[i]!;
        const cached = await this.#store.getLayerReport(layer.digest, this.#scannerSet);
        if (cached) {
          reports[i] = cached;
          reused++;
          opts.progress?.({ kind: 'layer-reused', digest: layer.digest, index: i, total });
          continue;
        }
        const r = await this.#scanOnce(image, layer, () => opts.progress?.({ kind: 'layer-start', digest: layer.digest, index: i, total }));
        reports[i] = r.report;
        if (r.reused) {
          reused++;
          opts.progress?.({ kind: 'layer-reused', digest: layer.digest, index: i, total });
          continue;
        }
        scanned++;
        fresh.add(layer.digest);
        bytes += r.report.size;
        opts.progress?.({ kind: 'layer-done', digest: layer.digest, index: i, total, bytes: r.report.size });
      }
    };
    const n = Math.max(1, Math.min(opts.concurrency ?? 3, total));
    try {
      // When a layer fails, no other layer starts, and the ones being scanned are waited for: they store their
      // reports when they finish, and a failed index must leave none behind (deleted below).
      const loops = await Promise.allSettled(Array.from({ length: n }, () => worker().catch((e: unknown) => {
        failed = true;
        throw e;
      })));
      const failure = loops.find((l) => l.status === 'rejected');
      if (failure) throw failure.reason;
      const report = coalesce(image.manifestDigest, reports);
      await this.#store.putIndexReport(report, this.indexState);
      return { report, layersScanned: scanned, layersReused: reused, bytesFetched: bytes };
    } catch (e) {
      // The image failed: the layers this run scanned are not kept either, so a failed index leaves no trace (a
      // layer that is fine is scanned again by the next run that needs it).
      if (fresh.size > 0) await this.#store.deleteLayerReports([...fresh], this.#scannerSet).catch(() => {});
      throw e;
    }
  }

  /** `starting` is called when this layer's scan begins (or is joined); not when the layer turns out cached. */
  #scanOnce(image: ResolvedImage, layer: LayerDescriptor, starting: () => void): Promise<{ report: LayerReport; reused: boolean }> {
    let p = this.#inflight.get(layer.digest);
    if (p) {
      starting(); // joins this process's scan of the layer
    } else {
      p = this.#claimAndScan(image, layer, starting).finally(() => this.#inflight.delete(layer.digest));
      this.#inflight.set(layer.digest, p);
    }
    return p;
  }

  /**
   * With a shared store (Store.coordination), "check the cache, scan, store" runs under the layer's cluster-wide
   * lock: of several instances indexing images that share a layer, one scans it and the others, once the lock is
   * theirs, find its report in the cache.
   */
  async #claimAndScan(image: ResolvedImage, layer: LayerDescriptor, starting: () => void): Promise<{ report: LayerReport; reused: boolean }> {
    const c = this.#store.coordination;
    if (!c) {
      starting();
      return { report: await this.#scan(image, layer), reused: false };
    }
    return c.withLayerLock(layer.digest, async () => {
      const cached = await this.#store.getLayerReport(layer.digest, this.#scannerSet);
      if (cached) return { report: cached, reused: true };
      starting();
      return { report: await this.#scan(image, layer), reused: false };
    });
  }

  async #scan(image: ResolvedImage, layer: LayerDescriptor): Promise<LayerReport> {
    if (layer.directory !== undefined) {
      // dir: references: the tree is walked in place; "size" is the bytes of the files the scanners read.
      const walk = await walkDirectory(layer.directory, this.#scanners);
      const report = toLayerReport(layer.digest, this.#scannerSet, walk.bytesRead, walk);
      await this.#store.putLayerReport(report);
      return report;
    }
    let size: () => number;
    let walk: Awaited<ReturnType<typeof walkLayer>>;
    if (this.#workers && layer.size !== undefined && layer.size >= this.#workerMinBytes) {
      const first = await this.#open(image, layer);
      size = first.size;
      walk = await this.#workers.walk(first.raw, layer.digest);
    } else {
      const blob = await this.#chunks(image, layer);
      size = () => blob.bytesRead;
      walk = await walkLayer(tarOfBlob(blob, layer.digest), layer.digest, this.#scanners);
    }
    if (walk.hardLinks.length > 0) {
      // A wanted file that is a hard link (an upper layer's `var/lib/dpkg/status` linked to a file beside it): its
      // bytes are the target entry's, earlier in the same tar. Rare enough to read the layer a second time.
      const second = await this.#chunks(image, layer);
      const linked = await walkHardLinkTargets(tarOfBlob(second, layer.digest), layer.digest, this.#scanners, walk.hardLinks);
      for (const f of linked.findings) walk.findings.push(f);
      for (const e of linked.errors) walk.errors.push(e);
    }
    const report = toLayerReport(layer.digest, this.#scannerSet, size(), walk);
    // Stored only after the whole stream, digest check included, went through: a bad layer never poisons the cache.
    await this.#store.putLayerReport(report);
    return report;
  }

  /** Ends the layer workers (idle ones end by themselves after a while and never keep the process alive). */
  async close(): Promise<void> {
    await this.#workers?.close();
  }

  /**
   * The layer's compressed bytes as BlobChunks (counted by bytesRead), digest checked at their end by the image
   * source: its readLayer when it has one (files, read into reused buffers), else its stream.
   */
  async #chunks(image: ResolvedImage, layer: LayerDescriptor): Promise<BlobChunks> {
    try {
      return image.readLayer ? await image.readLayer(layer) : streamChunks(await image.openLayer(layer));
    } catch (e) {
      if (e instanceof ClairError) throw e;
      throw new ClairError('bad-image', `cannot open layer ${layer.digest}: ${printable(errorMessage(e))}`, { cause: e });
    }
  }

  /** The layer's compressed bytes as a stream (for the layer workers), counted, digest checked at their end. */
  async #open(image: ResolvedImage, layer: LayerDescriptor): Promise<{ raw: Readable; size: () => number }> {
    let raw: Readable;
    try {
      raw = await image.openLayer(layer);
    } catch (e) {
      if (e instanceof ClairError) throw e;
      throw new ClairError('bad-image', `cannot open layer ${layer.digest}: ${printable(errorMessage(e))}`, { cause: e });
    }
    let size = 0;
    const counter = new Transform({
      highWaterMark: STREAM_BUFFER,
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(null, chunk);
      },
    });
    // The callback form destroys the counter with raw's error, which then reaches the walker's pipeline.
    return { raw: pipeline(raw, counter, () => {}), size: () => size };
  }
}
