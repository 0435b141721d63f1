import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { synthesizedManifest } from './docker-archive.ts';
import { openImage } from './image-source.ts';
import type { ResolvedImage } from './resolved-image.ts';
import { buildLayer, collect, dockerArchive, layerTar, OciLayoutWriter, sha256, type BuiltLayer } from './testdata/image-builder.ts';
import { diffIdsRead, expectClairError } from './testdata/image-checks.ts';

describe('openImage docker-archive:', () => {
  let root: string;
  let base: BuiltLayer;
  let app: BuiltLayer;
  let extra: BuiltLayer;
  const write = async (name: string, bytes: Buffer): Promise<string> => {
    const path = join(root, name);
    await writeFile(path, bytes);
    return path;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'clair-docker-'));
    base = buildLayer(await layerTar({ 'etc/os-release': 'ID=debian\nVERSION_ID="12"\n' }), 'gzip');
    app = buildLayer(await layerTar({ 'var/lib/dpkg/status': 'Package: bash\nVersion: 5.2.15-2+b7\n\n' }), 'none');
    extra = buildLayer(await layerTar({ 'srv/x': 'y'.repeat(3000) }), 'zstd');
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('reads a classic archive: layer digests are the diff_ids, verified while streaming', async () => {
    const { bytes, manifests } = await dockerArchive([{ repoTags: ['debian:12'], layers: [base, app] }], 'classic');
    const path = await write('classic.tar', bytes);
    const image = await openImage(`docker-archive:${path}`);
    const built = manifests[0]!;
    assert.equal(image.configDigest, built.configDigest);
    assert.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(
      image.layers,
      [base, app].map((l) => ({ digest: l.diffId, diffId: l.diffId, size: l.tar.length, mediaType: 'application/vnd.docker.image.rootfs.diff.tar' })),
    );
    assert.equal(image.manifestDigest, sha256(synthesizedManifest(built.configDigest, built.config.length, image.layers)));
    // Through openLayer and readLayer (positional reads of the archive, the indexer's path).
    assert.ok(image.readLayer, 'an uncompressed archive reads layers through readLayer');
    assert.deepEqual(await diffIdsRead(image), [base.diffId, app.diffId]);
    // Straight out of the archive, uncompressed.
    assert.deepEqual(await collect(await image.openLayer(image.layers[0]!)), base.tar);
    const chunks: Buffer[] = [];
    const blob = await image.readLayer(image.layers[1]!);
    for (let c = await blob.read(); c; c = await blob.read()) chunks.push(Buffer.from(c));
    assert.deepEqual(Buffer.concat(chunks), app.tar);
    // close() ends a layer still being read and refuses new ones.
    const open = await image.readLayer(image.layers[0]!);
    await image.close();
    await assert.rejects(open.read(), /closed/);
    await assert.rejects(image.readLayer(image.layers[0]!), expectClairError('bad-input', /was closed/));
  });

  it('gives the same synthesized manifest digest for the same image in another archive', async () => {
    const a = await write('same-a.tar', (await dockerArchive([{ repoTags: ['a:1'], layers: [base, app] }], 'classic')).bytes);
    const b = await write('same-b.tar', (await dockerArchive([{ repoTags: ['other:2', 'x:y'], layers: [base, app] }], 'classic')).bytes);
    const c = await write('same-c.tar', (await dockerArchive([{ repoTags: ['a:1'], layers: [base] }], 'classic')).bytes);
    const [ia, ib, ic] = await Promise.all([a, b, c].map((p) => openImage(`docker-archive:${p}`)));
    assert.equal(ia!.manifestDigest, ib!.manifestDigest);
    assert.notEqual(ia!.manifestDigest, ic!.manifestDigest);
  });

  it('reads a Docker 25+ archive (OCI layout inside): blob digests, real manifest digest, compressed layers', async () => {
    const { bytes, manifests } = await dockerArchive([{ repoTags: ['debian:12'], layers: [base, app, extra] }], 'oci');
    const path = await write('oci.tar', bytes);
    const image = await openImage(`docker-archive:${path}`);
    const built = manifests[0]!;
    assert.equal(image.manifestDigest, built.manifest.digest);
    assert.equal(image.configDigest, built.configDigest);
    assert.deepEqual(
      image.layers,
      [base, app, extra].map((l) => ({ digest: l.digest, diffId: l.diffId, size: l.blob.length, mediaType: l.mediaType })),
    );
    assert.deepEqual(await diffIdsRead(image), [base.diffId, app.diffId, extra.diffId]);
  });

  const choices: { name: string; suffix: string; want: number }[] = [
    { name: 'REPO:TAG', suffix: ':debian:12', want: 0 },
    { name: 'a second tag of the same image', suffix: ':docker.io/library/debian:bookworm', want: 0 },
    { name: 'REPO with a registry port', suffix: ':localhost:5000/app:1', want: 1 },
    { name: 'REPO alone meaning :latest', suffix: ':localhost:5000/app', want: 2 },
    { name: 'an index', suffix: ':@1', want: 1 },
  ];
  for (const layout of ['classic', 'oci'] as const) {
    describe(`several images (${layout})`, () => {
      let path: string;
      const images = (): { repoTags: string[]; layers: BuiltLayer[] }[] => [
        { repoTags: ['debian:12', 'debian:bookworm'], layers: [base] },
        { repoTags: ['localhost:5000/app:1'], layers: [base, app] },
        { repoTags: ['localhost:5000/app:latest'], layers: [base, app, extra] },
      ];
      before(async () => {
        path = await write(`several-${layout}.tar`, (await dockerArchive(images(), layout)).bytes);
      });
      for (const c of choices) {
        it(`chooses by ${c.name}`, async () => {
          const image = await openImage(`docker-archive:${path}${c.suffix}`);
          const want = images()[c.want]!.layers;
          assert.deepEqual(image.layers.map((l) => l.diffId), want.map((l) => l.diffId));
          // Classic layout: the layer shared with an earlier image is a symlink inside the tar.
          assert.deepEqual(await diffIdsRead(image), want.map((l) => l.diffId));
        });
      }
      it('refuses to guess, listing the images', async () => {
        await assert.rejects(openImage(`docker-archive:${path}`), expectClairError('bad-input', /holds 3 images; name one with docker-archive:PATH:REPO:TAG.*debian:12 debian:bookworm, localhost:5000\/app:1, localhost:5000\/app:latest/));
      });
      it('fails on a name it does not hold', async () => {
        await assert.rejects(openImage(`docker-archive:${path}:debian:11`), expectClairError('not-found', /has no image debian:11; available:/));
        await assert.rejects(openImage(`docker-archive:${path}:@3`), expectClairError('not-found', /has no image @3/));
      });
    });
  }

  for (const layout of ['classic', 'oci'] as const) {
    it(`reads a gzip-compressed ${layout} archive (sequential fallback)`, async () => {
      const { bytes } = await dockerArchive([{ repoTags: ['debian:12'], layers: [base, app, extra] }], layout, { gzip: true });
      const path = await write(`compressed-${layout}.tar.gz`, bytes);
      const image = await openImage(`docker-archive:${path}`);
      // No byte ranges in a gzip stream: layers are read through openLayer only.
      assert.equal(image.readLayer, undefined);
      assert.deepEqual(await diffIdsRead(image), [base.diffId, app.diffId, extra.diffId]);
    });
  }

  it('fails with digest-mismatch when a classic layer.tar was altered', async () => {
    const { bytes } = await dockerArchive([{ repoTags: ['debian:12'], layers: [base, app] }], 'classic');
    const at = bytes.indexOf(Buffer.from('Version: 5.2.15'));
    assert.ok(at > 0);
    const altered = Buffer.from(bytes);
    altered[at + 'Version: '.length] = '6'.charCodeAt(0);
    const image = await openImage(`docker-archive:${await write('altered.tar', altered)}`);
    await collect(await image.openLayer(image.layers[0]!)); // untouched layer still reads
    await assert.rejects(collect(await image.openLayer(image.layers[1]!)), expectClairError('digest-mismatch', new RegExp(`^layer ${app.diffId}: expected ${app.diffId}, got sha256:`)));
    // readLayer checks the same: its last read fails instead of ending.
    const blob = await image.readLayer!(image.layers[1]!);
    await assert.rejects(async () => {
      while (await blob.read());
    }, expectClairError('digest-mismatch', new RegExp(`^layer ${app.diffId}: expected ${app.diffId}, got sha256:`)));
  });

  it('fails with not-found when a listed layer is not in the archive', async () => {
    const { bytes } = await dockerArchive([{ repoTags: ['debian:12'], layers: [base, app] }], 'oci');
    const manifestJson = JSON.parse(bytes.subarray(bytes.indexOf(Buffer.from('[{"Config"'))).toString('utf8').replace(/\0.*$/s, '')) as { Layers: string[] }[];
    const missing = `blobs/sha256/${'0'.repeat(64)}`;
    manifestJson[0]!.Layers[1] = missing;
    // Rebuild by hand: same archive, manifest.json pointing at a blob that is not there.
    const tar = (await import('tar-stream')).default;
    const pack = tar.pack();
    const extract = tar.extract();
    const done = (async () => {
      for await (const e of extract) {
        const content = await collect(e);
        pack.entry({ name: e.header.name }, e.header.name === 'manifest.json' ? JSON.stringify(manifestJson) : content);
      }
      pack.finalize();
    })();
    extract.end(bytes);
    await done;
    const image = await openImage(`docker-archive:${await write('missing-layer.tar', await collect(pack))}`).catch((e: unknown) => e);
    // The config's diff_ids no longer match a real manifest, but manifest.json is what docker load trusts.
    assert.ok(!(image instanceof Error), String(image));
    const img = image as ResolvedImage;
    await assert.rejects(img.openLayer(img.layers[1]!), expectClairError('not-found', new RegExp(`${missing} is missing from docker archive`)));
    await assert.rejects(img.readLayer!(img.layers[1]!), expectClairError('not-found', new RegExp(`${missing} is missing from docker archive`)));
  });

  const bad: { name: string; bytes: () => Promise<Buffer>; code: string; message: RegExp }[] = [
    { name: 'a file that is not a tar', bytes: async () => Buffer.from('hello '.repeat(200)), code: 'bad-image', message: /is not a readable tar archive/ },
    { name: 'a tiny file', bytes: async () => Buffer.from('hi'), code: 'bad-image', message: /not a tar archive \(2 bytes/ },
    { name: 'a tar without manifest.json', bytes: () => layerTar({ 'x.txt': 'x' }), code: 'bad-image', message: /is not a docker save archive: it has no manifest\.json/ },
    { name: 'a malformed manifest.json', bytes: () => layerTar({ 'manifest.json': '[{' }), code: 'bad-image', message: /manifest\.json is not valid JSON/ },
    { name: 'manifest.json without Layers', bytes: () => layerTar({ 'manifest.json': '[{"Config":"c.json"}]' }), code: 'bad-image', message: /has no Layers array/ },
    { name: 'a missing config', bytes: () => layerTar({ 'manifest.json': '[{"Config":"c.json","Layers":[]}]' }), code: 'not-found', message: /c\.json is missing from docker archive/ },
    {
      name: 'a truncated gzip archive',
      bytes: async () => {
        const { bytes } = await dockerArchive([{ repoTags: ['debian:12'], layers: [base, app] }], 'classic', { gzip: true });
        return bytes.subarray(0, bytes.length - 40);
      },
      code: 'bad-image',
      message: /gzip data is corrupt or truncated/,
    },
  ];
  for (const c of bad) {
    it(`fails on ${c.name}`, async () => {
      const path = await write(`bad-${c.name.replace(/\W+/g, '-')}.tar`, await c.bytes());
      await assert.rejects(openImage(`docker-archive:${path}`), expectClairError(c.code, c.message));
    });
  }

  it('fails on a missing path and on a directory', async () => {
    await assert.rejects(openImage(`docker-archive:${join(root, 'nope.tar')}`), expectClairError('not-found', /docker archive .*nope\.tar does not exist/));
    await assert.rejects(openImage(`docker-archive:${root}`), expectClairError('bad-input', /is a directory, not a tar file/));
  });

  it('reads an archive written by skopeo from an OCI layout with the same diff_ids', async (t) => {
    const skopeo = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => existsSync(p));
    if (skopeo === undefined) return t.skip('skopeo is not installed; interop with a real docker-archive writer not checked');
    const dir = join(root, 'for-skopeo');
    const w = await new OciLayoutWriter(dir).init();
    // skopeo 1.9 cannot put zstd layers in a docker archive, so gzip and plain ones.
    const built = await w.addImage([base, app]);
    await w.writeIndex([{ descriptor: built.manifest, tag: 'v1' }]);
    const archive = join(root, 'skopeo.tar');
    await promisify(execFile)(skopeo, ['--insecure-policy', 'copy', '--quiet', `oci:${dir}:v1`, `docker-archive:${archive}:example.com/repo:v1`]);

    const fromLayout = await openImage(`oci:${dir}:v1`);
    const fromArchive = await openImage(`docker-archive:${archive}:example.com/repo:v1`);
    assert.deepEqual(fromArchive.layers.map((l) => l.diffId), fromLayout.layers.map((l) => l.diffId));
    assert.deepEqual(await diffIdsRead(fromArchive), [base.diffId, app.diffId]);
    assert.deepEqual(fromArchive.platform, fromLayout.platform);
  });
});
