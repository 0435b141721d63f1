import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClairError } from '../../model/errors.ts';
import type { UpdateOperation } from '../../model/update-operation.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import type { UpdateOperationWriter } from '../store.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import { decodeVulnerability, RECORD_COLUMNS, RECORD_JOINS, vulnerabilityRow, type RecordRow, type StoredParts } from '../record-row.ts';
import { PackBuilder } from '../enrichment-pack.ts';
import { insertPacks } from './migrations.ts';
import { classifyPgError, describePgError, isTransientPgError } from './pg-errors.ts';
import { isUuid } from '../../model/uuid.ts';

// One update operation = one PostgreSQL transaction on a connection of its own, from begin to commit.
//
// Why a real transaction and not SQLite's staging table: PostgreSQL has MVCC, so a transaction held open for the
// minutes a 100 MB feed takes to stream blocks no reader and no writer of another updater; "whole or not at all"
// is then the database's guarantee (a crash, a lost connection or abort = ROLLBACK) instead of ours, and nothing
// is left to clean up after a crashed writer (staging rows would need an age-based sweeper). The costs: one pooled
// connection per running writer, and row locks held until commit (see INGEST).
//
// Records go in as multi-row INSERTs from unnest() of array parameters, one statement per chunk (INGEST_SQL). The
// alternative, COPY (pg-copy-streams) into a temp table then the same INSERT … SELECT from it, was measured on
// 100k Debian-like records in one operation (bench/store-ingest.ts, PostgreSQL 15, 2 cores, same machine, 3 runs):
// unnest 15.6k / 17.9k / 17.1k records/s (the last including the ANALYZE at commit), COPY 16.9k / 18.4k / 19.4k.
// COPY's edge (3-13%) is within run-to-run noise and costs a temp table per writer, a text-format codec and two
// statements per chunk; the time goes to hashing, JSON and index maintenance, not to the wire. unnest it is.

const CHUNK = 2000;
/** Operations at least this large refresh planner statistics at commit (#analyze). */
const ANALYZE_AFTER = 5000;

// Inserts the chunk's texts not yet resolved by this writer and the new records, locks (FOR KEY SHARE) the texts and
// records already stored, and links the records to the operation, in one round trip. One statement per chunk
// rather than three (texts looked up, texts inserted, records): the writer's node process parses and encodes the
// next batch while PostgreSQL executes this one (runUpdater hands batches over early), and with three round trips a
// chunk, each reply waited for node to finish a stretch of parsing before the next statement went out: both sides
// idled about half of a 128k-record Debian ingest.
// Locking rather than `ON CONFLICT DO UPDATE … RETURNING id`:
// - KEY SHARE locks do not conflict with each other, so two writers sharing existing records never block or
//   deadlock on them (DO UPDATE would take row-exclusive locks held to commit, and write a new row version of every
//   unchanged record on every run). Only the garbage collector's FOR UPDATE conflicts with them, and it skips locked
//   rows, so it never deletes a text or record a running writer has linked.
// - Two transactions inserting the same *new* hash do wait on each other (unique-index check). Rows and texts go in
//   sorted by hash, so two writers' chunks take those waits in one order. Records and texts carry their updater
//   name and their hashes cover it, so writers of different updaters never share a hash at all.
// Existing rows are looked for only for the hashes the inserts skipped (none in a first load), by one index probe per
// hash (LATERAL, which the locking clause keeps from being flattened into a join): the tables grow inside the
// writer's transaction, unseen by the planner's statistics, and the plain `hash IN (…)` form was planned as a hash
// join over a sequential scan of the whole table, for every chunk.
// All CTEs see one snapshot: `old` and `text_old` miss rows another transaction committed after it began (those
// that made an insert skip a conflict), and rows the collector deleted meanwhile. A record whose new text is not
// resolved so is left out of `input`; `resolved` counts the records linked, and the writer repeats the statement
// for the hashes still unlinked (a new statement, a new snapshot). The texts resolved come back for the writer to
// reuse: each stays locked, or invisible to others, until the transaction ends.
export const INGEST_SQL = `
WITH new_text AS (
  SELECT decode(h, 'hex') AS hash, d AS data FROM unnest($9::text[], $10::text[]) AS t(h, d)
),
text_ins AS (
  INSERT INTO vuln_text (hash, data) SELECT hash, data FROM new_text ORDER BY hash
  ON CONFLICT (hash) DO NOTHING
  RETURNING id, hash
),
text_old AS (
  SELECT o.id, o.hash FROM (SELECT hash FROM new_text WHERE hash NOT IN (SELECT hash FROM text_ins) ORDER BY hash) i
  CROSS JOIN LATERAL (SELECT t.id, t.hash FROM vuln_text t WHERE t.hash = i.hash FOR KEY SHARE) o
),
texts AS (
  SELECT id, hash FROM text_ins UNION ALL SELECT id, hash FROM text_old
),
input AS (
  SELECT decode(r.hash, 'hex') AS hash, r.name, r.package_name, r.context_id, coalesce(r.text_id, t.id) AS text_id, r.data
  FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])
    AS r(hash, name, package_name, context_id, text_id, data, text_hash)
  LEFT JOIN texts t ON t.hash = decode(r.text_hash, 'hex')
  WHERE r.text_hash IS NULL OR t.id IS NOT NULL
),
ins AS (
  INSERT INTO vuln (hash, name, package_name, context_id, text_id, data)
  SELECT * FROM input ORDER BY hash
  ON CONFLICT (hash) DO NOTHING
  RETURNING id, hash
),
old AS (
  SELECT o.id FROM (SELECT hash FROM input WHERE hash NOT IN (SELECT hash FROM ins) ORDER BY hash) i
  CROSS JOIN LATERAL (SELECT v.id FROM vuln v WHERE v.hash = i.hash FOR KEY SHARE) o
),
linked AS (
  INSERT INTO uo_vuln (uo_id, vuln_id) SELECT $1::bigint, id FROM ins UNION ALL SELECT $1::bigint, id FROM old
  ON CONFLICT DO NOTHING
)
SELECT (SELECT count(*) FROM ins) + (SELECT count(*) FROM old) AS resolved,
  (SELECT array_agg(encode(hash, 'hex') ORDER BY id) FROM texts) AS text_hashes,
  (SELECT array_agg(id ORDER BY id) FROM texts) AS text_ids`;

const UNLINKED = `
SELECT h FROM unnest($2::text[]) AS h
WHERE NOT EXISTS (SELECT 1 FROM vuln v JOIN uo_vuln u ON u.vuln_id = v.id AND u.uo_id = $1::bigint WHERE v.hash = decode(h, 'hex'))`;

type Row = RecordRow;

export interface WriterSession {
  client: pg.PoolClient;
  /** Set by the client's 'error' listener when the connection dies while no query is running. */
  lostConnection(): Error | undefined;
  /** Returns the client to the pool, or destroys it when err says the session is unusable. */
  release(err?: Error): void;
}

export class PostgresOperationWriter implements UpdateOperationWriter {
  readonly #session: WriterSession;
  readonly #pool: pg.Pool;
  readonly #updater: string;
  readonly #ref: string;
  /** The operation's date when it was given (an imported operation); else the time of commit. */
  readonly #date: Date | undefined;
  readonly #opId: string;
  readonly #pid: number;
  readonly #onFinish: () => void;
  #state: 'open' | 'committed' | 'aborted' | 'failed' = 'open';
  #failure: ClairError | undefined;
  /** add() calls run one after another even when the caller does not await them. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(args: { session: WriterSession; pool: pg.Pool; updater: string; ref: string; date?: Date; opId: string; pid: number; onFinish: () => void }) {
    this.#date = args.date;
    this.#session = args.session;
    this.#pool = args.pool;
    this.#updater = args.updater;
    this.#ref = args.ref;
    this.#opId = args.opId;
    this.#pid = args.pid;
    this.#onFinish = args.onFinish;
  }

  #checkOpen(): void {
    if (this.#state === 'failed') {
      throw new ClairError(this.#failure!.code, `update operation for ${this.#updater} already failed: ${this.#failure!.message}`, { cause: this.#failure });
    }
    if (this.#state !== 'open') throw new ClairError('internal', `update operation for ${this.#updater} already finished`);
    const lost = this.#session.lostConnection();
    if (lost) throw this.#fail(lost);
  }

  /** Ends the writer after an error: rolls back (the server already has, when the connection is gone). */
  #fail(e: unknown): ClairError {
    const kind = classifyPgError(e);
    this.#state = 'failed';
    this.#failure = e instanceof ClairError
      ? e
      : new ClairError(
          kind === 'permanent' ? 'internal' : 'unavailable',
          `update operation for ${this.#updater} failed and was rolled back, nothing of it is stored: ${describePgError(e)}`,
          { cause: e },
        );
    if (kind === 'connection-lost') {
      this.#session.release(e instanceof Error ? e : new Error(String(e)));
    } else {
      // The caller learns of the failure from the throw below; the rollback's outcome cannot change it, and a
      // rollback that fails means the session is broken, which destroying the client settles.
      this.#session.client.query('ROLLBACK').then(
        () => this.#session.release(),
        (re: Error) => this.#session.release(re),
      );
    }
    this.#onFinish();
    return this.#failure;
  }

  add(batch: Vulnerability[]): Promise<void> {
    // Encoded now, not when the writes before it are done: a caller that hands over the next batch before awaiting
    // the previous one (runUpdater) gets this work done while PostgreSQL executes the previous batch.
    let records: Row[];
    try {
      records = this.#encode(batch);
    } catch (e) {
      return Promise.reject(e);
    }
    const run = this.#tail.then(() => this.#add(records));
    this.#tail = run.catch(() => undefined); // the failure reaches the caller through `run`
    return run;
  }

  addEnrichments(batch: EnrichmentRecord[]): Promise<void> {
    const run = this.#tail.then(() => this.#addEnrichments(batch));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Enrichment records go into packs (store/enrichment-pack.ts), written run by run in the transaction. */
  readonly #packs = new PackBuilder();

  async #addEnrichments(batch: EnrichmentRecord[]): Promise<void> {
    this.#checkOpen();
    for (const e of batch) {
      if (e.updater !== this.#updater && !e.updater.startsWith(this.#updater + '/')) {
        throw new ClairError('internal', `record ${e.tag} of updater ${e.updater} written to operation of ${this.#updater}`);
      }
    }
    for (const e of batch) this.#packs.add(e);
    if (this.#packs.full) await this.#writePacks();
  }

  async #writePacks(): Promise<void> {
    try {
      await insertPacks(this.#session.client, await this.#packs.drainAsync(), this.#opId);
    } catch (e) {
      throw this.#fail(e);
    }
  }

  #encode(batch: Vulnerability[]): Row[] {
    const records = batch.map(vulnerabilityRow);
    for (const r of records) {
      if (r.updater !== this.#updater && !r.updater.startsWith(this.#updater + '/')) {
        throw new ClairError('internal', `record ${r.name} of updater ${r.updater} written to operation of ${this.#updater}`);
      }
    }
    return records;
  }

  async #add(records: Row[]): Promise<void> {
    this.#checkOpen();
    try {
      for (let i = 0; i < records.length; i += CHUNK) {
        const byHash = new Map<string, Row>();
        for (const r of records.slice(i, i + CHUNK)) byHash.set(r.hash, r);
        const rows = [...byHash.values()].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
        await this.#ingest(rows);
      }
    } catch (e) {
      throw this.#fail(e);
    }
  }

  /** Context ids by context JSON. Contexts are never deleted, so an id stays good for the writer's life. */
  readonly #contexts = new Map<string, string>();
  /**
   * Text ids by text hash. Each text this transaction found is locked FOR KEY SHARE until it ends, and each one it
   * inserted is invisible to others until then, so the garbage collector (FOR UPDATE SKIP LOCKED, unreferenced
   * texts only) cannot take one from under it.
   */
  #texts = new Map<string, string>();

  async #contextIds(rows: Row[]): Promise<string[]> {
    const c = this.#session.client;
    for (const r of rows) {
      if (this.#contexts.has(r.context)) continue;
      const ins = await c.query<{ id: string }>(
        `INSERT INTO vuln_context (updater, dist_did, dist_version_id, dist_version_code_name, data) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (data) DO NOTHING RETURNING id`,
        [r.updater, r.did, r.versionId, r.codeName, r.context],
      );
      const id = ins.rows[0]?.id ?? (await c.query<{ id: string }>('SELECT id FROM vuln_context WHERE data = $1', [r.context])).rows[0]!.id;
      this.#contexts.set(r.context, id);
    }
    return rows.map((r) => this.#contexts.get(r.context)!);
  }

  async #ingest(rows: Row[]): Promise<void> {
    const c = this.#session.client;
    const contextIds = await this.#contextIds(rows);
    const contextOf = new Map(rows.map((r, i) => [r.hash, contextIds[i]!]));
    if (this.#texts.size > 200_000) this.#texts = new Map();
    let pending = rows;
    // Each pass links every hash that exists or could be inserted; a hash stays unlinked only when a concurrent
    // transaction inserted or deleted it (or its text) during the statement, which a handful of passes outlasts.
    for (let pass = 1; pending.length > 0; pass++) {
      if (pass > 5) throw new ClairError('unavailable', `update operation for ${this.#updater}: ${pending.length} records still unlinked after 5 passes (heavy concurrent deletes?)`);
      const newTexts = new Map<string, string>();
      for (const r of pending) if (r.textHash !== null && r.text !== null && !this.#texts.has(r.textHash)) newTexts.set(r.textHash, r.text);
      const res = await c.query<{ resolved: string; text_hashes: string[] | null; text_ids: string[] | null }>(
        INGEST_SQL,
        [this.#opId, ...columns(pending, contextOf, this.#texts), [...newTexts.keys()], [...newTexts.values()]],
      );
      const out = res.rows[0]!;
      if (out.text_hashes && out.text_ids) for (let i = 0; i < out.text_hashes.length; i++) this.#texts.set(out.text_hashes[i]!, out.text_ids[i]!);
      if (Number(out.resolved) === pending.length) return;
      const unlinked = new Set((await c.query<{ h: string }>(UNLINKED, [this.#opId, pending.map((r) => r.hash)])).rows.map((r) => r.h));
      pending = pending.filter((r) => unlinked.has(r.hash));
    }
  }

  carryOver(ref: string, keep: (v: Vulnerability) => boolean): Promise<number> {
    const run = this.#tail.then(() => this.#carryOver(ref, keep));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #carryOver(ref: string, keep: (v: Vulnerability) => boolean): Promise<number> {
    this.#checkOpen();
    const c = this.#session.client;
    // FOR KEY SHARE on the earlier operation: it cannot be deleted (nor its records collected) before this
    // transaction ends, so every page below reads the same complete set.
    let from: string | undefined;
    try {
      const op = isUuid(ref)
        ? await c.query<{ id: string }>('SELECT id FROM update_operation WHERE ref = $1 AND seq IS NOT NULL FOR KEY SHARE', [ref])
        : undefined;
      from = op?.rows[0]?.id;
    } catch (e) {
      throw this.#fail(e);
    }
    if (from === undefined) throw new ClairError('not-found', `update operation ${ref} does not exist`);
    // All of `keep`'s answers are collected before anything is linked: a `keep` that throws leaves this operation
    // as it was, as in the SQLite store.
    const kept: string[] = [];
    let after = '0';
    for (;;) {
      let rows: ({ id: string } & StoredParts)[];
      try {
        rows = (await c.query<{ id: string } & StoredParts>(
          `SELECT v.id, ${RECORD_COLUMNS} FROM uo_vuln u JOIN vuln v ON v.id = u.vuln_id ${RECORD_JOINS}
           WHERE u.uo_id = $1 AND u.vuln_id > $2 ORDER BY u.vuln_id LIMIT ${CHUNK}`,
          [from, after],
        )).rows;
      } catch (e) {
        throw this.#fail(e);
      }
      for (const r of rows) if (keep(decodeVulnerability(r))) kept.push(r.id);
      if (rows.length < CHUNK) break;
      after = rows[rows.length - 1]!.id;
    }
    try {
      for (let i = 0; i < kept.length; i += CHUNK) {
        await c.query('INSERT INTO uo_vuln (uo_id, vuln_id) SELECT $1::bigint, unnest($2::bigint[]) ON CONFLICT DO NOTHING', [this.#opId, kept.slice(i, i + CHUNK)]);
      }
    } catch (e) {
      throw this.#fail(e);
    }
    return kept.length;
  }

  async commit(fingerprint: string): Promise<UpdateOperation> {
    await this.#tail;
    this.#checkOpen();
    if (!this.#packs.empty) await this.#writePacks();
    const c = this.#session.client;
    let op: UpdateOperation;
    try {
      const res = await c.query(
        `UPDATE update_operation SET fingerprint = $2, date = $3, seq = nextval('update_operation_commit_seq'),
           count = (SELECT count(*) FROM uo_vuln WHERE uo_id = $1)
             + (SELECT coalesce(sum(count), 0) FROM enrichment_pack WHERE uo_id = $1)
         WHERE id = $1 RETURNING ref, updater, fingerprint, date, count`,
        [this.#opId, fingerprint, this.#date ?? new Date()],
      );
      op = toOperation(res.rows[0]!);
    } catch (e) {
      throw this.#fail(e);
    }
    try {
      await c.query('COMMIT');
    } catch (e) {
      this.#state = 'failed';
      this.#onFinish();
      if (classifyPgError(e) !== 'connection-lost') {
        // The server answered: a failed COMMIT is a rollback.
        this.#session.release();
        throw (this.#failure = new ClairError('internal', `update operation for ${this.#updater} was rolled back at commit: ${describePgError(e)}`, { cause: e }));
      }
      this.#session.release(e as Error);
      // The connection died with COMMIT in flight: it may have been applied. Wait for the server to finish with
      // that backend, then look: the ref is ours, so its presence is the answer.
      const outcome = await this.#outcomeOfLostCommit();
      if (outcome === 'committed') {
        this.#state = 'committed';
        return op;
      }
      throw (this.#failure = new ClairError(
        'unavailable',
        outcome === 'rolled-back'
          ? `update operation for ${this.#updater} was not committed (connection lost during COMMIT: ${describePgError(e)}); nothing of it is stored`
          : `connection lost during COMMIT of update operation ${this.#ref} for ${this.#updater} (${describePgError(e)}), and PostgreSQL could not be asked whether it committed: check listUpdateOperations`,
        { cause: e },
      ));
    }
    this.#state = 'committed';
    this.#session.release();
    this.#onFinish();
    if (op.count >= ANALYZE_AFTER) await this.#analyze();
    return op;
  }

  /**
   * Fresh planner statistics right after a large load. Without them (a first load, before autovacuum's next round,
   * up to a minute or more later) the matching query was measured at 6x slower, and a LATERAL variant of it at
   * minutes: the default estimates make uo_vuln look tiny. Best effort on purpose: the operation is committed,
   * and a failed ANALYZE (another role owns the tables, a lost connection) changes no result, only how soon
   * autovacuum's statistics make queries fast.
   */
  async #analyze(): Promise<void> {
    // vuln_context too: the match query joins it first (MATCH_SQL), and without statistics it looks 100 times its size.
    await this.#pool.query('ANALYZE vuln, uo_vuln, vuln_context').catch(() => undefined);
  }

  async #outcomeOfLostCommit(): Promise<'committed' | 'rolled-back' | 'unknown'> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        const alive = await this.#pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [this.#pid]);
        if (alive.rowCount === 0) {
          const found = await this.#pool.query('SELECT 1 FROM update_operation WHERE ref = $1', [this.#ref]);
          return found.rowCount === 1 ? 'committed' : 'rolled-back';
        }
      } catch (e) {
        if (!isTransientPgError(e)) return 'unknown';
      }
      await sleep(200);
    }
    return 'unknown';
  }

  async abort(): Promise<void> {
    await this.#tail;
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#onFinish();
    try {
      await this.#session.client.query('ROLLBACK');
      this.#session.release();
    } catch (e) {
      // A transaction whose connection is gone was never committed (no COMMIT was sent) and the server has rolled
      // it back: abort's promise holds. Anything else is a real failure.
      this.#session.release(e as Error);
      if (classifyPgError(e) !== 'connection-lost') {
        throw new ClairError('internal', `rolling back update operation for ${this.#updater} failed: ${describePgError(e)}`, { cause: e });
      }
    }
  }
}

/** The record columns of INGEST_SQL: a text this writer resolved goes as its id, a new one as its hash. */
function columns(rows: Row[], contexts: Map<string, string>, texts: Map<string, string>): (string | null)[][] {
  const cols: (string | null)[][] = [[], [], [], [], [], [], []];
  for (const r of rows) {
    const text = r.textHash === null ? undefined : texts.get(r.textHash);
    cols[0]!.push(r.hash);
    cols[1]!.push(r.name);
    cols[2]!.push(r.packageName);
    cols[3]!.push(contexts.get(r.hash)!);
    cols[4]!.push(text ?? null);
    cols[5]!.push(r.data);
    cols[6]!.push(text === undefined ? r.textHash : null);
  }
  return cols;
}

export function toOperation(r: Record<string, unknown>): UpdateOperation {
  const date = r.date instanceof Date ? r.date.toISOString() : String(r.date);
  return { ref: r.ref as string, updater: r.updater as string, fingerprint: r.fingerprint as string, date, count: Number(r.count) };
}
