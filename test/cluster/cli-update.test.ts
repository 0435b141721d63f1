import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { openTestPostgres, postgresSkipReason } from '../support/postgres.ts';
import { withSearchPath } from './cluster-kit.ts';
import { syntheticTracker } from '../../bench/synthetic-tracker.ts';

// `clair-ts update` run twice at once against one PostgreSQL database: the updater's advisory lock makes the second
// wait for the first, then find the feed unchanged, so exactly one update operation exists.

test('two concurrent `clair-ts update` runs on PostgreSQL store one operation', async (t) => {
  const skip = await postgresSkipReason();
  if (skip) return t.skip(skip);
  const pg = await openTestPostgres();
  assert.ok(pg, 'PostgreSQL reachable');
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-cliupdate-'));
  try {
    const feed = join(dir, 'tracker.json');
    syntheticTracker(feed, ['openssl', 'bash'], 3000);
    const db = withSearchPath(pg.url, pg.schema);
    const run = async () => {
      let out = '';
      let err = '';
      const code = await main(['update', '--source', `debian=${feed}`, '--db', db], {
        stdout: (s) => (out += typeof s === 'string' ? s : Buffer.from(s).toString('utf8')), stderr: (s) => (err += s), stdin: Readable.from([]), env: {}, isTTY: false,
      });
      return { code, out, err };
    };
    const [a, b] = await Promise.all([run(), run()]);
    assert.deepEqual([a.code, b.code], [0, 0], a.err + b.err);
    const outs = [a.out, b.out].sort();
    assert.match(outs[0]!, /debian: unchanged/);
    assert.match(outs[1]!, /debian: update operation \S+ with \d+ records/);
    const store = await PostgresStore.open(db);
    try {
      assert.equal((await store.listUpdateOperations('debian')).length, 1);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await pg.drop();
  }
});
