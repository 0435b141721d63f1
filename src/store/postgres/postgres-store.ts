import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { ClairError } from '../../model/errors.ts';
import type { IndexReport } from '../../model/index-report.ts';
import type { UpdateOperation } from '../../model/update-operation.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import type { LayerReport } from '../../model/layer-report.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import { decodePackedLine, diffKey, isLineOf, openPackLines, packBucket, packedRecordJson, PackLinesCache, parseLine, textIdsOf, type KeyPacks } from '../vulnerability-pack.ts';
import { decodePacks, packIdsOf, packLinesOf, TextCache, textIdsOfPacks, type PackRef, type Queryable } from './vulnerability-packs.ts';
import { MAX_SCAN_RESULT_BYTES, MAX_SCAN_RESULTS_PER_MANIFEST, type NewNotificationSet, type NotificationReceipt, type OperationIdentity, type ReportStamps, type Store, type StoreCoordination, type StoredNotification, type StoredScanResult, type StoredVulnerability, type UpdateOperationWriter } from '../store.ts';
import { dropUnheld, indexManifestPackages, MANIFEST_HASHES_SQL, MANIFEST_IDS_SQL, MANIFESTS_WITH_PACKAGES_SQL, PACKAGES_NAMED_SQL, packagesOfManifests, toIndexedPackages } from './indexed-packages.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import { migrations } from './migrations.ts';
import { compareIds, PackCache, packRecordJson, recordsOf, type OpenPack } from '../enrichment-pack.ts';
import { advisoryKey } from './advisory-key.ts';
import { PostgresCoordination } from './coordination.ts';
import { PostgresNotifications } from './notification-queries.ts';
import { PostgresSubscriptions } from './subscription-queries.ts';
import type { Subscription, SubscriptionDelivery } from '../../model/subscription.ts';
import { PostgresOperationWriter, toOperation } from './operation-writer.ts';
import { retryTransient, toClairError, type RetryOptions } from './pg-errors.ts';
import { checkout, PgSession } from './pg-session.ts';
import { isUuid } from '../../model/uuid.ts';
import { redactUrl } from '../../model/redact-url.ts';

// The shared store: several clair-ts instances use one PostgreSQL database (9.5+ for ON CONFLICT and SKIP LOCKED;
// tested on 15). Same semantics and the same schema ideas as store/sqlite: vulnerability records in packs per
// (context, bucket of package names) in `vuln_pack` (store/postgres/vulnerability-packs.ts), shared by operations
// through `uo_pack_run`, enrichment records in `enrichment_pack`; the newest committed operation of each updater is
// current.
// Writers hold one transaction each (operation-writer.ts). Reads and single-statement writes are retried on
// transient failures (pg-errors.ts); everything else surfaces as a ClairError.

export interface PostgresStoreOptions {
  /**
   * Schema holding the tables; created when missing and put first in every connection's search_path. Without it the
   * connstring decides (`?options=-c search_path=clair`), else PostgreSQL's default (public).
   */
  schema?: string;
  /** Connections for queries and writers (each running writer holds one). Default 10. */
  maxConnections?: number;
  /**
   * Connections that hold advisory locks, kept apart so lock holders cannot starve the queries they wait on. Default
   * 10, twice: one pool for updater and manifest locks, one for layer locks, because a manifest lock's holder takes
   * layer locks, and sharing one pool would let enough manifest holders take every connection and wait forever.
   */
  maxLockConnections?: number;
  /** application_name of the sessions, as pg_stat_activity shows it. Default "clair-ts". */
  applicationName?: string;
  retry?: RetryOptions;
  /** Output bytes of stored scan results kept in all (default MAX_SCAN_RESULT_BYTES), the oldest going first. */
  maxScanResultBytes?: number;
  /** Bytes of records a writer holds before writing them as packs (tests; default MAX_BUFFER_BYTES). */
  packBufferBytes?: number;
  /** The bucket count of the contexts writers create (tests: PACK_BUCKETS for a pack per package; default chooseBuckets'). */
  contextBuckets?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const QUERY_CHUNK = 5000; // (query, package name) pairs per statement
const MAX_CACHED_CONTEXTS = 4096; // a feed has a handful of record contexts (Debian: one per release)

// The stamps of getReportStamps, as SQL. The operations' is one row the database keeps (migration 16): reading it
// costs the same however many operations are kept. octet_length reads a value's size from its header: a TOASTed
// report is not fetched.
const OPERATIONS_STAMP = "(SELECT version::text || ' ' || epoch::text FROM update_operation_stamp)";
/** Of the index_report row `r`. */
const REPORT_STAMP = "(r.updated::text || ' ' || r.index_state || ' ' || octet_length(r.data))";

export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #lockPool: pg.Pool;
  readonly #layerLockPool: pg.Pool;
  readonly #retry: RetryOptions;
  readonly #session: PgSession;
  readonly #notifications: PostgresNotifications;
  readonly #subs: PostgresSubscriptions;
  readonly #coordination: PostgresCoordination;
  readonly #writers = new Set<PostgresOperationWriter>();
  readonly #contexts = new Map<string, string>();
  readonly #packs = new PackCache();
  readonly #vulnPacks = new PackLinesCache();
  readonly #texts = new TextCache();
  readonly #scope: string;
  readonly #maxScanResultBytes: number;
  readonly #packOptions: { packBufferBytes?: number; contextBuckets?: number };
  #closed = false;

  private constructor(pool: pg.Pool, lockPool: pg.Pool, layerLockPool: pg.Pool, scope: string, retry: RetryOptions, maxScanResultBytes: number, packOptions: { packBufferBytes?: number; contextBuckets?: number }) {
    this.#maxScanResultBytes = maxScanResultBytes;
    this.#packOptions = packOptions;
    this.#pool = pool;
    this.#lockPool = lockPool;
    this.#layerLockPool = layerLockPool;
    this.#retry = retry;
    this.#scope = scope;
    this.#session = new PgSession(pool, retry);
    this.#notifications = new PostgresNotifications(this.#session);
    this.#subs = new PostgresSubscriptions(this.#session);
    this.#coordination = new PostgresCoordination(this.#session, lockPool, layerLockPool, scope);
  }

  /** Connects, creates the schema when asked, and applies pending migrations (once, even when instances start together). */
  static async open(connString: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const shown = redactUrl(connString);
    if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
      throw new ClairError('bad-input', `PostgreSQL schema name ${JSON.stringify(opts.schema)} must match ${SCHEMA_NAME.source}`);
    }
    let url: string;
    try {
      url = sessionUrl(connString, opts);
    } catch (e) {
      throw new ClairError('bad-input', `${shown} is not a PostgreSQL connection string: ${(e as Error).message}`, { cause: e });
    }
    const pool = newPool(url, opts.maxConnections ?? 10);
    const lockPool = newPool(url, opts.maxLockConnections ?? 10);
    const layerLockPool = newPool(url, opts.maxLockConnections ?? 10);
    const retry = opts.retry ?? {};
    try {
      const scope = await retryTransient('connect and migration', () => migrate(pool, opts.schema), retry);
      return new PostgresStore(pool, lockPool, layerLockPool, scope, retry, opts.maxScanResultBytes ?? MAX_SCAN_RESULT_BYTES, {
        ...(opts.packBufferBytes !== undefined ? { packBufferBytes: opts.packBufferBytes } : {}),
        ...(opts.contextBuckets !== undefined ? { contextBuckets: opts.contextBuckets } : {}),
      });
    } catch (e) {
      await Promise.allSettled([pool.end(), lockPool.end(), layerLockPool.end()]);
      const err = toClairError('connect and migration', e);
      throw new ClairError(err.code, `cannot open PostgreSQL store ${shown}: ${err.message}`, { cause: e });
    }
  }

  // ---- plumbing (pg-session.ts)

  async #rows<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return this.#session.rows<R>(what, sql, params);
  }

  async #transaction<T>(what: string, idempotent: boolean, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#session.transaction(what, idempotent, fn);
  }

  // ---- layers

  async getLayerReport(digest: string, scannerSet: string): Promise<LayerReport | undefined> {
    const rows = await this.#rows<{ data: string }>(`read of layer report ${digest}`, 'SELECT data FROM layer_report WHERE digest = $1 AND scanner_set = $2', [digest, scannerSet]);
    return rows[0] ? (JSON.parse(rows[0].data) as LayerReport) : undefined;
  }

  async putLayerReport(report: LayerReport): Promise<void> {
    await this.#rows(
      `write of layer report ${report.digest}`,
      `INSERT INTO layer_report (digest, scanner_set, data, created) VALUES ($1, $2, $3, $4)
       ON CONFLICT (digest, scanner_set) DO UPDATE SET data = excluded.data, created = excluded.created`,
      [report.digest, report.scannerSet, JSON.stringify(report), new Date()],
    );
  }

  async deleteLayerReports(digests: string[], scannerSet: string): Promise<void> {
    await this.#rows(
      `delete of ${digests.length} layer reports`,
      'DELETE FROM layer_report WHERE scanner_set = $1 AND digest = ANY($2::text[])',
      [scannerSet, digests],
    );
  }

  // ---- index reports

  async getReportStamps(manifestHashes: string[]): Promise<ReportStamps> {
    // One prepared statement, one round trip: a server asks this on every report request (batched:
    // src/http/report-stamps.ts).
    const rows = await this.#session.preparedRows<{ i: number | null; stamp: string }>(
      'read of report stamps', 'clair_ts_report_stamps',
      `SELECT NULL::int AS i, ${OPERATIONS_STAMP} AS stamp
       UNION ALL
       SELECT m.i::int, ${REPORT_STAMP}
       FROM unnest($1::text[]) WITH ORDINALITY AS m(hash, i) JOIN index_report r ON r.manifest_hash = m.hash`,
      [manifestHashes],
    );
    const indexReports: (string | undefined)[] = manifestHashes.map(() => undefined);
    let operations = '';
    for (const r of rows) {
      if (r.i === null) operations = r.stamp;
      else indexReports[r.i - 1] = r.stamp;
    }
    return { operations, indexReports };
  }

  async getScanResult(manifestHash: string, variant: string): Promise<(StoredScanResult & { codeStamp: string }) | undefined> {
    // The stamps are compared in the statement that reads the result: one round trip, no write between check and read.
    const rows = await this.#session.preparedRows<{ meta: string; output: Buffer; code_stamp: string }>(
      `read of the scan result of ${manifestHash}`, 'clair_ts_scan_result',
      `SELECT s.meta, s.output, s.code_stamp FROM scan_result s JOIN index_report r ON r.manifest_hash = s.manifest_hash
       WHERE s.manifest_hash = $1 AND s.variant = $2
         AND s.operations_stamp = ${OPERATIONS_STAMP} AND s.report_stamp = ${REPORT_STAMP}`,
      [manifestHash, variant],
    );
    return rows[0] ? { meta: rows[0].meta, output: rows[0].output, codeStamp: rows[0].code_stamp } : undefined;
  }

  async putScanResult(manifestHash: string, variant: string, stamps: { operations: string; indexReport: string }, codeStamp: string, result: StoredScanResult): Promise<boolean> {
    if (result.output.byteLength > this.#maxScanResultBytes) return false;
    return this.#transaction(`write of the scan result of ${manifestHash}`, true, async (c) => {
      const cur = (await c.query<{ operations: string; report: string | null }>(
        `SELECT ${OPERATIONS_STAMP} AS operations, (SELECT ${REPORT_STAMP} FROM index_report r WHERE r.manifest_hash = $1) AS report`,
        [manifestHash],
      )).rows[0]!;
      // Results of other operation sets or of an earlier index report can never be current again.
      await c.query('DELETE FROM scan_result WHERE operations_stamp <> $1', [cur.operations]);
      await c.query('DELETE FROM scan_result WHERE manifest_hash = $1 AND report_stamp IS DISTINCT FROM $2', [manifestHash, cur.report]);
      if (cur.operations !== stamps.operations || cur.report !== stamps.indexReport) return false;
      // Another instance may store the same result at the same time: the later write wins, whole.
      await c.query(
        `INSERT INTO scan_result (manifest_hash, variant, operations_stamp, report_stamp, code_stamp, meta, output, bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (manifest_hash, variant) DO UPDATE SET id = DEFAULT, operations_stamp = excluded.operations_stamp,
           report_stamp = excluded.report_stamp, code_stamp = excluded.code_stamp, meta = excluded.meta, output = excluded.output, bytes = excluded.bytes`,
        [manifestHash, variant, cur.operations, cur.report, codeStamp, result.meta, Buffer.from(result.output.buffer, result.output.byteOffset, result.output.byteLength), result.output.byteLength],
      );
      await c.query(
        `DELETE FROM scan_result WHERE manifest_hash = $1 AND id NOT IN (SELECT id FROM scan_result WHERE manifest_hash = $1 ORDER BY id DESC LIMIT ${MAX_SCAN_RESULTS_PER_MANIFEST})`,
        [manifestHash],
      );
      await c.query(
        `DELETE FROM scan_result WHERE id IN (
           SELECT id FROM (SELECT id, sum(bytes) OVER (ORDER BY id DESC) AS kept FROM scan_result) k WHERE kept > $1)`,
        [this.#maxScanResultBytes],
      );
      return true;
    });
  }

  async getIndexReport(manifestHash: string): Promise<{ report: IndexReport; indexState: string } | undefined> {
    const rows = await this.#rows<{ data: string; index_state: string }>(
      `read of index report ${manifestHash}`, 'SELECT data, index_state FROM index_report WHERE manifest_hash = $1', [manifestHash],
    );
    return rows[0] ? { report: JSON.parse(rows[0].data) as IndexReport, indexState: rows[0].index_state } : undefined;
  }

  async putIndexReport(report: IndexReport, indexState: string): Promise<void> {
    await this.#transaction(`write of index report ${report.manifestHash}`, true, async (c) => {
      await this.#lockPackageIndex(c);
      await c.query(
        `INSERT INTO index_report (manifest_hash, index_state, data, updated) VALUES ($1, $2, $3, $4)
         ON CONFLICT (manifest_hash) DO UPDATE SET index_state = excluded.index_state, data = excluded.data, updated = excluded.updated`,
        [report.manifestHash, indexState, JSON.stringify(report), new Date()],
      );
      // Scan results of the report replaced are no longer current (getScanResult would not return them).
      await c.query('DELETE FROM scan_result WHERE manifest_hash = $1', [report.manifestHash]);
      await indexManifestPackages(c, report.manifestHash, report);
    });
  }

  /**
   * Writers of the package index take turns (indexed-packages.ts says why); held until the transaction ends. The
   * index part of a report's write is a few statements, so turns are short.
   */
  async #lockPackageIndex(c: pg.ClientBase): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(this.#scope, 'package-index', '')]);
  }

  async deleteIndexReports(manifestHashes: string[]): Promise<string[]> {
    if (manifestHashes.length === 0) return [];
    const deleted = await this.#transaction(`delete of ${manifestHashes.length} index reports`, true, async (c) => {
      await this.#lockPackageIndex(c);
      const held = await packagesOfManifests(c, manifestHashes);
      const rows = (await c.query<{ manifest_hash: string }>(
        'DELETE FROM index_report WHERE manifest_hash = ANY($1::text[]) RETURNING manifest_hash', [manifestHashes],
      )).rows;
      await dropUnheld(c, held);
      return new Set(rows.map((r) => r.manifest_hash));
    });
    return manifestHashes.filter((h) => deleted.has(h));
  }

  async manifestsWithPackages(names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const rows = await this.#rows<{ manifest_hash: string }>(`lookup of manifests by ${names.length} package names`, MANIFESTS_WITH_PACKAGES_SQL, [names]);
    // Sorted here, not by ORDER BY: the database's collation must not decide the order the SQLite store gives.
    return rows.map((r) => r.manifest_hash).sort();
  }

  async indexedPackagesNamed(names: string[]): Promise<IndexedPackage[]> {
    if (names.length === 0) return [];
    return toIndexedPackages(await this.#rows<{ id: string; data: string }>(`lookup of indexed packages by ${names.length} names`, PACKAGES_NAMED_SQL, [names]));
  }

  async manifestsWithIndexedPackages(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    const byPackage = await this.#rows<{ package_id: string; manifests: string[] }>(`lookup of the manifests of ${ids.length} packages`, MANIFEST_IDS_SQL, [ids]);
    const manifestIds = new Set<string>();
    for (const r of byPackage) for (const m of r.manifests) manifestIds.add(String(m));
    const digest = new Map<string, string>();
    const hashes = await this.#rows<{ id: string; manifest_hash: string }>(`lookup of ${manifestIds.size} manifest digests`, MANIFEST_HASHES_SQL, [[...manifestIds]]);
    for (const r of hashes) digest.set(String(r.id), r.manifest_hash);
    // A manifest deleted between the two reads is left out.
    for (const r of byPackage) out.set(String(r.package_id), r.manifests.map((m) => digest.get(String(m))).filter((d) => d !== undefined));
    return out;
  }

  // ---- update operations

  async beginUpdateOperation(updater: string, identity?: OperationIdentity): Promise<UpdateOperationWriter> {
    if (this.#closed) throw new ClairError('internal', `store is closed: cannot begin an update operation for ${updater}`);
    const ref = identity?.ref ?? randomUUID();
    if (identity) {
      if (!isUuid(ref)) throw new ClairError('bad-input', `update operation ref ${JSON.stringify(ref)} is not a UUID`);
      if ((await this.#rows('read of update operation', 'SELECT 1 FROM update_operation WHERE ref = $1', [ref])).length > 0) {
        throw new ClairError('conflict', `update operation ${ref} already exists`);
      }
    }
    const started = await retryTransient(`begin of update operation for ${updater}`, async () => {
      const s = await checkout(this.#pool);
      try {
        await s.client.query('BEGIN');
        const res = await s.client.query<{ id: string; pid: number }>(
          'INSERT INTO update_operation (ref, updater, date) VALUES ($1, $2, $3) RETURNING id, pg_backend_pid() AS pid',
          [ref, updater, new Date()],
        );
        return { s, id: res.rows[0]!.id, pid: res.rows[0]!.pid };
      } catch (e) {
        s.release(e as Error); // whatever state the session is in, this attempt is over; the server rolls back
        throw e;
      }
    }, this.#retry);
    const writer: PostgresOperationWriter = new PostgresOperationWriter({
      session: started.s, pool: this.#pool, updater, ref, ...(identity ? { date: new Date(identity.date) } : {}), opId: started.id, pid: started.pid,
      onFinish: () => this.#writers.delete(writer),
      ...this.#packOptions,
    });
    this.#writers.add(writer);
    return writer;
  }

  async listUpdateOperations(updater?: string): Promise<UpdateOperation[]> {
    const cols = 'ref, updater, fingerprint, date, count';
    const rows = updater
      ? await this.#rows('list of update operations', `SELECT ${cols} FROM update_operation WHERE updater = $1 AND seq IS NOT NULL ORDER BY seq DESC`, [updater])
      : await this.#rows('list of update operations', `SELECT ${cols} FROM update_operation WHERE seq IS NOT NULL ORDER BY seq DESC`);
    return rows.map(toOperation);
  }

  async getUpdateOperation(ref: string): Promise<UpdateOperation | undefined> {
    if (!isUuid(ref)) return undefined; // refs are UUIDs: anything else names no operation
    const rows = await this.#rows(`read of update operation ${ref}`, 'SELECT ref, updater, fingerprint, date, count FROM update_operation WHERE ref = $1', [ref]);
    return rows[0] ? toOperation(rows[0]) : undefined;
  }

  async deleteUpdateOperations(refs: string[]): Promise<string[]> {
    const uuids = refs.filter((r) => isUuid(r));
    if (uuids.length === 0) return [];
    const deleted = await this.#transaction(`delete of ${uuids.length} update operations`, false, async (c) => {
      // The packs only these operations held are collected in the same transaction. Candidates are taken before
      // the links are deleted; a candidate locked by a running writer (which links it: FOR KEY SHARE) is
      // skipped, not waited for, and stays until a later delete finds it unlinked.
      await c.query(
        `CREATE TEMP TABLE gc_candidate ON COMMIT DROP AS
         SELECT DISTINCT generate_series(r.first, r.last) AS pack_id FROM uo_pack_run r JOIN update_operation o ON o.id = r.uo_id
         WHERE o.ref = ANY($1::uuid[])`,
        [uuids],
      );
      const gone = await c.query<{ ref: string }>(
        `WITH op AS (DELETE FROM update_operation WHERE ref = ANY($1::uuid[]) AND seq IS NOT NULL RETURNING id, ref),
         links AS (DELETE FROM uo_pack_run WHERE uo_id IN (SELECT id FROM op))
         SELECT ref FROM op`,
        [uuids],
      );
      // Every stored scan result was computed from a set of operations that no longer exists.
      if (gone.rows.length > 0) await c.query('DELETE FROM scan_result');
      // Unlinked: one pass over every operation's links (EXCEPT, a hash of them), which are runs of pack ids.
      const packs = await c.query<{ context_id: string; bucket: number; data: Buffer }>(
        `DELETE FROM vuln_pack WHERE id IN (
           SELECT p.id FROM (SELECT pack_id FROM gc_candidate EXCEPT SELECT generate_series(first, last) FROM uo_pack_run) g
           JOIN vuln_pack p ON p.id = g.pack_id
           FOR UPDATE OF p SKIP LOCKED)
         RETURNING context_id, bucket, data`,
      );
      if (packs.rows.length > 0) await collectTexts(c, packs.rows);
      return new Set(gone.rows.map((r) => r.ref));
    });
    return refs.filter((r) => deleted.has(r));
  }

  async #operationId(ref: string): Promise<string> {
    const rows = isUuid(ref) ? await this.#rows<{ id: string }>(`read of update operation ${ref}`, 'SELECT id FROM update_operation WHERE ref = $1', [ref]) : [];
    if (!rows[0]) throw new ClairError('not-found', `update operation ${ref} does not exist`);
    return String(rows[0].id);
  }

  #query(what: string): Queryable {
    return (sql, params) => this.#rows(what, sql, params);
  }

  async diffUpdateOperations(prev: string | undefined, cur: string): Promise<{ added: StoredVulnerability[]; removed: StoredVulnerability[] }> {
    const curId = await this.#operationId(cur);
    const prevId = prev === undefined ? undefined : await this.#operationId(prev);
    const what = `diff of update operations ${prev ?? '(none)'} and ${cur}`;
    const q = this.#query(what);
    // The keys (context, package) with a pack on one side only, and every pack of those keys on either side: a
    // record may sit in a pack both share on one side and in a pack of its own on the other (a split key).
    const refs = await q<PackRef & { cur: boolean }>(
      `WITH a AS (SELECT generate_series(first, last) AS id FROM uo_pack_run WHERE uo_id = $1),
       b AS (SELECT generate_series(first, last) AS id FROM uo_pack_run WHERE uo_id = $2),
       changed AS (
         SELECT DISTINCT p.context_id, p.bucket
         FROM ((SELECT id FROM a EXCEPT SELECT id FROM b) UNION ALL (SELECT id FROM b EXCEPT SELECT id FROM a)) d
         JOIN vuln_pack p ON p.id = d.id
       )
       SELECT s.cur, p.id, p.bucket, p.context_id FROM changed k
       JOIN vuln_pack p ON p.context_id = k.context_id AND p.bucket = k.bucket
       JOIN (SELECT id, true AS cur FROM a UNION ALL SELECT id, false FROM b) s ON s.id = p.id
       ORDER BY p.id`,
      [curId, prevId ?? null],
    );
    // Not through the store's cache: a diff reads whole operations, which would push out what reports use.
    const lines = await packLinesOf(q, undefined, refs.map((r) => String(r.id)));
    const keys = new Map<string, { ref: PackRef; cur: KeyPacks[]; prev: KeyPacks[] }>();
    for (const r of refs) {
      const k = `${r.context_id}\0${r.bucket}`;
      let e = keys.get(k);
      if (!e) keys.set(k, (e = { ref: r, cur: [], prev: [] }));
      (r.cur ? e.cur : e.prev).push({ id: Number(r.id), lines: lines.get(String(r.id))! });
    }
    const found: { added: { ref: PackRef; id: string; line: string }[]; removed: { ref: PackRef; id: string; line: string }[] } = { added: [], removed: [] };
    for (const e of keys.values()) {
      const d = diffKey(e.cur, e.prev);
      for (const x of d.added) found.added.push({ ref: e.ref, ...x });
      for (const x of d.removed) found.removed.push({ ref: e.ref, ...x });
    }
    const parsed = { added: found.added.map((x) => ({ ...x, parsed: parseLine(x.line) })), removed: found.removed.map((x) => ({ ...x, parsed: parseLine(x.line) })) };
    const texts = await this.#texts.load(q, [...parsed.added, ...parsed.removed].map((x) => x.parsed.textId));
    const contexts = await this.#contextsOf(refs.map((r) => String(r.context_id)));
    const decode = (list: typeof parsed.added): StoredVulnerability[] =>
      list
        .map((x) => ({ ...decodePackedLine(contexts.get(String(x.ref.context_id))!, x.parsed, x.parsed.textId === 0 ? null : texts.get(x.parsed.textId)!), id: x.id }))
        .sort((a, b) => Number(a.id) - Number(b.id));
    return { added: decode(parsed.added), removed: decode(parsed.removed) };
  }

  async *readUpdateOperation(ref: string, batchSize = 1000): AsyncIterable<string[]> {
    const ops = isUuid(ref) ? await this.#rows<{ id: string }>(`read of update operation ${ref}`, 'SELECT id FROM update_operation WHERE ref = $1 AND seq IS NOT NULL', [ref]) : [];
    if (!ops[0]) throw new ClairError('not-found', `update operation ${ref} does not exist`);
    const q = this.#query(`read of update operation ${ref}`);
    // Keys with several packs in the operation (a writer that split them) may repeat a record: each is given once.
    const split = new Set((await q<{ context_id: string; bucket: number }>(
      `SELECT p.context_id, p.bucket FROM uo_pack_run r CROSS JOIN LATERAL generate_series(r.first, r.last) AS g(id)
       JOIN vuln_pack p ON p.id = g.id WHERE r.uo_id = $1
       GROUP BY p.context_id, p.bucket HAVING count(*) > 1`,
      [ops[0].id],
    )).map((r) => `${r.context_id}\0${r.bucket}`));
    const seen = new Set<string>();
    let out: string[] = [];
    const ids = await packIdsOf(q, String(ops[0].id));
    const perPage = Math.max(1, Math.ceil(batchSize / 8));
    for (let i = 0; i < ids.length; i += perPage) {
      const refs = await q<PackRef & { data: Buffer }>(
        'SELECT id, bucket, context_id, data FROM vuln_pack WHERE id = ANY($1::bigint[]) ORDER BY id', [ids.slice(i, i + perPage)],
      );
      const opened = refs.map((r) => ({ ref: r, lines: openPackLines(r.data) }));
      const texts = await this.#texts.load(q, textIdsOfPacks(opened.map((p) => p.lines)));
      const contexts = await this.#contextsOf(refs.map((r) => String(r.context_id)));
      for (const { ref: r, lines } of opened) {
        const key = `${r.context_id}\0${r.bucket}`;
        const context = contexts.get(String(r.context_id))!;
        for (const l of lines) {
          if (split.has(key)) {
            if (seen.has(`${key}\0${l}`)) continue;
            seen.add(`${key}\0${l}`);
          }
          const line = parseLine(l);
          out.push(packedRecordJson(context, line, line.textId === 0 ? null : texts.get(line.textId)!));
          if (out.length === batchSize) {
            yield out;
            out = [];
          }
        }
      }
    }
    if (out.length > 0) yield out;
    // Then its enrichment records, pack by pack.
    for (let after = '0'; ;) {
      const [p] = await this.#rows<{ id: string; updater: string; data: Buffer }>(
        `read of update operation ${ref}`,
        'SELECT id, updater, data FROM enrichment_pack WHERE uo_id = $1 AND id > $2 ORDER BY id LIMIT 1',
        [ops[0].id, after],
      );
      if (!p) return;
      after = p.id;
      const records = packRecordJson(this.#packs.get(p.id, () => p.data), p.updater);
      for (let i = 0; i < records.length; i += batchSize) yield records.slice(i, i + batchSize);
    }
  }

  async queryEnrichments(updater: string, tags: string[]): Promise<EnrichmentRecord[]> {
    if (tags.length === 0) return [];
    const unique = [...new Set(tags)];
    // Per tag and run, the pack whose first id is the greatest one not above the tag: the only one that can hold it.
    const found = await this.#rows<{ tag: string; run: number; id: string; last: string }>(
      `enrichment query of ${updater} for ${tags.length} ids`,
      `WITH op AS (SELECT id FROM update_operation WHERE updater = $1 AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1),
       runs AS (SELECT DISTINCT run FROM enrichment_pack WHERE uo_id = (SELECT id FROM op) AND updater = $1)
       SELECT t.tag, r.run, p.id, p.last FROM unnest($2::text[]) AS t(tag) CROSS JOIN runs r
       CROSS JOIN LATERAL (
         SELECT id, last FROM enrichment_pack
         WHERE uo_id = (SELECT id FROM op) AND run = r.run AND first <= t.tag COLLATE "C"
         ORDER BY first DESC LIMIT 1) p`,
      [updater, unique],
    );
    const hits = found.filter((f) => compareIds(f.last, f.tag) >= 0);
    // Packs not opened before are fetched in one query; a report asks for the same packs again and again.
    const opened = new Map<string, OpenPack>();
    const missing: string[] = [];
    for (const id of new Set(hits.map((h) => h.id))) {
      const p = this.#packs.peek(id);
      if (p) opened.set(id, p);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const rows = await this.#rows<{ id: string; data: Buffer }>(`enrichment packs of ${updater}`, 'SELECT id, data FROM enrichment_pack WHERE id = ANY($1::bigint[])', [missing]);
      for (const r of rows) opened.set(r.id, this.#packs.get(r.id, () => r.data));
    }
    const order = new Map(unique.map((t, i) => [t, i]));
    hits.sort((a, b) => order.get(a.tag)! - order.get(b.tag)! || a.run - b.run);
    return hits.flatMap((h) => recordsOf(opened.get(h.id)!, updater, h.tag));
  }

  // ---- matching

  /**
   * All queries in one statement (or one per QUERY_CHUNK package names): the queries travel as parallel arrays,
   * one element per (query, package name), with NULL where a query leaves a field unconstrained, and rows come back
   * tagged with their query's index. A 500-package report is one round trip.
   */
  async queryVulnerabilities(queries: VulnerabilityQuery[]): Promise<StoredVulnerability[][]> {
    const out: StoredVulnerability[][] = queries.map(() => []);
    const qi: number[] = [];
    const names: string[] = [];
    const prefix: (string | null)[] = [];
    const did: (string | null)[] = [];
    const versionId: (string | null)[] = [];
    const codeName: (string | null)[] = [];
    const buckets: number[] = [];
    queries.forEach((q, i) => {
      for (const n of new Set(q.packageNames)) {
        qi.push(i);
        names.push(n);
        buckets.push(packBucket(n));
        prefix.push(q.updaterPrefix ? q.updaterPrefix : null);
        did.push(q.dist?.did ?? null);
        versionId.push(q.dist?.versionId ?? null);
        codeName.push(q.dist?.versionCodeName ?? null);
      }
    });
    for (let i = 0; i < qi.length; i += QUERY_CHUNK) {
      const slice = <T>(a: T[]) => a.slice(i, i + QUERY_CHUNK);
      const what = `vulnerability query for ${queries.length} packages`;
      const q = this.#query(what);
      const refs = await q<{ qi: number; name: string } & PackRef>(
        MATCH_SQL, [slice(qi), slice(names), slice(prefix), slice(did), slice(versionId), slice(codeName), slice(buckets)],
      );
      if (refs.length === 0) continue;
      const lines = await packLinesOf(q, this.#vulnPacks, refs.map((r) => String(r.id)));
      // The texts of the packages asked for only: a pack holds its whole bucket's.
      const texts = await this.#texts.load(q, textIdsOfPacks(refs.map((r) => {
        const json = JSON.stringify(r.name);
        return lines.get(String(r.id))!.filter((l) => isLineOf(l, json));
      })));
      const contexts = await this.#contextsOf(refs.map((r) => String(r.context_id)));
      // Rows come by query: decodePacks puts each query's records in id order.
      for (let a = 0; a < refs.length;) {
        let b = a;
        while (b < refs.length && refs[b]!.qi === refs[a]!.qi) b++;
        const packs = refs.slice(a, b).map((r) => ({ ref: r, name: r.name, lines: lines.get(String(r.id))! }));
        out[refs[a]!.qi]!.push(...decodePacks(packs, contexts, texts));
        a = b;
      }
    }
    // A query's names can straddle two chunks; keep each answer in id order as the SQLite store does.
    if (qi.length > QUERY_CHUNK) for (const list of out) list.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    return out;
  }

  /**
   * Record contexts by id. The match query returns each record's context id, not the context (~300 bytes that every
   * record of a release repeats: half of what a large report's rows would carry); the few a database holds are kept
   * here. A context row is never changed (it is found by its content) and identity ids are never reused, so an id
   * always names the same context.
   */
  async #contextsOf(ids: string[]): Promise<Map<string, string>> {
    const missing = [...new Set(ids)].filter((id) => !this.#contexts.has(id));
    if (missing.length > 0) {
      const rows = await this.#rows<{ id: string; data: string }>('read of record contexts', 'SELECT id, data FROM vuln_context WHERE id = ANY($1::bigint[])', [missing]);
      if (this.#contexts.size + rows.length > MAX_CACHED_CONTEXTS) this.#contexts.clear();
      for (const r of rows) this.#contexts.set(String(r.id), r.data);
    }
    return this.#contexts;
  }

  // ---- notifications (notification-queries.ts)

  putNotifications(set: NewNotificationSet): Promise<boolean> {
    return this.#notifications.putNotifications(set);
  }

  getNotificationReceipt(key: { operationRef: string } | { notificationId: string }): Promise<NotificationReceipt | undefined> {
    return this.#notifications.getNotificationReceipt(key);
  }

  getNotificationPage(notificationId: string, pageSize: number, after?: string): Promise<{ notifications: StoredNotification[]; next?: string } | undefined> {
    return this.#notifications.getNotificationPage(notificationId, pageSize, after);
  }

  deleteNotificationSet(notificationId: string): Promise<boolean> {
    return this.#notifications.deleteNotificationSet(notificationId);
  }

  listNotificationSets(limit: number): Promise<(NotificationReceipt & { notificationId: string; count: number })[]> {
    return this.#subs.listNotificationSets(limit);
  }

  // ---- subscriptions: subscription-queries.ts
  putSubscription(s: Subscription): Promise<void> {
    return this.#subs.putSubscription(s);
  }
  listSubscriptions(): Promise<Subscription[]> {
    return this.#subs.listSubscriptions();
  }
  deleteSubscription(id: string): Promise<boolean> {
    return this.#subs.deleteSubscription(id);
  }
  putManifestRepository(manifestHash: string, repository: string): Promise<void> {
    return this.#subs.putManifestRepository(manifestHash, repository);
  }
  manifestRepositories(manifestHashes: string[]): Promise<Map<string, string[]>> {
    return this.#subs.manifestRepositories(manifestHashes);
  }
  setsAwaitingFanOut(limit: number): Promise<string[]> {
    return this.#subs.setsAwaitingFanOut(limit);
  }
  putSubscriptionDeliveries(notificationId: string, deliveries: { subscriptionId: string; ids: string[] }[]): Promise<boolean> {
    return this.#subs.putSubscriptionDeliveries(notificationId, deliveries);
  }
  claimSubscriptionDelivery(leaseMs: number): Promise<SubscriptionDelivery | undefined> {
    return this.#subs.claimSubscriptionDelivery(leaseMs);
  }
  markSubscriptionDelivered(notificationId: string, subscriptionId: string): Promise<void> {
    return this.#subs.markSubscriptionDelivered(notificationId, subscriptionId);
  }
  markSubscriptionDeliveryFailed(notificationId: string, subscriptionId: string, retryInMs: number): Promise<void> {
    return this.#subs.markSubscriptionDeliveryFailed(notificationId, subscriptionId, retryInMs);
  }
  subscriptionBacklog(): Promise<Map<string, number>> {
    return this.#subs.subscriptionBacklog();
  }
  notificationBacklog(): Promise<number> {
    return this.#subs.notificationBacklog();
  }

  claimNotificationDelivery(leaseMs: number): Promise<{ notificationId: string; attempts: number } | undefined> {
    return this.#notifications.claimNotificationDelivery(leaseMs);
  }

  markNotificationDelivered(notificationId: string): Promise<void> {
    return this.#notifications.markNotificationDelivered(notificationId);
  }

  markNotificationDeliveryFailed(notificationId: string, retryInMs: number): Promise<void> {
    return this.#notifications.markNotificationDeliveryFailed(notificationId, retryInMs);
  }

  // ---- coordination of several instances (coordination.ts)

  /** This store is shared by design: it always coordinates. */
  get coordination(): StoreCoordination {
    return this.#coordination;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Unfinished writers are rolled back (their connections must return before the pools can end).
    await Promise.allSettled([...this.#writers].map((w) => w.abort()));
    await Promise.all([this.#pool.end(), this.#lockPool.end(), this.#layerLockPool.end()]);
  }
}

// The plan this relies on (EXPLAIN (ANALYZE, BUFFERS) of a 500-package Debian lookup in the synthetic tracker's
// 128k records, after the ANALYZE at commit; PostgreSQL 15):
//   Sort  Sort Key: qc.qi, p.id
//     CTE qc -> GroupAggregate <- Nested Loop (rows=500): Function Scan on q x vuln_context (4 rows) x latest (1 row)
//     ->  Nested Loop (rows=500)
//           ->  CTE Scan on qc (500)
//           ->  Index Scan using vuln_pack_lookup on vuln_pack p (rows=1 loops=500;
//                 Index Cond: context_id = qc.context_id AND bucket = qc.bucket; Filter: SubPlan: the run of
//                 uo_pack_run that starts last at or before p.id, per newest operation, ends at or after it)
// 5.4 ms, a few thousand buffers, where the rows of the schema before packs (a row per record, then a link) took
// 42.3k buffers: the records come back as one pack per (bucket, release), opened and filtered by package here
// (packs and texts cached by id). Without statistics (a fresh load before autovacuum) plans go wrong: hence the
// ANALYZE after large commits in operation-writer.ts.
export const MATCH_SQL = `
WITH latest AS (
  SELECT DISTINCT ON (updater) id, updater FROM update_operation WHERE seq IS NOT NULL ORDER BY updater, seq DESC
),
q AS (
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
    AS q(qi, name, prefix, did, version_id, code_name, bucket)
),
-- The (query, context) pairs first: a database holds a handful of contexts, so the updater and release constraints
-- are decided once per query here (and the name's bucket in the context: its bucket of PACK_BUCKETS, given, modulo
-- the context's count), and each lookup is then one probe of vuln_pack_lookup (context_id, bucket)
-- that reads the release's packs only. With each context, the newest operations that can hold its records (of its
-- updater, or of an updater it is a sub-updater of: a writer takes records of "u" and "u/…"), so that "is this
-- pack current" is one probe of uo_pack_run's key (uo_id, first): the run that starts last at or before the pack.
qc AS MATERIALIZED (
  SELECT q.qi, q.name, q.bucket % c.buckets AS bucket, c.id AS context_id, array_agg(l.id) AS ops FROM q JOIN vuln_context c
    ON (q.prefix IS NULL OR c.updater = q.prefix OR starts_with(c.updater, q.prefix || '/'))
   AND (q.did IS NULL OR c.dist_did = q.did OR c.dist_did = '')
   AND (q.version_id IS NULL OR c.dist_version_id = q.version_id OR c.dist_version_id = '')
   AND (q.code_name IS NULL OR c.dist_version_code_name = q.code_name OR c.dist_version_code_name = '')
  JOIN latest l ON c.updater = l.updater OR starts_with(c.updater, l.updater || '/')
  GROUP BY q.qi, q.name, q.bucket % c.buckets, c.id
)
SELECT qc.qi, qc.name, p.id, p.bucket, p.context_id
FROM qc JOIN vuln_pack p ON p.context_id = qc.context_id AND p.bucket = qc.bucket
WHERE EXISTS (
  SELECT 1 FROM unnest(qc.ops) AS o(id)
  WHERE (SELECT r.last FROM uo_pack_run r WHERE r.uo_id = o.id AND r.first <= p.id ORDER BY r.first DESC LIMIT 1) >= p.id)
ORDER BY qc.qi, p.id`;

/**
 * Deletes the texts of collected packs (`packs`, deleted in this transaction) that no pack references any more.
 * A text's packs are those of its updater's contexts (its hash covers the updater: record-row.ts), which are read
 * whole: no per-text reference count, whose updates would rewrite every text row a writer reuses. The candidates
 * are locked first (FOR UPDATE SKIP LOCKED: a text a running writer uses is held FOR KEY SHARE, and skipped); a
 * writer that wants one after that waits for this transaction, so a pack committed after the read below cannot
 * reference a text deleted here.
 */
async function collectTexts(c: pg.ClientBase, packs: { context_id: string; bucket: number; data: Buffer }[]): Promise<void> {
  const opened = packs.map((p) => openPackLines(p.data));
  const candidates = textIdsOfPacks(opened);
  if (candidates.size === 0) return;
  const locked = new Set((await c.query<{ id: string }>(
    'SELECT id FROM vuln_text WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE SKIP LOCKED', [[...candidates]],
  )).rows.map((r) => Number(r.id)));
  if (locked.size === 0) return;
  const contexts = [...new Set(packs.map((p) => String(p.context_id)))];
  // First the packs that replaced the collected ones, where their texts mostly are (the buckets of the same packages
  // in any release of the updater, each cut by its context's count: a changed record keeps its advisory's text); the
  // updater's other packs for what is left.
  const fine = new Set<number>();
  for (const l of opened.flat()) fine.add(packBucket(parseLine(l).packageName));
  const keys: { context: string[]; bucket: number[] } = { context: [], bucket: [] };
  const counts = (await c.query<{ id: string; buckets: number }>(
    'SELECT id, buckets FROM vuln_context WHERE updater IN (SELECT updater FROM vuln_context WHERE id = ANY($1::bigint[]))', [contexts],
  )).rows;
  for (const ctx of counts) {
    for (const b of new Set([...fine].map((f) => f % ctx.buckets))) {
      keys.context.push(String(ctx.id));
      keys.bucket.push(b);
    }
  }
  const scans = [
    `SELECT p.id, p.data FROM vuln_pack p
     WHERE p.context_id IN (SELECT id FROM vuln_context WHERE updater IN (SELECT updater FROM vuln_context WHERE id = ANY($1::bigint[])))
       AND (p.context_id, p.bucket) IN (SELECT * FROM unnest($3::bigint[], $4::int[])) AND p.id > $2 ORDER BY p.id LIMIT 2000`,
    `SELECT p.id, p.data FROM vuln_pack p
     WHERE p.context_id IN (SELECT id FROM vuln_context WHERE updater IN (SELECT updater FROM vuln_context WHERE id = ANY($1::bigint[])))
       AND (p.context_id, p.bucket) NOT IN (SELECT * FROM unnest($3::bigint[], $4::int[])) AND p.id > $2 ORDER BY p.id LIMIT 2000`,
  ];
  for (const scan of scans) {
    for (let after = '0'; ;) {
      const rows = (await c.query<{ id: string; data: Buffer }>(scan, [contexts, after, keys.context, keys.bucket])).rows;
      if (rows.length === 0) break;
      after = String(rows[rows.length - 1]!.id);
      for (const r of rows) for (const id of textIdsOf(openPackLines(r.data))) locked.delete(id);
      if (locked.size === 0) return;
    }
  }
  await c.query('DELETE FROM vuln_text WHERE id = ANY($1::bigint[])', [[...locked]]);
}

function newPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle pooled connection that dies (server restart, network) is dropped by the pool, and the next query opens
  // a new one; without a listener the 'error' event would crash the process instead.
  pool.on('error', () => {});
  return pool;
}

/** The connstring with the session settings folded in (a connstring's own parameters override pg.Pool options). */
function sessionUrl(connString: string, opts: PostgresStoreOptions): string {
  const u = new URL(connString);
  if (opts.schema) {
    const prior = u.searchParams.get('options');
    u.searchParams.set('options', [prior, `-c search_path=${opts.schema}`].filter(Boolean).join(' '));
  }
  if (!u.searchParams.has('application_name')) u.searchParams.set('application_name', opts.applicationName ?? 'clair-ts');
  return u.toString();
}


/**
 * Applies pending migrations under a session-level advisory lock (so instances starting together migrate once and
 * the others wait, then find nothing to do); each migration in its own transaction. Returns the schema, which
 * scopes every advisory key of the store.
 */
async function migrate(pool: pg.Pool, schema: string | undefined): Promise<string> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error) => {
    broken = e;
  };
  client.on('error', onError);
  try {
    const scopeOfLock = schema ?? (await client.query<{ p: string }>('SELECT current_setting(\'search_path\') AS p')).rows[0]!.p;
    const key = advisoryKey(scopeOfLock, 'migrate', '');
    await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    try {
      // Inside the lock: concurrent CREATE SCHEMA IF NOT EXISTS can still fail on the catalog's unique index.
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      const current = (await client.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]!.s;
      if (current === null) throw new ClairError('bad-input', `search_path ${scopeOfLock} names no existing schema`);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migration (version integer PRIMARY KEY, applied timestamptz NOT NULL)');
      const have = Number((await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migration')).rows[0]!.v ?? 0);
      if (have > migrations.length) {
        throw new ClairError('unsupported', `schema version ${have} in ${current} is newer than this clair-ts (${migrations.length}); upgrade clair-ts`);
      }
      for (let v = have + 1; v <= migrations.length; v++) {
        await client.query('BEGIN');
        try {
          const m = migrations[v - 1]!;
          if (typeof m === 'string') await client.query(m);
          else await m(client);
          await client.query('INSERT INTO schema_migration (version, applied) VALUES ($1, now())', [v]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined); // the migration's own error is the one to report
          throw e;
        }
      }
      return current;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch((e: Error) => {
        broken = e; // destroying the session below releases the lock
      });
    }
  } catch (e) {
    broken ??= e as Error;
    throw e;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
