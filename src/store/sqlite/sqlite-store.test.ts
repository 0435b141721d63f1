import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeSuite } from '../store.suite.ts';
import { MAX_CACHED_STATEMENTS, SqliteStore } from './sqlite-store.ts';

storeSuite('sqlite', async () => SqliteStore.open(':memory:'));

test('sqlite: the prepared-statement cache stays bounded while new operations keep changing the query text', async () => {
  const s = SqliteStore.open(':memory:');
  try {
    // Each new operation changes the current-operation list queryVulnerabilities embeds in its SQL: a new text.
    for (let i = 0; i < MAX_CACHED_STATEMENTS + 20; i++) {
      const w = await s.beginUpdateOperation(`u${i}`);
      await w.commit(`fp-${i}`);
      await s.queryVulnerabilities([{ packageNames: ['openssl'] }]);
    }
    assert.equal(s.cachedStatements, MAX_CACHED_STATEMENTS);
  } finally {
    await s.close();
  }
});

test('sqlite: a file database keeps its data across reopen and migrates once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'nested', 'clair.db');
    const a = SqliteStore.open(path);
    const w = await a.beginUpdateOperation('debian');
    const op = await w.commit('fp');
    await a.close();
    const b = SqliteStore.open(path);
    assert.equal((await b.getUpdateOperation(op.ref))?.fingerprint, 'fp');
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a file that is not a database is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-sqlite-'));
  try {
    const path = join(dir, 'junk.db');
    writeFileSync(path, 'this is not sqlite'.repeat(100));
    assert.throws(() => SqliteStore.open(path), (e: Error & { code?: string }) => e.code === 'bad-input' && e.message.includes(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
