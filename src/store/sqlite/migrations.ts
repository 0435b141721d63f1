import type { DatabaseSync } from 'node:sqlite';
import { enrichmentRow, nameToMark, textHash, vulnerabilityRow, type RecordRow } from '../record-row.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { PackBuilder, type Pack } from '../enrichment-pack.ts';
import type { IndexReport } from '../../model/index-report.ts';
import { indexManifestPackages } from './indexed-packages.ts';
import { SCHEMA_VERSION } from './schema-version.ts';
import { bucketLine, buildPacks, MAX_BUFFER_BYTES, packBucket } from '../vulnerability-pack.ts';
import { addTextRefs, storePack, type TextRefs } from './vuln-packs.ts';
import { encodeText } from '../stored-text.ts';

// Schema migrations, applied in order, each once, inside a transaction. Never edit a released migration: add one.
// A migration is SQL, or a function when rows must be rewritten by the code that knows their form.
export type Migration = string | ((db: DatabaseSync) => void);

export const migrations: readonly Migration[] = [
  `
  CREATE TABLE layer_report (
    digest      TEXT NOT NULL,
    scanner_set TEXT NOT NULL,
    data        TEXT NOT NULL,
    created     TEXT NOT NULL,
    PRIMARY KEY (digest, scanner_set)
  ) WITHOUT ROWID;

  CREATE TABLE index_report (
    manifest_hash TEXT PRIMARY KEY,
    index_state   TEXT NOT NULL,
    data          TEXT NOT NULL,
    updated       TEXT NOT NULL
  );

  -- Package names (binary and source) per manifest: how the notifier finds the manifests a record may affect.
  CREATE TABLE manifest_package (
    name          TEXT NOT NULL,
    manifest_hash TEXT NOT NULL REFERENCES index_report(manifest_hash) ON DELETE CASCADE,
    PRIMARY KEY (name, manifest_hash)
  ) WITHOUT ROWID;
  CREATE INDEX manifest_package_manifest ON manifest_package(manifest_hash);

  CREATE TABLE update_operation (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL UNIQUE,
    updater     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    date        TEXT NOT NULL,
    count       INTEGER NOT NULL
  );
  CREATE INDEX update_operation_updater ON update_operation(updater, id);

  -- One row per distinct record; operations share rows through uo_vuln.
  CREATE TABLE vuln (
    id                     INTEGER PRIMARY KEY,
    hash                   TEXT NOT NULL UNIQUE,
    updater                TEXT NOT NULL,
    name                   TEXT NOT NULL,
    package_name           TEXT NOT NULL,
    dist_did               TEXT NOT NULL,
    dist_version_id        TEXT NOT NULL,
    dist_version_code_name TEXT NOT NULL,
    data                   TEXT NOT NULL
  );
  -- The matcher's lookup: package name first (most selective), then the release.
  CREATE INDEX vuln_lookup ON vuln(package_name, dist_did, dist_version_code_name);

  CREATE TABLE uo_vuln (
    uo_id   INTEGER NOT NULL REFERENCES update_operation(id) ON DELETE CASCADE,
    vuln_id INTEGER NOT NULL REFERENCES vuln(id),
    PRIMARY KEY (uo_id, vuln_id)
  ) WITHOUT ROWID;
  CREATE INDEX uo_vuln_vuln ON uo_vuln(vuln_id);

  -- Records of an operation still being written. Promoted to uo_vuln in one transaction on commit.
  CREATE TABLE uo_staging (
    token   TEXT NOT NULL,
    vuln_id INTEGER NOT NULL,
    started TEXT NOT NULL,
    PRIMARY KEY (token, vuln_id)
  ) WITHOUT ROWID;
  `,
  // 2: the notifier (src/notifier). One receipt per processed update operation (the primary key is what makes
  // processing happen once); a receipt with notifications carries the set's id and its delivery state. Receipts do
  // not reference update_operation: retention deletes old operations, their notifications stay.
  `
  CREATE TABLE notification_receipt (
    operation_ref   TEXT PRIMARY KEY,
    updater         TEXT NOT NULL,
    notification_id TEXT UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('none', 'pending', 'delivered', 'deleted')),
    created         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    TEXT NOT NULL,
    claimed_until   TEXT
  );
  CREATE INDEX notification_receipt_due ON notification_receipt(status, next_attempt);

  CREATE TABLE notification (
    notification_id TEXT NOT NULL REFERENCES notification_receipt(notification_id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (notification_id, id)
  ) WITHOUT ROWID;
  `,
  // 3: the staging table by record. Garbage collection asks "is any writer staging this record?" for every record
  // no operation holds; without this index that was a scan of uo_staging per record, and a pruning update after a
  // few killed runs (1.4M leftover staging rows) took over 300 s holding the write lock. (SQLite only: PostgreSQL
  // stages in the writer's transaction, src/store/postgres/operation-writer.ts.)
  `
  CREATE INDEX uo_staging_vuln ON uo_staging(vuln_id);
  `,
  // 4: enrichment records (src/enrichment) share the record table with an empty package name; the report looks
  // them up by CVE id (the record's name), which also serves lookups of a vulnerability by its id.
  `
  CREATE INDEX vuln_name ON vuln(name);
  `,
  // 5: records in parts (store/record-row.ts): the context (updater, package kind, distribution, repository,
  // scheme) and the text (description, links) that many records repeat are stored once, in vuln_context and
  // vuln_text; the record keeps its own fields. Content hashes are cut to 128 bits, stored as 16 bytes (the column keeps its
  // declared TEXT type: SQLite stores the blob as given). Existing rows are rewritten.
  // On a Debian-tracker-sized feed (bench/store-size.ts) the database went from 6.5x the feed's size to 1.4x.
  splitRecords,
  // 6: subscriptions (src/notifier/subscriptions.ts). A set is shared out among the subscriptions once
  // (subscription_fanout's key), each share with its own delivery state and lease; manifest_repository holds the
  // index requests' repository hints. Sets that exist before this migration count as shared out: subscriptions
  // receive new sets only.
  `
  CREATE TABLE subscription (
    id      TEXT PRIMARY KEY,
    data    TEXT NOT NULL,
    created TEXT NOT NULL
  );
  CREATE TABLE manifest_repository (
    manifest_hash TEXT NOT NULL,
    repository    TEXT NOT NULL,
    PRIMARY KEY (manifest_hash, repository)
  ) WITHOUT ROWID;
  CREATE TABLE subscription_fanout (
    notification_id TEXT PRIMARY KEY,
    created         TEXT NOT NULL
  );
  CREATE TABLE subscription_delivery (
    notification_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES subscription(id) ON DELETE CASCADE,
    ids             TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    TEXT NOT NULL,
    claimed_until   TEXT,
    PRIMARY KEY (notification_id, subscription_id)
  );
  CREATE INDEX subscription_delivery_due ON subscription_delivery(status, next_attempt);
  CREATE INDEX subscription_delivery_subscription ON subscription_delivery(subscription_id);
  INSERT INTO subscription_fanout (notification_id, created)
    SELECT notification_id, created FROM notification_receipt WHERE notification_id IS NOT NULL;
  `,
  // 7: enrichment records in packs (store/enrichment-pack.ts): an operation's records sorted by CVE id, a few
  // hundred to a row, deflated. uo_id is NULL while a writer (token) is still writing; AUTOINCREMENT because opened
  // packs are cached by id, which must never name another pack. Existing enrichment rows are moved into packs.
  // EPSS at full size (bench store-size): 8.05x the feed's size before, 0.57x after (SQLite); PostgreSQL 14.45x, 0.61x.
  packEnrichments,
  // 8: the notifier's package index (store/indexed-package-rows.ts) replaces manifest_package: each distinct package
  // (with its distribution and repositories) once, filed under its lookup names, linked to the manifests holding it
  // by integer ids. Existing index reports are indexed here.
  indexPackages,
  // 9: texts hold the record's name as a mark (store/record-row.ts), so records whose texts differ only by their
  // name share one. Records stored before are pointed at the shared text; the texts left unused are deleted.
  markNamesInTexts,
  // 10: stored scan results (cli/stored-scan.ts): a scan's rendered output per manifest and variant, with the stamps
  // of the state it was computed from (SqliteStore.getScanResult compares them with the current ones). Deleted with
  // the manifest's index report; id orders them oldest first for the size bound. IF NOT EXISTS: the tests of
  // earlier migrations roll the schema version back and apply the later ones again.
  `
  CREATE TABLE IF NOT EXISTS scan_result (
    id               INTEGER PRIMARY KEY,
    manifest_hash    TEXT NOT NULL REFERENCES index_report(manifest_hash) ON DELETE CASCADE,
    variant          TEXT NOT NULL,
    operations_stamp TEXT NOT NULL,
    report_stamp     TEXT NOT NULL,
    code_stamp       TEXT NOT NULL,
    meta             TEXT NOT NULL,
    output           BLOB NOT NULL,
    bytes            INTEGER NOT NULL,
    UNIQUE (manifest_hash, variant)
  );
  `,
  // 11: vulnerability records in packs (store/vulnerability-pack.ts): the records of one package in one context,
  // deduplicated, sorted and deflated into one vuln_pack row, linked to the operations holding it (uo_pack) as rows
  // were (uo_vuln); writers stage packs in pack_staging. vuln_text.refs counts the packs using each text. Every
  // operation's records are moved into packs; vuln, uo_vuln and uo_staging are dropped (a writer still running
  // from before the upgrade fails at its next write). Kept small on purpose: no content hash (a writer compares a
  // key's packs by data), no record count (an operation keeps its own), no index of uo_pack by pack (garbage collection reads uo_pack once instead; the
  // matcher probes uo_pack's key per current operation).
  packRecords,
  // 12: texts deflated with a preset dictionary (store/stored-text.ts): vuln_text.data holds the deflated bytes. A
  // text is still found by the hash of its plain form. Ids are AUTOINCREMENT now, never given again, so that a
  // process may keep inflated texts by id (sqlite-store.ts). Existing texts are deflated into the new table, ids
  // kept. RustSec's advisory-db: texts 1.11 MB -> 0.5 MB.
  deflateTexts,
  // 13: a bucket count per context (store/vulnerability-pack.ts: chooseBuckets): a writer creating a context cuts its
  // packages into as few buckets as keep its packs at about PACK_TARGET_RECORDS records, fixed for the context's
  // life. The contexts stored before keep the PACK_BUCKETS their packs are cut by.
  `
  ALTER TABLE vuln_context ADD COLUMN buckets INTEGER NOT NULL DEFAULT 4096 CHECK (buckets >= 1 AND buckets <= 4096 AND (buckets & (buckets - 1)) = 0);
  `,
  // 14: the operations stamp (getReportStamps, read per report request) kept in one row, as in the PostgreSQL store:
  // a version that triggers bump in the transaction that adds or deletes an operation (a row here is a committed
  // operation: writers stage in pack_staging). It was count(*) of the operations and the newest one's ref, a count
  // that grows with every operation kept. epoch, random per database, keeps a stamp from naming another database's
  // state. Stored scan results hold stamps of the old form, which can never be current again.
  `
  CREATE TABLE update_operation_stamp (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    epoch   TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  INSERT INTO update_operation_stamp VALUES (1, lower(hex(randomblob(16))), 0);
  CREATE TRIGGER update_operation_added AFTER INSERT ON update_operation
  BEGIN UPDATE update_operation_stamp SET version = version + 1; END;
  CREATE TRIGGER update_operation_deleted AFTER DELETE ON update_operation
  BEGIN UPDATE update_operation_stamp SET version = version + 1; END;
  DELETE FROM scan_result;
  `,
];
if (migrations.length !== SCHEMA_VERSION) throw new Error(`schema-version.ts says ${SCHEMA_VERSION}, migrations.ts has ${migrations.length}: change both together`);

function markNamesInTexts(db: DatabaseSync): void {
  const page = db.prepare(
    `SELECT v.id, v.name, c.updater, t.data FROM vuln v JOIN vuln_context c ON c.id = v.context_id JOIN vuln_text t ON t.id = v.text_id
     WHERE v.id > ? ORDER BY v.id LIMIT 1000`,
  );
  const findText = db.prepare('SELECT id FROM vuln_text WHERE hash = unhex(?)');
  const insertText = db.prepare('INSERT INTO vuln_text (hash, data) VALUES (unhex(?), ?) RETURNING id');
  const update = db.prepare('UPDATE vuln SET text_id = ? WHERE id = ?');
  let changed = 0;
  for (let after = 0; ;) {
    const rows = page.all(after);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id as number;
    for (const r of rows) {
      const text = nameToMark(r.data as string, r.name as string);
      if (text === r.data) continue;
      const hash = textHash(r.updater as string, text);
      update.run((findText.get(hash)?.id as number | undefined) ?? (insertText.get(hash, text)!.id as number), r.id as number);
      changed++;
    }
  }
  if (changed > 0) db.exec('DELETE FROM vuln_text WHERE id NOT IN (SELECT text_id FROM vuln WHERE text_id IS NOT NULL)');
}

/** Inserts packs (of one operation, or of a writer's token while it writes). */
export function insertPacks(db: DatabaseSync, packs: Pack[], owner: { uoId: number } | { token: string }): void {
  const ins = db.prepare('INSERT INTO enrichment_pack (uo_id, token, updater, run, first, last, count, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  for (const p of packs) {
    ins.run('uoId' in owner ? owner.uoId : null, 'token' in owner ? owner.token : null, p.updater, p.run, p.first, p.last, p.count, p.data);
  }
}

function packEnrichments(db: DatabaseSync): void {
  db.exec(`
  CREATE TABLE enrichment_pack (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    uo_id   INTEGER REFERENCES update_operation(id) ON DELETE CASCADE,
    token   TEXT,
    updater TEXT NOT NULL,
    run     INTEGER NOT NULL,
    first   TEXT NOT NULL,
    last    TEXT NOT NULL,
    count   INTEGER NOT NULL,
    data    BLOB NOT NULL
  );
  CREATE INDEX enrichment_pack_lookup ON enrichment_pack(uo_id, run, first);
  CREATE INDEX enrichment_pack_token ON enrichment_pack(token) WHERE token IS NOT NULL;
  `);
  const contexts = db.prepare('SELECT id, data FROM vuln_context').all()
    .filter((c) => (JSON.parse(c.data as string) as { e?: number }).e === 1)
    .map((c) => ({ id: c.id as number, updater: (JSON.parse(c.data as string) as { u: string }).u }));
  if (contexts.length === 0) return;
  const updaterOf = new Map(contexts.map((c) => [c.id, c.updater]));
  const ids = contexts.map((c) => c.id).join(',');
  const ops = db.prepare(`SELECT DISTINCT u.uo_id FROM uo_vuln u JOIN vuln v ON v.id = u.vuln_id WHERE v.context_id IN (${ids}) ORDER BY u.uo_id`).all();
  const rows = db.prepare(`SELECT v.name, v.context_id, v.data FROM uo_vuln u JOIN vuln v ON v.id = u.vuln_id WHERE u.uo_id = ? AND v.context_id IN (${ids}) ORDER BY v.id`);
  for (const op of ops) {
    const b = new PackBuilder();
    for (const r of rows.iterate(op.uo_id as number)) {
      b.addJson(updaterOf.get(r.context_id as number)!, r.name as string, r.data as string);
      if (b.full) insertPacks(db, b.drain(), { uoId: op.uo_id as number });
    }
    if (!b.empty) insertPacks(db, b.drain(), { uoId: op.uo_id as number });
  }
  db.exec(`
  DELETE FROM uo_vuln WHERE vuln_id IN (SELECT id FROM vuln WHERE context_id IN (${ids}));
  DELETE FROM uo_staging WHERE vuln_id IN (SELECT id FROM vuln WHERE context_id IN (${ids}));
  DELETE FROM vuln WHERE context_id IN (${ids});
  DELETE FROM vuln_context WHERE id IN (${ids});
  `);
}

function splitRecords(db: DatabaseSync): void {
  db.exec(`
  DROP INDEX vuln_lookup;
  DROP INDEX vuln_name;
  CREATE TABLE vuln_context (
    id                     INTEGER PRIMARY KEY,
    updater                TEXT NOT NULL,
    dist_did               TEXT NOT NULL,
    dist_version_id        TEXT NOT NULL,
    dist_version_code_name TEXT NOT NULL,
    data                   TEXT NOT NULL UNIQUE
  );
  CREATE TABLE vuln_text (
    id   INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    data TEXT NOT NULL
  );
  ALTER TABLE vuln ADD COLUMN context_id INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE vuln ADD COLUMN text_id INTEGER;
  `);
  const contextIds = new Map<string, number>();
  const contextId = (r: RecordRow) => {
    let id = contextIds.get(r.context);
    if (id === undefined) {
      id = db.prepare('INSERT INTO vuln_context (updater, dist_did, dist_version_id, dist_version_code_name, data) VALUES (?, ?, ?, ?, ?) RETURNING id')
        .get(r.updater, r.did, r.versionId, r.codeName, r.context)!.id as number;
      contextIds.set(r.context, id);
    }
    return id;
  };
  const findText = db.prepare('SELECT id FROM vuln_text WHERE hash = unhex(?)');
  const insertText = db.prepare('INSERT INTO vuln_text (hash, data) VALUES (unhex(?), ?) RETURNING id');
  const update = db.prepare('UPDATE vuln SET hash = unhex(?), context_id = ?, text_id = ?, data = ? WHERE id = ?');
  const page = db.prepare('SELECT id, package_name, data FROM vuln WHERE id > ? ORDER BY id LIMIT 1000');
  for (let after = 0; ;) {
    const rows = page.all(after);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id as number;
    for (const old of rows) {
      const parsed = JSON.parse(old.data as string) as Record<string, unknown>;
      const r = old.package_name === '' && 'enrichment' in parsed && 'tag' in parsed
        ? enrichmentRow(parsed as unknown as EnrichmentRecord)
        : vulnerabilityRow(parsed as unknown as Vulnerability);
      let textId: number | null = null;
      if (r.text !== null && r.textHash !== null) {
        textId = (findText.get(r.textHash)?.id as number | undefined) ?? (insertText.get(r.textHash, r.text)!.id as number);
      }
      update.run(r.hash, contextId(r), textId, r.data, old.id as number);
    }
  }
  db.exec(`
  ALTER TABLE vuln DROP COLUMN updater;
  ALTER TABLE vuln DROP COLUMN dist_did;
  ALTER TABLE vuln DROP COLUMN dist_version_id;
  ALTER TABLE vuln DROP COLUMN dist_version_code_name;
  -- The matcher's lookup: package name, then the context (the release); a context is one of a few dozen rows.
  CREATE INDEX vuln_lookup ON vuln(package_name, context_id);
  -- Enrichment rows by CVE id (the report's lookup); vulnerabilities are never looked up by name alone.
  CREATE INDEX vuln_enrichment ON vuln(name) WHERE package_name = '';
  `);
}

function indexPackages(db: DatabaseSync): void {
  db.exec(`
  DROP TABLE manifest_package;
  -- A manifest's integer id, so that links are two integers (index_report's own rowid may change on VACUUM).
  CREATE TABLE indexed_manifest (
    id            INTEGER PRIMARY KEY,
    manifest_hash TEXT NOT NULL UNIQUE REFERENCES index_report(manifest_hash) ON DELETE CASCADE
  );
  CREATE TABLE indexed_package (
    id   INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    data TEXT NOT NULL
  );
  CREATE TABLE indexed_package_name (
    name       TEXT NOT NULL,
    package_id INTEGER NOT NULL REFERENCES indexed_package(id) ON DELETE CASCADE,
    PRIMARY KEY (name, package_id)
  ) WITHOUT ROWID;
  CREATE INDEX indexed_package_name_package ON indexed_package_name(package_id);
  CREATE TABLE manifest_indexed_package (
    package_id  INTEGER NOT NULL REFERENCES indexed_package(id),
    manifest_id INTEGER NOT NULL REFERENCES indexed_manifest(id) ON DELETE CASCADE,
    PRIMARY KEY (package_id, manifest_id)
  ) WITHOUT ROWID;
  CREATE INDEX manifest_indexed_package_manifest ON manifest_indexed_package(manifest_id);
  `);
  const page = db.prepare('SELECT rowid, manifest_hash, data FROM index_report WHERE rowid > ? ORDER BY rowid LIMIT 100');
  for (let after = 0; ;) {
    const rows = page.all(after);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.rowid as number;
    for (const r of rows) indexManifestPackages(db, r.manifest_hash as string, JSON.parse(r.data as string) as IndexReport);
  }
}

/** The tables of packed vulnerability records (migration 11). */
export const PACK_TABLES = `
  CREATE TABLE vuln_pack (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket       INTEGER NOT NULL,
    context_id   INTEGER NOT NULL REFERENCES vuln_context(id),
    data         BLOB NOT NULL
  );
  -- The matcher's lookup and a writer's search for an equal pack: the bucket (of the package name), the context.
  CREATE INDEX vuln_pack_lookup ON vuln_pack(bucket, context_id);
  CREATE TABLE uo_pack (
    uo_id   INTEGER NOT NULL REFERENCES update_operation(id) ON DELETE CASCADE,
    pack_id INTEGER NOT NULL REFERENCES vuln_pack(id),
    PRIMARY KEY (uo_id, pack_id)
  ) WITHOUT ROWID;
  -- Packs of an operation still being written (with their record counts), promoted to uo_pack on commit.
  CREATE TABLE pack_staging (
    token   TEXT NOT NULL,
    pack_id INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    started TEXT NOT NULL,
    PRIMARY KEY (token, pack_id)
  ) WITHOUT ROWID;
  CREATE INDEX pack_staging_pack ON pack_staging(pack_id);
  ALTER TABLE vuln_text ADD COLUMN refs INTEGER NOT NULL DEFAULT 0;
`;

function packRecords(db: DatabaseSync): void {
  db.exec(PACK_TABLES);
  const stmts = new Map<string, ReturnType<DatabaseSync['prepare']>>();
  const stmt = (sql: string) => {
    let st = stmts.get(sql);
    if (!st) stmts.set(sql, (st = db.prepare(sql)));
    return st;
  };
  const link = db.prepare('INSERT OR IGNORE INTO uo_pack (uo_id, pack_id) VALUES (?, ?)');
  // Rows in id order (the order their feed gave them, as a writer keeps it), grouped per (context, bucket) in memory
  // up to a writer's budget, as a writer groups them.
  const rows = db.prepare(
    `SELECT v.package_name, v.context_id, v.name, v.text_id, v.data FROM uo_vuln u JOIN vuln v ON v.id = u.vuln_id
     WHERE u.uo_id = ? ORDER BY v.id`,
  );
  for (const op of db.prepare('SELECT id FROM update_operation ORDER BY id').all()) {
    const uo = op.id as number;
    const groups = new Map<string, { bucket: number; contextId: number; lines: string[] }>();
    let bytes = 0;
    const flush = () => {
      const list = [...groups.values()].sort((a, b) => a.bucket - b.bucket || a.contextId - b.contextId);
      const refs: TextRefs = new Map();
      for (const g of list) for (const p of buildPacks(g.lines)) link.run(uo, storePack(stmt, g.bucket, g.contextId, p, refs));
      addTextRefs(stmt, refs);
      groups.clear();
      bytes = 0;
    };
    for (const r of rows.iterate(uo)) {
      const bucket = packBucket(r.package_name as string);
      const key = `${bucket} ${r.context_id as number}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { bucket, contextId: r.context_id as number, lines: [] }));
      const line = bucketLine(r.package_name as string, r.name as string, (r.text_id as number | null) ?? 0, r.data as string);
      g.lines.push(line);
      bytes += line.length + 80;
      if (bytes >= MAX_BUFFER_BYTES) flush();
    }
    flush();
  }
  db.exec(`
  DROP TABLE uo_staging;
  DROP TABLE uo_vuln;
  DROP TABLE vuln;
  DELETE FROM vuln_text WHERE refs <= 0;
  `);
}

function deflateTexts(db: DatabaseSync): void {
  db.exec(`
  ALTER TABLE vuln_text RENAME TO vuln_text_plain;
  CREATE TABLE vuln_text (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    data BLOB NOT NULL,
    refs INTEGER NOT NULL DEFAULT 0
  );
  `);
  const page = db.prepare('SELECT id, hash, data, refs FROM vuln_text_plain WHERE id > ? ORDER BY id LIMIT 1000');
  const insert = db.prepare('INSERT INTO vuln_text (id, hash, data, refs) VALUES (?, ?, ?, ?)');
  for (let after = 0; ;) {
    const rows = page.all(after);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id as number;
    for (const r of rows) insert.run(r.id as number, r.hash as Uint8Array, encodeText(r.data as string), r.refs as number);
  }
  db.exec('DROP TABLE vuln_text_plain');
}
