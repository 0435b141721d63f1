import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { ClairError } from '../model/errors.ts';
import { decompressLayer } from './layer-stream.ts';
import { collect, compress, layerTar, type LayerCompression } from './testdata/image-builder.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

function chunked(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

async function expectError(stream: Readable, code: string, message: RegExp): Promise<void> {
  await assert.rejects(collect(stream), (err: unknown) => {
    assert.ok(err instanceof ClairError, `expected ClairError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('decompressLayer', async () => {
  const tarBytes = await layerTar({ 'etc/os-release': 'ID=debian\n', 'var/lib/dpkg/status': 'Package: bash\n'.repeat(200) });

  const forms: { compression: LayerCompression; chunk: number }[] = [
    { compression: 'gzip', chunk: 64 * 1024 },
    { compression: 'zstd', chunk: 64 * 1024 },
    { compression: 'none', chunk: 64 * 1024 },
    // One byte at a time: the sniffer must gather its head across chunks.
    { compression: 'gzip', chunk: 1 },
    { compression: 'zstd', chunk: 1 },
    { compression: 'none', chunk: 7 },
  ];
  for (const f of forms) {
    it(`turns a ${f.compression} layer (chunks of ${f.chunk}) into the same tar`, async () => {
      const out = await collect(decompressLayer(chunked(compress(tarBytes, f.compression), f.chunk), DIGEST));
      assert.deepEqual(out, tarBytes);
    });
  }

  it('yields a tar that tar-stream reads', async () => {
    const extract = tar.extract();
    decompressLayer(chunked(compress(tarBytes, 'zstd'), 1000), DIGEST).pipe(extract as unknown as NodeJS.WritableStream);
    const names: string[] = [];
    for await (const e of extract) {
      names.push(e.header.name);
      e.resume();
    }
    assert.deepEqual(names, ['etc/os-release', 'var/lib/dpkg/status']);
  });

  it('passes an empty stream through (the tar parser decides)', async () => {
    assert.equal((await collect(decompressLayer(Readable.from([], { objectMode: false }), DIGEST))).length, 0);
  });

  const bad: { name: string; bytes: () => Buffer; code: string; message: RegExp }[] = [
    { name: 'truncated gzip', bytes: () => compress(tarBytes, 'gzip').subarray(0, 60), code: 'bad-layer', message: new RegExp(`^layer ${DIGEST}: gzip data is corrupt or truncated`) },
    { name: 'truncated zstd', bytes: () => compress(tarBytes, 'zstd').subarray(0, 60), code: 'bad-layer', message: /zstd data is corrupt or truncated/ },
    {
      name: 'corrupt gzip body',
      bytes: () => {
        const b = Buffer.from(compress(tarBytes, 'gzip'));
        b.fill(0xff, 20, 40);
        return b;
      },
      code: 'bad-layer',
      message: /gzip data is corrupt/,
    },
    { name: 'xz', bytes: () => Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(600)]), code: 'unsupported', message: /xz-compressed/ },
    { name: 'HTML instead of a layer', bytes: () => Buffer.from('<html>' + 'x'.repeat(1000)), code: 'bad-layer', message: /is not gzip, zstd or tar \(no ustar magic.*starts with 3c68746d6c3e/ },
  ];
  for (const c of bad) {
    it(`fails on ${c.name} with ${c.code}`, async () => {
      await expectError(decompressLayer(chunked(c.bytes(), 16), DIGEST), c.code, c.message);
    });
  }

  it('passes errors of the source through unchanged, before and after the sniffed head', async () => {
    for (const after of [0, 2000]) {
      const src = new PassThrough();
      const out = decompressLayer(src, DIGEST);
      src.write(compress(tarBytes, 'none').subarray(0, after));
      setImmediate(() => src.destroy(new ClairError('digest-mismatch', `layer ${DIGEST}: expected x, got y`)));
      await expectError(out, 'digest-mismatch', /expected x, got y/);
    }
  });

  it('destroys the source when the consumer stops early', async () => {
    const src = chunked(compress(tarBytes, 'gzip'), 10);
    const out = decompressLayer(src, DIGEST);
    for await (const _ of out) break;
    await new Promise((r) => setImmediate(r));
    assert.equal(src.destroyed, true);
  });
});
