import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import tar from 'tar-stream';
import { debianTestImage, parsePackagesTsv, TEST_IMAGE_SKIP_MESSAGE } from './support/test-image.ts';
import type { DebianTestImage } from './support/test-image.ts';

// Checks the structure of the image scripts/build-test-image.sh builds, so the acceptance tests that
// scan it can trust it: tags, blobs named by their digests, diff_ids, whiteouts, the package truth.

const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const MAGIC: Record<string, Buffer> = { [GZIP]: Buffer.from([0x1f, 0x8b]), [ZSTD]: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]) };

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
interface Manifest {
  config: Descriptor;
  layers: Descriptor[];
}

const image = await debianTestImage();

function blobPath(img: DebianTestImage, digest: string): string {
  return join(img.dir, 'oci', 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

async function manifestFor(img: DebianTestImage, tag: string): Promise<Manifest> {
  const index = await readJson<{ manifests: Descriptor[] }>(join(img.dir, 'oci', 'index.json'));
  const found = index.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.equal(found.length, 1, `index.json has exactly one manifest tagged ${tag}`);
  return readJson<Manifest>(blobPath(img, found[0]!.digest));
}

function decompressor(mediaType: string): Transform {
  if (mediaType === GZIP) return createGunzip();
  if (mediaType === ZSTD) return createZstdDecompress();
  throw new Error(`unexpected layer media type ${mediaType}`);
}

async function sha256Of(path: string, through?: Transform): Promise<string> {
  const h = createHash('sha256');
  if (through) await pipeline(createReadStream(path), through, h);
  else await pipeline(createReadStream(path), h);
  return 'sha256:' + h.digest('hex');
}

async function tarNames(path: string, mediaType: string): Promise<string[]> {
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(path), decompressor(mediaType), extract);
  const names: string[] = [];
  for await (const entry of extract) {
    names.push(entry.header.name);
    entry.resume();
  }
  await feeding;
  return names;
}

const skip = image ? false : TEST_IMAGE_SKIP_MESSAGE;

// Which tag → which media type each of its three layers must have.
const TAGS: { tag: string; mediaTypes: string[]; expectedKey: 'layers' | 'zstdLayers' }[] = [
  { tag: 'bookworm', mediaTypes: [GZIP, GZIP, GZIP], expectedKey: 'layers' },
  { tag: 'zstd', mediaTypes: [GZIP, ZSTD, GZIP], expectedKey: 'zstdLayers' },
];

for (const { tag, mediaTypes, expectedKey } of TAGS) {
  test(`OCI tag ${tag}: three layers of the right types, recorded in layers.json, diff_ids in the config`, { skip }, async () => {
    const img = image!;
    const manifest = await manifestFor(img, tag);
    assert.deepEqual(manifest.layers.map((l) => l.mediaType), mediaTypes);
    const expected = img.expected[expectedKey];
    assert.deepEqual(
      manifest.layers.map((l) => ({ digest: l.digest, size: l.size })),
      expected.map((l) => ({ digest: l.digest, size: l.size })),
    );
    assert.equal(manifest.config.digest, img.expected.configDigest);
    const config = await readJson<{ architecture: string; os: string; rootfs: { diff_ids: string[] }; history: unknown[] }>(
      blobPath(img, manifest.config.digest),
    );
    assert.equal(config.os, 'linux');
    assert.equal(config.history.length, 3);
    assert.deepEqual(config.rootfs.diff_ids, expected.map((l) => l.diffId));
    for (const [i, layer] of manifest.layers.entries()) {
      const fh = await open(blobPath(img, layer.digest));
      const head = Buffer.alloc(4);
      await fh.read(head, 0, 4, 0);
      await fh.close();
      const magic = MAGIC[layer.mediaType]!;
      assert.ok(head.subarray(0, magic.length).equals(magic), `layer ${i + 1} starts with the ${layer.mediaType} magic`);
      // The uncompressed bytes are what the diff_id names, whatever the compression.
      assert.equal(await sha256Of(blobPath(img, layer.digest), decompressor(layer.mediaType)), config.rootfs.diff_ids[i]);
    }
  });
}

test('every blob file is named by the sha256 of its bytes', { skip }, async () => {
  const dir = join(image!.dir, 'oci', 'blobs', 'sha256');
  const names = await readdir(dir);
  assert.ok(names.length >= 7, `expected 7 blobs (3 gzip layers, 1 zstd layer, config, 2 manifests), found ${names.length}`);
  for (const name of names) {
    assert.equal(await sha256Of(join(dir, name)), `sha256:${name}`);
  }
});

test('layer 3 holds the removal of sqlite3 as whiteouts and a new dpkg status', { skip }, async () => {
  const img = image!;
  const layer3 = img.expected.layers[2]!;
  const names = await tarNames(blobPath(img, layer3.digest), layer3.mediaType);
  const whiteouts = names.filter((n) => n.split('/').at(-1)!.startsWith('.wh.'));
  assert.ok(whiteouts.length > 0, 'layer 3 has at least one .wh. entry');
  assert.ok(whiteouts.includes('usr/bin/.wh.sqlite3'), `the sqlite3 binary is whited out; whiteouts: ${whiteouts.join(', ')}`);
  assert.ok(names.includes('var/lib/dpkg/status'));
  assert.ok(names.every((n) => !n.startsWith('/')), 'paths are relative');
});

test('layer 1 is a whole root: os-release, dpkg status, no whiteouts, nothing under proc/ or dev/', { skip }, async () => {
  const img = image!;
  const layer1 = img.expected.layers[0]!;
  const names = await tarNames(blobPath(img, layer1.digest), layer1.mediaType);
  for (const path of ['etc/os-release', 'usr/lib/os-release', 'var/lib/dpkg/status', 'usr/bin/']) {
    assert.ok(names.includes(path), `layer 1 has ${path}`);
  }
  assert.equal(names.filter((n) => n.includes('.wh.')).length, 0);
  assert.equal(names.filter((n) => /^(proc|dev|sys|tmp)\/./.test(n)).length, 0);
});

test('package truth: sqlite3 installed by layer 2 and purged by layer 3', { skip }, () => {
  const img = image!;
  const [root1, root2, root3] = img.expected.perRoot.map((pkgs) => new Set(pkgs.map((p) => p.name)));
  assert.ok(root1 && root2 && root3);
  assert.ok(root1.has('dpkg') && root1.has('libc6'), 'root 1 is a Debian base system');
  for (const name of ['curl', 'libxml2', 'openssl', 'sqlite3', 'libexpat1']) {
    assert.ok(!root1.has(name), `${name} is not in the base system`);
    assert.ok(root2.has(name), `${name} is installed in root 2`);
  }
  assert.ok(!root3.has('sqlite3'), 'sqlite3 is gone from root 3');
  assert.ok(root3.has('libsqlite3-0'), 'only the sqlite3 program was purged; its library stays');
  assert.deepEqual([...root2].filter((n) => !root3.has(n)), ['sqlite3']);
  assert.ok([...root1].every((n) => root2.has(n)), 'layer 2 only adds packages');
  assert.deepEqual(img.expected.packages, img.expected.perRoot[2]);
  // A binNMU shows why the source version is kept apart: some package's version differs from its source's.
  assert.ok(img.expected.packages.some((p) => p.version !== p.sourceVersion));
  assert.ok(img.expected.packages.some((p) => p.name !== p.sourceName));
});

test('docker archive: manifest.json names the image and three layers with the same diff_ids', { skip }, async () => {
  const img = image!;
  const path = img.dockerArchiveRef.replace(/^docker-archive:/, '');
  assert.ok((await stat(path)).size > 0);
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(path), extract);
  const files = new Map<string, Buffer>();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    // Only the small JSON documents are kept; layer tars are read past.
    if (entry.header.name.endsWith('.json')) for await (const c of entry) chunks.push(c as Buffer);
    else entry.resume();
    files.set(entry.header.name, Buffer.concat(chunks));
  }
  await feeding;
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
  assert.equal(manifest.length, 1);
  const [m] = manifest;
  assert.ok(m!.RepoTags.some((t) => t.endsWith('clair-ts/test-debian:bookworm')), `RepoTags ${m!.RepoTags.join(', ')}`);
  assert.equal(m!.Layers.length, 3);
  for (const layer of m!.Layers) assert.ok(files.has(layer), `the archive holds ${layer}`);
  const config = JSON.parse(files.get(m!.Config)!.toString()) as { rootfs: { diff_ids: string[] } };
  assert.deepEqual(config.rootfs.diff_ids, img.expected.layers.map((l) => l.diffId));
});

// The parser needs no image: table-driven over real-shaped lines.
const TSV_CASES: { name: string; text: string; want?: number; error?: RegExp }[] = [
  { name: 'two packages', text: 'bash\t5.2.15-2+b13\tamd64\tbash\t5.2.15-2\nlibc6\t2.36-9\tamd64\tglibc\t2.36-9\n', want: 2 },
  { name: 'empty file', text: '', want: 0 },
  { name: 'missing field', text: 'bash\t5.2.15-2+b13\tamd64\tbash\n', error: /x\.tsv:1: expected 5/ },
  { name: 'empty source version', text: 'bash\t5.2.15-2+b13\tamd64\tbash\t\n', error: /x\.tsv:1: expected 5/ },
];
for (const c of TSV_CASES) {
  test(`parsePackagesTsv: ${c.name}`, () => {
    if (c.error) assert.throws(() => parsePackagesTsv('x.tsv', c.text), c.error);
    else assert.equal(parsePackagesTsv('x.tsv', c.text).length, c.want);
  });
}
