import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ClairError } from '../model/errors.ts';
import { fileChunks, streamChunks, type BlobChunks } from './blob-chunks.ts';
import { DigestCheck } from './digest-verifier.ts';
import { decompressBlob } from './layer-stream.ts';
import { compress, layerTar, sha256, type LayerCompression } from './testdata/image-builder.ts';

const dir = mkdtempSync(join(tmpdir(), 'clair-ts-blob-chunks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every chunk copied as it is read: what a reader sees before the loan ends. */
async function readAll(c: BlobChunks): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let b = await c.read(); b !== undefined; b = await c.read()) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

function file(name: string, bytes: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('fileChunks', () => {
  // Over two read buffers (1 MiB each), so both are reused.
  const data = randomBytes(3 * (1 << 20) + 12345);
  const path = file('blob', data);

  it('reads a whole file, checked against its digest and size', async () => {
    const c = await fileChunks(path, new DigestCheck(sha256(data), { expectedSize: data.length }));
    assert.deepEqual(await readAll(c), data);
    assert.equal(c.bytesRead, data.length);
  });

  it('reads a range of a file (a docker archive entry)', async () => {
    const part = data.subarray(1000, 1000 + 2_500_000);
    const c = await fileChunks(path, new DigestCheck(sha256(part), { expectedSize: part.length }), { start: 1000, length: part.length });
    assert.deepEqual(await readAll(c), part);
  });

  const failing: { name: string; check: () => DigestCheck; range?: { start: number; length: number }; message: RegExp }[] = [
    { name: 'other content', check: () => new DigestCheck(sha256(Buffer.from('x'))), message: /expected sha256:[0-9a-f]{64}, got sha256:/ },
    { name: 'a file longer than its size', check: () => new DigestCheck(sha256(data), { expectedSize: 100 }), message: /expected 100 bytes, got more/ },
    { name: 'a file shorter than its size', check: () => new DigestCheck(sha256(data), { expectedSize: data.length + 1 }), message: new RegExp(`expected ${data.length + 1} bytes, got ${data.length}`) },
    {
      name: 'a range past the end of the file',
      check: () => new DigestCheck(sha256(data), { expectedSize: 10 }),
      range: { start: data.length - 5, length: 10 },
      message: /expected 10 bytes, got 5/,
    },
  ];
  for (const f of failing) {
    it(`fails with digest-mismatch at the end: ${f.name}`, async () => {
      const c = await fileChunks(path, f.check(), f.range);
      await assert.rejects(readAll(c), (e: unknown) => e instanceof ClairError && e.code === 'digest-mismatch' && f.message.test(e.message));
    });
  }

  it('refuses reads after close, and tells onClose once', async () => {
    const c = await fileChunks(path, new DigestCheck(sha256(data)));
    let closes = 0;
    c.onClose = () => closes++;
    await c.read();
    c.close();
    c.close();
    assert.equal(closes, 1);
    await assert.rejects(c.read(), /closed/);
  });
});

describe('decompressBlob', async () => {
  // Bigger than the read buffers and the decompressor's chunks, and not compressible to nothing: every loan and
  // queue path is taken.
  const big = randomBytes(2_000_000).toString('base64');
  const tarBytes = await layerTar({ 'etc/os-release': 'ID=debian\n', 'usr/share/big.txt': big, 'var/lib/dpkg/status': 'Package: bash\n'.repeat(200) });

  for (const compression of ['gzip', 'zstd', 'none'] as LayerCompression[]) {
    it(`gives the tar of a ${compression} layer read from a file, byte for byte`, async () => {
      const blob = compress(tarBytes, compression);
      const c = await fileChunks(file(`layer-${compression}`, blob), new DigestCheck(sha256(blob), { expectedSize: blob.length }));
      const out: Buffer[] = [];
      // Kept without copying, as the tar reader's scanners keep chunks: the pushed chunks must be the consumer's.
      await decompressBlob(c, 'sha256:x', (chunk) => out.push(chunk));
      assert.deepEqual(Buffer.concat(out), tarBytes);
    });
  }

  for (const compression of ['gzip', 'zstd', 'none'] as LayerCompression[]) {
    it(`lends the chunks of a ${compression} layer (options.lend): the same bytes, decompressor buffers freed after push`, async () => {
      const blob = compress(tarBytes, compression);
      const c = await fileChunks(file(`lent-${compression}`, blob), new DigestCheck(sha256(blob), { expectedSize: blob.length }));
      const copies: Buffer[] = [];
      const lent: Buffer[] = [];
      await decompressBlob(c, 'sha256:x', (chunk) => {
        copies.push(Buffer.from(chunk));
        lent.push(chunk);
      }, { lend: true });
      assert.deepEqual(Buffer.concat(copies), tarBytes);
      // Uncompressed: the blob's own two read buffers, pushed as they are (no copy); compressed: every chunk that
      // ended its buffer was freed (its ArrayBuffer detached), which leaves at most the last, partly filled one.
      if (compression === 'none') {
        assert.ok(new Set(lent.slice(1).map((l) => l.buffer)).size <= 2);
      } else {
        const live = new Set(lent.filter((l) => l.buffer.byteLength > 0).map((l) => l.buffer));
        assert.ok(lent.length > 2 && live.size <= 1, `${live.size} of ${lent.length} decompressor buffers left to the collector`);
      }
    });
  }

  it('lending: a consumer that throws, a corrupt or truncated layer and a digest mismatch fail as without', async () => {
    const zst = compress(tarBytes, 'zstd');
    const corrupt = Buffer.from(zst);
    corrupt.fill(0x55, 10, 600); // the first block's headers: zstd refuses it
    const truncated = zst.subarray(0, zst.length - 1000);
    // Changed where zstd does not notice (literals): only the digest tells.
    const tampered = Buffer.from(zst);
    tampered.fill(0x55, 2000, 2100);
    for (const [name, bytes, check, expected] of [
      ['corrupt', corrupt, sha256(corrupt), { code: 'bad-layer', message: /zstd data is corrupt or truncated/ }],
      ['truncated', truncated, sha256(truncated), { code: 'bad-layer', message: /zstd data is corrupt or truncated/ }],
      ['tampered', tampered, sha256(zst), { code: 'digest-mismatch' }],
    ] as const) {
      for (const lend of [false, true]) {
        const c = await fileChunks(file(`${name}-${lend}`, bytes), new DigestCheck(check));
        let closed = false;
        c.onClose = () => (closed = true);
        await assert.rejects(decompressBlob(c, 'sha256:x', () => {}, { lend }), expected, `${name}, lend ${lend}`);
        assert.equal(closed, true);
      }
    }
    const c = await fileChunks(file('consumer-fails', zst), new DigestCheck(sha256(zst)));
    await assert.rejects(decompressBlob(c, 'sha256:x', () => {
      throw new Error('not a tar');
    }, { lend: true }), /^Error: not a tar$/);
  });

  it('passes a digest mismatch through, and never resolves a tampered layer', async () => {
    const blob = Buffer.from(compress(tarBytes, 'gzip'));
    const path = file('tampered', blob);
    const c = await fileChunks(path, new DigestCheck(sha256(Buffer.concat([blob, Buffer.from('x')]))));
    await assert.rejects(decompressBlob(c, 'sha256:x', () => {}), { code: 'digest-mismatch' });
  });

  it('passes errors of the consumer through unchanged and closes the blob', async () => {
    const blob = compress(tarBytes, 'zstd');
    const c = streamChunks(Readable.from([blob]));
    let closed = false;
    c.onClose = () => (closed = true);
    await assert.rejects(decompressBlob(c, 'sha256:x', () => {
      throw new Error('not a tar');
    }), /^Error: not a tar$/);
    assert.equal(closed, true);
  });

  it('turns a read error into bad-layer', async () => {
    const failing: BlobChunks = { bytesRead: 0, read: () => Promise.reject(new Error('EIO')), close: () => {} };
    await assert.rejects(decompressBlob(failing, 'sha256:x', () => {}), { code: 'bad-layer', message: 'layer sha256:x: reading failed: EIO' });
  });
});
