import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClairError } from '../model/errors.ts';
import { openImage } from './image-source.ts';
import { decompressBlob, decompressLayer } from './layer-stream.ts';
import { sha256 } from './testdata/image-builder.ts';
import { buildLayer, collect, layerTar, OciLayoutWriter, type BuiltImage, type BuiltLayer } from './testdata/image-builder.ts';
import { diffIdsRead, expectClairError } from './testdata/image-checks.ts';

describe('openImage oci:', () => {
  let root: string;
  let base: BuiltLayer;
  let app: BuiltLayer;
  let single: string; // one manifest, gzip + zstd + plain layers
  let singleImage: BuiltImage;
  let tagged: string; // two tagged manifests
  let taggedImages: { one: BuiltImage; two: BuiltImage };
  let multi: string; // index.json → image index → amd64 + arm64/v8 manifests
  let multiImages: { amd64: BuiltImage; arm64: BuiltImage; index: string };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'clair-oci-'));
    const baseTar = await layerTar({ 'etc/os-release': 'ID=alpine\nVERSION_ID=3.20.0\n' });
    const appTar = await layerTar({ 'lib/apk/db/installed': 'P:musl\nV:1.2.5-r0\n\n' });
    base = buildLayer(baseTar, 'gzip');
    app = buildLayer(appTar, 'zstd');
    const plain = buildLayer(await layerTar({ 'app/readme': 'plain layer' }), 'none');

    single = join(root, 'single');
    const w1 = await new OciLayoutWriter(single).init();
    singleImage = await w1.addImage([base, app, plain]);
    await w1.writeIndex([{ descriptor: singleImage.manifest }]);

    tagged = join(root, 'tagged');
    const w2 = await new OciLayoutWriter(tagged).init();
    const one = await w2.addImage([base]);
    const two = await w2.addImage([base, app]);
    await w2.writeIndex([
      { descriptor: one.manifest, tag: 'one' },
      { descriptor: two.manifest, tag: 'two' },
    ]);
    taggedImages = { one, two };

    multi = join(root, 'multi');
    const w3 = await new OciLayoutWriter(multi).init();
    const amd64 = await w3.addImage([base], { os: 'linux', architecture: 'amd64' });
    const arm64 = await w3.addImage([base, app], { os: 'linux', architecture: 'arm64', variant: 'v8' });
    const index = await w3.addIndex([amd64.manifest, arm64.manifest]);
    await w3.writeIndex([{ descriptor: index, tag: 'latest' }]);
    multiImages = { amd64, arm64, index: index.digest };
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('opens a layout with a single manifest and streams gzip, zstd and plain layers', async () => {
    const image = await openImage(`oci:${single}`);
    assert.equal(image.reference, `oci:${single}`);
    assert.equal(image.manifestDigest, singleImage.manifest.digest);
    assert.equal(image.configDigest, singleImage.configDigest);
    assert.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(
      image.layers,
      singleImage.layers.map((l) => ({ digest: l.digest, diffId: l.diffId, size: l.blob.length, mediaType: l.mediaType })),
    );
    assert.deepEqual(await diffIdsRead(image), singleImage.layers.map((l) => l.diffId));
    // Still-compressed bytes are what openLayer gives.
    assert.deepEqual(await collect(await image.openLayer(image.layers[0]!)), base.blob);
    // readLayer (reused buffers, the indexer's path) gives the same layers.
    for (const l of image.layers) {
      const out: Buffer[] = [];
      await decompressBlob(await image.readLayer!(l), l.digest, (c) => out.push(c));
      assert.equal(sha256(Buffer.concat(out)), l.diffId);
    }
    // close() ends a layer still being read and refuses new ones.
    const open = await image.readLayer!(image.layers[0]!);
    await image.close();
    await assert.rejects(open.read(), /closed/);
    await assert.rejects(image.openLayer(image.layers[0]!), expectClairError('bad-input', /was closed/));
    await assert.rejects(image.readLayer!(image.layers[0]!), expectClairError('bad-input', /was closed/));
  });

  const tagCases: { tag: string; want: () => BuiltImage }[] = [
    { tag: 'one', want: () => taggedImages.one },
    { tag: 'two', want: () => taggedImages.two },
  ];
  for (const c of tagCases) {
    it(`selects the manifest tagged ${c.tag}`, async () => {
      const image = await openImage(`oci:${tagged}:${c.tag}`);
      assert.equal(image.manifestDigest, c.want().manifest.digest);
      assert.deepEqual(image.layers.map((l) => l.diffId), c.want().layers.map((l) => l.diffId));
    });
  }

  it('fails on an unknown tag, listing the tags there are', async () => {
    await assert.rejects(openImage(`oci:${tagged}:three`), expectClairError('not-found', /tag "three" not found in OCI layout .*available: one, two/));
  });

  it('refuses to guess among several images, listing their ref names', async () => {
    await assert.rejects(openImage(`oci:${tagged}`), expectClairError('bad-input', /holds 2 images; name one with :TAG\. Available: one, two/));
  });

  const platformCases: { platform: string; want: () => BuiltImage }[] = [
    { platform: 'linux/amd64', want: () => multiImages.amd64 },
    { platform: 'linux/arm64', want: () => multiImages.arm64 },
    { platform: 'linux/arm64/v8', want: () => multiImages.arm64 },
  ];
  for (const c of platformCases) {
    it(`resolves a nested index to ${c.platform}`, async () => {
      const image = await openImage(`oci:${multi}:latest`, { platform: c.platform });
      assert.equal(image.manifestDigest, c.want().manifest.digest);
      assert.notEqual(image.manifestDigest, multiImages.index);
      assert.equal(image.platform?.architecture, c.want().manifest.platform?.architecture);
      assert.deepEqual(await diffIdsRead(image), c.want().layers.map((l) => l.diffId));
    });
  }

  it('fails when no platform matches, listing the platforms', async () => {
    await assert.rejects(openImage(`oci:${multi}`, { platform: 'linux/s390x' }), expectClairError('not-found', /no image for platform linux\/s390x.*available platforms: linux\/amd64, linux\/arm64\/v8/));
    await assert.rejects(openImage(`oci:${multi}`, { platform: 'linux/arm64/v9' }), expectClairError('not-found', /linux\/arm64\/v9/));
  });

  it('defaults to the host platform', async (t) => {
    const host = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'];
    if (host === undefined || process.platform !== 'linux') return t.skip(`no image for host ${process.platform}/${process.arch} in the fixture`);
    const image = await openImage(`oci:${multi}`);
    assert.equal(image.platform?.architecture, host);
  });

  it('rejects a malformed --platform', async () => {
    await assert.rejects(openImage(`oci:${multi}`, { platform: 'amd64' }), expectClairError('bad-input', /os\/arch/));
  });

  describe('broken layouts', () => {
    let broken: string;
    let image: BuiltImage;
    before(async () => {
      broken = join(root, 'broken');
      const w = await new OciLayoutWriter(broken).init();
      image = await w.addImage([base, app]);
      await w.writeIndex([{ descriptor: image.manifest }]);
    });

    it('fails with digest-mismatch at the end of a layer whose blob has a flipped byte', async () => {
      const path = join(broken, 'blobs', 'sha256', app.digest.slice(7));
      const bytes = Buffer.from(await readFile(path));
      bytes[bytes.length - 5]! ^= 0x01;
      await writeFile(path, bytes);
      try {
        const img = await openImage(`oci:${broken}`);
        const stream = await img.openLayer(img.layers[1]!);
        await assert.rejects(collect(stream), expectClairError('digest-mismatch', new RegExp(`^layer ${app.digest}: expected ${app.digest}, got sha256:`)));
        // The same error reaches a consumer of the decompressed stream (unless zstd itself notices first).
        await assert.rejects(collect(decompressLayer(await img.openLayer(img.layers[1]!), app.digest)), (err: unknown) => err instanceof ClairError && ['digest-mismatch', 'bad-layer'].includes(err.code));
        await assert.rejects(decompressBlob(await img.readLayer!(img.layers[1]!), app.digest, () => {}), (err: unknown) => err instanceof ClairError && ['digest-mismatch', 'bad-layer'].includes(err.code));
      } finally {
        await writeFile(path, app.blob);
      }
    });

    it('fails with not-found when a layer blob is missing', async () => {
      const path = join(broken, 'blobs', 'sha256', base.digest.slice(7));
      await unlink(path);
      try {
        const img = await openImage(`oci:${broken}`);
        await assert.rejects(img.openLayer(img.layers[0]!), expectClairError('not-found', new RegExp(`layer ${base.digest}: blob blobs/sha256/[0-9a-f]+ is missing from OCI layout`)));
        await assert.rejects(img.readLayer!(img.layers[0]!), expectClairError('not-found', new RegExp(`layer ${base.digest}: blob blobs/sha256/[0-9a-f]+ is missing from OCI layout`)));
      } finally {
        await writeFile(path, base.blob);
      }
    });

    it('fails when the config blob is missing or altered', async () => {
      const path = join(broken, 'blobs', 'sha256', image.configDigest.slice(7));
      await writeFile(path, Buffer.concat([image.config, Buffer.from(' ')]));
      await assert.rejects(openImage(`oci:${broken}`), expectClairError('digest-mismatch', /config sha256:.*expected \d+ bytes/));
      await unlink(path);
      await assert.rejects(openImage(`oci:${broken}`), expectClairError('not-found', /config sha256:.* is missing/));
      await writeFile(path, image.config);
      await openImage(`oci:${broken}`); // restored
    });

    const files: { name: string; file: string; content: string | undefined; code: string; message: RegExp }[] = [
      { name: 'no oci-layout', file: 'oci-layout', content: undefined, code: 'bad-image', message: /is not an OCI image layout: oci-layout is missing/ },
      { name: 'no imageLayoutVersion', file: 'oci-layout', content: '{}', code: 'bad-image', message: /has no imageLayoutVersion/ },
      { name: 'layout version 2', file: 'oci-layout', content: '{"imageLayoutVersion":"2.0.0"}', code: 'unsupported', message: /2\.0\.0 is not supported/ },
      { name: 'malformed index.json', file: 'index.json', content: '{"manifests": [', code: 'bad-image', message: /index\.json is not valid JSON/ },
      { name: 'index.json without manifests', file: 'index.json', content: '{"schemaVersion":2}', code: 'bad-image', message: /no manifests array/ },
      { name: 'empty index', file: 'index.json', content: '{"schemaVersion":2,"manifests":[]}', code: 'bad-image', message: /lists no manifests/ },
    ];
    for (const c of files) {
      it(`fails on ${c.name}`, async () => {
        const path = join(broken, c.file);
        const original = await readFile(path);
        if (c.content === undefined) await unlink(path);
        else await writeFile(path, c.content);
        try {
          await assert.rejects(openImage(`oci:${broken}`), expectClairError(c.code, c.message));
        } finally {
          await writeFile(path, original);
        }
      });
    }
  });

  const refs: { name: string; ref: () => string; code: string; message: RegExp }[] = [
    { name: 'a missing path', ref: () => `oci:${join(root, 'nope')}`, code: 'not-found', message: /OCI layout .*nope does not exist/ },
    { name: 'a file, not a folder', ref: () => `oci:${join(single, 'index.json')}`, code: 'bad-input', message: /is not a directory/ },
    { name: 'an unknown prefix', ref: () => `docker://${single}`, code: 'bad-input', message: /unknown or missing transport prefix; expected oci:PATH\[:TAG\]/ },
    { name: 'no prefix', ref: () => single, code: 'bad-input', message: /unknown or missing transport prefix/ },
    { name: 'an empty path', ref: () => 'oci:', code: 'bad-input', message: /has no path/ },
  ];
  for (const c of refs) {
    it(`fails on ${c.name}`, async () => {
      await assert.rejects(openImage(c.ref()), expectClairError(c.code, c.message));
    });
  }
});
