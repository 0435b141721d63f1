import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { readSqliteHeaders } from './sqlite-db.ts';
import { readRpmDatabase } from './rpmdb.ts';

const db = () => readFileSync(join(import.meta.dirname, 'testdata/sqlite/rpmdb.sqlite'));
const wal = () => readFileSync(join(import.meta.dirname, 'testdata/sqlite-wal/rpmdb.sqlite-wal'));
const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('clair-rpmdb-'));

test('sqlite: in memory without a WAL, the input buffer untouched', () => {
  const data = db();
  const copy = Buffer.from(data);
  assert.equal(data[18], 2, 'rpm left the fixture in WAL mode');
  assert.equal(readSqliteHeaders(data, 'rpmdb.sqlite').length, 4);
  assert.ok(data.equals(copy));
});

test('sqlite: a WAL is replayed and its temporary directory removed; an empty WAL is ignored', () => {
  const before = leftovers();
  assert.deepEqual(readSqliteHeaders(db(), 'rpmdb.sqlite', wal()).map((h) => h.hnum), [2, 3, 4]);
  assert.deepEqual(leftovers(), before);
  assert.equal(readSqliteHeaders(db(), 'rpmdb.sqlite', Buffer.alloc(0)).length, 4);
});

test('sqlite: no Packages table (claircore no_packages.sqlite) → bad-database', (t) => {
  const p = requireSharedData(t, 'fixtures/claircore/internal/rpm/sqlite/testdata/no_packages.sqlite');
  if (!p) return;
  assert.throws(() => readSqliteHeaders(readFileSync(p), 'no_packages.sqlite'), { code: 'bad-database', message: 'no_packages.sqlite: SQLite database has no Packages table' });
});

test('sqlite damage: truncated file → bad-database from SQLite', () => {
  const data = db();
  assert.throws(() => readSqliteHeaders(data.subarray(0, 20 * 1024), 'var/lib/rpm/rpmdb.sqlite'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'bad-database');
    assert.match(e.message, /^var\/lib\/rpm\/rpmdb\.sqlite: /);
    return true;
  });
});

test('sqlite damage: a row whose blob is not a header → bad-database naming the header number', async () => {
  const mem = new DatabaseSync(':memory:');
  mem.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)');
  mem.prepare('INSERT INTO Packages VALUES (?, ?)').run(5, Buffer.from([0, 0, 0, 1, 0, 0, 0]));
  const bytes = Buffer.from(mem.serialize());
  mem.close();
  await assert.rejects(readRpmDatabase([{ path: 'rpmdb.sqlite', data: bytes }]), { code: 'bad-database', message: /^rpm header #5 in rpmdb\.sqlite: 7 bytes, too short/ });
});

test('sqlite: a WAL-mode real database (amazonlinux 2023) opens in memory', (t) => {
  const p = requireSharedData(t, 'fixtures/go-rpmdb/pkg/testdata/amazonlinux2023-plain/rpmdb.sqlite');
  if (!p) return;
  const data = readFileSync(p);
  assert.equal(data[18], 2);
  assert.equal(readSqliteHeaders(data, 'rpmdb.sqlite').length, 103);
});
