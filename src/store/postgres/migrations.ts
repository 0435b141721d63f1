import type pg from 'pg';
import { enrichmentRow, nameToMark, textHash, vulnerabilityRow } from '../record-row.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { PackBuilder, type Pack } from '../enrichment-pack.ts';
import { bucketLine, buildPacks, MAX_BUFFER_BYTES, packBucket } from '../vulnerability-pack.ts';
import { linkPacks, writePacks, type PackRow } from './vulnerability-packs.ts';
import { encodeText } from '../stored-text.ts';
import type { IndexReport } from '../../model/index-report.ts';
import { indexManifestPackages, SCHEMA as INDEXED_PACKAGES_SCHEMA } from './indexed-packages.ts';

// PostgreSQL schema migrations, applied in order, each once, each in its own transaction, under an advisory lock
// (postgres-store.ts). Never edit a released migration: add one. Same tables as the SQLite store
// (store/sqlite/migrations.ts), with two differences that follow from holding a real transaction per writer:
// - no uo_staging: a writer's rows live in its open transaction, invisible to others until COMMIT;
// - update_operation.seq: the operation row is inserted when the writer begins (uo_vuln references its id), but
//   "newest" must mean "committed last", as in SQLite, so seq is taken from a sequence at commit.
export type Migration = string | ((c: pg.ClientBase) => Promise<void>);

export const migrations: readonly Migration[] = [
  `
  CREATE TABLE layer_report (
    digest      text NOT NULL,
    scanner_set text NOT NULL,
    data        text NOT NULL,
    created     timestamptz NOT NULL,
    PRIMARY KEY (digest, scanner_set)
  );

  CREATE TABLE index_report (
    manifest_hash text PRIMARY KEY,
    index_state   text NOT NULL,
    data          text NOT NULL,
    updated       timestamptz NOT NULL
  );

  -- Package names (binary and source) per manifest: how the notifier finds the manifests a record may affect.
  CREATE TABLE manifest_package (
    name          text NOT NULL,
    manifest_hash text NOT NULL REFERENCES index_report(manifest_hash) ON DELETE CASCADE,
    PRIMARY KEY (name, manifest_hash)
  );
  CREATE INDEX manifest_package_manifest ON manifest_package(manifest_hash);

  CREATE SEQUENCE update_operation_commit_seq;
  CREATE TABLE update_operation (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref         uuid NOT NULL UNIQUE,
    updater     text NOT NULL,
    fingerprint text NOT NULL DEFAULT '',
    date        timestamptz NOT NULL,
    count       integer NOT NULL DEFAULT 0,
    -- NULL only inside the writer's own (uncommitted) transaction; set at commit.
    seq         bigint UNIQUE
  );
  -- "Newest operation of each updater": DISTINCT ON (updater) ... ORDER BY updater, seq DESC walks this index.
  CREATE INDEX update_operation_updater_seq ON update_operation(updater, seq DESC);

  -- One row per distinct record; operations share rows through uo_vuln. data is text, not jsonb: it is only ever
  -- read back whole, and text skips jsonb's parse on every insert.
  CREATE TABLE vuln (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash                   text NOT NULL UNIQUE,
    updater                text NOT NULL,
    name                   text NOT NULL,
    package_name           text NOT NULL,
    dist_did               text NOT NULL,
    dist_version_id        text NOT NULL,
    dist_version_code_name text NOT NULL,
    data                   text NOT NULL
  );
  -- The matcher's lookup: package name first (most selective), then the release.
  CREATE INDEX vuln_lookup ON vuln(package_name, dist_did, dist_version_code_name);

  CREATE TABLE uo_vuln (
    uo_id   bigint NOT NULL REFERENCES update_operation(id) ON DELETE CASCADE,
    vuln_id bigint NOT NULL REFERENCES vuln(id),
    PRIMARY KEY (uo_id, vuln_id)
  );
  -- (vuln_id, uo_id) and not just (vuln_id): "is this record in a current operation" is then an index-only probe.
  CREATE INDEX uo_vuln_vuln ON uo_vuln(vuln_id, uo_id);
  `,
  // 2: when an updater last ran anywhere in the cluster, so that instances started at different times still run
  // each updater once per period between them (updater/cluster-updater-run.ts). Times are the database's now():
  // instances' clocks never have to agree.
  `
  CREATE TABLE updater_run (
    updater  text PRIMARY KEY,
    finished timestamptz NOT NULL
  );
  `,
  // 3: the notifier (src/notifier), as in the SQLite store. The receipt's primary key makes processing an update
  // operation happen once even when two instances compute its notifications at the same time (the second INSERT
  // waits for the first transaction, then does nothing). claimed_until is a delivery lease: the claim is one
  // UPDATE over a SELECT … FOR UPDATE SKIP LOCKED, so instances take disjoint sets without waiting.
  `
  CREATE TABLE notification_receipt (
    operation_ref   uuid PRIMARY KEY,
    updater         text NOT NULL,
    notification_id uuid UNIQUE,
    status          text NOT NULL CHECK (status IN ('none', 'pending', 'delivered', 'deleted')),
    created         timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt    timestamptz NOT NULL DEFAULT clock_timestamp(),
    claimed_until   timestamptz
  );
  CREATE INDEX notification_receipt_due ON notification_receipt(next_attempt) WHERE status = 'pending';

  CREATE TABLE notification (
    notification_id uuid NOT NULL REFERENCES notification_receipt(notification_id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    body            text NOT NULL,
    PRIMARY KEY (notification_id, id)
  );
  `,
  // 4: enrichment records (src/enrichment) share the record table with an empty package name; the report looks
  // them up by CVE id (the record's name), which also serves lookups of a vulnerability by its id.
  `
  CREATE INDEX vuln_name ON vuln(name);
  `,
  // 5: records in parts, as in the SQLite store (store/record-row.ts): the context and the text many records repeat
  // are stored once in vuln_context and vuln_text; content hashes are cut to 128 bits, stored as bytea. Existing rows are rewritten.
  splitRecords,
  // 6: subscriptions (src/notifier/subscriptions.ts), as in the SQLite store. subscription_fanout's key makes the
  // sharing out of a set happen once across instances; each share is claimed under a lease (FOR UPDATE SKIP LOCKED).
  `
  CREATE TABLE subscription (
    id      uuid PRIMARY KEY,
    data    text NOT NULL,
    created timestamptz NOT NULL
  );
  CREATE TABLE manifest_repository (
    manifest_hash text NOT NULL,
    repository    text NOT NULL,
    PRIMARY KEY (manifest_hash, repository)
  );
  CREATE TABLE subscription_fanout (
    notification_id uuid PRIMARY KEY,
    created         timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  CREATE TABLE subscription_delivery (
    notification_id uuid NOT NULL,
    subscription_id uuid NOT NULL REFERENCES subscription(id) ON DELETE CASCADE,
    ids             text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'delivered')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt    timestamptz NOT NULL DEFAULT clock_timestamp(),
    claimed_until   timestamptz,
    PRIMARY KEY (notification_id, subscription_id)
  );
  CREATE INDEX subscription_delivery_due ON subscription_delivery(next_attempt) WHERE status = 'pending';
  CREATE INDEX subscription_delivery_subscription ON subscription_delivery(subscription_id);
  INSERT INTO subscription_fanout (notification_id, created)
    SELECT notification_id, created FROM notification_receipt WHERE notification_id IS NOT NULL;
  `,
  // 7: enrichment records in packs, as in the SQLite store (store/enrichment-pack.ts). Ids compare in the "C"
  // collation, code-point order, the order packs are cut in (the database's collation must not decide it). A
  // writer's packs live in its open transaction, so uo_id is set from the start. Existing enrichment rows are moved.
  packEnrichments,
  // 8: the notifier's package index (store/indexed-package-rows.ts) replaces manifest_package, as in the SQLite
  // store; existing index reports are indexed here.
  indexPackages,
  // 9: texts hold the record's name as a mark, as in the SQLite store (store/record-row.ts). Records stored before
  // are pointed at the shared text; the texts left unused are deleted.
  markNamesInTexts,
  // 10: stored scan results (cli/stored-scan.ts), as in the SQLite store: a scan's rendered output per manifest and
  // variant, with the stamps of the state it was computed from. Deleted with the manifest's index report; id orders
  // them oldest first for the size bound. IF NOT EXISTS: the tests of earlier migrations roll the schema version back
  // and apply the later ones again.
  `
  CREATE TABLE IF NOT EXISTS scan_result (
    id               bigserial PRIMARY KEY,
    manifest_hash    text NOT NULL REFERENCES index_report(manifest_hash) ON DELETE CASCADE,
    variant          text NOT NULL,
    operations_stamp text NOT NULL,
    report_stamp     text NOT NULL,
    code_stamp       text NOT NULL,
    meta             text NOT NULL,
    output           bytea NOT NULL,
    bytes            bigint NOT NULL,
    UNIQUE (manifest_hash, variant)
  );
  `,
  // 11: no foreign keys on uo_vuln. Their checks ran a trigger per link (two per record written): a fifth of the
  // server's time in a feed ingest. What they guarded holds by construction: a writer links only records it has
  // just inserted or has locked FOR KEY SHARE in the same statement (operation-writer.ts), and deleting operations
  // deletes their links in the same statement (deleteUpdateOperations), which the cascade used to do.
  `
  ALTER TABLE uo_vuln DROP CONSTRAINT IF EXISTS uo_vuln_uo_id_fkey, DROP CONSTRAINT IF EXISTS uo_vuln_vuln_id_fkey;
  `,
  // 12: vulnerability records in packs (store/vulnerability-pack.ts, store/postgres/vulnerability-packs.ts): one row
  // per (context, bucket of package names) of an operation's records, deflated, linked to the operations holding it
  // as runs of pack ids, in place of a row and a link per record. Every operation's records are packed here, the same
  // records of several operations into one shared pack; vuln and uo_vuln are dropped.
  packVulnerabilities,
  // 13: texts deflated with a preset dictionary (store/stored-text.ts): vuln_text.data becomes bytea holding the
  // deflated bytes. A text is still found by the hash of its plain form. PostgreSQL's own compression of a value
  // (pglz, TOAST) starts at ~2 KB, which most texts are under: RustSec's advisory-db texts took ~1.1 MB as text.
  // Existing texts are deflated here and the table rewritten once (ALTER ... TYPE), leaving no dead rows behind.
  deflateTexts,
  // 14: a bucket count per context, as in the SQLite store (store/vulnerability-pack.ts: chooseBuckets), fixed when a
  // writer creates the context. The contexts stored before keep the PACK_BUCKETS their packs are cut by. (A constant
  // default: PostgreSQL adds the column without rewriting the table.)
  `
  ALTER TABLE vuln_context ADD COLUMN IF NOT EXISTS buckets integer NOT NULL DEFAULT 4096
    CHECK (buckets BETWEEN 1 AND 4096 AND buckets & (buckets - 1) = 0);
  `,
  // 15: packs kept in their row up to a page (MAIN), as texts are (13): a pack is deflated and does not compress
  // again, and one over TOAST's ~2 KB threshold (a context of few buckets has ~2 KB packs) cost its chunks, the TOAST
  // table's index and free-space map beside the row. RustSec's advisory-db (32 packs): 1.33 -> 1.29 MB. Packs written
  // before stay where they are. (PostgreSQL still moves a value out when a row cannot fit a page: a pack of a few
  // thousand records.)
  `
  ALTER TABLE vuln_pack ALTER COLUMN data SET STORAGE MAIN;
  `,
  // 16: the operations stamp (getReportStamps, read per batch of report requests) kept by the database in one row:
  // a version that triggers bump in the transaction that commits an operation (seq set) or deletes a committed one,
  // visible exactly when that change is. It was count(*) of the committed operations and the newest one's ref, a
  // scan that grows with every operation kept (5,000: ~0.9 ms of the server per read against ~0.03 ms for 120).
  // epoch, random per database, keeps a stamp from naming another database's state. A committing writer bumps it in
  // its last statement before COMMIT, so concurrent commits wait on the row only for each other's COMMIT. The row is
  // updated in the schema of the operations' table (TG_TABLE_SCHEMA), whatever the session's search_path. Stored
  // scan results hold stamps of the old form, which can never be current again.
  `
  CREATE TABLE update_operation_stamp (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    epoch    uuid NOT NULL DEFAULT gen_random_uuid(),
    version  bigint NOT NULL DEFAULT 0
  );
  INSERT INTO update_operation_stamp DEFAULT VALUES;
  CREATE FUNCTION update_operation_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    EXECUTE format('UPDATE %I.update_operation_stamp SET version = version + 1', TG_TABLE_SCHEMA);
    RETURN NULL;
  END $$;
  CREATE TRIGGER update_operation_committed AFTER INSERT OR UPDATE OF seq ON update_operation
    FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION update_operation_stamp_bump();
  CREATE TRIGGER update_operation_deleted AFTER DELETE ON update_operation
    FOR EACH ROW WHEN (OLD.seq IS NOT NULL) EXECUTE FUNCTION update_operation_stamp_bump();
  DELETE FROM scan_result;
  `,
  // 17: smaller rows and fewer empty relations.
  // - A text's hash (128 bits) as uuid, not bytea: 16 bytes without a length header, so an entry of vuln_text_hash_key
  //   takes 24 bytes, not 32 (8-byte alignment), and a row 4-8 fewer. uuid compares its bytes as bytea did, so the
  //   order (and ON CONFLICT's key) is the same. The table is rewritten and its indexes rebuilt once.
  // - No TOAST table for tables whose every text column is a short name or key: an updater's or package's name, a
  //   manifest hash, a repository, a record context (at most a few hundred bytes, and held whole in a unique B-tree,
  //   whose entries cannot exceed ~2.7 KB anyway). Each such table kept an empty TOAST table and its index (8 KB)
  //   that nothing could ever fill. PLAIN storage makes PostgreSQL create none, and rewriting the table (CLUSTER,
  //   allowed in a transaction for a named table) drops the one it has; PostgreSQL then refuses a row over a page
  //   (~8 KB) instead of moving a value out. Not for a table other tables' foreign keys point at (indexed_manifest,
  //   notification_receipt): CLUSTER records an empty table as counted empty (reltuples 0, not the -1 of a table
  //   never analyzed), which takes away the planner's 10-page floor, and the foreign-key checks of the referencing
  //   rows, whose plans each session keeps, then scanned the whole table for every row inserted until an ANALYZE
  //   (storing 3,000 images: 27 -> 59 s, indexed_manifest read sequentially 180,000 times).
  // - No UNIQUE index on update_operation.seq: seq is taken from a sequence at commit, unique by construction, and
  //   since the operations stamp is a row of its own (16) no query looks an operation up by seq alone; "newest of an
  //   updater" walks update_operation_updater_seq, and the list of every operation sorts the rows it returns anyway.
  // Each step can run again (a test rolls the schema version back to 16). RustSec's advisory-db (1,254,059 bytes)
  // loaded into an empty schema, with resolveTexts' one insert per resolution: 1,318,912 -> 1,220,608 bytes (1.05 ->
  // 0.97 of the feed); the empty schema 483,328 -> 425,984.
  compactTables,
];

async function compactTables(c: pg.ClientBase): Promise<void> {
  const hash = await c.query("SELECT 1 FROM pg_attribute WHERE attrelid = 'vuln_text'::regclass AND attname = 'hash' AND atttypid = 'bytea'::regtype");
  if (hash.rows.length > 0) await c.query("ALTER TABLE vuln_text ALTER COLUMN hash TYPE uuid USING encode(hash, 'hex')::uuid");
  await c.query(`
  ALTER TABLE updater_run ALTER COLUMN updater SET STORAGE PLAIN;
  ALTER TABLE manifest_repository ALTER COLUMN manifest_hash SET STORAGE PLAIN, ALTER COLUMN repository SET STORAGE PLAIN;
  ALTER TABLE indexed_package_name ALTER COLUMN name SET STORAGE PLAIN;
  ALTER TABLE vuln_context ALTER COLUMN updater SET STORAGE PLAIN, ALTER COLUMN dist_did SET STORAGE PLAIN,
    ALTER COLUMN dist_version_id SET STORAGE PLAIN, ALTER COLUMN dist_version_code_name SET STORAGE PLAIN,
    ALTER COLUMN data SET STORAGE PLAIN;
  CLUSTER updater_run USING updater_run_pkey;
  CLUSTER manifest_repository USING manifest_repository_pkey;
  CLUSTER indexed_package_name USING indexed_package_name_pkey;
  CLUSTER vuln_context USING vuln_context_pkey;
  ALTER TABLE updater_run SET WITHOUT CLUSTER;
  ALTER TABLE manifest_repository SET WITHOUT CLUSTER;
  ALTER TABLE indexed_package_name SET WITHOUT CLUSTER;
  ALTER TABLE vuln_context SET WITHOUT CLUSTER;
  ALTER TABLE update_operation DROP CONSTRAINT IF EXISTS update_operation_seq_key;
  `);
}

async function markNamesInTexts(c: pg.ClientBase): Promise<void> {
  const textIds = new Map<string, string>();
  let changed = 0;
  for (let after = '0'; ;) {
    const rows = (await c.query<{ id: string; name: string; updater: string; data: string }>(
      `SELECT v.id, v.name, c.updater, t.data FROM vuln v JOIN vuln_context c ON c.id = v.context_id JOIN vuln_text t ON t.id = v.text_id
       WHERE v.id > $1 ORDER BY v.id LIMIT 5000`,
      [after],
    )).rows;
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const ids: string[] = [];
    const texts: string[] = [];
    for (const r of rows) {
      const text = nameToMark(r.data, r.name);
      if (text === r.data) continue;
      const hash = textHash(r.updater, text);
      let id = textIds.get(hash);
      if (id === undefined) {
        id = (await c.query<{ id: string }>(
          `WITH ins AS (INSERT INTO vuln_text (hash, data) VALUES (decode($1, 'hex'), $2) ON CONFLICT (hash) DO NOTHING RETURNING id)
           SELECT id FROM ins UNION ALL SELECT id FROM vuln_text WHERE hash = decode($1, 'hex')`,
          [hash, text],
        )).rows[0]!.id;
        textIds.set(hash, id);
      }
      ids.push(r.id);
      texts.push(id);
    }
    changed += ids.length;
    if (ids.length > 0) {
      await c.query('UPDATE vuln v SET text_id = t.text_id FROM unnest($1::bigint[], $2::bigint[]) AS t(id, text_id) WHERE v.id = t.id', [ids, texts]);
    }
  }
  if (changed > 0) await c.query('DELETE FROM vuln_text t WHERE NOT EXISTS (SELECT 1 FROM vuln v WHERE v.text_id = t.id)');
}

/**
 * Inserts packs of one operation, 500 a statement. Each pack's columns are parameters of a VALUES row rather than
 * elements of unnest() arrays: node-postgres sends a Buffer parameter in binary, while a bytea[] array goes as text,
 * every pack hex-encoded here and decoded by the server. 2,523 packs of an EPSS feed (4.8 MB): 50-70 ms against
 * 165-220 ms (3 runs each, one connection, local server).
 */
export async function insertPacks(c: pg.ClientBase, packs: Pack[], uoId: string): Promise<void> {
  for (let i = 0; i < packs.length; i += 500) {
    const chunk = packs.slice(i, i + 500);
    const args: unknown[] = [uoId];
    const rows: string[] = [];
    for (const p of chunk) {
      const k = args.length;
      args.push(p.updater, p.run, p.first, p.last, p.count, p.data);
      rows.push(`($1::bigint, $${k + 1}::text, $${k + 2}::int, $${k + 3}::text, $${k + 4}::text, $${k + 5}::int, $${k + 6}::bytea)`);
    }
    await c.query(`INSERT INTO enrichment_pack (uo_id, updater, run, first, last, count, data) VALUES ${rows.join(',')}`, args);
  }
}

async function packEnrichments(c: pg.ClientBase): Promise<void> {
  await c.query(`
  CREATE TABLE enrichment_pack (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uo_id   bigint NOT NULL REFERENCES update_operation(id) ON DELETE CASCADE,
    updater text NOT NULL,
    run     integer NOT NULL,
    first   text COLLATE "C" NOT NULL,
    last    text COLLATE "C" NOT NULL,
    count   integer NOT NULL,
    data    bytea NOT NULL
  );
  CREATE INDEX enrichment_pack_lookup ON enrichment_pack(uo_id, run, first);
  `);
  const contexts = (await c.query<{ id: string; data: string }>('SELECT id, data FROM vuln_context')).rows
    .map((r) => ({ id: r.id, c: JSON.parse(r.data) as { u: string; e?: number } }))
    .filter((r) => r.c.e === 1);
  if (contexts.length === 0) return;
  const updaterOf = new Map(contexts.map((r) => [r.id, r.c.u]));
  const ids = contexts.map((r) => r.id);
  const ops = (await c.query<{ uo_id: string }>(
    'SELECT DISTINCT u.uo_id FROM uo_vuln u JOIN vuln v ON v.id = u.vuln_id WHERE v.context_id = ANY($1::bigint[]) ORDER BY u.uo_id',
    [ids],
  )).rows;
  for (const op of ops) {
    const b = new PackBuilder();
    for (let after = '0'; ;) {
      const rows = (await c.query<{ id: string; name: string; context_id: string; data: string }>(
        `SELECT v.id, v.name, v.context_id, v.data FROM uo_vuln u JOIN vuln v ON v.id = u.vuln_id
         WHERE u.uo_id = $1 AND v.context_id = ANY($2::bigint[]) AND v.id > $3 ORDER BY v.id LIMIT 5000`,
        [op.uo_id, ids, after],
      )).rows;
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      for (const r of rows) b.addJson(updaterOf.get(r.context_id)!, r.name, r.data);
      if (b.full) await insertPacks(c, b.drain(), op.uo_id);
    }
    if (!b.empty) await insertPacks(c, b.drain(), op.uo_id);
  }
  await c.query('DELETE FROM uo_vuln WHERE vuln_id IN (SELECT id FROM vuln WHERE context_id = ANY($1::bigint[]))', [ids]);
  await c.query('DELETE FROM vuln WHERE context_id = ANY($1::bigint[])', [ids]);
  await c.query('DELETE FROM vuln_context WHERE id = ANY($1::bigint[])', [ids]);
}

async function splitRecords(c: pg.ClientBase): Promise<void> {
  await c.query(`
  DROP INDEX vuln_lookup;
  DROP INDEX vuln_name;
  CREATE TABLE vuln_context (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    updater                text NOT NULL,
    dist_did               text NOT NULL,
    dist_version_id        text NOT NULL,
    dist_version_code_name text NOT NULL,
    data                   text NOT NULL UNIQUE
  );
  CREATE TABLE vuln_text (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash bytea NOT NULL UNIQUE,
    data text NOT NULL
  );
  ALTER TABLE vuln ADD COLUMN context_id bigint NOT NULL DEFAULT 0;
  ALTER TABLE vuln ADD COLUMN text_id bigint;
  `);
  const contextIds = new Map<string, string>();
  const textIds = new Map<string, string>();
  for (let after = '0'; ;) {
    const rows = (await c.query<{ id: string; package_name: string; data: string }>('SELECT id, package_name, data FROM vuln WHERE id > $1 ORDER BY id LIMIT 1000', [after])).rows;
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const cols: (string | null)[][] = [[], [], [], [], []];
    for (const old of rows) {
      const parsed = JSON.parse(old.data) as Record<string, unknown>;
      const r = old.package_name === '' && 'enrichment' in parsed && 'tag' in parsed
        ? enrichmentRow(parsed as unknown as EnrichmentRecord)
        : vulnerabilityRow(parsed as unknown as Vulnerability);
      let ctx = contextIds.get(r.context);
      if (ctx === undefined) {
        ctx = (await c.query<{ id: string }>(
          'INSERT INTO vuln_context (updater, dist_did, dist_version_id, dist_version_code_name, data) VALUES ($1, $2, $3, $4, $5) RETURNING id',
          [r.updater, r.did, r.versionId, r.codeName, r.context],
        )).rows[0]!.id;
        contextIds.set(r.context, ctx);
      }
      let text: string | null = null;
      if (r.text !== null && r.textHash !== null) {
        text = textIds.get(r.textHash) ?? null;
        if (text === null) {
          text = (await c.query<{ id: string }>("INSERT INTO vuln_text (hash, data) VALUES (decode($1, 'hex'), $2) RETURNING id", [r.textHash, r.text])).rows[0]!.id;
          textIds.set(r.textHash, text);
        }
      }
      cols[0]!.push(old.id);
      cols[1]!.push(r.hash);
      cols[2]!.push(ctx);
      cols[3]!.push(text);
      cols[4]!.push(r.data);
    }
    await c.query(
      `UPDATE vuln v SET hash = t.hash, context_id = t.context_id, text_id = t.text_id, data = t.data
       FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[]) AS t(id, hash, context_id, text_id, data)
       WHERE v.id = t.id`,
      cols,
    );
  }
  await c.query(`
  ALTER TABLE vuln ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex');
  ALTER TABLE vuln DROP COLUMN updater, DROP COLUMN dist_did, DROP COLUMN dist_version_id, DROP COLUMN dist_version_code_name;
  -- The matcher's lookup: package name, then the context (the release); a context is one of a few dozen rows.
  CREATE INDEX vuln_lookup ON vuln(package_name, context_id);
  -- Enrichment rows by CVE id (the report's lookup); vulnerabilities are never looked up by name alone.
  CREATE INDEX vuln_enrichment ON vuln(name) WHERE package_name = '';
  `);
}

async function indexPackages(c: pg.ClientBase): Promise<void> {
  await c.query(INDEXED_PACKAGES_SCHEMA);
  for (let after = '';;) {
    const rows = (await c.query<{ manifest_hash: string; data: string }>(
      'SELECT manifest_hash, data FROM index_report WHERE manifest_hash > $1 ORDER BY manifest_hash LIMIT 100', [after],
    )).rows;
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.manifest_hash;
    for (const r of rows) await indexManifestPackages(c, r.manifest_hash, JSON.parse(r.data) as IndexReport);
  }
}

/**
 * The tables of packed vulnerability records. No foreign keys (their checks cost a trigger per row, and what they
 * guard holds by construction: see operation-writer.ts). Links are runs of consecutive pack ids (uo_pack_run): packs
 * written together get consecutive ids, so a first load is one run, and a later operation sharing most of its packs
 * one per stretch between the packs that changed; a row and an index entry per link cost ~78 bytes a pack, half of a
 * small pack's row. No hash column: an equal pack is found by its key and bytes (deflate is deterministic). No index
 * on links by pack: the query finds a pack's run by (operation, first) and the collector finds unlinked packs with
 * one pass over the runs (postgres-store.ts).
 */
const VULN_PACK_SCHEMA = `
CREATE TABLE vuln_pack (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  context_id bigint NOT NULL,
  bucket     integer NOT NULL,
  count      integer NOT NULL,
  data       bytea NOT NULL
);
-- The matcher's lookup (context, bucket), a writer's search for an equal pack (then its bytes), the collector's walk
-- of an updater's packs.
CREATE INDEX vuln_pack_lookup ON vuln_pack(context_id, bucket);
CREATE TABLE uo_pack_run (
  uo_id bigint NOT NULL,
  first bigint NOT NULL,
  last  bigint NOT NULL,
  PRIMARY KEY (uo_id, first)
);
`;

async function packVulnerabilities(c: pg.ClientBase): Promise<void> {
  await c.query(VULN_PACK_SCHEMA);
  const ops = (await c.query<{ uo_id: string }>('SELECT DISTINCT uo_id FROM uo_vuln ORDER BY uo_id')).rows;
  for (const { uo_id: op } of ops) {
    // An operation's records in the order they were stored (a writer's order: the feed's), read through a cursor,
    // grouped by key (context, bucket) in memory within the writers' budget, as a writer groups them.
    await c.query(`DECLARE vuln_of_op NO SCROLL CURSOR FOR
      SELECT v.context_id, v.package_name, v.name, v.text_id, v.data FROM uo_vuln u JOIN vuln v ON v.id = u.vuln_id
      WHERE u.uo_id = ${BigInt(op)} ORDER BY v.id`);
    const ids: number[] = [];
    let groups = new Map<string, { contextId: string; bucket: number; lines: string[] }>();
    let bytes = 0;
    const write = async () => {
      const rows: PackRow[] = [];
      for (const g of [...groups.values()].sort((x, y) => Number(x.contextId) - Number(y.contextId) || x.bucket - y.bucket)) {
        for (const pack of buildPacks(g.lines)) rows.push({ contextId: g.contextId, bucket: g.bucket, pack });
      }
      for (const w of await writePacks(c, rows)) ids.push(Number(w.id));
      groups = new Map();
      bytes = 0;
    };
    for (;;) {
      const batch = (await c.query<{ context_id: string; package_name: string; name: string; text_id: string | null; data: string }>('FETCH 5000 FROM vuln_of_op')).rows;
      if (batch.length === 0) break;
      for (const r of batch) {
        const bucket = packBucket(r.package_name);
        const key = `${r.context_id}\0${bucket}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { contextId: String(r.context_id), bucket, lines: [] }));
        const line = bucketLine(r.package_name, r.name, r.text_id === null ? 0 : Number(r.text_id), r.data);
        g.lines.push(line);
        bytes += line.length + 40;
      }
      if (bytes >= MAX_BUFFER_BYTES) await write();
    }
    await write();
    await c.query('CLOSE vuln_of_op');
    await linkPacks(c, op, ids);
  }
  await c.query('DROP TABLE uo_vuln, vuln');
  await c.query('ANALYZE vuln_pack, uo_pack_run');
}

async function deflateTexts(c: pg.ClientBase): Promise<void> {
  // The deflated texts go to a temporary table first; the column's type change then takes each row's from there
  // (a function: a USING expression cannot hold a subquery), rewriting the table once.
  await c.query('CREATE TEMPORARY TABLE deflated_text (id bigint PRIMARY KEY, data bytea NOT NULL) ON COMMIT DROP');
  for (let after = '0'; ;) {
    const rows = (await c.query<{ id: string; data: string }>('SELECT id, data FROM vuln_text WHERE id > $1 ORDER BY id LIMIT 2000', [after])).rows;
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    await c.query('INSERT INTO deflated_text (id, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])', [rows.map((r) => r.id), rows.map((r) => encodeText(r.data))]);
  }
  await c.query('CREATE FUNCTION pg_temp.deflated_text(bigint) RETURNS bytea LANGUAGE sql STABLE AS $$ SELECT data FROM pg_temp.deflated_text WHERE id = $1 $$');
  await c.query('ALTER TABLE vuln_text ALTER COLUMN data TYPE bytea USING pg_temp.deflated_text(id)');
  await c.query('DROP FUNCTION pg_temp.deflated_text(bigint)');
  // Deflated bytes do not compress again, and the few texts over TOAST's ~2 KB threshold cost more out of line (a
  // chunk table, its index and maps: ~50 KB for RustSec's 8 such texts, 22 KB of them) than in the row: kept in the
  // row up to a page (MAIN; PostgreSQL still moves a value out when a row cannot fit a page).
  await c.query('ALTER TABLE vuln_text ALTER COLUMN data SET STORAGE MAIN');
}
