import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newVulnerability, type Vulnerability } from '../model/vulnerability.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { PostgresStore } from '../store/postgres/postgres-store.ts';
import type { Store } from '../store/store.ts';
import { openTestPostgres, postgresSkipReason } from '../../test/support/postgres.ts';
import { runUpdater } from './run-updater.ts';
import type { Updater } from './updater.ts';

// runUpdater hands the writer the next batch before the previous one is written (writeInBatches): a feed or a
// write that fails while batches are in flight must still leave nothing of the operation, on either store.

const record = (i: number, updater = 'demo') => newVulnerability({
  updater, name: `CVE-2099-${i}`, description: `issue ${i}`,
  package: { name: `pkg${i % 7}`, kind: 'source', module: '', arch: '' },
  dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: 'Debian GNU/Linux', version: '', prettyName: '', arch: '' },
  fixedInVersion: `1.${i}`, versionScheme: 'dpkg',
});

/** An updater that ignores the feed bytes: it yields `good` records, then `then` (more records, or a failure). */
function updater(good: number, then: 'fail' | 'foreign' | 'end'): Updater {
  return {
    name: 'demo',
    version: '1',
    defaultLocation: '',
    async *parse(feed): AsyncIterable<Vulnerability> {
      for await (const _ of feed) void _;
      for (let i = 0; i < good; i++) yield record(i);
      if (then === 'fail') throw new Error('feed truncated');
      // A record of another updater: the writer refuses it, in a batch after several in flight.
      if (then === 'foreign') for (let i = 0; i < 1500; i++) yield record(good + i, 'other');
    },
  };
}

async function check(store: Store, feed: string): Promise<void> {
  // Several batches of 1,000 go to the writer before the failure.
  await assert.rejects(runUpdater(store, updater(3500, 'fail'), feed), (e: Error & { code?: string }) => e.code === 'bad-feed' && /feed truncated/.test(e.message));
  assert.deepEqual(await store.listUpdateOperations('demo'), []);
  await assert.rejects(runUpdater(store, updater(2500, 'foreign'), feed), /record CVE-2099-2500 of updater other written to operation of demo/);
  assert.deepEqual(await store.listUpdateOperations('demo'), []);
  assert.deepEqual((await store.queryVulnerabilities([{ packageNames: ['pkg3'] }]))[0], []);
  // The store carries on: the whole feed goes in as one operation, every record once.
  const ok = await runUpdater(store, updater(3500, 'end'), feed);
  assert.equal(ok.operation?.count, 3500);
  assert.equal((await store.queryVulnerabilities([{ packageNames: ['pkg3'] }]))[0]!.length, 500);
}

test('runUpdater: a feed or a write failing with batches in flight stores nothing (SQLite)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-run-updater-'));
  const feed = join(dir, 'feed');
  writeFileSync(feed, 'x');
  const store = SqliteStore.open(join(dir, 'db'));
  try {
    await check(store, feed);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runUpdater: a feed or a write failing with batches in flight stores nothing (PostgreSQL)', { skip: await postgresSkipReason() }, async (t) => {
  const pgt = await openTestPostgres();
  assert.ok(pgt);
  t.after(() => pgt.drop());
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-run-updater-'));
  const feed = join(dir, 'feed');
  writeFileSync(feed, 'x');
  const store = await PostgresStore.open(pgt.url, { schema: pgt.schema });
  try {
    await check(store, feed);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
