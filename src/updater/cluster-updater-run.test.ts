import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store, StoreCoordination } from '../store/store.ts';
import { TEST_FEED, testFeedUpdater } from '../../test/http/serve-kit.ts';
import { runUpdaterInCluster, type ClusterUpdaterRunOptions } from './cluster-updater-run.ts';

// The decisions of runUpdaterInCluster, against an in-memory store given a scripted coordination (the real one,
// PostgreSQL's advisory locks, is exercised by test/cluster/).

interface Script {
  lockHeldElsewhere?: boolean;
  msAgo?: number;
}

function coordinated(store: Store, script: Script, calls: string[]): Store {
  const coordination: StoreCoordination = {
    tryWithUpdaterLock: async (u, fn) => {
      calls.push(`try-lock ${u}`);
      return script.lockHeldElsewhere ? undefined : fn();
    },
    withUpdaterLock: async (u, fn) => {
      calls.push(`lock ${u}`);
      return fn();
    },
    withManifestLock: (_m, fn) => fn(),
    withLayerLock: (_l, fn) => fn(),
    msSinceUpdaterRun: async () => script.msAgo,
    recordUpdaterRun: async (u) => {
      calls.push(`record ${u}`);
    },
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'coordination') return coordination;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const cases: { name: string; script?: Script; opts: ClusterUpdaterRunOptions; kind: string; calls: string[]; operations: number }[] = [
  { name: 'no coordination (SQLite): runs', opts: { periodMs: 1000 }, kind: 'ran', calls: [], operations: 1 },
  { name: 'lock free, never ran: runs and records', script: {}, opts: { periodMs: 1000 }, kind: 'ran', calls: ['try-lock testfeed', 'record testfeed'], operations: 1 },
  { name: 'lock held by another instance: busy', script: { lockHeldElsewhere: true }, opts: { periodMs: 1000 }, kind: 'busy', calls: ['try-lock testfeed'], operations: 0 },
  { name: 'ran within the period elsewhere: recent', script: { msAgo: 999 }, opts: { periodMs: 1000 }, kind: 'recent', calls: ['try-lock testfeed'], operations: 0 },
  { name: 'ran a period ago: runs', script: { msAgo: 1000 }, opts: { periodMs: 1000 }, kind: 'ran', calls: ['try-lock testfeed', 'record testfeed'], operations: 1 },
  { name: 'no period (a command-line update): runs however recent', script: { msAgo: 1 }, opts: {}, kind: 'ran', calls: ['try-lock testfeed', 'record testfeed'], operations: 1 },
  { name: 'wait: takes the waiting lock', script: { lockHeldElsewhere: true }, opts: { wait: true }, kind: 'ran', calls: ['lock testfeed', 'record testfeed'], operations: 1 },
];

for (const c of cases) {
  test(`runUpdaterInCluster: ${c.name}`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'clair-ts-cluster-run-'));
    const feed = join(dir, 'feed.json');
    await writeFile(feed, JSON.stringify(TEST_FEED));
    const sqlite = SqliteStore.open(':memory:');
    t.after(() => sqlite.close());
    const calls: string[] = [];
    const store = c.script ? coordinated(sqlite, c.script, calls) : sqlite;
    const out = await runUpdaterInCluster(store, testFeedUpdater, feed, c.opts);
    assert.equal(out.kind, c.kind);
    if (out.kind === 'recent') assert.equal(out.msAgo, c.script?.msAgo);
    assert.deepEqual(calls, c.calls);
    assert.equal((await sqlite.listUpdateOperations('testfeed')).length, c.operations);
  });
}

test('runUpdaterInCluster: a failed run is not recorded as a run', async (t) => {
  const sqlite = SqliteStore.open(':memory:');
  t.after(() => sqlite.close());
  const calls: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-cluster-run-'));
  await writeFile(join(dir, 'feed.json'), '[{"name": ');
  await assert.rejects(runUpdaterInCluster(coordinated(sqlite, {}, calls), testFeedUpdater, join(dir, 'feed.json'), { periodMs: 1000 }), /testfeed feed/);
  assert.deepEqual(calls, ['try-lock testfeed']);
});
