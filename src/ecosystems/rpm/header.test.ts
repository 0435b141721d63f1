import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { headerFileNames, parseHeaderBlob, RpmTag } from './header.ts';
import { packageFromHeader, readStoredHeaders } from './rpmdb.ts';

const testdata = join(import.meta.dirname, 'testdata');

// The blobs of the rpm-made fixture (see testdata/README.md), by package name.
function fixtureBlobs(): Map<string, Buffer> {
  const path = 'testdata/sqlite/rpmdb.sqlite';
  const { headers } = readStoredHeaders([{ path, data: readFileSync(join(testdata, 'sqlite/rpmdb.sqlite')) }]);
  const out = new Map<string, Buffer>();
  for (const { hnum, blob } of headers) out.set(parseHeaderBlob(blob, `#${hnum}`).string(RpmTag.NAME)!, blob);
  return out;
}

const badDatabase = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof Error && 'code' in e, `not a ClairError: ${String(e)}`);
  assert.equal((e as { code: string }).code, 'bad-database');
  assert.match(e.message, re);
  return true;
};

test('header: tags of a real header (claircore package.header), checked against rpm 4.18', (t) => {
  const p = requireSharedData(t, 'fixtures/claircore/internal/rpm/rpmdb/testdata/package.header');
  if (!p) return;
  const h = parseHeaderBlob(readFileSync(p), 'package.header');
  // Expected values: the blob inserted into an sqlite rpmdb and queried with `rpm -qa --qf …` and `rpm -ql -a`.
  assert.deepEqual(
    [h.integer(RpmTag.EPOCH), h.string(RpmTag.NAME), h.string(RpmTag.VERSION), h.string(RpmTag.RELEASE), h.string(RpmTag.ARCH),
      h.string(RpmTag.SOURCERPM), h.integer(RpmTag.SIZE), h.string(RpmTag.LICENSE), h.string(RpmTag.VENDOR), h.string(RpmTag.MODULARITYLABEL)],
    [undefined, 'crypto-policies', '20210213', '1.git5c710c0.fc34', 'noarch', 'crypto-policies-20210213-1.git5c710c0.fc34.src.rpm',
      85288, 'LGPLv2+', 'Fedora Project', undefined],
  );
  const files = headerFileNames(h);
  assert.equal(files.length, 152);
  assert.equal(files[0], '/etc/crypto-policies');
  assert.equal(createHash('md5').update(files.join('\n') + '\n').digest('hex'), '35f7e90abe26c75509040a5bff0d2133');
});

test('header: the file list of the fixture package gamma equals `rpm -ql gamma`', () => {
  const h = parseHeaderBlob(fixtureBlobs().get('gamma')!, 'gamma');
  const want = readFileSync(join(testdata, 'gamma.files'), 'utf8').trimEnd().split('\n');
  assert.deepEqual(headerFileNames(h), want);
});

test('header: the last entry for a tag wins (dribble entries replace region entries, as in headerImport)', () => {
  const blob = Buffer.from(fixtureBlobs().get('alpha')!);
  const il = blob.readUInt32BE(0);
  const h0 = parseHeaderBlob(blob, 'alpha');
  // Point the last index entry at the VERSION string with the tag of RELEASE.
  let versionEntry = -1;
  for (let i = 0; i < il; i++) if (blob.readUInt32BE(8 + 16 * i) === RpmTag.VERSION) versionEntry = i;
  const last = 8 + 16 * (il - 1);
  blob.copy(blob, last, 8 + 16 * versionEntry, 8 + 16 * versionEntry + 16);
  blob.writeUInt32BE(RpmTag.RELEASE, last);
  const h = parseHeaderBlob(blob, 'alpha');
  assert.equal(h.string(RpmTag.RELEASE), h0.string(RpmTag.VERSION));
});

// Damage: every case must raise bad-database naming the header, never read out of range or hang.
const damage: { name: string; mutate: (b: Buffer) => Buffer; want: RegExp }[] = [
  { name: 'truncated blob', mutate: (b) => b.subarray(0, b.length >> 1), want: /need \d+ bytes, the blob has/ },
  { name: 'shorter than its counts', mutate: (b) => b.subarray(0, 6), want: /too short/ },
  { name: 'index count 0', mutate: (b) => (b.writeUInt32BE(0, 0), b), want: /index count 0 out of range/ },
  { name: 'index count huge', mutate: (b) => (b.writeUInt32BE(0xfffffff0, 0), b), want: /index count \d+ out of range/ },
  { name: 'index count too large for the blob', mutate: (b) => (b.writeUInt32BE(b.readUInt32BE(0) + 50, 0), b), want: /the blob has/ },
  { name: 'data length huge', mutate: (b) => (b.writeUInt32BE(0x7fffffff, 4), b), want: /data length \d+ exceeds/ },
  { name: 'entry offset past the store', mutate: (b) => (b.writeUInt32BE(b.readUInt32BE(4) + 8, 8 + 16 + 8), b), want: /offset \d+ outside the data store/ },
  { name: 'negative entry offset', mutate: (b) => (b.writeInt32BE(-4, 8 + 16 + 8), b), want: /offset -4 outside/ },
  { name: 'unknown type', mutate: (b) => (b.writeUInt32BE(42, 8 + 16 + 4), b), want: /unknown type 42/ },
  { name: 'INT32 array running past the store', mutate: (b) => setEntry(b, RpmTag.DIRINDEXES, 12, 0x00ffffff), want: /runs past the data store|count \d+ out of range/ },
  { name: 'region trailer mismatch', mutate: (b) => (b.writeUInt32BE(b.readUInt32BE(8 + 8) + 4, 8 + 8), b), want: /region trailer/ },
];

function setEntry(b: Buffer, tag: number, field: number, value: number): Buffer {
  const il = b.readUInt32BE(0);
  for (let i = 0; i < il; i++) if (b.readUInt32BE(8 + 16 * i) === tag) b.writeUInt32BE(value, 8 + 16 * i + field);
  return b;
}

for (const c of damage) {
  test(`header damage: ${c.name} → bad-database`, () => {
    const blob = c.mutate(Buffer.from(fixtureBlobs().get('alpha')!));
    assert.throws(() => packageFromHeader(parseHeaderBlob(blob, 'rpm header #7 in x'), { files: true }), badDatabase(new RegExp(`^rpm header #7 in x: .*${c.want.source}`)));
  });
}

test('header damage: a string without its NUL before the end of the store', () => {
  const blob = Buffer.from(fixtureBlobs().get('alpha')!);
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  // Move NAME to the last byte of the store and make that byte non-NUL.
  setEntry(blob, RpmTag.NAME, 8, dl - 1);
  blob[8 + 16 * il + dl - 1] = 0x41;
  assert.throws(() => parseHeaderBlob(blob, 'h').string(RpmTag.NAME), badDatabase(/runs past the data store/));
});

test('header damage: a DIRINDEXES value beyond DIRNAMES', () => {
  const blob = Buffer.from(fixtureBlobs().get('gamma')!);
  const h0 = parseHeaderBlob(blob, 'h');
  const il = blob.readUInt32BE(0);
  let off = -1;
  for (let i = 0; i < il; i++) if (blob.readUInt32BE(8 + 16 * i) === RpmTag.DIRINDEXES) off = blob.readUInt32BE(8 + 16 * i + 8);
  assert.ok(h0.integers(RpmTag.DIRINDEXES)!.length > 0);
  blob.writeUInt32BE(999, 8 + 16 * il + off);
  assert.throws(() => headerFileNames(parseHeaderBlob(blob, 'h')), badDatabase(/DIRINDEXES\[0\] = 999/));
});

test('header: a missing NAME is an error', () => {
  const blob = setEntry(Buffer.from(fixtureBlobs().get('alpha')!), RpmTag.NAME, 0, 999999);
  assert.throws(() => packageFromHeader(parseHeaderBlob(blob, 'h')), badDatabase(/no NAME tag/));
});
