import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareIds, openPack, PackBuilder, packRecordJson, recordsOf } from './enrichment-pack.ts';
import { deflateWorker } from './deflate-worker.ts';

/** The same packs, field by field and byte for byte. */
function assertSamePacks(actual: ReturnType<PackBuilder['drain']>, expected: ReturnType<PackBuilder['drain']>): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const { data: x, ...p } = expected[i]!;
    const { data: y, ...q } = actual[i]!;
    assert.deepEqual(q, p);
    assert.ok(x.equals(y), `pack ${i}: same bytes`);
  }
}

test('enrichment packs: sorted, cut between ids, runs when the budget fills, records back byte for byte', () => {
  const b = new PackBuilder(20_000);
  const runs = [];
  for (let i = 0; i < 2000; i++) {
    const tag = `CVE-2024-${String((i * 37) % 1000).padStart(4, '0')}`;
    b.add({ updater: 'epss', tag, enrichment: { cve: tag, i } });
    if (b.full) runs.push(b.drain());
  }
  runs.push(b.drain());
  assert.ok(runs.length > 3, `${runs.length} runs`);
  assert.ok(b.empty);
  const packs = runs.flat();
  assert.equal(packs.reduce((n, p) => n + p.count, 0), 2000);
  for (const run of runs) {
    for (let k = 1; k < run.length; k++) assert.ok(compareIds(run[k - 1]!.last, run[k]!.first) < 0, 'packs of a run do not overlap, nor split an id');
  }
  // Every record of an id, found in its run's packs, in the order given.
  const tag = 'CVE-2024-0037';
  const found = packs.filter((p) => p.first <= tag && p.last >= tag).flatMap((p) => recordsOf(openPack(p.data), 'epss', tag));
  assert.deepEqual(found.map((r) => r.enrichment['i']), [1, 1001]);
  const json = packRecordJson(openPack(packs[0]!.data), 'epss')[0]!;
  const r = JSON.parse(json) as { tag: string; enrichment: unknown };
  assert.equal(json, JSON.stringify({ updater: 'epss', tag: r.tag, enrichment: r.enrichment }));
});

test('enrichment packs: ids in code-point order, as SQLite and PostgreSQL "C" compare them', () => {
  const ids = ['b', 'a', '\u{1F600}', '\uFFFD', 'ab', ''];
  assert.deepEqual([...ids].sort(compareIds), ['', 'a', 'ab', 'b', '\uFFFD', '\u{1F600}']);
  assert.ok(compareIds('\u{1F600}', '\uFFFD') > 0, 'JavaScript\'s < would put the surrogate pair first');
});

test('enrichment packs: drainAsync (deflate on zlib\'s threads) gives the packs drain gives, in order, and empties the builder', async () => {
  const fill = (b: PackBuilder) => {
    for (let i = 0; i < 5000; i++) {
      const tag = i % 97 === 0 ? `CVE-2024-\u{1F600}${i % 13}` : `CVE-${2000 + (i % 26)}-${100000 + ((i * 7919) % 5000)}`;
      // Some records repeated (kept once), some ids with several records.
      b.add({ updater: i % 3 === 0 ? 'nvd/2024' : 'nvd', tag, enrichment: { cve: tag, n: i % 11 === 0 ? 0 : i } });
    }
  };
  const a = new PackBuilder(200_000);
  const b = new PackBuilder(200_000);
  fill(a);
  fill(b);
  const sync = a.drain();
  const pending = b.drainAsync();
  assert.ok(b.empty, 'the records are taken at once');
  const async = await pending;
  assert.ok(sync.length > 5, `${sync.length} packs`);
  assertSamePacks(async, sync);
  assert.deepEqual(await new PackBuilder().drainAsync(), []);
});

test('enrichment packs: drainAsync of a large run (deflated on the deflate worker and here) gives the packs drain gives', async () => {
  const fill = (b: PackBuilder) => {
    for (let i = 0; i < 40_000; i++) {
      const tag = `CVE-${2000 + (i % 26)}-${100000 + ((i * 7919) % 40_000)}`;
      b.add({ updater: 'epss', tag, enrichment: { cve: tag, epss: (i % 1000) / 1000, percentile: (i % 997) / 997, note: 'x'.repeat(i % 40) } });
    }
  };
  const a = new PackBuilder();
  const b = new PackBuilder();
  fill(a);
  fill(b);
  const sync = a.drain();
  const requests = deflateWorker.requests;
  const pending = b.drainAsync();
  assert.ok(b.empty, 'the records are taken at once');
  const async = await pending;
  assert.ok(deflateWorker.requests > requests, 'the worker was asked');
  assert.ok(sync.length > 100, `${sync.length} packs`);
  assertSamePacks(async, sync);
});
