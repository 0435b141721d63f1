import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { indexTarFile, openTarEntry, resolveEntry } from './tar-table.ts';
import { collect } from './testdata/image-builder.ts';

// Entries that make tar-stream emit a PAX extension header before the real one (long and UTF-8 names), sizes that are
// and are not multiples of 512, an empty file, and links.
const longName = `${'deep/'.repeat(60)}file.txt`; // > 255 bytes: no ustar prefix/name split fits
const files: Record<string, Buffer> = {
  'small.txt': Buffer.from('hello'),
  [longName]: Buffer.alloc(1500, 0x61),
  'exact.bin': Buffer.alloc(1024, 0x62),
  'empty': Buffer.alloc(0),
  'ünïcödé.txt': Buffer.from('pax path'),
};

describe('tar table', () => {
  let root: string;
  let plain: string;
  let gzipped: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'clair-tar-'));
    const pack = tar.pack();
    for (const [name, content] of Object.entries(files)) pack.entry({ name: `./${name}` }, content);
    pack.entry({ name: 'dir/link', type: 'symlink', linkname: '../small.txt' });
    pack.entry({ name: 'hard', type: 'link', linkname: 'exact.bin' });
    pack.entry({ name: 'loop', type: 'symlink', linkname: 'loop' });
    pack.finalize();
    const bytes = await collect(pack);
    plain = join(root, 'plain.tar');
    gzipped = join(root, 'plain.tar.gz');
    await writeFile(plain, bytes);
    await writeFile(gzipped, zlib.gzipSync(bytes));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  for (const which of ['plain', 'gzip'] as const) {
    it(`reads every entry back by its offset (${which})`, async () => {
      const table = await indexTarFile(which === 'plain' ? plain : gzipped, { description: 'test tar', maxKeptBytes: 100, keep: (e) => e.name === 'small.txt' });
      assert.equal(table.compression, which === 'plain' ? 'none' : 'gzip');
      assert.deepEqual(table.kept.get('small.txt'), files['small.txt']);
      for (const [name, content] of Object.entries(files)) {
        const entry = table.entries.get(name);
        assert.ok(entry, `no entry ${name}`);
        assert.deepEqual(await collect(openTarEntry(table, entry)), content, name);
      }
      assert.deepEqual(await collect(openTarEntry(table, resolveEntry(table, 'dir/link', 't')!)), files['small.txt']);
      assert.deepEqual(await collect(openTarEntry(table, resolveEntry(table, 'hard', 't')!)), files['exact.bin']);
      assert.equal(resolveEntry(table, 'absent', 't'), undefined);
      assert.throws(() => resolveEntry(table, 'loop', 't'), /too many links/);
    });
  }

  it('refuses to keep a "metadata" entry larger than the cap', async () => {
    await assert.rejects(indexTarFile(plain, { description: 'test tar', maxKeptBytes: 100, keep: () => true }), /too large for a metadata file/);
  });
});
