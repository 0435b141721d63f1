import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClairError } from '../../model/errors.ts';
import type { UpdateOperation } from '../../model/update-operation.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import type { UpdateOperationWriter } from '../store.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import { vulnerabilityParts } from '../record-row.ts';
import { PackBuilder } from '../enrichment-pack.ts';
import { BatchDeflate, deflatePacksAsync } from '../deflate-worker.ts';
import { encodeText } from '../stored-text.ts';
import { bucketLine, decodePackedLine, drainedContexts, keyHoldsAny, linesInSeveralPacks, MAX_BUFFER_BYTES, mergeBuckets, openPackLines, PackGrouper, packLines, parseLine, type PackedLine, type PackGroup, type PackKey, type RecordParts } from '../vulnerability-pack.ts';
import { insertPacks } from './migrations.ts';
import { batchFull, linkPacks, packIdsOf, packLinesOf, resolveTexts, TextCache, textIdsOfPacks, writePacks, type PackRef, type PackRow, type Queryable } from './vulnerability-packs.ts';
import { classifyPgError, describePgError, isTransientPgError } from './pg-errors.ts';
import { isUuid } from '../../model/uuid.ts';

// One update operation = one PostgreSQL transaction on a connection of its own, from begin to commit.
//
// Why a real transaction and not SQLite's staging table: PostgreSQL has MVCC, so a transaction held open for the
// minutes a 100 MB feed takes to stream blocks no reader and no writer of another updater; "whole or not at all"
// is then the database's guarantee (a crash, a lost connection or abort = ROLLBACK) instead of ours, and nothing
// is left to clean up after a crashed writer (staging rows would need an age-based sweeper). The costs: one pooled
// connection per running writer, and row locks held until commit (below).
//
// Records are held per key (context, bucket of package names) in memory (PackGrouper, within MAX_BUFFER_BYTES) and
// written as packs (store/vulnerability-pack.ts, store/postgres/vulnerability-packs.ts) when the budget is reached
// and at commit, in multi-row statements of a few thousand packs, the next batch deflated while PostgreSQL writes the
// one before; the packs are linked to the operation at commit, as runs of pack ids.
// Texts are resolved to ids as batches come in (the lines of a pack hold their texts' ids), so that work overlaps
// the feed's parsing, as the per-record inserts of the earlier schema did.
//
// What keeps the collector (deleteUpdateOperations) off what a running writer uses: packs and texts it found are
// locked FOR KEY SHARE until the transaction ends, and packs and texts it inserted are invisible to others until
// then; the collector takes rows FOR UPDATE SKIP LOCKED, so it neither waits for a writer nor deletes under one.

/** Packs of the earlier operation read per statement by carryOver. */
const CARRY_PACKS = 500;
/** New texts resolved per statement while the feed is parsed (#resolveQueuedTexts). */
const TEXT_CHUNK = 2000;
/** Operations at least this large refresh planner statistics at commit (#analyze). */
const ANALYZE_AFTER = 5000;

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

  constructor(args: { session: WriterSession; pool: pg.Pool; updater: string; ref: string; date?: Date; opId: string; pid: number; onFinish: () => void; packBufferBytes?: number; contextBuckets?: number }) {
    this.#date = args.date;
    this.#session = args.session;
    this.#pool = args.pool;
    this.#updater = args.updater;
    this.#ref = args.ref;
    this.#opId = args.opId;
    this.#pid = args.pid;
    this.#onFinish = args.onFinish;
    this.#grouper = new PackGrouper(args.packBufferBytes ?? MAX_BUFFER_BYTES);
    this.#newContextBuckets = args.contextBuckets;
  }

  /** The bucket count of the contexts this writer creates, when given (tests); else drainedContexts'. */
  readonly #newContextBuckets: number | undefined;

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
    let records: RecordParts[];
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
      await this.#settleTexts();
      await insertPacks(this.#session.client, await this.#packs.drainAsync(), this.#opId);
    } catch (e) {
      throw this.#fail(e);
    }
  }

  #encode(batch: Vulnerability[]): RecordParts[] {
    const records = batch.map(vulnerabilityParts);
    for (const r of records) {
      if (r.updater !== this.#updater && !r.updater.startsWith(this.#updater + '/')) {
        throw new ClairError('internal', `record ${r.name} of updater ${r.updater} written to operation of ${this.#updater}`);
      }
    }
    return records;
  }

  /** The records held for packing (written when its budget is reached, and at commit). */
  readonly #grouper: PackGrouper;
  /**
   * Text ids by text hash: every text of a record held must have one when its pack is built. Each text this
   * transaction found is locked FOR KEY SHARE until it ends, and each one it inserted is invisible to others until
   * then, so the collector cannot take one from under it.
   */
  #textIds = new Map<string, number>();
  /** New texts deflated on the worker thread (deflate-worker.ts) while the next batch is parsed. */
  readonly #deflate = new BatchDeflate();

  async #add(records: RecordParts[]): Promise<void> {
    this.#checkOpen();
    try {
      // The batch's new texts are a group of their own: the groups queued are taken by the next resolution together.
      const group = new Map<string, string>();
      for (const r of records) {
        this.#grouper.add(r);
        const h = r.textHash;
        if (h !== null && r.text !== null && !this.#textIds.has(h) && !this.#textsQueued.has(h) && !group.has(h)) group.set(h, r.text);
      }
      if (group.size > 0) {
        this.#textGroups.push(group);
        for (const [h, t] of group) this.#textsQueued.set(h, t);
      }
      if (this.#textsQueued.size >= TEXT_CHUNK) await this.#resolveQueuedTexts();
      if (this.#grouper.full) await this.#writeHeld(false);
    } catch (e) {
      await this.#textsJob; // the rollback goes after the resolution's last statement, not between two of them
      throw this.#fail(e);
    }
  }

  /**
   * Texts of records held that are not resolved yet (queued, or in the resolution running), resolved about
   * TEXT_CHUNK at a time; #textGroups has the queued ones by the batch that brought them.
   */
  #textsQueued = new Map<string, string>();
  #textGroups: Map<string, string>[] = [];
  /** The resolution running, which never rejects: its failure is #textsFailure. */
  #textsJob: Promise<void> = Promise.resolve();
  #textsFailure: { e: unknown } | undefined;

  /**
   * Starts resolving the queued texts (their ids into #textIds) once the resolution before has ended, and returns
   * without waiting for it: the feed is parsed and grouped while PostgreSQL and the deflate worker take the texts
   * (looked up, deflated, inserted: three round trips). Resolved a batch (1,000 records, ~300 new texts of Debian's)
   * at a time, awaited by each, a first Debian load spent about half of its parse waiting on them. One resolution runs
   * at a time, and it is the only statement in flight besides the writer's own (#settleTexts before any other), so
   * the session still runs one statement at a time and a failure (rolled back by the step that finds it) leaves none
   * running.
   */
  async #resolveQueuedTexts(): Promise<void> {
    if (this.#textGroups.length === 0) return this.#settleTexts();
    const groups = this.#textGroups;
    this.#textGroups = [];
    // Deflated now, on the worker, while the resolution before runs, when the last one found most of its texts
    // missing (a first load): deflated after the lookup, PostgreSQL and the worker took turns. A daily reload finds
    // its texts stored and deflates none.
    const ahead = this.#deflateAhead ? this.#deflateAll(groups) : undefined;
    await this.#settleTexts();
    const deflate = async (texts: string[]): Promise<Uint8Array[]> => {
      const done = await ahead;
      return done ? texts.map((t) => done.get(t) ?? encodeText(t)) : this.#deflate.deflate(texts);
    };
    // Deflated ahead, expected new: inserted without the lookup first (TEXTS_SQL finds the stored ones as well),
    // a statement and a round trip less per resolution of a first load.
    this.#textsJob = resolveTexts(this.#session.client, groups, this.#textIds, `update operation for ${this.#updater}`, deflate, ahead === undefined).then(
      (r) => {
        this.#deflateAhead = r.inserted > r.stored;
        for (const g of groups) for (const h of g.keys()) this.#textsQueued.delete(h);
      },
      (e: unknown) => {
        this.#textsFailure ??= { e };
      },
    );
  }

  /** Whether the next resolution's texts are deflated before they are looked up (#resolveQueuedTexts). */
  #deflateAhead = false;

  /** The stored bytes of these texts by text (deflated on the worker), or undefined if the worker failed them. */
  async #deflateAll(groups: readonly Map<string, string>[]): Promise<Map<string, Uint8Array> | undefined> {
    const texts = groups.flatMap((g) => [...g.values()]);
    try {
      const bytes = await this.#deflate.deflate(texts);
      return new Map(texts.map((t, i) => [t, bytes[i]!]));
    } catch {
      return undefined;
    }
  }

  /** Waits for the text resolution running; throws its failure. */
  async #settleTexts(): Promise<void> {
    await this.#textsJob;
    if (this.#textsFailure) throw this.#textsFailure.e;
  }

  /** Every text of the records held resolved (before their packs are built). */
  async #resolveAllTexts(): Promise<void> {
    await this.#resolveQueuedTexts();
    await this.#settleTexts();
  }

  /** The packs of this operation (found or written), by id, with their record counts: linked at commit. */
  readonly #linked = new Map<number, number>();

  /**
   * Context ids and bucket counts by context JSON. Contexts are never deleted nor changed, so an entry stays good for
   * the writer's life.
   */
  readonly #contexts = new Map<string, { id: string; buckets: number }>();

  /**
   * The id and bucket count of a context, inserting it when new with the count `buckets()` gives. A writer racing
   * another to create it waits for the other's transaction on the unique key, then reads back the count the other
   * stored: both cut the context's packages alike.
   */
  async #contextId(k: PackKey, buckets: () => number): Promise<{ id: string; buckets: number }> {
    const known = this.#contexts.get(k.context);
    if (known !== undefined) return known;
    const c = this.#session.client;
    const ins = await c.query<{ id: string; buckets: number }>(
      `INSERT INTO vuln_context (updater, dist_did, dist_version_id, dist_version_code_name, data, buckets) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (data) DO NOTHING RETURNING id, buckets`,
      [k.updater, k.did, k.versionId, k.codeName, k.context, buckets()],
    );
    const row = ins.rows[0] ?? (await c.query<{ id: string; buckets: number }>('SELECT id, buckets FROM vuln_context WHERE data = $1', [k.context])).rows[0]!;
    const found = { id: String(row.id), buckets: Number(row.buckets) };
    this.#contexts.set(k.context, found);
    return found;
  }

  /**
   * Records the linked packs count twice: the same record given on both sides of a drain of the memory budget lands
   * in two packs of its key. Only keys with more than one linked pack that hold a package given on both sides of a
   * drain (PackGrouper.straddling) are opened; a feed that fits the budget opens none, and one grouped by package
   * (Debian's tracker) the few of the package being read at each drain, where it opened nearly every key.
   */
  async #repeatedRecords(): Promise<number> {
    const straddling = this.#grouper.straddling;
    if (this.#linked.size < 2 || straddling.size === 0) return 0;
    const holds = keyHoldsAny(straddling);
    const c = this.#session.client;
    const keys = await c.query<{ ids: string[]; bucket: number; buckets: number }>(
      `SELECT array_agg(p.id) AS ids, p.bucket, c.buckets FROM vuln_pack p JOIN vuln_context c ON c.id = p.context_id
       WHERE p.id = ANY($1::bigint[]) GROUP BY p.bucket, p.context_id, c.buckets HAVING count(*) > 1`,
      [[...this.#linked.keys()]],
    );
    const wanted = keys.rows.filter((k) => holds(k.bucket, k.buckets));
    if (wanted.length === 0) return 0;
    const lines = await packLinesOf(this.#queryable, undefined, wanted.flatMap((k) => k.ids.map(String)));
    return linesInSeveralPacks(wanted.map((k) => k.ids.map((id) => lines.get(String(id))!)));
  }

  /**
   * Packs the records held and writes the packs: each batch deflated while the statement of the one before runs.
   * `final`: the drain at commit (a context created there gets a count chosen from its records: drainedContexts).
   */
  async #writeHeld(final: boolean): Promise<void> {
    await this.#resolveAllTexts();
    const drained: PackGroup[] = this.#grouper.drain();
    const c = this.#session.client;
    // Packs go in batches: deflated (on the worker: deflate-worker.ts) while the batch before is written.
    let batch: { contextId: string; bucket: number; lines: string[] }[] = [];
    let chars = 0;
    let inFlight: Promise<void> | undefined;
    const send = async () => {
      const held = batch;
      batch = [];
      chars = 0;
      const deflated = deflatePacksAsync(held.map((p) => p.lines));
      deflated.catch(() => undefined); // awaited below
      await inFlight;
      const data = await deflated;
      const rows: PackRow[] = held.map((p, i) => ({ contextId: p.contextId, bucket: p.bucket, pack: { lines: p.lines, count: p.lines.length, data: data[i]! } }));
      const p = writePacks(c, rows).then((written) => {
        for (const w of written) this.#linked.set(Number(w.id), w.count);
      });
      p.catch(() => undefined); // awaited below or at the next send; a failure must not go unhandled meanwhile
      inFlight = p;
    };
    // Contexts first: the client runs one statement at a time, and the writes below keep it busy.
    const contexts = new Map<string, { id: string; buckets: number }>();
    for (const { key, newBuckets } of drainedContexts(drained, final)) {
      contexts.set(key.context, await this.#contextId(key, () => this.#newContextBuckets ?? newBuckets()));
    }
    const groups = mergeBuckets(drained, (context) => contexts.get(context)!.buckets);
    const contextIds = groups.map((g) => contexts.get(g.context)!.id);
    // Written in the lookup index's order (context, bucket): a B-tree filled in order splits its last page and keeps
    // the others full; in a feed's order its pages split in the middle and stay ~70% full (measured on Alpine's
    // secdb with a pack per package: 68 bytes a pack in vuln_pack_lookup, 42 in order).
    const order = groups.map((_, i) => i).sort((a, b) => Number(contextIds[a]) - Number(contextIds[b]) || groups[a]!.bucket - groups[b]!.bucket);
    for (const i of order) {
      const g = groups[i]!;
      const contextId = contextIds[i]!;
      const lines = g.entries.map((e) => bucketLine(e.packageName, e.name, e.textHash === null ? 0 : this.#textIds.get(e.textHash)!, e.own));
      // In the order the records came (ids follow the feed's order, as the rows' did).
      for (const l of packLines(lines)) {
        batch.push({ contextId, bucket: g.bucket, lines: l });
        for (const x of l) chars += x.length + 1;
      }
      // Deflated, a pack is about a quarter of its lines.
      if (batchFull(batch.length, chars / 4)) await send();
    }
    if (batch.length > 0) await send();
    await inFlight;
    if (this.#textIds.size > 200_000) this.#textIds = new Map();
  }

  carryOver(ref: string, keep: (v: Vulnerability) => boolean): Promise<number> {
    const run = this.#tail.then(() => this.#carryOver(ref, keep));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #carryOver(ref: string, keep: (v: Vulnerability) => boolean): Promise<number> {
    this.#checkOpen();
    try {
      await this.#settleTexts();
    } catch (e) {
      throw this.#fail(e);
    }
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
    // All of `keep`'s answers are collected before anything is added: a `keep` that throws leaves this operation as
    // it was, as in the SQLite store. Kept records are added as records (their texts resolved by hash, as new ones'
    // are): a key whose records are all kept makes the same pack again, which is then linked, not written.
    // Kept as their stored parts (the text and context strings are shared), decoded again when added: an operation
    // of a few hundred thousand records as objects would take gigabytes.
    const kept: { context: string; line: PackedLine; text: string | null }[] = [];
    const contexts = new Map<string, string>();
    let ids: number[];
    try {
      ids = await packIdsOf(this.#queryable, from);
    } catch (e) {
      throw this.#fail(e);
    }
    for (let i = 0; i < ids.length; i += CARRY_PACKS) {
      let packs: (PackRef & { data: Buffer })[];
      try {
        packs = (await c.query<PackRef & { data: Buffer }>(
          'SELECT id, bucket, context_id, data FROM vuln_pack WHERE id = ANY($1::bigint[]) ORDER BY id', [ids.slice(i, i + CARRY_PACKS)],
        )).rows;
        const unknown = [...new Set(packs.map((p) => String(p.context_id)))].filter((id) => !contexts.has(id));
        if (unknown.length > 0) {
          const rows = (await c.query<{ id: string; data: string }>('SELECT id, data FROM vuln_context WHERE id = ANY($1::bigint[])', [unknown])).rows;
          for (const r of rows) contexts.set(String(r.id), r.data);
        }
      } catch (e) {
        throw this.#fail(e);
      }
      const opened = packs.map((p) => ({ ref: p, lines: openPackLines(p.data) }));
      let texts: Map<number, string>;
      try {
        texts = await this.#carryTexts.load(this.#queryable, textIdsOfPacks(opened.map((p) => p.lines)));
      } catch (e) {
        throw this.#fail(e);
      }
      for (const { ref: p, lines } of opened) {
        const context = contexts.get(String(p.context_id))!;
        for (const l of lines) {
          const line = parseLine(l);
          const text = line.textId === 0 ? null : texts.get(line.textId)!;
          if (keep(decodePackedLine(context, line, text))) kept.push({ context, line, text });
        }
      }
    }
    // Re-encoded after every answer is in (the writer's add path: texts resolved, the budget kept).
    for (let i = 0; i < kept.length; i += CARRY_PACKS * 8) {
      await this.#add(this.#encode(kept.slice(i, i + CARRY_PACKS * 8).map((k) => decodePackedLine(k.context, k.line, k.text))));
    }
    return kept.length;
  }

  /** Texts of the records carried over (read to decode them for `keep`). */
  readonly #carryTexts = new TextCache();

  /** The writer's session as the pack and text readers of vulnerability-packs.ts take it. */
  readonly #queryable: Queryable = (sql, params) => this.#session.client.query(sql, params).then((r) => r.rows);

  async commit(fingerprint: string): Promise<UpdateOperation> {
    await this.#tail;
    this.#checkOpen();
    if (!this.#packs.empty) await this.#writePacks();
    try {
      await this.#settleTexts();
      if (!this.#grouper.empty) await this.#writeHeld(true);
      await linkPacks(this.#session.client, this.#opId, [...this.#linked.keys()]);
    } catch (e) {
      throw this.#fail(e);
    }
    let records = 0;
    for (const n of this.#linked.values()) records += n;
    try {
      records -= await this.#repeatedRecords();
    } catch (e) {
      throw this.#fail(e);
    }
    const c = this.#session.client;
    let op: UpdateOperation;
    try {
      const res = await c.query(
        `UPDATE update_operation SET fingerprint = $2, date = $3, seq = nextval('update_operation_commit_seq'),
           count = $4::int + (SELECT coalesce(sum(count), 0) FROM enrichment_pack WHERE uo_id = $1)
         WHERE id = $1 RETURNING ref, updater, fingerprint, date, count`,
        [this.#opId, fingerprint, this.#date ?? new Date(), records],
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
   * up to a minute or more later) the matching query was measured at 6x slower with a row per record (the default
   * estimates made its links look tiny), and with packs a 500-package lookup at 19 ms before, 10 ms after
   * (bench/store-ingest.ts, 20,000 records). Best effort on purpose: the operation is committed,
   * and a failed ANALYZE (another role owns the tables, a lost connection) changes no result, only how soon
   * autovacuum's statistics make queries fast.
   */
  async #analyze(): Promise<void> {
    // vuln_context too: the match query joins it first (MATCH_SQL), and without statistics it looks 100 times its size.
    await this.#pool.query('ANALYZE vuln_pack, uo_pack_run, vuln_context').catch(() => undefined);
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
    await this.#textsJob; // no statement of the writer's left running under the rollback (its failure is moot now)
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

export function toOperation(r: Record<string, unknown>): UpdateOperation {
  const date = r.date instanceof Date ? r.date.toISOString() : String(r.date);
  return { ref: r.ref as string, updater: r.updater as string, fingerprint: r.fingerprint as string, date, count: Number(r.count) };
}
