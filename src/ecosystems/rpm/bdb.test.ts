import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBdbHeaders } from './bdb.ts';

// Fixtures: testdata/bdb-{le,be}/Packages, written by Berkeley DB 5.3's db_load (scripts/gen-rpm-fixtures.sh).
const le = () => Buffer.from(readFileSync(join(import.meta.dirname, 'testdata/bdb-le/Packages')));
const PAGE = 4096;

test('bdb: both byte orders hold the same header blobs, record 0 skipped', () => {
  const a = readBdbHeaders(le(), 'le');
  const b = readBdbHeaders(readFileSync(join(import.meta.dirname, 'testdata/bdb-be/Packages')), 'be');
  assert.deepEqual(a.map((h) => h.hnum), [1, 2, 3, 4]);
  assert.deepEqual(b, a);
});

// The overflow pages that continue a chain (next_pgno ≠ 0), by page number.
function chainedOverflowPages(d: Buffer): number[] {
  const out: number[] = [];
  for (let pg = 1; pg * PAGE < d.length; pg++) if (d[pg * PAGE + 25] === 7 && d.readUInt32LE(pg * PAGE + 16) !== 0) out.push(pg);
  return out;
}

const damage: { name: string; mutate: (d: Buffer) => Buffer; code?: string; want: RegExp }[] = [
  { name: 'truncated file', mutate: (d) => d.subarray(0, 3 * PAGE), want: /file has 12288 bytes \(truncated\?\)/ },
  { name: 'cut inside the metadata page', mutate: (d) => d.subarray(0, 100), want: /too short for a metadata page/ },
  { name: 'no magic', mutate: (d) => (d.writeUInt32LE(0x053162, 12), d), want: /no hash database magic/ },
  { name: 'bad page size', mutate: (d) => (d.writeUInt32LE(3000, 20), d), want: /page size 3000/ },
  { name: 'btree, not hash meta', mutate: (d) => ((d[25] = 9), d), want: /type 9/ },
  { name: 'encrypted', mutate: (d) => ((d[24] = 1), d), code: 'unsupported', want: /encrypted/ },
  {
    name: 'overflow chain loop (a page pointing to itself)',
    mutate: (d) => {
      const pg = chainedOverflowPages(d)[0]!;
      d.writeUInt32LE(pg, pg * PAGE + 16);
      return d;
    },
    want: /overflow chain loops back to page \d+/,
  },
  {
    name: 'overflow chain pointing past the last page',
    mutate: (d) => {
      const pg = chainedOverflowPages(d)[0]!;
      d.writeUInt32LE(0x7fffffff, pg * PAGE + 16);
      return d;
    },
    want: /beyond last page/,
  },
  {
    name: 'overflow chain cut short',
    mutate: (d) => {
      const pg = chainedOverflowPages(d)[0]!;
      d.writeUInt32LE(0, pg * PAGE + 16);
      return d;
    },
    want: /overflow chain ends after \d+ of \d+ bytes/,
  },
  {
    name: 'hash page item offsets out of order',
    mutate: (d) => {
      for (let pg = 1; pg * PAGE < d.length; pg++) if (d[pg * PAGE + 25] === 13) d.writeUInt16LE(2, pg * PAGE + 26);
      return d;
    },
    want: /item 0 spans/,
  },
];

for (const c of damage) {
  test(`bdb damage: ${c.name} → ${c.code ?? 'bad-database'}`, () => {
    assert.ok(chainedOverflowPages(le()).length > 0, 'the fixture has a multi-page overflow chain');
    assert.throws(() => readBdbHeaders(c.mutate(le()), 'var/lib/rpm/Packages'), (e: Error & { code?: string }) => {
      assert.equal(e.code, c.code ?? 'bad-database');
      assert.match(e.message, /^var\/lib\/rpm\/Packages: /);
      assert.match(e.message, c.want);
      return true;
    });
  });
}
