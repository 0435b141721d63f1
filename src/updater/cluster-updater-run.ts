import type { Store } from '../store/store.ts';
import { runUpdater, type UpdateRunResult } from './run-updater.ts';
import type { AnyUpdater } from './updater.ts';

// One updater run when several instances share the store (Store.coordination, PostgreSQL): the run happens under
// the updater's advisory lock, so two instances never fetch and write the same feed at once, and it is recorded
// (updater_run, by the database's clock) so that instances started at different times still run each updater
// once per period between them rather than once per period each. Without coordination (SQLite, one process) it is
// runUpdater.

export type ClusterUpdaterRun =
  | { kind: 'ran'; result: UpdateRunResult }
  /** Another instance holds the updater's lock: it is running the updater now. */
  | { kind: 'busy' }
  /** An instance finished a run less than a period ago. */
  | { kind: 'recent'; msAgo: number };

export interface ClusterUpdaterRunOptions {
  signal?: AbortSignal;
  /** Skip when any instance finished a run less than this long ago (the scheduler's period). Default: never skip for that. */
  periodMs?: number;
  /** Wait for the lock instead of answering 'busy' (a command-line update: it must run, after the other). */
  wait?: boolean;
  fetch?: typeof fetch;
  /** Operations kept per updater; see DEFAULT_UPDATE_RETENTION. */
  retention?: number;
  /** See RunUpdaterOptions.allowEmpty. */
  allowEmpty?: boolean;
  /** Records the updater skipped, each with the reason. */
  warn?(message: string): void;
}

export async function runUpdaterInCluster(store: Store, updater: AnyUpdater, location: string, opts: ClusterUpdaterRunOptions = {}): Promise<ClusterUpdaterRun> {
  const runOpts = {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.retention !== undefined ? { retention: opts.retention } : {}),
    ...(opts.allowEmpty ? { allowEmpty: true } : {}),
    ...(opts.warn ? { warn: opts.warn } : {}),
  };
  const c = store.coordination;
  if (!c) return { kind: 'ran', result: await runUpdater(store, updater, location, runOpts) };
  const locked = async (): Promise<ClusterUpdaterRun> => {
    if (opts.periodMs !== undefined) {
      const msAgo = await c.msSinceUpdaterRun(updater.name);
      if (msAgo !== undefined && msAgo < opts.periodMs) return { kind: 'recent', msAgo };
    }
    // Under the lock, runUpdater reads the latest operation's fingerprint after any other instance's commit: an
    // unchanged feed ends as 'unchanged', not as a second operation.
    const result = await runUpdater(store, updater, location, runOpts);
    await c.recordUpdaterRun(updater.name);
    return { kind: 'ran', result };
  };
  if (opts.wait) return c.withUpdaterLock(updater.name, locked);
  return (await c.tryWithUpdaterLock(updater.name, locked)) ?? { kind: 'busy' };
}
