import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { packBucket } from '../../src/store/vulnerability-pack.ts';

// Issue #18, item 13: a writer killed with SIGKILL mid-update leaves staging rows; the next open removes them (and
// the packs of records only they held) but never a live writer's; the staging table is indexed by pack.

const STORE = new URL('../../src/store/sqlite/sqlite-store.ts', import.meta.url).href;
const MODEL = new URL('../../src/model/vulnerability.ts', import.meta.url).href;

/**
 * A child process that stages `n` records for updater "killed" (a package each: as many packs as their packages'
 * buckets), and then waits to be killed. A writer holds records until its buffer is full (or it commits): a budget of one byte writes
 * them at once.
 */
function stagingWriter(db: string, n: number): Promise<ChildProcess> {
  const code = `
    const { SqliteStore } = await import(${JSON.stringify(STORE)});
    const { newVulnerability } = await import(${JSON.stringify(MODEL)});
    const store = SqliteStore.open(${JSON.stringify(db)}, { packBufferBytes: 1 });
    const w = await store.beginUpdateOperation('killed');
    const batch = [];
    for (let i = 0; i < ${n}; i++) batch.push(newVulnerability({ updater: 'killed', name: 'CVE-' + i, package: { name: 'p' + i, kind: 'source', module: '', arch: '' } }));
    await w.add(batch);
    process.stdout.write('staged\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('staged') && resolve(child));
    child.on('exit', (c) => reject(new Error(`writer exited early (${c})`)));
  });
}

function count(db: string, sql: string): number {
  const d = new DatabaseSync(db, { readOnly: true });
  try {
    return Number(d.prepare(sql).get()!.n);
  } finally {
    d.close();
  }
}

async function kill9(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('#18.13 kill -9 during an update: staging rows are swept at the next open, a live writer is left alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harden-kill-'));
  const db = join(dir, 'db.sqlite');
  SqliteStore.open(db).close();
  // Packs each writer stages: one per bucket of its packages.
  const packs = (n: number) => new Set(Array.from({ length: n }, (_, i) => packBucket(`p${i}`))).size;
  const liveRows = packs(300);
  const deadRows = packs(450);
  const live = await stagingWriter(db, 300);
  try {
    const dead = await stagingWriter(db, 450);
    await kill9(dead);
    assert.equal(count(db, 'SELECT count(*) AS n FROM pack_staging'), liveRows + deadRows);
    // Opening sweeps the killed writer's rows and the records only it staged; the live writer's stay.
    const store = SqliteStore.open(db);
    await store.close();
    assert.equal(count(db, 'SELECT count(*) AS n FROM pack_staging'), liveRows);
    assert.equal(count(db, 'SELECT count(*) AS n FROM vuln_pack'), liveRows);
    await kill9(live);
    (await SqliteStore.open(db)).close();
    assert.equal(count(db, 'SELECT count(*) AS n FROM pack_staging'), 0);
    assert.equal(count(db, 'SELECT count(*) AS n FROM vuln_pack'), 0);
    assert.equal(count(db, "SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name = 'pack_staging_pack'"), 1);
    const after = SqliteStore.open(db);
    assert.equal((await after.listUpdateOperations()).length, 0, 'no operation from either writer');
    await after.close();
  } finally {
    if (live.exitCode === null && live.signalCode === null) live.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
