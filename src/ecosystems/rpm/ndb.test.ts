import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { readNdbHeaders } from './ndb.ts';
import { readStoredHeaders } from './rpmdb.ts';

// Debian's rpm is built without the ndb backend, so there is no rpm-made ndb fixture of our own: the real one is
// go-rpmdb's SLE 15 Packages.db (shared data); the damage tests below also run on a small ndb assembled here from the
// rpm-made sqlite fixture's blobs, laid out as rpm's lib/backend/ndb/rpmpkg.c writes them.
function buildNdb(blobs: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  const slots = Buffer.alloc(4096);
  slots.write('RpmP', 0, 'latin1');
  slots.writeUInt32LE(0, 4); // version
  slots.writeUInt32LE(1, 8); // generation
  slots.writeUInt32LE(1, 12); // slot pages
  slots.writeUInt32LE(blobs.length + 1, 16); // next package index
  for (let off = 32; off < 4096; off += 16) slots.write('Slot', off, 'latin1');
  let block = 4096 / 16;
  blobs.forEach((blob, i) => {
    const blocks = Math.ceil((16 + blob.length + 12) / 16);
    const b = Buffer.alloc(blocks * 16);
    b.write('BlbS', 0, 'latin1');
    b.writeUInt32LE(i + 1, 4);
    b.writeUInt32LE(1, 8);
    b.writeUInt32LE(blob.length, 12);
    blob.copy(b, 16);
    b.writeUInt32LE(adler32(b.subarray(0, b.length - 12)), b.length - 12);
    b.writeUInt32LE(blob.length, b.length - 8);
    b.write('BlbE', b.length - 4, 'latin1');
    const slot = 32 + 16 * i;
    slots.writeUInt32LE(i + 1, slot + 4);
    slots.writeUInt32LE(block, slot + 8);
    slots.writeUInt32LE(blocks, slot + 12);
    parts.push(b);
    block += blocks;
  });
  return Buffer.concat([slots, ...parts]);
}

function adler32(d: Buffer): number {
  let a = 1;
  let b = 0;
  for (const x of d) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const fixture = () => {
  const path = 'testdata/sqlite/rpmdb.sqlite';
  return readStoredHeaders([{ path, data: readFileSync(join(import.meta.dirname, path)) }]).headers;
};

test('ndb: an assembled Packages.db yields its blobs in package-index order', () => {
  const src = fixture();
  const got = readNdbHeaders(buildNdb(src.map((h) => h.blob)), 'Packages.db');
  assert.deepEqual(got.map((h) => h.blob), src.map((h) => h.blob));
  assert.deepEqual(got.map((h) => h.hnum), [1, 2, 3, 4]);
});

test('ndb: the real SLE 15 Packages.db checks out (magic, lengths, adler32) for all 36 blobs', (t) => {
  const p = requireSharedData(t, 'fixtures/go-rpmdb/pkg/testdata/sle15-bci/Packages.db');
  if (!p) return;
  assert.equal(readNdbHeaders(readFileSync(p), 'Packages.db').length, 36);
});

const firstBlob = (d: Buffer) => d.readUInt32LE(32 + 8) * 16;
const damage: { name: string; mutate: (d: Buffer) => Buffer; code?: string; want: RegExp }[] = [
  { name: 'truncated file', mutate: (d) => d.subarray(0, d.length - 100), want: /lies outside the \d+-byte file/ },
  { name: 'truncated inside the slot page', mutate: (d) => d.subarray(0, 1000), want: /truncated\?/ },
  { name: 'slot pages beyond the file', mutate: (d) => (d.writeUInt32LE(1000, 12), d), want: /1000 slot pages/ },
  { name: 'version 1', mutate: (d) => (d.writeUInt32LE(1, 4), d), code: 'unsupported', want: /ndb version 1/ },
  { name: 'slot without magic', mutate: (d) => (d.write('Xxxx', 48, 'latin1'), d), want: /slot at 48 has no "Slot" magic/ },
  { name: 'blob without magic', mutate: (d) => (d.write('Xxxx', firstBlob(d), 'latin1'), d), want: /no "BlbS" magic/ },
  { name: 'blob of another package', mutate: (d) => (d.writeUInt32LE(9, firstBlob(d) + 4), d), want: /belongs to package #9/ },
  { name: 'blob longer than its slot', mutate: (d) => (d.writeUInt32LE(0xffffff, firstBlob(d) + 12), d), want: /exceeds its/ },
  { name: 'flipped byte (checksum)', mutate: (d) => ((d[firstBlob(d) + 100]! ^= 1), d), want: /adler32 0x[0-9a-f]{8} differs/ },
  { name: 'two slots, one package', mutate: (d) => (d.writeUInt32LE(1, 48 + 4), d), want: /used by two slots/ },
];

for (const c of damage) {
  test(`ndb damage: ${c.name} → ${c.code ?? 'bad-database'}`, () => {
    const d = buildNdb(fixture().map((h) => h.blob));
    assert.throws(() => readNdbHeaders(c.mutate(d), 'Packages.db'), (e: Error & { code?: string }) => {
      assert.equal(e.code, c.code ?? 'bad-database');
      assert.match(e.message, /^Packages\.db: /);
      assert.match(e.message, c.want);
      return true;
    });
  });
}
