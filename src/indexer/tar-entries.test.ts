import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, linkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { TarEntries, type TarEntryHeader } from './tar-entries.ts';

// TarEntries replaced tar-stream in the layer walk: the same bytes must give the same entries and bodies, whatever
// the format (GNU tar's gnu, posix/pax and ustar) and however the stream is cut into chunks.

interface Seen {
  name: string;
  type: string;
  size: number;
  mode: number;
  linkname: string | undefined;
  body: string;
}

function readWithEntries(bytes: Buffer, cuts: number[]): Seen[] {
  const seen: Seen[] = [];
  const r = new TarEntries((h: TarEntryHeader) => {
    const hash = createHash('sha256');
    const entry = { name: h.name, type: h.type, size: h.size, mode: h.mode, linkname: h.linkname, body: '' };
    return {
      write: (c) => hash.update(c),
      end: () => {
        entry.body = hash.digest('hex');
        seen.push(entry);
      },
    };
  });
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= at) continue;
    r.push(bytes.subarray(at, Math.min(cut, bytes.length)));
    at = Math.min(cut, bytes.length);
  }
  r.end();
  return seen;
}

/**
 * As readWithEntries, with chunks lent (TarEntriesOptions.lentChunks): each pushed chunk is a reused buffer,
 * overwritten as soon as push returns, and each body keeps the views it was given and reads them only at its end()
 * (the loan lasts that long). `released` gets each body's views after its end().
 */
function readLent(bytes: Buffer, cuts: number[], released: (views: Buffer[]) => void = () => {}): Seen[] {
  const seen: Seen[] = [];
  const r = new TarEntries((h: TarEntryHeader) => {
    const views: Buffer[] = [];
    const entry = { name: h.name, type: h.type, size: h.size, mode: h.mode, linkname: h.linkname, body: '' };
    return {
      write: (c) => void views.push(c),
      end: () => {
        const hash = createHash('sha256');
        for (const v of views) hash.update(v);
        entry.body = hash.digest('hex');
        seen.push(entry);
        queueMicrotask(() => released(views));
      },
    };
  }, { lentChunks: true });
  const loan = Buffer.alloc(Math.max(...cuts.map((c, i) => c - (cuts[i - 1] ?? 0)), bytes.length - (cuts.at(-1) ?? 0), 1));
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= at) continue;
    const n = bytes.copy(loan, 0, at, Math.min(cut, bytes.length));
    r.push(loan.subarray(0, n));
    loan.fill(0xee);
    at = Math.min(cut, bytes.length);
  }
  r.end();
  return seen;
}

async function readWithTarStream(bytes: Buffer): Promise<Seen[]> {
  const seen: Seen[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const hash = createHash('sha256');
      stream.on('data', (c) => hash.update(c as Buffer));
      stream.on('end', () => {
        const type = h.type === null ? 'other' : h.type;
        seen.push({ name: h.name, type, size: h.size ?? 0, mode: h.mode ?? 0, linkname: h.linkname ?? undefined, body: hash.digest('hex') });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([bytes]).pipe(extract);
  await done;
  return seen;
}

function sampleTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tar-entries-'));
  const long = 'a-directory-name-long-enough-that-two-of-them-pass-the-hundred-bytes-of-a-ustar-name-field';
  mkdirSync(join(dir, 'root', long, long), { recursive: true });
  mkdirSync(join(dir, 'root', 'etc'));
  writeFileSync(join(dir, 'root', 'etc', 'os-release'), 'ID=debian\n');
  writeFileSync(join(dir, 'root', 'empty'), '');
  writeFileSync(join(dir, 'root', 'block'), Buffer.alloc(512, 7));
  writeFileSync(join(dir, 'root', 'big'), Buffer.alloc(300_001, 'x'));
  writeFileSync(join(dir, 'root', long, long, 'status'), 'Package: a\nVersion: 1\n\n');
  writeFileSync(join(dir, 'root', 'ünïcode-名前'), 'utf-8 name\n');
  // Over 100 bytes, under 155 + 100: ustar splits it into the prefix and name fields.
  const mid = join('medium-path-' + 'm'.repeat(50), 'second-level-' + 'n'.repeat(50));
  mkdirSync(join(dir, 'root', mid), { recursive: true });
  writeFileSync(join(dir, 'root', mid, 'file-in-a-path-over-one-hundred-bytes'), 'prefix field\n');
  symlinkSync(join('/', long, long, long, 'target-longer-than-one-hundred-bytes-for-the-link-name-field'), join(dir, 'root', 'long-link'));
  linkSync(join(dir, 'root', 'etc', 'os-release'), join(dir, 'root', 'hard'));
  return dir;
}

function gnuTar(dir: string, format: string): Buffer {
  // ustar has no long names or link names: those two entries are left out of its archive.
  const exclude = format === 'ustar' ? ['--exclude=./long-link', '--exclude=./a-directory-name-*'] : [];
  return execFileSync('tar', [`--format=${format}`, '--sort=name', ...exclude, '-C', join(dir, 'root'), '-cf', '-', '.'], { maxBuffer: 64 << 20 });
}

test('the entries and bodies tar-stream reads, for GNU tar formats gnu, posix and ustar, cut anywhere', async (t) => {
  const dir = sampleTree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const format of ['gnu', 'posix', 'ustar']) {
    const bytes = gnuTar(dir, format);
    const expected = await readWithTarStream(bytes);
    assert.ok(expected.some((e) => e.name.endsWith('/file-in-a-path-over-one-hundred-bytes')), format);
    if (format !== 'ustar') assert.ok(expected.some((e) => e.name.endsWith('/status') && e.name.length > 155), format);
    assert.deepEqual(readWithEntries(bytes, []), expected, `${format}, one chunk`);
    for (const size of [1, 7, 511, 512, 513, 4096, 65537]) {
      const cuts: number[] = [];
      for (let at = size; at < bytes.length; at += size) cuts.push(at);
      assert.deepEqual(readWithEntries(bytes, cuts), expected, `${format}, chunks of ${size}`);
    }
  }
});

test('lent chunks: the same entries and bodies, bytes valid until the body ends, large bodies freed then', async (t) => {
  const dir = sampleTree();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Over the reused copy buffer's 4 MiB, and a smaller one after it that reuses the buffer.
  writeFileSync(join(dir, 'root', 'huge'), randomBytes(5 << 20));
  writeFileSync(join(dir, 'root', 'huge2-after'), randomBytes(3 << 20));
  for (const format of ['gnu', 'posix']) {
    const bytes = gnuTar(dir, format);
    const expected = await readWithTarStream(bytes);
    for (const size of [511, 513, 65537, 1 << 20]) {
      const cuts: number[] = [];
      for (let at = size; at < bytes.length; at += size) cuts.push(at);
      assert.deepEqual(readLent(bytes, cuts), expected, `${format}, chunks of ${size}`);
    }
  }
  // The copies of a body over 4 MiB are freed (detached) once its end() returned.
  const bytes = gnuTar(dir, 'gnu');
  const lengths = new Map<number, number>();
  readLent(bytes, [1 << 20, 2 << 20, 3 << 20, 4 << 20, 5 << 20, 6 << 20], (views) => {
    const total = views.reduce((n, v) => n + v.length, 0);
    if (views.length > 0) lengths.set(lengths.size, total);
  });
  await new Promise((r) => setImmediate(r));
  const sizes = [...lengths.values()];
  assert.ok(sizes.includes(0), 'the views of the 5 MiB body are empty (freed) after its end');
  assert.ok(sizes.includes(3 << 20), 'the 3 MiB body is in the reused buffer, which is kept');
});

/** A GNU header of a regular file named "file": `fields` writes its mode and size; the checksum is made after. */
function fileHeader(fields: (header: Buffer) => void): Buffer {
  const header = Buffer.alloc(512);
  header.write('file', 0);
  header.write('ustar  \0', 257);
  header[156] = '0'.charCodeAt(0);
  fields(header);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return header;
}

test('a base-256 size (GNU, files over 8 GiB) is read', () => {
  const header = fileHeader((h) => {
    h.write('0000644\0', 100);
    h[124] = 0x80;
    h.writeUIntBE(5, 130, 6); // 5 bytes, in base 256
  });
  const body = Buffer.alloc(512);
  body.write('hello');
  const seen = readWithEntries(Buffer.concat([header, body, Buffer.alloc(1024)]), []);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.size, 5);
  assert.equal(seen[0]!.body, createHash('sha256').update('hello').digest('hex'));
});

test('octal fields read as parseInt(text, 8) reads them, however they are padded or ended', () => {
  // [mode field (8 bytes), size field (12 bytes)]: what GNU tar, BSD tar, Go's archive/tar and odd writers put there.
  const fields: [string, string][] = [
    ['0000644\0', '00000000005\0'],
    ['000644 \0', '00000000005 '],
    ['  644 \0\0', '    5      '],
    ['\x00\x00\x00644\x00\x00', '\x00\x00\x00\x00\x00\x00\x00\x00\x005\x00'],
    ['755', '5'],
    ['0644 999', '5 1'],
    ['06448', '58'],
    ['644\u0001', '5x'],
    ['+644', '+5'],
    ['\t644', '\t5'],
    ['', ''],
  ];
  for (const [mode, size] of fields) {
    const header = fileHeader((h) => {
      h.write(mode, 100, 'latin1');
      h.write(size, 124, 'latin1');
    });
    const parsed = (text: string) => {
      // The field's text between leading spaces and the first space after them, leading NULs skipped (0 when empty).
      const t = text.replace(/^ +/, '').replace(/ .*$/s, '').replace(/^\0+/, '');
      return t === '' ? 0 : parseInt(t, 8);
    };
    const expectedSize = parsed(size);
    const body = Buffer.alloc(512);
    const seen = readWithEntries(Buffer.concat([header, ...(expectedSize > 0 ? [body] : []), Buffer.alloc(1024)]), []);
    assert.equal(seen.length, 1, JSON.stringify([mode, size]));
    assert.equal(seen[0]!.mode, parsed(mode), `mode ${JSON.stringify(mode)}`);
    assert.equal(seen[0]!.size, expectedSize, `size ${JSON.stringify(size)}`);
  }
});

test('a bad checksum, an unknown format and an archive cut short are errors', async () => {
  const bytes = await new Promise<Buffer>((resolve) => {
    const pack = tar.pack();
    pack.entry({ name: 'a', size: 600 }, Buffer.alloc(600, 1));
    pack.finalize();
    const chunks: Buffer[] = [];
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
  });
  const noBody = () => undefined;
  const corrupt = Buffer.from(bytes);
  corrupt[0] = corrupt[0]! ^ 1;
  assert.throws(() => new TarEntries(noBody).push(corrupt), /Invalid tar header/);
  const noMagic = Buffer.from(bytes);
  noMagic.write('xxxxx', 257);
  assert.throws(() => new TarEntries(noBody).push(noMagic), /Invalid tar header/);
  for (const end of [100, 512, 700, 1024 + 100]) {
    const r = new TarEntries(noBody);
    r.push(bytes.subarray(0, end));
    assert.throws(() => r.end(), /Unexpected end of data/, `cut at ${end}`);
  }
  const whole = new TarEntries(noBody);
  whole.push(bytes);
  whole.end();
});
