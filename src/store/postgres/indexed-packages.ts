import type pg from 'pg';
import type { IndexReport } from '../../model/index-report.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import { decodeIndexedPackage, indexedPackageRows } from '../indexed-package-rows.ts';

// The notifier's package index in PostgreSQL (tables of migration 8; the shape is explained in
// store/indexed-package-rows.ts). Writes run in the caller's transaction, which holds the index's advisory lock
// (postgres-store.ts): a package row that one writer finds unheld and deletes could otherwise be the row another
// writer is linking a manifest to at that moment.

export const SCHEMA = `
  DROP TABLE manifest_package;
  CREATE TABLE indexed_manifest (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    manifest_hash text NOT NULL UNIQUE REFERENCES index_report(manifest_hash) ON DELETE CASCADE
  );
  CREATE TABLE indexed_package (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash bytea NOT NULL UNIQUE,
    data text NOT NULL
  );
  CREATE TABLE indexed_package_name (
    name       text NOT NULL,
    package_id bigint NOT NULL REFERENCES indexed_package(id) ON DELETE CASCADE,
    PRIMARY KEY (name, package_id)
  );
  CREATE INDEX indexed_package_name_package ON indexed_package_name(package_id);
  CREATE TABLE manifest_indexed_package (
    package_id  bigint NOT NULL REFERENCES indexed_package(id),
    manifest_id bigint NOT NULL REFERENCES indexed_manifest(id) ON DELETE CASCADE,
    PRIMARY KEY (package_id, manifest_id)
  );
  CREATE INDEX manifest_indexed_package_manifest ON manifest_indexed_package(manifest_id);
`;

/** Files the report's packages under its manifest, replacing what the manifest had. */
export async function indexManifestPackages(c: pg.ClientBase, manifestHash: string, report: IndexReport): Promise<void> {
  const manifestId = (await c.query<{ id: string }>(
    'INSERT INTO indexed_manifest (manifest_hash) VALUES ($1) ON CONFLICT (manifest_hash) DO UPDATE SET manifest_hash = excluded.manifest_hash RETURNING id',
    [manifestHash],
  )).rows[0]!.id;
  const rows = indexedPackageRows(report);
  const ids = new Map<string, string>(); // hash → id
  const found = await c.query<{ id: string; hash: string }>(
    "SELECT id, encode(hash, 'hex') AS hash FROM indexed_package WHERE hash IN (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS t(h))",
    [rows.map((r) => r.hash)],
  );
  for (const r of found.rows) ids.set(r.hash, r.id);
  const fresh = rows.filter((r) => !ids.has(r.hash));
  if (fresh.length > 0) {
    const inserted = await c.query<{ id: string; hash: string }>(
      "INSERT INTO indexed_package (hash, data) SELECT decode(h, 'hex'), d FROM unnest($1::text[], $2::text[]) AS t(h, d) RETURNING id, encode(hash, 'hex') AS hash",
      [fresh.map((r) => r.hash), fresh.map((r) => r.data)],
    );
    for (const r of inserted.rows) ids.set(r.hash, r.id);
    const names: string[] = [];
    const owners: string[] = [];
    for (const r of fresh) for (const n of r.names) names.push(n), owners.push(ids.get(r.hash)!);
    await c.query('INSERT INTO indexed_package_name (name, package_id) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING', [names, owners]);
  }
  const before = new Set((await c.query<{ package_id: string }>('SELECT package_id FROM manifest_indexed_package WHERE manifest_id = $1', [manifestId])).rows.map((r) => r.package_id));
  const added: string[] = [];
  for (const id of ids.values()) if (!before.delete(id)) added.push(id);
  if (added.length > 0) {
    await c.query('INSERT INTO manifest_indexed_package (package_id, manifest_id) SELECT unnest($1::bigint[]), $2', [added, manifestId]);
  }
  if (before.size > 0) {
    // What remains of `before` the new report no longer holds.
    await c.query('DELETE FROM manifest_indexed_package WHERE manifest_id = $1 AND package_id = ANY($2::bigint[])', [manifestId, [...before]]);
    await dropUnheld(c, [...before]);
  }
}

/** The packages of these manifests: taken before the manifests are deleted, for dropUnheld after. */
export async function packagesOfManifests(c: pg.ClientBase, manifestHashes: string[]): Promise<string[]> {
  const rows = await c.query<{ package_id: string }>(
    `SELECT DISTINCT mp.package_id FROM indexed_manifest m JOIN manifest_indexed_package mp ON mp.manifest_id = m.id
     WHERE m.manifest_hash = ANY($1::text[])`,
    [manifestHashes],
  );
  return rows.rows.map((r) => r.package_id);
}

/** Deletes those of these packages that no manifest holds any more (their names go with them). */
export async function dropUnheld(c: pg.ClientBase, packageIds: string[]): Promise<void> {
  if (packageIds.length === 0) return;
  await c.query(
    'DELETE FROM indexed_package p WHERE p.id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM manifest_indexed_package mp WHERE mp.package_id = p.id)',
    [packageIds],
  );
}

export const PACKAGES_NAMED_SQL =
  'SELECT p.id, p.data FROM indexed_package p WHERE p.id IN (SELECT package_id FROM indexed_package_name WHERE name = ANY($1::text[]))';

export function toIndexedPackages(rows: { id: string; data: string }[]): IndexedPackage[] {
  return rows.map((r) => decodeIndexedPackage(String(r.id), r.data));
}

// Manifest ids per package first, then each manifest's digest once: a package held by thousands of manifests costs
// integers on the wire, not digests.
export const MANIFEST_IDS_SQL =
  'SELECT package_id, array_agg(manifest_id) AS manifests FROM manifest_indexed_package WHERE package_id = ANY($1::bigint[]) GROUP BY package_id';
export const MANIFEST_HASHES_SQL = 'SELECT id, manifest_hash FROM indexed_manifest WHERE id = ANY($1::bigint[])';

export const MANIFESTS_WITH_PACKAGES_SQL = `
  SELECT DISTINCT m.manifest_hash FROM indexed_package_name n
  JOIN manifest_indexed_package mp ON mp.package_id = n.package_id
  JOIN indexed_manifest m ON m.id = mp.manifest_id
  WHERE n.name = ANY($1::text[])`;
