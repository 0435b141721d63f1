// Schema migrations, applied in order, each once, inside a transaction. Never edit a released migration: add one.
export const migrations: readonly string[] = [
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
];
