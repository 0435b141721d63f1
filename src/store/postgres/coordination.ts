import type pg from 'pg';
import type { StoreCoordination } from '../store.ts';
import { advisoryKey, type AdvisoryLockKind } from './advisory-key.ts';
import { retryTransient } from './pg-errors.ts';
import { checkout, type PgSession } from './pg-session.ts';

// How instances sharing one PostgreSQL database take turns: session-level advisory locks (updaters, manifests,
// layers) on connections of their own, and when each updater last ran anywhere in the cluster.

export class PostgresCoordination implements StoreCoordination {
  readonly #session: PgSession;
  readonly #lockPool: pg.Pool;
  readonly #layerLockPool: pg.Pool;
  readonly #scope: string;

  /** lockPool: updater and manifest locks; layerLockPool: layer locks (see PostgresStoreOptions.maxLockConnections). */
  constructor(session: PgSession, lockPool: pg.Pool, layerLockPool: pg.Pool, scope: string) {
    this.#session = session;
    this.#lockPool = lockPool;
    this.#layerLockPool = layerLockPool;
    this.#scope = scope;
  }

  async #rows<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return this.#session.rows<R>(what, sql, params);
  }

  /**
   * Runs fn while this instance holds the updater's lock; undefined without running it when another session holds
   * it. The lock is session-level on a connection of its own: it ends with fn, or with that connection.
   */
  async tryWithUpdaterLock<T>(updater: string, fn: () => Promise<T>): Promise<T | undefined> {
    return this.#withLock(this.#lockPool, 'updater', updater, false, fn);
  }

  async withUpdaterLock<T>(updater: string, fn: () => Promise<T>): Promise<T> {
    return (await this.#withLock(this.#lockPool, 'updater', updater, true, fn)) as T;
  }

  /** Runs fn while holding the manifest's lock, waiting for it: concurrent index requests for one manifest take turns. */
  async withManifestLock<T>(manifestHash: string, fn: () => Promise<T>): Promise<T> {
    return (await this.#withLock(this.#lockPool, 'manifest', manifestHash, true, fn)) as T;
  }

  /** Runs fn while holding the layer's lock, on the pool of its own (see maxLockConnections). */
  async withLayerLock<T>(digest: string, fn: () => Promise<T>): Promise<T> {
    return (await this.#withLock(this.#layerLockPool, 'layer', digest, true, fn)) as T;
  }

  async msSinceUpdaterRun(updater: string): Promise<number | undefined> {
    const rows = await this.#rows<{ ms: number }>(
      `read of the last run of updater ${updater}`,
      'SELECT (extract(epoch FROM clock_timestamp() - finished) * 1000)::float8 AS ms FROM updater_run WHERE updater = $1',
      [updater],
    );
    return rows[0] ? Math.max(0, rows[0].ms) : undefined;
  }

  async recordUpdaterRun(updater: string): Promise<void> {
    await this.#rows(
      `record of a run of updater ${updater}`,
      `INSERT INTO updater_run (updater, finished) VALUES ($1, clock_timestamp())
       ON CONFLICT (updater) DO UPDATE SET finished = excluded.finished`,
      [updater],
    );
  }

  async #withLock<T>(pool: pg.Pool, kind: AdvisoryLockKind, name: string, wait: boolean, fn: () => Promise<T>): Promise<T | undefined> {
    const key = advisoryKey(this.#scope, kind, name);
    const what = `${wait ? '' : 'try-'}lock of ${kind} ${name}`;
    const s = await retryTransient(what, async () => {
      const s = await checkout(pool);
      try {
        const res = await s.client.query<{ ok: boolean }>(
          wait ? 'SELECT pg_advisory_lock($1::bigint), true AS ok' : 'SELECT pg_try_advisory_lock($1::bigint) AS ok', [key],
        );
        if (res.rows[0]!.ok) return s;
        s.release();
        return undefined;
      } catch (e) {
        s.release(e as Error);
        throw e;
      }
    }, this.#session.retry);
    if (!s) return undefined;
    try {
      return await fn();
    } finally {
      // Ending a session releases every advisory lock it holds, so when unlocking fails, destroying the connection
      // is the unlock: nothing is left to report.
      await s.client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).then(() => s.release(), (e: Error) => s.release(e));
    }
  }
}
