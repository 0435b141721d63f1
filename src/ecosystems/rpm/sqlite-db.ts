import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClairError, errorMessage } from '../../model/errors.ts';
import type { StoredHeader } from './header.ts';

// rpm's sqlite backend (rpm ≥ 4.16: Fedora 33+, RHEL 9, Amazon Linux 2023, CBL-Mariner): rpmdb.sqlite holds
// `Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)`; the other tables are indexes we do not need.
// Without a WAL the bytes are opened in memory (DatabaseSync.deserialize), so nothing touches the disk. rpm keeps the
// database in WAL mode, which SQLite's in-memory VFS refuses; with no WAL to replay, a WAL-mode file reads exactly as a
// rollback-journal one, so the two header bytes that announce WAL are reset in a copy. When a layer carries a non-empty
// rpmdb.sqlite-wal, its committed frames belong to the database: then both files go to a private temporary directory
// and SQLite itself replays the WAL (read-only); the directory is removed afterwards.

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const WAL_HEADER = 32;

export function isSqlite(data: Buffer): boolean {
  return data.length >= 100 && data.subarray(0, 16).equals(SQLITE_MAGIC);
}

export function readSqliteHeaders(data: Buffer, path: string, wal?: Buffer): StoredHeader[] {
  if (!isSqlite(data)) throw new ClairError('bad-database', `${path}: not an SQLite database (no "SQLite format 3" magic)`);
  if (wal && wal.length > WAL_HEADER) {
    const dir = mkdtempSync(join(tmpdir(), 'clair-rpmdb-'));
    try {
      const file = join(dir, 'rpmdb.sqlite');
      writeFileSync(file, data);
      writeFileSync(file + '-wal', wal);
      return queryHeaders(path, () => new DatabaseSync(file, { readOnly: true }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  let bytes = data;
  // Offsets 18 and 19: file format write/read versions, 2 = WAL.
  if (data[18] === 2 || data[19] === 2) {
    bytes = Buffer.from(data);
    bytes[18] = 1;
    bytes[19] = 1;
  }
  return queryHeaders(path, () => {
    const db = new DatabaseSync(':memory:');
    db.deserialize(bytes);
    return db;
  });
}

function queryHeaders(path: string, open: () => DatabaseSync): StoredHeader[] {
  let db: DatabaseSync | undefined;
  try {
    db = open();
    db.exec('PRAGMA query_only = ON');
    const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Packages'`).get();
    if (!table) throw new ClairError('bad-database', `${path}: SQLite database has no Packages table`);
    const out: StoredHeader[] = [];
    for (const row of db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').iterate()) {
      const { hnum, blob } = row as { hnum: unknown; blob: unknown };
      if (typeof hnum !== 'number' || !(blob instanceof Uint8Array)) {
        throw new ClairError('bad-database', `${path}: Packages row ${String(hnum)} has no header blob`);
      }
      out.push({ hnum, blob: Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength) });
    }
    return out;
  } catch (e) {
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-database', `${path}: SQLite: ${errorMessage(e)}`, { cause: e });
  } finally {
    db?.close();
  }
}
