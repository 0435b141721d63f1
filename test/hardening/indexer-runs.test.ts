import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { makeTar, sha256Digest } from '../support/tar-layer.ts';
import { Indexer } from '../../src/indexer/indexer.ts';
import { scannerSetKey } from '../../src/indexer/scanner-set.ts';
import type { ResolvedImage } from '../../src/image/resolved-image.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { dpkgStatusScanner } from '../../src/ecosystems/dpkg/scanner.ts';

// Issue #18, items 3 and 5 through the indexer: a failed index stores no layer rows; a hard-linked status is read.

function image(layers: Buffer[]): ResolvedImage {
  const descs = layers.map((b) => ({ digest: sha256Digest(b) }));
  return {
    reference: 'test', manifestDigest: 'sha256:' + 'e'.repeat(64), layers: descs,
    openLayer: async (l) => Readable.from([layers[descs.findIndex((d) => d.digest === l.digest)]!]),
    close: async () => {},
  };
}

test('#18.3 an index that fails stores no layer report for the layers it scanned', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    const good = await makeTar([{ path: 'var/lib/dpkg/status', content: 'Package: a\nStatus: install ok installed\nVersion: 1\n' }]);
    const bad = Buffer.from('this is not a tar at all '.repeat(50));
    const indexer = new Indexer(store, [dpkgStatusScanner]);
    await assert.rejects(indexer.index(image([good, bad]), { concurrency: 1 }), { code: 'bad-layer' });
    const set = scannerSetKey([dpkgStatusScanner]);
    assert.equal(await store.getLayerReport(sha256Digest(good), set), undefined, 'the good layer of the failed image was not kept');
    assert.equal(await store.getIndexReport('sha256:' + 'e'.repeat(64)), undefined);
    // The same layer in an image that indexes is kept.
    const ok = await indexer.index(image([good]));
    assert.equal(Object.keys(ok.report.packages).length, 1);
    assert.ok(await store.getLayerReport(sha256Digest(good), set));
  } finally {
    await store.close();
  }
});

test('#18.3 an image with 130k packages indexes and is stored', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    const lines: string[] = [];
    for (let i = 0; i < 130_000; i++) lines.push(`Package: p${i}\nStatus: install ok installed\nVersion: 1.${i}\n`);
    const layer = await makeTar([{ path: 'var/lib/dpkg/status', content: lines.join('\n') }]);
    const r = await new Indexer(store, [dpkgStatusScanner]).index(image([layer]));
    assert.equal(Object.keys(r.report.packages).length, 130_000);
    assert.equal(r.report.err, '');
    assert.equal(Object.keys((await store.getIndexReport(r.report.manifestHash))!.report.packages).length, 130_000);
  } finally {
    await store.close();
  }
});

test('#18.5 the indexer honours a hard-linked var/lib/dpkg/status in an upper layer', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    const base = await makeTar([{ path: 'var/lib/dpkg/status', content: 'Package: old\nStatus: install ok installed\nVersion: 1\n' }]);
    const upper = await makeTar([
      { path: 'etc/dpkg-status.new', content: 'Package: new\nStatus: install ok installed\nVersion: 2\n' },
      { path: 'var/lib/dpkg/status', type: 'link', linkname: 'etc/dpkg-status.new' },
    ]);
    const r = await new Indexer(store, [dpkgStatusScanner]).index(image([base, upper]));
    assert.deepEqual(Object.values(r.report.packages).map((p) => `${p.name} ${p.version}`), ['new 2']);
    assert.equal(r.report.err, '');
  } finally {
    await store.close();
  }
});

// Issue 17: large layers scanned in worker threads (forced here on small layers and any machine) go through the same
// failure rules: a bad layer fails the image and stores nothing, the report equals the main thread's, hard links read.
test('#17 layers scanned in worker threads: same report as the main thread, a bad layer stores nothing', async (t) => {
  const { allScanners, scannerRecipe } = await import('../../src/ecosystems/registry.ts');
  const sized = (layers: Buffer[]): ResolvedImage => {
    const img = image(layers);
    img.layers.forEach((l, i) => (l.size = layers[i]!.length));
    return img;
  };
  const inWorkers = SqliteStore.open(':memory:');
  const inProcess = SqliteStore.open(':memory:');
  const indexer = new Indexer(inWorkers, allScanners(), { workers: scannerRecipe(), workerThreads: 2, workerMinBytes: 0 });
  t.after(async () => {
    await indexer.close();
    await inWorkers.close();
    await inProcess.close();
  });
  const base = await makeTar([
    { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { path: 'var/lib/dpkg/status', content: 'Package: old\nStatus: install ok installed\nVersion: 1\n' },
  ]);
  const upper = await makeTar([
    { path: 'etc/dpkg-status.new', content: 'Package: new\nStatus: install ok installed\nVersion: 2\n' },
    { path: 'var/lib/dpkg/status', type: 'link', linkname: 'etc/dpkg-status.new' },
  ]);
  const bad = Buffer.from('this is not a tar at all '.repeat(50));
  await assert.rejects(indexer.index(sized([base, bad])), { code: 'bad-layer' });
  assert.equal(await inWorkers.getLayerReport(sha256Digest(base), scannerSetKey(allScanners())), undefined);
  const r = await indexer.index(sized([base, upper]));
  assert.deepEqual(Object.values(r.report.packages).map((p) => `${p.name} ${p.version}`), ['new 2']);
  const expected = await new Indexer(inProcess, allScanners()).index(sized([base, upper]));
  assert.deepEqual(r.report, expected.report);
});

test('#18.3 a layer still being scanned when another fails stores nothing either', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    const good = await makeTar([{ path: 'var/lib/dpkg/status', content: 'Package: a\nStatus: install ok installed\nVersion: 1\n' }]);
    const bad = Buffer.from('this is not a tar at all '.repeat(50));
    const goodDigest = sha256Digest(good);
    // The good layer's bytes come only once the bad layer's stream is over, so it is in flight when the image fails.
    let badClosed!: () => void;
    const badOver = new Promise<void>((resolve) => (badClosed = resolve));
    let goodStored!: () => void;
    const goodStoredOnce = new Promise<void>((resolve) => (goodStored = resolve));
    const put = store.putLayerReport.bind(store);
    store.putLayerReport = async (r) => {
      await put(r);
      if (r.digest === goodDigest) goodStored();
    };
    const img = image([good, bad]);
    const open = img.openLayer;
    img.openLayer = async (l) => {
      const s = await open(l);
      if (l.digest === goodDigest) {
        await badOver;
        return s;
      }
      s.once('close', () => badClosed());
      return s;
    };
    await assert.rejects(new Indexer(store, [dpkgStatusScanner]).index(img, { concurrency: 2 }), { code: 'bad-layer' });
    await goodStoredOnce;
    assert.equal(await store.getLayerReport(goodDigest, scannerSetKey([dpkgStatusScanner])), undefined);
  } finally {
    await store.close();
  }
});

test('#18.3 an OCI layout with a tampered layer blob (read through readLayer): digest-mismatch, nothing stored', async () => {
  const { mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { buildLayer, OciLayoutWriter } = await import('../../src/image/testdata/image-builder.ts');
  const { openImage } = await import('../../src/image/image-source.ts');
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-tampered-'));
  const store = SqliteStore.open(':memory:');
  try {
    const status = 'Package: a\nStatus: install ok installed\nVersion: 1\n';
    // Big enough that the tampered byte lies past the first reads: the good bytes before it reach the scanners.
    const filler = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `line ${i} of a file nobody reads\n`).join(''));
    const good = buildLayer(await makeTar([{ path: 'var/lib/dpkg/status', content: status }]), 'gzip');
    const bad = buildLayer(await makeTar([{ path: 'var/lib/dpkg/status', content: status }, { path: 'usr/share/filler', content: filler }]), 'none');
    const w = await new OciLayoutWriter(dir).init();
    const img = await w.addImage([good, bad]);
    await w.writeIndex([{ descriptor: img.manifest }]);
    const path = join(dir, 'blobs', 'sha256', bad.digest.slice('sha256:'.length));
    const bytes = Buffer.from(await readFile(path));
    bytes[bytes.length - 2000]! ^= 0x01; // inside the tar's end-of-archive blocks: a tar reader would not notice
    await writeFile(path, bytes);
    const image = await openImage(`oci:${dir}`);
    assert.ok(image.readLayer, 'OCI layouts read layers through readLayer');
    await assert.rejects(new Indexer(store, [dpkgStatusScanner]).index(image, { concurrency: 1 }), { code: 'digest-mismatch' });
    const set = scannerSetKey([dpkgStatusScanner]);
    assert.equal(await store.getLayerReport(good.digest, set), undefined, 'the good layer of the failed image was not kept');
    assert.equal(await store.getLayerReport(bad.digest, set), undefined);
    assert.equal(await store.getIndexReport(image.manifestDigest), undefined);
    await image.close();
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
