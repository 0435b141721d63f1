import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { makeTar } from '../../test/support/tar-layer.ts';
import { allScanners, scannerRecipe } from '../ecosystems/registry.ts';
import { decompressLayer } from '../image/layer-stream.ts';
import { ClairError } from '../model/errors.ts';
import { walkLayer } from './layer-walker.ts';
import { LayerWorkers } from './layer-workers.ts';

// Layers scanned in worker threads give what the main thread's walk gives, fail with the same ClairErrors, and a
// failure (of the bytes, of the worker's recipe) never leaves a scan hanging or a worker unusable.

const STATUS = 'Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\nSource: glibc\n\n'
  + 'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2\nArchitecture: amd64\n\n';

async function layer(): Promise<Buffer> {
  return makeTar([
    { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { path: 'usr/share/doc/x', content: Buffer.alloc(3 << 20, 1) }, // several chunks of nothing wanted
    { path: 'var/lib/dpkg/status', content: STATUS },
    { path: 'usr/lib/.wh.gone', content: '' },
    { path: 'var/lib/dpkg/status-link', type: 'link', linkname: 'var/lib/dpkg/status' },
  ]);
}

/** Chunks of `size` bytes, each its own ArrayBuffer (as fs reads give) or views into one (as HTTP bodies may). */
function chunked(bytes: Buffer, size: number, owned: boolean): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const view = bytes.subarray(at, at + size);
    parts.push(owned ? Buffer.from(view) : view);
  }
  return Readable.from(parts, { objectMode: false });
}

test('a layer scanned in a worker gives the main thread walk, for owned and shared chunks', async (t) => {
  const workers = new LayerWorkers(scannerRecipe(), 2);
  t.after(() => workers.close());
  const gz = gzipSync(await layer());
  const expected = await walkLayer([decompressLayer(Readable.from([gz]), 'sha256:l')], 'sha256:l', allScanners());
  assert.ok(expected.findings.some((f) => f.packageDbs?.some((d) => d.packages.length === 2)));
  assert.deepEqual(expected.whiteouts, ['usr/lib/gone']);
  for (const owned of [true, false]) {
    // Two at a time, through a pool of two.
    const [a, b] = await Promise.all([
      workers.walk(chunked(gz, 1000, owned), 'sha256:l'),
      workers.walk(chunked(gz, 65536, owned), 'sha256:l'),
    ]);
    assert.deepEqual(a, expected);
    assert.deepEqual(b, expected);
  }
});

test('errors: corrupt data is the worker\'s bad-layer error, a failing source rejects as it failed; the pool goes on', async (t) => {
  const workers = new LayerWorkers(scannerRecipe(), 1);
  t.after(() => workers.close());
  const gz = gzipSync(await layer());
  const corrupt = Buffer.from(gz);
  corrupt.fill(0x55, 100, 400);
  await assert.rejects(workers.walk(chunked(corrupt, 4096, true), 'sha256:bad'), (e: unknown) =>
    e instanceof ClairError && e.code === 'bad-layer' && e.message.includes('sha256:bad'));
  const notTar = gzipSync(Buffer.alloc(4096, 7));
  await assert.rejects(workers.walk(chunked(notTar, 4096, true), 'sha256:nottar'), (e: unknown) => e instanceof ClairError && e.code === 'bad-layer');
  const failing = new Readable({
    read() {
      this.push(gz.subarray(0, 2000));
      this.destroy(new ClairError('digest-mismatch', 'layer sha256:x: expected sha256:x, got sha256:y'));
    },
  });
  await assert.rejects(workers.walk(failing, 'sha256:x'), (e: unknown) => e instanceof ClairError && e.code === 'digest-mismatch');
  // The one worker is free again and scans the next layer.
  const ok = await workers.walk(chunked(gz, 8192, true), 'sha256:l');
  assert.deepEqual(ok.whiteouts, ['usr/lib/gone']);
});

test('a recipe that builds no scanners fails each scan with its reason, without hanging', async (t) => {
  const workers = new LayerWorkers({ module: new URL('../ecosystems/registry.ts', import.meta.url).href, export: 'noSuchExport', options: {} }, 1);
  t.after(() => workers.close());
  const gz = gzipSync(await layer());
  await assert.rejects(workers.walk(chunked(gz, 4096, true), 'sha256:l'), /noSuchExport/);
  await workers.close();
  await assert.rejects(workers.walk(chunked(gz, 4096, true), 'sha256:l'), /closed/);
});
