import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { IndexReport } from '../../model/index-report.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import { decodeIndexedPackage, indexedPackageRows } from '../indexed-package-rows.ts';
import { forEachInChunk } from './in-chunks.ts';

// The notifier's package index in SQLite (tables of migration 8; the shape is explained in
// store/indexed-package-rows.ts). Writes run inside the caller's transaction: the index changes with the report.

type Prepare = (sql: string) => StatementSync;

/** Prepared statements of a database for a one-off run (the migration); the store passes its own cache. */
export function preparing(db: DatabaseSync): Prepare {
  const cache = new Map<string, StatementSync>();
  return (sql) => {
    let s = cache.get(sql);
    if (!s) cache.set(sql, (s = db.prepare(sql)));
    return s;
  };
}

/** Files the report's packages under its manifest, replacing what the manifest had. Call inside a transaction. */
export function indexManifestPackages(db: DatabaseSync | Prepare, manifestHash: string, report: IndexReport): void {
  const stmt = typeof db === 'function' ? db : preparing(db);
  const manifestId = stmt(
    'INSERT INTO indexed_manifest (manifest_hash) VALUES (?) ON CONFLICT (manifest_hash) DO UPDATE SET manifest_hash = excluded.manifest_hash RETURNING id',
  ).get(manifestHash)!.id as number;
  const before = new Set(stmt('SELECT package_id FROM manifest_indexed_package WHERE manifest_id = ?').all(manifestId).map((r) => r.package_id as number));
  const find = stmt('SELECT id FROM indexed_package WHERE hash = unhex(?)');
  const insert = stmt('INSERT INTO indexed_package (hash, data) VALUES (unhex(?), ?) RETURNING id');
  const name = stmt('INSERT OR IGNORE INTO indexed_package_name (name, package_id) VALUES (?, ?)');
  const link = stmt('INSERT OR IGNORE INTO manifest_indexed_package (package_id, manifest_id) VALUES (?, ?)');
  for (const row of indexedPackageRows(report)) {
    let id = find.get(row.hash)?.id as number | undefined;
    if (id === undefined) {
      id = insert.get(row.hash, row.data)!.id as number;
      for (const n of row.names) name.run(n, id);
    }
    if (!before.delete(id)) link.run(id, manifestId);
  }
  // What remains of `before` the new report no longer holds.
  const unlink = stmt('DELETE FROM manifest_indexed_package WHERE package_id = ? AND manifest_id = ?');
  for (const id of before) unlink.run(id, manifestId);
  dropUnheld(stmt, [...before]);
}

/** The packages of these manifests: taken before the manifests are deleted, for dropUnheld after. */
export function packagesOfManifests(stmt: Prepare, manifestHashes: string[]): number[] {
  const q = stmt('SELECT mp.package_id FROM indexed_manifest m JOIN manifest_indexed_package mp ON mp.manifest_id = m.id WHERE m.manifest_hash = ?');
  const ids = new Set<number>();
  for (const h of manifestHashes) for (const r of q.all(h)) ids.add(r.package_id as number);
  return [...ids];
}

/** Deletes those of these packages that no manifest holds any more (their names go with them). */
export function dropUnheld(stmt: Prepare, packageIds: number[]): void {
  const del = stmt('DELETE FROM indexed_package WHERE id = ? AND NOT EXISTS (SELECT 1 FROM manifest_indexed_package WHERE package_id = ?)');
  for (const id of packageIds) del.run(id, id);
}

export function indexedPackagesNamed(db: DatabaseSync, names: string[]): IndexedPackage[] {
  const out = new Map<number, IndexedPackage>();
  forEachInChunk(names, (chunk, marks) => {
    const rows = db
      .prepare(`SELECT DISTINCT p.id, p.data FROM indexed_package_name n JOIN indexed_package p ON p.id = n.package_id WHERE n.name IN (${marks})`)
      .all(...chunk);
    for (const r of rows) {
      const id = r.id as number;
      if (!out.has(id)) out.set(id, decodeIndexedPackage(String(id), r.data as string));
    }
  });
  return [...out.values()];
}

export function manifestsWithIndexedPackages(db: DatabaseSync, ids: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  // Manifest ids first, their digests once each: a package held by thousands of manifests costs integers, not strings.
  const byPackage = new Map<number, number[]>();
  const manifests = new Set<number>();
  forEachInChunk(ids.map(Number), (chunk, marks) => {
    const rows = db
      .prepare(`SELECT package_id, manifest_id FROM manifest_indexed_package WHERE package_id IN (${marks})`)
      .all(...chunk);
    for (const r of rows) {
      const p = r.package_id as number;
      const m = r.manifest_id as number;
      let list = byPackage.get(p);
      if (!list) byPackage.set(p, (list = []));
      list.push(m);
      manifests.add(m);
    }
  });
  const digest = new Map<number, string>();
  forEachInChunk([...manifests], (chunk, marks) => {
    const rows = db.prepare(`SELECT id, manifest_hash FROM indexed_manifest WHERE id IN (${marks})`).all(...chunk);
    for (const r of rows) digest.set(r.id as number, r.manifest_hash as string);
  });
  for (const [p, ms] of byPackage) out.set(String(p), ms.map((m) => digest.get(m)!));
  return out;
}

export function manifestsWithPackages(db: DatabaseSync, names: string[]): string[] {
  const out = new Set<string>();
  forEachInChunk(names, (chunk, marks) => {
    const rows = db
      .prepare(
        `SELECT DISTINCT m.manifest_hash FROM indexed_package_name n
         JOIN manifest_indexed_package mp ON mp.package_id = n.package_id
         JOIN indexed_manifest m ON m.id = mp.manifest_id
         WHERE n.name IN (${marks})`,
      )
      .all(...chunk);
    for (const r of rows) out.add(r.manifest_hash as string);
  });
  return [...out].sort();
}
