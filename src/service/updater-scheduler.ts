import type { Logger } from 'pino';
import { errorMessage } from '../model/errors.ts';
import type { Store } from '../store/store.ts';
import type { AnyUpdater } from '../updater/updater.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import { runUpdaterInCluster } from '../updater/cluster-updater-run.ts';

// Background updaters: each feed runs once at start and then every `periodMs`. A failing feed is logged and tried
// again sooner, with exponential backoff and jitter capped at the period; it never stops the service, and the
// store keeps serving the last operation that committed (runUpdater writes an operation whole or not at all).
// Runs are serialized: one feed at a time keeps memory flat (the Debian tracker JSON alone is >100 MB).
// With a shared store, instances take turns (updater/cluster-updater-run.ts): a run another instance holds or finished less
// than a period ago is skipped, and this instance looks again when that run's period ends.

export interface UpdaterTarget {
  updater: AnyUpdater;
  location: string;
}

export interface UpdaterObserver {
  ran(updater: string, result: 'updated' | 'unchanged' | 'error', seconds: number, records: number): void;
}

export interface SchedulerOptions {
  periodMs: number;
  /** Operations kept per updater (matcher.update_retention). */
  retention?: number;
  /** First retry delay after a failure; doubles per consecutive failure up to periodMs. Default 30 s. */
  retryBaseMs?: number;
  observer?: UpdaterObserver;
  log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  random?: () => number;
  /** Called after this scheduler committed a new update operation (the notifier processes it). */
  onOperation?: (op: UpdateOperation) => void;
}

interface Slot {
  target: UpdaterTarget;
  due: number;
  failures: number;
}

/** A feed location fit for logs: no user-info, no query (signed URLs carry credentials there). */
export function displayLocation(location: string): string {
  try {
    const u = new URL(location);
    if (u.protocol === 'http:' || u.protocol === 'https:') return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    // a path
  }
  return location;
}

export class UpdaterScheduler {
  readonly #store: Store;
  readonly #slots: Slot[];
  readonly #opts: SchedulerOptions;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(store: Store, targets: UpdaterTarget[], opts: SchedulerOptions) {
    this.#store = store;
    this.#opts = opts;
    const now = Date.now();
    this.#slots = targets.map((target) => ({ target, due: now, failures: 0 }));
  }

  start(): void {
    if (this.#loop || this.#slots.length === 0) return;
    this.#loop = this.#run();
  }

  /** Stops the loop; a run in progress is aborted (its operation is discarded, the previous one stays). */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
  }

  /** Delay before retry number `failures` (1-based): full jitter over base·2^(n-1), capped at the period. */
  retryDelay(failures: number): number {
    const base = this.#opts.retryBaseMs ?? 30_000;
    const cap = Math.min(this.#opts.periodMs, base * 2 ** Math.min(failures - 1, 30));
    return Math.max(base / 2, Math.floor((this.#opts.random ?? Math.random)() * cap));
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const slot = this.#slots.reduce((a, b) => (b.due < a.due ? b : a));
      const wait = slot.due - Date.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.#wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        continue;
      }
      await this.#runOne(slot, signal);
    }
  }

  async #runOne(slot: Slot, signal: AbortSignal): Promise<void> {
    const { updater, location } = slot.target;
    const where = displayLocation(location);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    this.#opts.log.debug({ updater: updater.name, location: where }, 'updater run starting');
    try {
      const out = await runUpdaterInCluster(this.#store, updater, location, { signal, periodMs: this.#opts.periodMs, ...(this.#opts.retention !== undefined ? { retention: this.#opts.retention } : {}) });
      if (out.kind !== 'ran') {
        slot.failures = 0;
        slot.due = Date.now() + (out.kind === 'busy' ? this.#opts.periodMs : Math.max(0, this.#opts.periodMs - out.msAgo));
        this.#opts.log.info(
          { updater: updater.name, location: where, ...(out.kind === 'recent' ? { lastRunSecondsAgo: Number((out.msAgo / 1000).toFixed(1)) } : {}) },
          out.kind === 'busy' ? 'updater run skipped: another instance is running it' : 'updater run skipped: another instance ran it within the period',
        );
        return;
      }
      const r = out.result;
      slot.failures = 0;
      slot.due = Date.now() + this.#opts.periodMs;
      this.#opts.observer?.ran(updater.name, r.unchanged ? 'unchanged' : 'updated', seconds(), r.records);
      this.#opts.log.info(
        { updater: updater.name, location: where, unchanged: r.unchanged, records: r.records, ref: r.operation?.ref, seconds: Number(seconds().toFixed(1)) },
        r.unchanged ? 'feed unchanged' : 'update operation stored',
      );
      if (r.operation) this.#opts.onOperation?.(r.operation);
    } catch (e) {
      if (signal.aborted) return;
      slot.failures++;
      const delay = this.retryDelay(slot.failures);
      slot.due = Date.now() + delay;
      this.#opts.observer?.ran(updater.name, 'error', seconds(), 0);
      this.#opts.log.warn(
        { updater: updater.name, location: where, err: errorMessage(e), failures: slot.failures, retryInSeconds: Math.round(delay / 1000) },
        'updater run failed; the previous data keeps serving',
      );
    }
  }
}
