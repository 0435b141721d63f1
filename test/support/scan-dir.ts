import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { IndexReport } from '../../src/model/index-report.ts';
import { match, type MatchResult } from '../../src/matcher/match.ts';
import { allMatchers } from '../../src/ecosystems/registry.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { runCli } from './run-cli.ts';

/**
 * The language advisory end-to-end tests' common start: `clair-ts update --source SOURCE` and `clair-ts scan dir:TREE`
 * through the CLI into the database `db`, then the stored index report and the engine's matches on it, for the test
 * to hold against the ecosystem's own tool. The store stays open until the test ends.
 */
export async function updateAndScanDir(t: TestContext, db: string, source: string, tree: string): Promise<{ store: SqliteStore; index: IndexReport; m: MatchResult }> {
  const up = await runCli(db, ['update', '--source', source]);
  assert.equal(up.code, 0, up.err);
  const scan = await runCli(db, ['scan', '--format', 'json', `dir:${tree}`]);
  assert.equal(scan.code, 0, scan.err);
  const store = SqliteStore.open(db);
  t.after(() => store.close());
  const index = (await store.getIndexReport(JSON.parse(scan.out).manifest_hash))!.report;
  return { store, index, m: await match(store, allMatchers(), index) };
}
