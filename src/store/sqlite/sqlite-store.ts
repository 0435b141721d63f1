import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { nodeCrypto } from '../../model/lazy-crypto.ts';
import { ClairError } from '../../model/errors.ts';
import { LruCache } from '../../model/lru-cache.ts';
import type { IndexReport } from '../../model/index-report.ts';
import type { UpdateOperation } from '../../model/update-operation.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import type { LayerReport } from '../../model/layer-report.ts';
import { MAX_SCAN_RESULT_BYTES, MAX_SCAN_RESULTS_PER_MANIFEST, type NewNotificationSet, type NotificationReceipt, type OperationIdentity, type NotificationStatus, type ReportStamps, type Store, type StoredNotification, type StoredScanResult, type StoredVulnerability, type UpdateOperationWriter } from '../store.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import type { PackCache } from '../enrichment-pack.ts';
import type { PackGroup, PackLinesCache } from '../vulnerability-pack.ts';
import type { InflatedTexts } from '../stored-text.ts';
import type { TextsAhead } from '../deflate-worker.ts';
import type { SqliteSubscriptions } from './subscription-queries.ts';
import type { Subscription, SubscriptionDelivery } from '../../model/subscription.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import { SCHEMA_VERSION } from './schema-version.ts';

// Modules only some operations need (writing records, migrating, the notifier's package index, subscriptions) are
// loaded on first use: a warm scan answered from a stored result opens the store, reads one row and closes it, and
// loading them all cost it ~10 modules. require() loads ES modules synchronously, keeping the callers synchronous.
const require = createRequire(import.meta.url);
function lazy<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
const recordRow = lazy<typeof import('../record-row.ts')>('../record-row.ts');
const migrationList = lazy<typeof import('./migrations.ts')>('./migrations.ts');
const packs = lazy<typeof import('../enrichment-pack.ts')>('../enrichment-pack.ts');
const vulnPacks = lazy<typeof import('../vulnerability-pack.ts')>('../vulnerability-pack.ts');
const storedText = lazy<typeof import('../stored-text.ts')>('../stored-text.ts');
const sqlitePacks = lazy<typeof import('./vuln-packs.ts')>('./vuln-packs.ts');
const deflateWorker = lazy<typeof import('../deflate-worker.ts')>('../deflate-worker.ts');
const subscriptionQueries = lazy<typeof import('./subscription-queries.ts')>('./subscription-queries.ts');
const packageIndex = lazy<typeof import('./indexed-packages.ts')>('./indexed-packages.ts');

// The embedded store. node:sqlite is synchronous: every method body runs without awaiting inside a transaction, so
// concurrent async callers in this process can never interleave statements into each other's transactions.

// Prepared statements kept for reuse. Most SQL texts are fixed; queryVulnerabilities' vary with the current
// operations and the query's shape, so a long-running serve would otherwise keep every one it ever prepared.
export const MAX_CACHED_STATEMENTS = 256;

// The stamps of getReportStamps, as SQL. The operations' is one row the database keeps (migration 14): reading it
// costs the same however many operations are kept. octet_length reads a value's size from its record header
// (length(), even of CAST(data AS BLOB), loads the whole value: 4 ms a request for a 5 MB report).
const OPERATIONS_STAMP = "(SELECT version || ' ' || epoch FROM update_operation_stamp)";
/** Of the index_report row `r`. */
const REPORT_STAMP = "r.updated || ' ' || r.index_state || ' ' || octet_length(r.data)";

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #stmts = new LruCache<string, StatementSync>(MAX_CACHED_STATEMENTS);

  readonly #maxScanResultBytes: number;
  readonly #packBufferBytes: number | undefined;
  /** The bucket count of the contexts writers create, when given (tests); else chooseBuckets'. */
  readonly #contextBuckets: number | undefined;
  #subsLoaded: SqliteSubscriptions | undefined;
  #packsLoaded: PackCache | undefined;
  #packLinesLoaded: PackLinesCache | undefined;
  /**
   * Inflated vuln_text rows by id. A text row never changes and its id is never given again (AUTOINCREMENT, since
   * migration 12), so an entry cannot go stale, whichever process deletes texts.
   */
  #inflatedLoaded: InflatedTexts | undefined;
  /** vuln_context rows by id (a database holds a few dozen; they are never deleted). */
  readonly #contexts = new Map<number, string>();

  private constructor(db: DatabaseSync, maxScanResultBytes: number, packBufferBytes: number | undefined, contextBuckets: number | undefined) {
    this.#db = db;
    this.#maxScanResultBytes = maxScanResultBytes;
    this.#packBufferBytes = packBufferBytes;
    this.#contextBuckets = contextBuckets;
  }

  get #inflated(): InflatedTexts {
    return (this.#inflatedLoaded ??= new (storedText().InflatedTexts)());
  }

  get #packLines(): PackLinesCache {
    return (this.#packLinesLoaded ??= new (vulnPacks().PackLinesCache)());
  }

  get #subs(): SqliteSubscriptions {
    return (this.#subsLoaded ??= new (subscriptionQueries().SqliteSubscriptions)(this.#db, (sql) => this.#stmt(sql), (fn) => this.#tx(fn)));
  }

  get #packs(): PackCache {
    return (this.#packsLoaded ??= new (packs().PackCache)());
  }

  /**
   * Opens (creating when missing) the database file and applies pending migrations. ":memory:" works too.
   * packBufferBytes: the bytes of records a writer holds before writing them as packs (tests; default
   * MAX_BUFFER_BYTES of store/vulnerability-pack.ts). contextBuckets: the bucket count of the contexts writers create
   * (tests: PACK_BUCKETS for a pack per package; default chooseBuckets' of store/vulnerability-pack.ts).
   */
  static open(path: string, opts: { maxScanResultBytes?: number; packBufferBytes?: number; contextBuckets?: number } = {}): SqliteStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (e) {
      throw new ClairError('bad-input', `cannot open database ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      // A new file gives back the pages a finished operation's staging rows held (#reclaim). Set before anything
      // writes the file's first page; a file made before keeps its mode (changing it takes a VACUUM).
      db.exec('PRAGMA auto_vacuum = INCREMENTAL');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('PRAGMA busy_timeout = 5000');
      // Random-order inserts into the hash index thrash the default 2 MB page cache during feed ingest.
      db.exec('PRAGMA cache_size = -65536');
      // Fewer, larger checkpoints: each one fsyncs, and a feed ingest writes hundreds of MB through the WAL.
      db.exec('PRAGMA wal_autocheckpoint = 16384');
      migrate(db);
    } catch (e) {
      db.close();
      throw new ClairError('bad-input', `database ${path} is not usable: ${(e as Error).message}`, { cause: e });
    }
    const store = new SqliteStore(db, opts.maxScanResultBytes ?? MAX_SCAN_RESULT_BYTES, opts.packBufferBytes, opts.contextBuckets);
    store.#sweepDeadWriters();
    return store;
  }

  /**
   * Staging rows of writers that died (kill -9 mid-update) are never committed nor aborted: left alone they pile up
   * (1.4M after 15 kills) and keep their records alive. Each writer's token starts with its process id; rows of a
   * process that no longer exists are deleted at open, with the records only they held. A live writer, in this
   * process or another sharing the file, is left alone.
   */
  #sweepDeadWriters(): void {
    const tokens = this.#db.prepare('SELECT DISTINCT token FROM pack_staging UNION SELECT DISTINCT token FROM enrichment_pack WHERE token IS NOT NULL').all().map((r) => r.token as string);
    const dead = tokens.filter((t) => !writerAlive(t));
    if (dead.length === 0) return;
    this.#tx(() => {
      for (const t of dead) this.#dropWriter(t);
    });
  }

  /** Prepared statements held for reuse, at most MAX_CACHED_STATEMENTS. */
  get cachedStatements(): number {
    return this.#stmts.size;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /**
   * A transaction of many multi-row statements (a writer's batch of records). Each statement that changes pages the
   * transaction already changed keeps their prior contents in a statement journal (to undo the statement alone if
   * it fails), which spills to a temporary file beyond 64 KiB: a 100-record insert touches that many random pages
   * of the hash indexes, so a Debian ingest (128k records) wrote ~600 MB to files in /var/tmp, in ~300k pwrite calls,
   * about half its system time. Kept in memory for these transactions (a statement's journal is truncated when it
   * ends, so it holds at most one statement's pages), not for the connection: big sorts and materializations of
   * other statements still spill to files.
   */
  #bulkTx<T>(fn: () => T): T {
    this.#db.exec('PRAGMA temp_store = MEMORY');
    try {
      return this.#tx(fn);
    } finally {
      this.#db.exec('PRAGMA temp_store = DEFAULT');
    }
  }

  #tx<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  async getLayerReport(digest: string, scannerSet: string): Promise<LayerReport | undefined> {
    const row = this.#stmt('SELECT data FROM layer_report WHERE digest = ? AND scanner_set = ?').get(digest, scannerSet);
    return row ? (JSON.parse(row.data as string) as LayerReport) : undefined;
  }

  async putLayerReport(report: LayerReport): Promise<void> {
    this.#stmt(
      `INSERT INTO layer_report (digest, scanner_set, data, created) VALUES (?, ?, ?, ?)
       ON CONFLICT (digest, scanner_set) DO UPDATE SET data = excluded.data, created = excluded.created`,
    ).run(report.digest, report.scannerSet, JSON.stringify(report), new Date().toISOString());
  }

  async deleteLayerReports(digests: string[], scannerSet: string): Promise<void> {
    const del = this.#stmt('DELETE FROM layer_report WHERE digest = ? AND scanner_set = ?');
    this.#tx(() => {
      for (const d of digests) del.run(d, scannerSet);
    });
  }

  async getIndexReport(manifestHash: string): Promise<{ report: IndexReport; indexState: string } | undefined> {
    const row = this.#stmt('SELECT data, index_state FROM index_report WHERE manifest_hash = ?').get(manifestHash);
    if (!row) return undefined;
    return { report: JSON.parse(row.data as string) as IndexReport, indexState: row.index_state as string };
  }

  async getReportStamps(manifestHashes: string[]): Promise<ReportStamps> {
    const ops = this.#stmt(`SELECT ${OPERATIONS_STAMP} AS stamp`).get()!;
    const one = this.#stmt(`SELECT ${REPORT_STAMP} AS stamp FROM index_report r WHERE r.manifest_hash = ?`);
    return { operations: ops.stamp as string, indexReports: manifestHashes.map((h) => one.get(h)?.stamp as string | undefined) };
  }

  async getScanResult(manifestHash: string, variant: string): Promise<(StoredScanResult & { codeStamp: string }) | undefined> {
    // The stamps are compared in the statement that reads the result: no write can fall between the check and the read.
    const row = this.#stmt(
      `SELECT s.meta, s.output, s.code_stamp FROM scan_result s JOIN index_report r ON r.manifest_hash = s.manifest_hash
       WHERE s.manifest_hash = ? AND s.variant = ?
         AND s.operations_stamp = (SELECT ${OPERATIONS_STAMP}) AND s.report_stamp = ${REPORT_STAMP}`,
    ).get(manifestHash, variant);
    return row ? { meta: row.meta as string, output: row.output as Uint8Array, codeStamp: row.code_stamp as string } : undefined;
  }

  async putScanResult(manifestHash: string, variant: string, stamps: { operations: string; indexReport: string }, codeStamp: string, result: StoredScanResult): Promise<boolean> {
    if (result.output.byteLength > this.#maxScanResultBytes) return false;
    return this.#tx(() => {
      const operations = this.#stmt(`SELECT ${OPERATIONS_STAMP} AS stamp`).get()!.stamp as string;
      const report = this.#stmt(`SELECT ${REPORT_STAMP} AS stamp FROM index_report r WHERE r.manifest_hash = ?`).get(manifestHash)?.stamp as string | undefined;
      // Results of other operation sets or of an earlier index report can never be current again.
      this.#stmt('DELETE FROM scan_result WHERE operations_stamp <> ?').run(operations);
      this.#stmt('DELETE FROM scan_result WHERE manifest_hash = ? AND report_stamp IS NOT ?').run(manifestHash, report ?? null);
      if (operations !== stamps.operations || report !== stamps.indexReport) return false;
      this.#stmt(
        `INSERT OR REPLACE INTO scan_result (manifest_hash, variant, operations_stamp, report_stamp, code_stamp, meta, output, bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(manifestHash, variant, operations, report, codeStamp, result.meta, result.output, result.output.byteLength);
      this.#stmt(
        `DELETE FROM scan_result WHERE manifest_hash = ? AND id NOT IN (SELECT id FROM scan_result WHERE manifest_hash = ? ORDER BY id DESC LIMIT ${MAX_SCAN_RESULTS_PER_MANIFEST})`,
      ).run(manifestHash, manifestHash);
      this.#stmt(
        `DELETE FROM scan_result WHERE id IN (
           SELECT id FROM (SELECT id, sum(bytes) OVER (ORDER BY id DESC) AS kept FROM scan_result) WHERE kept > ?)`,
      ).run(this.#maxScanResultBytes);
      return true;
    });
  }

  async putIndexReport(report: IndexReport, indexState: string): Promise<void> {
    this.#tx(() => {
      this.#stmt(
        `INSERT INTO index_report (manifest_hash, index_state, data, updated) VALUES (?, ?, ?, ?)
         ON CONFLICT (manifest_hash) DO UPDATE SET index_state = excluded.index_state, data = excluded.data, updated = excluded.updated`,
      ).run(report.manifestHash, indexState, JSON.stringify(report), new Date().toISOString());
      // Scan results of the report replaced are no longer current (getScanResult would not return them).
      this.#stmt('DELETE FROM scan_result WHERE manifest_hash = ?').run(report.manifestHash);
      packageIndex().indexManifestPackages((sql) => this.#stmt(sql), report.manifestHash, report);
    });
  }

  async deleteIndexReports(manifestHashes: string[]): Promise<string[]> {
    const del = this.#stmt('DELETE FROM index_report WHERE manifest_hash = ?');
    const stmt = (sql: string) => this.#stmt(sql);
    return this.#tx(() => {
      const held = packageIndex().packagesOfManifests(stmt, manifestHashes);
      const deleted = manifestHashes.filter((h) => Number(del.run(h).changes) > 0);
      packageIndex().dropUnheld(stmt, held);
      return deleted;
    });
  }

  async manifestsWithPackages(names: string[]): Promise<string[]> {
    return packageIndex().manifestsWithPackages(this.#db, names);
  }

  async indexedPackagesNamed(names: string[]): Promise<IndexedPackage[]> {
    return packageIndex().indexedPackagesNamed(this.#db, names);
  }

  async manifestsWithIndexedPackages(ids: string[]): Promise<Map<string, string[]>> {
    return packageIndex().manifestsWithIndexedPackages(this.#db, ids);
  }

  async beginUpdateOperation(updater: string, identity?: OperationIdentity): Promise<UpdateOperationWriter> {
    // "<pid>:<uuid>": a later open can tell a dead writer's rows from a live one's (#sweepDeadWriters).
    const token = `${process.pid}:${nodeCrypto().randomUUID()}`;
    liveTokens.add(token);
    const started = new Date().toISOString();
    const stage = this.#stmt('INSERT OR IGNORE INTO pack_staging (token, pack_id, count, started) VALUES (?, ?, ?, ?)');
    // Ids of the contexts and texts this writer has resolved. Only ids resolved in a committed transaction are
    // kept, and a text this writer resolved is used by a pack it staged (vuln_text.refs counts it), so garbage
    // collection cannot pull one from under it.
    const parts = new PartIds();
    // Records are held per package and context (store/vulnerability-pack.ts) and written as packs when the writer's
    // budget fills or at commit, in one transaction: feeds arrive grouped by package (Debian, Alpine) or not (OSV),
    // and a package's records must be together to make one pack.
    const grouper = new (vulnPacks().PackGrouper)(this.#packBufferBytes);
    // New texts are deflated on a worker while the feed is parsed (deflate-worker.ts); they are still inserted at
    // write, inside the transaction that stages the packs using them, in the same order as before (so the same ids).
    const ahead = new (deflateWorker().TextsAhead)();
    let given = 0;
    let warmed = false;
    // `final`: the drain at commit (a context created there gets a count chosen from its records: drainedContexts).
    const writeGroups = (drained: PackGroup[], final: boolean) => {
      const { packLines, bucketLine, drainedContexts, mergeBuckets } = vulnPacks();
      try {
        this.#bulkTx(() => {
          this.#resolveTexts(drained, parts, ahead);
          const contexts = new Map<string, { id: number; buckets: number }>();
          for (const { key, newBuckets } of drainedContexts(drained, final)) {
            contexts.set(key.context, this.#contextId(key, parts, () => this.#contextBuckets ?? newBuckets()));
          }
          const groups = mergeBuckets(drained, (context) => contexts.get(context)!.buckets);
          // The packs, their lines made as the deflate (on the worker) takes them.
          function* packs() {
            for (const g of groups) {
              const contextId = contexts.get(g.context)!.id;
              const texts = new Set<number>();
              const lines = g.entries.map((e) => {
                const id = e.textHash === null ? 0 : parts.text(e.textHash)!;
                if (id !== 0) texts.add(id);
                return bucketLine(e.packageName, e.name, id, e.own);
              });
              const cut = packLines(lines);
              // The text ids of a key's one pack are those of its records (of several packs, read from each).
              for (const l of cut) yield { bucket: g.bucket, contextId, lines: l, texts: cut.length === 1 ? [...texts] : undefined };
            }
          }
          const { storePack, addTextRefs } = sqlitePacks();
          const stmt = (sql: string) => this.#stmt(sql);
          const refs = new Map<number, number>();
          deflateWorker().deflatePacks(packs(), groups.length, (p, data) => {
            stage.run(token, storePack(stmt, p.bucket, p.contextId, { lines: p.lines, count: p.lines.length, data }, refs, p.texts), p.lines.length, started);
          });
          addTextRefs(stmt, refs);
        });
      } catch (e) {
        parts.rollback();
        throw e;
      }
      parts.commit();
    };
    const drain = () => {
      const groups = grouper.drain();
      ahead.drained();
      return groups;
    };
    // The records held are drained at once (the same cut as when writes were synchronous: records given later go to
    // the next drain), and written once the texts on the worker are back; writes run one after another, and after
    // one failed, none is written and commit refuses.
    let writing: Promise<void> = Promise.resolve();
    let failure: unknown;
    const writeRecords = (final: boolean): Promise<void> => {
      const groups = drain();
      const run = writing.then(async () => {
        if (failure !== undefined) throw failure;
        await ahead.settle();
        writeGroups(groups, final);
      });
      writing = run.catch((e: unknown) => {
        failure ??= e;
      });
      return run;
    };
    // Enrichment records go into packs (store/enrichment-pack.ts), written under the token run by run.
    // The records are taken from the builder at once and deflated off this thread (PackBuilder.drainAsync: the
    // deflate worker or zlib's threads); the insert of each run waits for the run before it (pack ids keep the order
    // of the packs), and commit and abort wait for the last.
    const builder = new (packs().PackBuilder)();
    let packWrite: Promise<void> = Promise.resolve();
    const writePacks = (): Promise<void> => {
      const drained = builder.drainAsync();
      drained.catch(() => undefined); // observed by the chain below
      packWrite = packWrite.then(async () => {
        const list = await drained;
        this.#bulkTx(() => migrationList().insertPacks(this.#db, list, { token }));
      });
      return packWrite;
    };
    let done = false;
    const finish = () => {
      if (done) throw new ClairError('internal', `update operation for ${updater} already finished`);
      done = true;
      liveTokens.delete(token);
    };
    return {
      add: async (batch: Vulnerability[]) => {
        if (done) throw new ClairError('internal', `update operation for ${updater} already finished`);
        if (failure !== undefined) throw failure;
        for (const v of batch) {
          if (v.updater !== updater && !v.updater.startsWith(updater + '/')) {
            throw new ClairError('internal', `record ${v.name} of updater ${v.updater} written to operation of ${updater}`);
          }
        }
        const { vulnerabilityParts } = recordRow();
        const fresh: { hash: string; text: string }[] = [];
        for (const v of batch) {
          const p = vulnerabilityParts(v);
          grouper.add(p);
          if (p.textHash !== null && p.text !== null && !ahead.seen(p.textHash) && parts.text(p.textHash) === undefined) {
            ahead.markSeen(p.textHash);
            fresh.push({ hash: p.textHash, text: p.text });
          }
        }
        if (fresh.length > 0) this.#textsAhead(fresh, ahead);
        if (!warmed && (given += batch.length) >= deflateWorker().WARM_RECORDS) {
          // Enough records for the packs to go to the worker: started now, not waited for inside the write.
          warmed = true;
          deflateWorker().deflateWorker.warm();
        }
        if (grouper.full) await writeRecords(false);
      },
      addEnrichments: async (batch: EnrichmentRecord[]) => {
        if (done) throw new ClairError('internal', `update operation for ${updater} already finished`);
        for (const e of batch) {
          if (e.updater !== updater && !e.updater.startsWith(updater + '/')) {
            throw new ClairError('internal', `record ${e.tag} of updater ${e.updater} written to operation of ${updater}`);
          }
        }
        for (const e of batch) builder.add(e);
        if (builder.full) await writePacks();
      },
      carryOver: async (ref: string, keep: (v: Vulnerability) => boolean) => {
        if (done) throw new ClairError('internal', `update operation for ${updater} already finished`);
        const op = this.#stmt('SELECT id FROM update_operation WHERE ref = ?').get(ref);
        if (!op) throw new ClairError('not-found', `update operation ${ref} does not exist`);
        await writing;
        if (failure !== undefined) throw failure;
        // The kept records are added again, as records: a package whose records are all kept makes the pack it
        // had, which is linked again, not copied. (Written here and now: their texts are stored already.)
        let kept = 0;
        const { vulnerabilityParts } = recordRow();
        this.#forEachPackedRecord(op.id as number, (v) => {
          if (!keep(v)) return;
          grouper.add(vulnerabilityParts(v));
          kept++;
          if (grouper.full) writeGroups(drain(), false);
        });
        return kept;
      },
      commit: async (fingerprint: string) => {
        if (!done && !builder.empty) await writePacks();
        if (!done) {
          if (!grouper.empty) void writeRecords(true).catch(() => undefined); // its failure is `failure`, thrown below
          await writing;
          if (failure !== undefined) throw failure;
        }
        finish();
        const ref = identity?.ref ?? nodeCrypto().randomUUID();
        const date = identity?.date ?? new Date().toISOString();
        if (identity && this.#stmt('SELECT 1 FROM update_operation WHERE ref = ?').get(ref)) {
          this.#tx(() => this.#dropWriter(token));
          throw new ClairError('conflict', `update operation ${ref} already exists`);
        }
        const op = this.#tx(() => {
          const count = Number(this.#stmt('SELECT coalesce(sum(count), 0) AS n FROM pack_staging WHERE token = ?').get(token)!.n)
            - this.#repeatedRecords(token, grouper.straddling)
            + Number(this.#stmt('SELECT coalesce(sum(count), 0) AS n FROM enrichment_pack WHERE token = ?').get(token)!.n);
          const id = this.#stmt(
            'INSERT INTO update_operation (ref, updater, fingerprint, date, count) VALUES (?, ?, ?, ?, ?) RETURNING id',
          ).get(ref, updater, fingerprint, date, count)!.id as number;
          this.#stmt('INSERT INTO uo_pack (uo_id, pack_id) SELECT ?, pack_id FROM pack_staging WHERE token = ?').run(id, token);
          this.#stmt('DELETE FROM pack_staging WHERE token = ?').run(token);
          this.#stmt('UPDATE enrichment_pack SET uo_id = ?, token = NULL WHERE token = ?').run(id, token);
          return { ref, updater, fingerprint, date, count };
        });
        this.#reclaim();
        return op;
      },
      abort: async () => {
        if (done) return;
        done = true;
        grouper.drain();
        // A run still being written is inserted under the token: wait for it, then delete it with the rest.
        await writing;
        ahead.clear();
        await packWrite.catch(() => undefined);
        liveTokens.delete(token);
        this.#tx(() => this.#dropWriter(token));
      },
    };
  }

  /**
   * Records a writer's staged packs count twice: the same record given on both sides of a drain of its memory budget
   * lands in two packs of its key. Only keys with more than one staged pack that hold a package given on both sides
   * (`straddling`, PackGrouper.straddling) are opened; a feed that fits the budget opens none, and Debian's tracker
   * (grouped by package) the few of the package being read at each drain. Opening every key with several packs (after
   * a drain nearly all of them: ~16k packs of the tracker) took ~30 MB of pack bytes and their lines at the end of
   * the ingest, at the process's high-water mark.
   */
  #repeatedRecords(token: string, straddling: ReadonlySet<string>): number {
    if (straddling.size === 0) return 0;
    const { linesInSeveralPacks, keyHoldsAny } = vulnPacks();
    const holds = keyHoldsAny(straddling);
    const keys = this.#stmt(
      `SELECT group_concat(p.id) AS ids, p.bucket, c.buckets FROM pack_staging s JOIN vuln_pack p ON p.id = s.pack_id
       JOIN vuln_context c ON c.id = p.context_id WHERE s.token = ? GROUP BY p.bucket, p.context_id HAVING count(*) > 1`,
    ).all(token).filter((k) => holds(k.bucket as number, k.buckets as number));
    if (keys.length === 0) return 0;
    const data = this.#stmt('SELECT data FROM vuln_pack WHERE id = ?');
    return linesInSeveralPacks(keys.map((k) => String(k.ids).split(',').map((id) =>
      this.#packLines.get(Number(id), () => data.get(Number(id))!.data as Uint8Array))));
  }

  /** Forgets what a writer staged, and the packs and texts only it held (inside the caller's transaction). */
  #dropWriter(token: string): void {
    const staged = this.#stmt('SELECT pack_id FROM pack_staging WHERE token = ?').all(token).map((r) => r.pack_id as number);
    this.#stmt('DELETE FROM pack_staging WHERE token = ?').run(token);
    this.#stmt('DELETE FROM enrichment_pack WHERE token = ?').run(token);
    this.#collectGarbage(staged);
  }

  /**
   * Gives the file's free pages back (a database created with auto_vacuum = INCREMENTAL): the staging rows of a
   * committed operation are as large as its records, and would otherwise stay in the file as free pages.
   */
  #reclaim(): void {
    this.#db.exec('PRAGMA incremental_vacuum');
  }

  /**
   * Of these packs, those no operation holds and no writer is staging, with the texts only they used. uo_pack has no
   * index by pack (it would cost every pack an entry): the links are read once, into a temporary index, per call.
   */
  #collectGarbage(candidates: number[]): void {
    if (candidates.length === 0) return;
    const rows = this.#stmt(
      `SELECT p.id, p.data FROM vuln_pack p WHERE p.id IN (SELECT value FROM json_each(?))
         AND p.id NOT IN (SELECT pack_id FROM uo_pack) AND NOT EXISTS (SELECT 1 FROM pack_staging s WHERE s.pack_id = p.id)`,
    ).all(JSON.stringify([...new Set(candidates)]));
    const gone = rows.map((p) => ({ id: p.id as number, lines: this.#packLines.get(p.id as number, () => p.data as Uint8Array) }));
    sqlitePacks().dropPacks((sql) => this.#stmt(sql), gone);
  }

  /**
   * The id and bucket count of a group's context, inserting it when new with the count `buckets()` gives (inside the
   * caller's transaction). A stored context keeps the count it was created with.
   */
  #contextId(r: { context: string; updater: string; did: string; versionId: string; codeName: string }, ids: PartIds, buckets: () => number): { id: number; buckets: number } {
    let c = ids.context(r.context);
    if (c === undefined) {
      const row = this.#stmt('SELECT id, buckets FROM vuln_context WHERE data = ?').get(r.context)
        ?? this.#stmt('INSERT INTO vuln_context (updater, dist_did, dist_version_id, dist_version_code_name, data, buckets) VALUES (?, ?, ?, ?, ?, ?) RETURNING id, buckets')
          .get(r.updater, r.did, r.versionId, r.codeName, r.context, buckets())!;
      c = { id: row.id as number, buckets: row.buckets as number };
      ids.setContext(r.context, c);
    }
    return c;
  }

  /**
   * The stored texts among these hashes, by hash, with their ids: one statement for any number (a statement of as
   * many `?` as hashes was prepared anew for each count, ~7 us a text).
   */
  #storedTexts(hashes: string[], each: (hash: string, id: number) => void): void {
    if (hashes.length === 0) return;
    const rows = this.#stmt('SELECT id, lower(hex(hash)) AS hash FROM vuln_text WHERE hash IN (SELECT unhex(value) FROM json_each(?))')
      .all(JSON.stringify(hashes));
    for (const r of rows) each(r.hash as string, r.id as number);
  }

  /**
   * Gives `ahead` the texts of a batch that the store does not hold, to be deflated before they are written (a text
   * stored already is not deflated again: the daily re-load of a feed finds nearly all of its texts). Only a lookup,
   * outside any transaction: the write looks again for any text it did not see missing here.
   */
  #textsAhead(texts: { hash: string; text: string }[], ahead: TextsAhead): void {
    const stored = new Set<string>();
    this.#storedTexts(texts.map((t) => t.hash), (h) => stored.add(h));
    for (const t of texts) if (!stored.has(t.hash)) ahead.add(t.hash, t.text);
  }

  /**
   * Resolves the ids of the groups' texts this writer has not resolved yet, inserting the new ones (inside the
   * caller's transaction). The stored ones are looked up first, but for those `ahead` saw missing when they came
   * (stored since by another writer, one is found after the insert skips it); the new ones are inserted many to a
   * statement, in the groups' order, with the bytes `ahead` deflated for them.
   */
  #resolveTexts(groups: PackGroup[], ids: PartIds, ahead: TextsAhead): void {
    const wanted = new Map<string, string>();
    for (const g of groups) for (const r of g.entries) if (r.text !== null && r.textHash !== null && ids.text(r.textHash) === undefined) wanted.set(r.textHash, r.text);
    if (wanted.size === 0) return;
    const found = (h: string, id: number) => ids.setText(h, id);
    this.#storedTexts([...wanted.keys()].filter((h) => !ahead.unstored(h)), found);
    const TEXTS = 200;
    const all = [...wanted].filter(([h]) => ids.text(h) === undefined);
    for (let i = 0; i < all.length; i += TEXTS) {
      const chunk = all.slice(i, i + TEXTS);
      const inserted = this.#stmt(
        `INSERT INTO vuln_text (hash, data) VALUES ${chunk.map(() => '(unhex(?), ?)').join(',')}
         ON CONFLICT (hash) DO NOTHING RETURNING id, lower(hex(hash)) AS hash`,
      ).all(...chunk.flatMap(([h, t]) => [h, ahead.take(h, t)]));
      for (const r of inserted) ids.setText(r.hash as string, r.id as number);
    }
    this.#storedTexts(all.map(([h]) => h).filter((h) => ids.text(h) === undefined), found);
  }

  async listUpdateOperations(updater?: string): Promise<UpdateOperation[]> {
    const rows = updater
      ? this.#stmt('SELECT ref, updater, fingerprint, date, count FROM update_operation WHERE updater = ? ORDER BY id DESC').all(updater)
      : this.#stmt('SELECT ref, updater, fingerprint, date, count FROM update_operation ORDER BY id DESC').all();
    return rows.map(toOperation);
  }

  async getUpdateOperation(ref: string): Promise<UpdateOperation | undefined> {
    const row = this.#stmt('SELECT ref, updater, fingerprint, date, count FROM update_operation WHERE ref = ?').get(ref);
    return row ? toOperation(row) : undefined;
  }

  async deleteUpdateOperations(refs: string[]): Promise<string[]> {
    const del = this.#stmt('DELETE FROM update_operation WHERE ref = ?');
    const held = this.#stmt('SELECT u.pack_id FROM update_operation o JOIN uo_pack u ON u.uo_id = o.id WHERE o.ref = ?');
    const gone = this.#tx(() => {
      const candidates: number[] = [];
      const deleted = refs.filter((r) => {
        for (const row of held.all(r)) candidates.push(row.pack_id as number);
        return Number(del.run(r).changes) > 0;
      });
      // Every stored scan result was computed from a set of operations that no longer exists.
      if (deleted.length > 0) this.#stmt('DELETE FROM scan_result').run();
      this.#collectGarbage(candidates);
      return deleted;
    });
    if (gone.length > 0) this.#reclaim();
    return gone;
  }

  /** The stored JSON of each of these contexts (contexts are never deleted: cached for the store's life). */
  #context(id: number): string {
    let c = this.#contexts.get(id);
    if (c === undefined) {
      c = this.#stmt('SELECT data FROM vuln_context WHERE id = ?').get(id)!.data as string;
      this.#contexts.set(id, c);
    }
    return c;
  }

  /**
   * The texts of these ids, inflated (stored-text.ts): from #inflated, the others read in one statement (prepared
   * once, whatever their number). A report reads one advisory's text for each of its packages and releases, and
   * reports are built again from the same feed: an inflate costs ~7 us, a report reads ~800 texts.
   */
  #texts(ids: Iterable<number>): Map<number, string> {
    const { found, missing } = this.#inflated.lookup(ids);
    if (missing.length === 0) return found;
    for (const r of this.#stmt('SELECT id, data FROM vuln_text WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(missing))) {
      this.#inflated.keep(found, r.id as number, r.data as Uint8Array);
    }
    return found;
  }

  /** Records of packs, decoded, with their ids: `which` lists the positions wanted of each pack. */
  #decodeRecords(wanted: { packId: number; contextId: number; lines: string[]; positions: number[] }[]): StoredVulnerability[] {
    const { parseLine, decodePackedLine, recordId } = vulnPacks();
    const parsed = wanted.map((w) => w.positions.map((i) => parseLine(w.lines[i]!)));
    const texts = this.#texts(parsed.flatMap((ls) => ls.map((l) => l.textId)));
    const out: StoredVulnerability[] = [];
    wanted.forEach((w, k) => {
      const context = this.#context(w.contextId);
      parsed[k]!.forEach((l, j) => {
        const v = decodePackedLine(context, l, l.textId === 0 ? null : (texts.get(l.textId) ?? null)) as StoredVulnerability;
        v.id = recordId(w.packId, w.positions[j]!);
        out.push(v);
      });
    });
    return out;
  }

  /** Every record of an operation, decoded, pack by pack (statements are not kept open across calls of fn). */
  #forEachPackedRecord(uoId: number, fn: (v: Vulnerability) => void): void {
    const ids = this.#stmt('SELECT pack_id FROM uo_pack WHERE uo_id = ? ORDER BY pack_id').all(uoId).map((r) => r.pack_id as number);
    const one = this.#stmt('SELECT context_id, data FROM vuln_pack WHERE id = ?');
    for (const id of ids) {
      const p = one.get(id)!;
      const lines = this.#packLines.get(id, () => p.data as Uint8Array);
      for (const v of this.#decodeRecords([{ packId: id, contextId: p.context_id as number, lines, positions: lines.map((_, i) => i) }])) fn(v);
    }
  }

  // A diff by pack: the packs one operation holds and the other does not name the (package, context) keys that
  // changed; the records of each such key on each side (all its packs, shared ones included) are compared by line.
  async diffUpdateOperations(prev: string | undefined, cur: string): Promise<{ added: StoredVulnerability[]; removed: StoredVulnerability[] }> {
    const idOf = (ref: string) => {
      const row = this.#stmt('SELECT id FROM update_operation WHERE ref = ?').get(ref);
      if (!row) throw new ClairError('not-found', `update operation ${ref} does not exist`);
      return row.id as number;
    };
    const curId = idOf(cur);
    const prevId = prev === undefined ? -1 : idOf(prev);
    const only = this.#stmt(
      `SELECT DISTINCT p.bucket, p.context_id FROM uo_pack a JOIN vuln_pack p ON p.id = a.pack_id
       WHERE a.uo_id = ? AND NOT EXISTS (SELECT 1 FROM uo_pack b WHERE b.uo_id = ? AND b.pack_id = a.pack_id)`,
    );
    const keys = new Map<string, { bucket: number; contextId: number }>();
    for (const [a, b] of [[curId, prevId], [prevId, curId]] as const) {
      for (const r of only.all(a, b)) keys.set(`${r.bucket as number} ${r.context_id as number}`, { bucket: r.bucket as number, contextId: r.context_id as number });
    }
    const packsOfKey = this.#stmt(
      `SELECT p.id, p.data, EXISTS (SELECT 1 FROM uo_pack u WHERE u.uo_id = ? AND u.pack_id = p.id) AS in_cur,
         EXISTS (SELECT 1 FROM uo_pack u WHERE u.uo_id = ? AND u.pack_id = p.id) AS in_prev
       FROM vuln_pack p WHERE p.bucket = ? AND p.context_id = ?`,
    );
    const { diffKey, splitRecordId } = vulnPacks();
    type Side = { packId: number; contextId: number; lines: string[]; positions: number[] }[];
    const added: Side = [];
    const removed: Side = [];
    for (const { bucket, contextId } of keys.values()) {
      const curPacks: { id: number; lines: string[] }[] = [];
      const prevPacks: { id: number; lines: string[] }[] = [];
      for (const r of packsOfKey.all(curId, prevId, bucket, contextId)) {
        if (!r.in_cur && !r.in_prev) continue;
        const p = { id: r.id as number, lines: this.#packLines.get(r.id as number, () => r.data as Uint8Array) };
        if (r.in_cur) curPacks.push(p);
        if (r.in_prev) prevPacks.push(p);
      }
      const d = diffKey(curPacks, prevPacks);
      for (const [list, side, packs] of [[d.added, added, curPacks], [d.removed, removed, prevPacks]] as const) {
        const byPack = new Map<number, number[]>();
        for (const x of list) {
          const { packId, position } = splitRecordId(x.id);
          const ps = byPack.get(packId);
          if (ps) ps.push(position);
          else byPack.set(packId, [position]);
        }
        for (const [packId, positions] of byPack) side.push({ packId, contextId, lines: packs.find((p) => p.id === packId)!.lines, positions });
      }
    }
    const byId = (a: StoredVulnerability, b: StoredVulnerability) => Number(a.id) - Number(b.id);
    return { added: this.#decodeRecords(added).sort(byId), removed: this.#decodeRecords(removed).sort(byId) };
  }

  async *readUpdateOperation(ref: string, batchSize = 1000): AsyncIterable<string[]> {
    const op = this.#stmt('SELECT id FROM update_operation WHERE ref = ?').get(ref);
    if (!op) throw new ClairError('not-found', `update operation ${ref} does not exist`);
    // Keyset pages of packs, so no statement stays open across the generator's yields; records in id order.
    const page = this.#stmt(
      `SELECT p.id, p.context_id, p.data FROM uo_pack u JOIN vuln_pack p ON p.id = u.pack_id
       WHERE u.uo_id = ? AND u.pack_id > ? ORDER BY u.pack_id LIMIT 64`,
    );
    const { parseLine, packedRecordJson } = vulnPacks();
    let out: string[] = [];
    for (let after = 0; ;) {
      const packs = page.all(op.id as number, after);
      if (packs.length === 0) break;
      after = packs[packs.length - 1]!.id as number;
      const parsed = packs.map((p) => this.#packLines.get(p.id as number, () => p.data as Uint8Array).map(parseLine));
      const texts = this.#texts(parsed.flatMap((ls) => ls.map((l) => l.textId)));
      for (let k = 0; k < packs.length; k++) {
        const p = packs[k]!;
        const context = this.#context(p.context_id as number);
        for (const l of parsed[k]!) {
          out.push(packedRecordJson(context, l, l.textId === 0 ? null : (texts.get(l.textId) ?? null)));
          if (out.length >= batchSize) {
            yield out;
            out = [];
          }
        }
      }
    }
    if (out.length > 0) yield out;
    // Then its enrichment records, pack by pack.
    const pack = this.#stmt('SELECT id, updater, data FROM enrichment_pack WHERE uo_id = ? AND id > ? ORDER BY id LIMIT 1');
    for (let after = 0; ;) {
      const p = pack.get(op.id as number, after);
      if (!p) return;
      after = p.id as number;
      const records = packs().packRecordJson(this.#packs.get(String(p.id), () => p.data as Uint8Array), p.updater as string);
      for (let i = 0; i < records.length; i += batchSize) yield records.slice(i, i + batchSize);
    }
  }

  async queryEnrichments(updater: string, tags: string[]): Promise<EnrichmentRecord[]> {
    const latest = this.#stmt('SELECT max(id) AS id FROM update_operation WHERE updater = ?').get(updater)?.id;
    if (latest === null || latest === undefined || tags.length === 0) return [];
    const runs = this.#stmt('SELECT DISTINCT run FROM enrichment_pack WHERE uo_id = ? AND updater = ? ORDER BY run').all(latest as number, updater).map((r) => r.run as number);
    // The pack of a run whose first id is the greatest one not above the tag: the only one that can hold it.
    const find = this.#stmt('SELECT id, last FROM enrichment_pack WHERE uo_id = ? AND run = ? AND first <= ? ORDER BY first DESC LIMIT 1');
    const data = this.#stmt('SELECT data FROM enrichment_pack WHERE id = ?');
    const out: EnrichmentRecord[] = [];
    for (const tag of new Set(tags)) {
      for (const run of runs) {
        const p = find.get(latest as number, run, tag);
        if (!p || packs().compareIds(p.last as string, tag) < 0) continue;
        out.push(...packs().recordsOf(this.#packs.get(String(p.id), () => data.get(p.id as number)!.data as Uint8Array), updater, tag));
      }
    }
    return out;
  }

  // Queries of one shape (updater prefix and distribution fields, which a matcher gives every package it claims
  // alike) are answered by one statement over all their package names, a few hundred names at a time, instead of a
  // statement per package: 455 statements took a Debian image of 900 packages several times as long as one. Each pack
  // is opened once (and kept, PackLinesCache), however many queries it answers; the texts of its records are read in
  // one statement per shape. EXPLAIN QUERY PLAN:
  //   MATERIALIZE k: SCAN c, SCAN b VIRTUAL TABLE (json_each), USE TEMP B-TREE FOR DISTINCT   (the shape's contexts x
  //                  the names' buckets, each cut by its context's count)
  //   SCAN k; SEARCH p USING INDEX vuln_pack_lookup (bucket=? AND context_id=?)   (one probe per key)
  //   SEARCH u EXISTS USING PRIMARY KEY (uo_id=? AND pack_id=?)   (per current operation)
  async queryVulnerabilities(queries: VulnerabilityQuery[]): Promise<StoredVulnerability[][]> {
    // The newest operation of each updater is the current data; computed once per call, not per package.
    const latest = this.#stmt('SELECT max(id) AS id FROM update_operation GROUP BY updater').all().map((r) => r.id as number);
    if (latest.length === 0) return queries.map(() => []);
    const latestList = latest.join(',');
    const shapes = new Map<string, { where: string[]; params: (string | number)[]; queries: number[] }>();
    queries.forEach((q, i) => {
      if (q.packageNames.length === 0) return;
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (q.updaterPrefix) {
        where.push(`(c.updater = ? OR substr(c.updater, 1, ?) = ?)`);
        params.push(q.updaterPrefix, q.updaterPrefix.length + 1, q.updaterPrefix + '/');
      }
      const d = q.dist ?? {};
      for (const [col, val] of [['dist_did', d.did], ['dist_version_id', d.versionId], ['dist_version_code_name', d.versionCodeName]] as const) {
        if (val !== undefined) {
          where.push(`(c.${col} = ? OR c.${col} = '')`);
          params.push(val);
        }
      }
      const key = `${where.join(' AND ')}\0${params.join('\0')}`;
      const shape = shapes.get(key);
      if (shape) shape.queries.push(i);
      else shapes.set(key, { where, params, queries: [i] });
    });
    const out: StoredVulnerability[][] = queries.map(() => []);
    const { parseLine, decodePackedLine, recordId, packBucket } = vulnPacks();
    for (const { where, params, queries: members } of shapes.values()) {
      const names = [...new Set(members.flatMap((i) => queries[i]!.packageNames))];
      // A package's records are in its bucket's packs, beside other packages': lines are kept by their package name
      // (the line's first field, compared as JSON without parsing the line).
      const wanted = new Set(names.map((n) => JSON.stringify(n)));
      // Their buckets of PACK_BUCKETS; a context's own bucket is that modulo its count (vuln_context.buckets).
      const buckets = JSON.stringify([...new Set(names.map((n) => packBucket(n)))]);
      const found: { id: number; context: string; lines: ReturnType<typeof parseLine>[]; positions: number[] }[] = [];
      // A record in several packs of one key (a writer's budget cut the key) is one record.
      const seen = new Map<string, Set<string>>();
      {
        // The (context, bucket) keys first (CROSS JOIN: SQLite then probes vuln_pack_lookup per key rather than scan
        // vuln_pack).
        const sql = `WITH k AS MATERIALIZED (
            SELECT DISTINCT c.id AS context_id, c.data AS context, b.value % c.buckets AS bucket FROM vuln_context c, json_each(?) b
            WHERE true${where.map((w) => ` AND ${w}`).join('')})
          SELECT p.id, p.bucket, p.context_id, k.context, p.data FROM k CROSS JOIN vuln_pack p ON p.bucket = k.bucket AND p.context_id = k.context_id
          WHERE EXISTS (SELECT 1 FROM uo_pack u WHERE u.uo_id IN (${latestList}) AND u.pack_id = p.id)`;
        for (const r of this.#stmt(sql).all(buckets, ...params)) {
          const id = r.id as number;
          const lines = this.#packLines.get(id, () => r.data as Uint8Array);
          const key = `${r.bucket as number} ${r.context_id as number}`;
          let keySeen = seen.get(key);
          if (!keySeen) seen.set(key, (keySeen = new Set()));
          const f = { id, context: r.context as string, lines: [] as ReturnType<typeof parseLine>[], positions: [] as number[] };
          lines.forEach((l, i) => {
            if (!wanted.has(l.slice(0, l.indexOf('\t'))) || keySeen.has(l)) return;
            keySeen.add(l);
            f.lines.push(parseLine(l));
            f.positions.push(i);
          });
          if (f.lines.length > 0) found.push(f);
        }
      }
      const texts = this.#texts(found.flatMap((f) => f.lines.map((l) => l.textId)));
      const byName = new Map<string, StoredVulnerability[]>();
      for (const f of found) {
        f.lines.forEach((l, j) => {
          const v = decodePackedLine(f.context, l, l.textId === 0 ? null : (texts.get(l.textId) ?? null)) as StoredVulnerability;
          v.id = recordId(f.id, f.positions[j]!);
          const list = byName.get(v.package.name);
          if (list) list.push(v);
          else byName.set(v.package.name, [v]);
        });
      }
      for (const i of members) {
        const rows = queries[i]!.packageNames.flatMap((n) => byName.get(n) ?? []);
        out[i] = rows.sort((a, b) => Number(a.id) - Number(b.id));
      }
    }
    return out;
  }

  // ---- notifications. One process owns an SQLite file, so a claim is a status check inside one synchronous
  // statement; the lease still matters after a crash: a claim left by a dead process expires and is retried.

  async putNotifications(set: NewNotificationSet): Promise<boolean> {
    const now = new Date().toISOString();
    return this.#tx(() => {
      const inserted = this.#stmt(
        `INSERT INTO notification_receipt (operation_ref, updater, notification_id, status, created, next_attempt)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (operation_ref) DO NOTHING`,
      ).run(set.operationRef, set.updater, set.notificationId ?? null, set.notificationId ? 'pending' : 'none', now, now);
      if (Number(inserted.changes) === 0) return false;
      if (set.notificationId) {
        const ins = this.#stmt('INSERT INTO notification (notification_id, id, body) VALUES (?, ?, ?)');
        for (const n of set.notifications) ins.run(set.notificationId, n.id, JSON.stringify(n));
      }
      return true;
    });
  }

  async getNotificationReceipt(key: { operationRef: string } | { notificationId: string }): Promise<NotificationReceipt | undefined> {
    const cols = 'operation_ref, updater, notification_id, status, attempts, created';
    const row =
      'operationRef' in key
        ? this.#stmt(`SELECT ${cols} FROM notification_receipt WHERE operation_ref = ?`).get(key.operationRef)
        : this.#stmt(`SELECT ${cols} FROM notification_receipt WHERE notification_id = ?`).get(key.notificationId);
    return row ? toReceipt(row) : undefined;
  }

  async getNotificationPage(notificationId: string, pageSize: number, after?: string): Promise<{ notifications: StoredNotification[]; next?: string } | undefined> {
    const receipt = this.#stmt('SELECT status FROM notification_receipt WHERE notification_id = ?').get(notificationId);
    if (!receipt || receipt.status === 'deleted') return undefined;
    // One more than asked: whether it exists says whether a next page does.
    const rows = this.#stmt('SELECT id, body FROM notification WHERE notification_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(notificationId, after ?? '', pageSize + 1);
    const notifications = rows.slice(0, pageSize).map((r) => JSON.parse(r.body as string) as StoredNotification);
    return rows.length > pageSize && pageSize > 0 ? { notifications, next: notifications[notifications.length - 1]!.id } : { notifications };
  }

  async deleteNotificationSet(notificationId: string): Promise<boolean> {
    return this.#tx(() => {
      const changed = this.#stmt("UPDATE notification_receipt SET status = 'deleted', claimed_until = NULL WHERE notification_id = ?").run(notificationId);
      this.#stmt('DELETE FROM notification WHERE notification_id = ?').run(notificationId);
      return Number(changed.changes) > 0;
    });
  }

  async claimNotificationDelivery(leaseMs: number): Promise<{ notificationId: string; attempts: number } | undefined> {
    const now = new Date();
    const row = this.#stmt(
      `UPDATE notification_receipt SET claimed_until = ?, attempts = attempts + 1
       WHERE operation_ref = (
         SELECT operation_ref FROM notification_receipt
         WHERE status = 'pending' AND next_attempt <= ? AND (claimed_until IS NULL OR claimed_until < ?)
         ORDER BY next_attempt, created LIMIT 1)
       RETURNING notification_id, attempts`,
    ).get(new Date(now.getTime() + leaseMs).toISOString(), now.toISOString(), now.toISOString());
    return row ? { notificationId: row.notification_id as string, attempts: Number(row.attempts) } : undefined;
  }

  async markNotificationDelivered(notificationId: string): Promise<void> {
    this.#stmt("UPDATE notification_receipt SET status = 'delivered', claimed_until = NULL WHERE notification_id = ? AND status = 'pending'").run(notificationId);
  }

  async markNotificationDeliveryFailed(notificationId: string, retryInMs: number): Promise<void> {
    this.#stmt('UPDATE notification_receipt SET next_attempt = ?, claimed_until = NULL WHERE notification_id = ? AND status = \'pending\'')
      .run(new Date(Date.now() + retryInMs).toISOString(), notificationId);
  }

  async listNotificationSets(limit: number): Promise<(NotificationReceipt & { notificationId: string; count: number })[]> {
    return this.#subs.listNotificationSets(limit);
  }

  // ---- subscriptions: subscription-queries.ts
  async putSubscription(s: Subscription): Promise<void> {
    this.#subs.putSubscription(s);
  }
  async listSubscriptions(): Promise<Subscription[]> {
    return this.#subs.listSubscriptions();
  }
  async deleteSubscription(id: string): Promise<boolean> {
    return this.#subs.deleteSubscription(id);
  }
  async putManifestRepository(manifestHash: string, repository: string): Promise<void> {
    this.#subs.putManifestRepository(manifestHash, repository);
  }
  async manifestRepositories(manifestHashes: string[]): Promise<Map<string, string[]>> {
    return this.#subs.manifestRepositories(manifestHashes);
  }
  async setsAwaitingFanOut(limit: number): Promise<string[]> {
    return this.#subs.setsAwaitingFanOut(limit);
  }
  async putSubscriptionDeliveries(notificationId: string, deliveries: { subscriptionId: string; ids: string[] }[]): Promise<boolean> {
    return this.#subs.putSubscriptionDeliveries(notificationId, deliveries);
  }
  async claimSubscriptionDelivery(leaseMs: number): Promise<SubscriptionDelivery | undefined> {
    return this.#subs.claimSubscriptionDelivery(leaseMs);
  }
  async markSubscriptionDelivered(notificationId: string, subscriptionId: string): Promise<void> {
    this.#subs.markSubscriptionDelivered(notificationId, subscriptionId);
  }
  async markSubscriptionDeliveryFailed(notificationId: string, subscriptionId: string, retryInMs: number): Promise<void> {
    this.#subs.markSubscriptionDeliveryFailed(notificationId, subscriptionId, retryInMs);
  }
  async subscriptionBacklog(): Promise<Map<string, number>> {
    return this.#subs.subscriptionBacklog();
  }
  async notificationBacklog(): Promise<number> {
    return this.#subs.notificationBacklog();
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}

/** Staging tokens of this process's writers that have not finished. */
const liveTokens = new Set<string>();

/** Whether the process that wrote a staging token may still be running (tokens without a pid are from old versions). */
function writerAlive(token: string): boolean {
  const pid = Number(/^(\d+):/.exec(token)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // In a container a restarted service often gets the pid its killed predecessor had: this process's own writers
  // are known by token, any other token with our pid is a predecessor's.
  if (pid === process.pid) return liveTokens.has(token);
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function migrate(db: DatabaseSync): void {
  // A database already at this version is only read: an empty write transaction at every open costs the WAL a
  // checkpoint at close (~5 ms of a warm scan's ~100).
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'").get();
  if (exists && Number(db.prepare('SELECT max(version) AS v FROM schema_migration').get()?.v ?? 0) === SCHEMA_VERSION) return;
  db.exec('CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)');
  // The version is read inside the write transaction, so two processes opening one new file migrate it once.
  db.exec('BEGIN IMMEDIATE');
  try {
    const current = Number(db.prepare('SELECT max(version) AS v FROM schema_migration').get()?.v ?? 0);
    if (current > migrationList().migrations.length) {
      throw new Error(`schema version ${current} is newer than this clair-ts (${migrationList().migrations.length}); upgrade clair-ts`);
    }
    for (let v = current + 1; v <= migrationList().migrations.length; v++) {
      const m = migrationList().migrations[v - 1]!;
      if (typeof m === 'string') db.exec(m);
      else m(db);
      db.prepare('INSERT INTO schema_migration (version, applied) VALUES (?, ?)').run(v, new Date().toISOString());
    }
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
  // Migrations that rewrite records (11: rows into packs) leave the old tables' pages free: a file made with
  // auto_vacuum = INCREMENTAL gives them back (Debian's tracker and Alpine's secdb: 88.9 MB -> 31.8 MB); others
  // keep them.
  db.exec('PRAGMA incremental_vacuum');
}

function toOperation(r: Record<string, unknown>): UpdateOperation {
  return { ref: r.ref as string, updater: r.updater as string, fingerprint: r.fingerprint as string, date: r.date as string, count: Number(r.count) };
}

function toReceipt(r: Record<string, unknown>): NotificationReceipt {
  return {
    operationRef: r.operation_ref as string,
    updater: r.updater as string,
    ...(r.notification_id ? { notificationId: r.notification_id as string } : {}),
    status: r.status as NotificationStatus,
    attempts: Number(r.attempts),
    created: r.created as string,
  };
}


/**
 * Context ids by context JSON and text ids by text hash, as one writer resolved them. Ids found or inserted inside
 * a transaction stay pending until it commits (a rolled-back insert's id must not be reused).
 */
class PartIds {
  readonly contexts = new Map<string, { id: number; buckets: number }>();
  readonly texts = new Map<string, number>();
  readonly #pendingContexts = new Map<string, { id: number; buckets: number }>();
  readonly #pendingTexts = new Map<string, number>();

  context(key: string): { id: number; buckets: number } | undefined {
    return this.contexts.get(key) ?? this.#pendingContexts.get(key);
  }

  text(hash: string): number | undefined {
    return this.texts.get(hash) ?? this.#pendingTexts.get(hash);
  }

  setContext(key: string, c: { id: number; buckets: number }): void {
    this.#pendingContexts.set(key, c);
  }

  setText(hash: string, id: number): void {
    this.#pendingTexts.set(hash, id);
  }

  /** The transaction committed: pending ids are kept. */
  commit(): void {
    for (const [k, v] of this.#pendingContexts) this.contexts.set(k, v);
    // Bounded: a writer of a whole NVD feed resolves hundreds of thousands of texts; forgetting costs a lookup.
    if (this.texts.size > 200_000) this.texts.clear();
    for (const [k, v] of this.#pendingTexts) this.texts.set(k, v);
    this.rollback();
  }

  rollback(): void {
    this.#pendingContexts.clear();
    this.#pendingTexts.clear();
  }
}
