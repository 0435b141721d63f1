// Against a REAL registry (Debian's docker-registry, the CNCF distribution registry) on loopback, with
// images this test builds (tar-stream layers, gzip/zstd via zlib, an OCI layout) and pushes with skopeo.
// Faults come from a recording proxy in front of it (testdata/fault-proxy.ts).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registrySkipReason, startRegistry, type TestRegistry } from '../../../test/support/registry.ts';
import { ClairError } from '../../model/errors.ts';
import { buildLayer, collect, layerTar, OciLayoutWriter, type BuiltImage, type JsonDescriptor } from '../testdata/image-builder.ts';
import { openBlobUrl, openRegistryImage, type RegistryOptions, type RegistryProgress } from './index.ts';
import { startFaultProxy, type FaultProxy } from './testdata/fault-proxy.ts';

const skip = registrySkipReason({ htpasswd: true });
// Fast retries: the tests count requests, so the backoff only needs to be short, not absent.
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };
const FAST: RegistryOptions = { retry: FAST_RETRY, env: {} };

interface Images {
  dir: string;
  single: BuiltImage;
  zstd: BuiltImage;
  index: JsonDescriptor;
  amd64: BuiltImage;
  arm64: BuiltImage;
}

async function buildImages(): Promise<Images> {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-images-'));
  const w = await new OciLayoutWriter(join(dir, 'layout')).init();
  const base = buildLayer(await layerTar({ 'etc/os-release': 'ID=debian\nVERSION_ID="12"\n' }), 'gzip');
  // Random, so it stays large after gzip, and large enough that a cut in the middle leaves bytes on both sides of several chunks.
  const big = buildLayer(await layerTar({ 'usr/share/doc/big.txt': randomBytes(120_000).toString('base64') }), 'gzip');
  const single = await w.addImage([base, buildLayer(await layerTar({ 'var/lib/dpkg/status': 'Package: a\n' }), 'gzip'), big], { os: 'linux', architecture: 'amd64' });
  const zstd = await w.addImage([base, buildLayer(await layerTar({ 'etc/zstd': 'compressed with zstd\n' }), 'zstd')], { os: 'linux', architecture: 'amd64' });
  const amd64 = await w.addImage([base, buildLayer(await layerTar({ 'etc/arch': 'amd64\n' }), 'gzip')], { os: 'linux', architecture: 'amd64' });
  const arm64 = await w.addImage([base, buildLayer(await layerTar({ 'etc/arch': 'arm64\n' }), 'gzip')], { os: 'linux', architecture: 'arm64', variant: 'v8' });
  const index = await w.addIndex([amd64.manifest, arm64.manifest]);
  await w.writeIndex([
    { descriptor: single.manifest, tag: 'single' },
    { descriptor: zstd.manifest, tag: 'zstd' },
    { descriptor: index, tag: 'multi' },
  ]);
  return { dir, single, zstd, index, amd64, arm64 };
}

async function readAllLayers(image: Awaited<ReturnType<typeof openRegistryImage>>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const l of image.layers) out.push(await collect(await image.openLayer(l)));
  return out;
}

describe('registry client against a real registry (anonymous)', { skip }, () => {
  let images: Images;
  let registry: TestRegistry;
  let proxy: FaultProxy;

  before(async () => {
    images = await buildImages();
    registry = await startRegistry();
    const layout = join(images.dir, 'layout');
    await registry.push(layout, 'single', 'test/app', '1.0');
    await registry.push(layout, 'zstd', 'test/zstd', 'latest');
    await registry.push(layout, 'multi', 'test/multi', 'latest');
    proxy = await startFaultProxy(registry.host);
  });
  after(async () => {
    await proxy?.close();
    await registry?.stop();
    if (images) await rm(images.dir, { recursive: true, force: true });
  });

  test('pull by tag: manifest digest, config, layers in order, verified bytes, progress', async () => {
    const events: RegistryProgress[] = [];
    const image = await openRegistryImage(`${registry.host}/test/app:1.0`, { ...FAST, onProgress: (e) => events.push(e) });
    assert.equal(image.manifestDigest, images.single.manifest.digest);
    assert.equal(image.configDigest, images.single.configDigest);
    assert.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(
      image.layers.map((l) => [l.digest, l.diffId, l.size]),
      images.single.layers.map((l) => [l.digest, l.diffId, l.blob.length]),
    );
    const blobs = await readAllLayers(image);
    assert.deepEqual(blobs, images.single.layers.map((l) => l.blob));
    for (const l of images.single.layers) {
      const last = events.filter((e) => e.digest === l.digest).at(-1);
      assert.deepEqual(last, { type: 'blob-done', digest: l.digest, bytes: l.blob.length, total: l.blob.length, reference: `${registry.host}/test/app:1.0` });
    }
    await image.close();
    await assert.rejects(image.openLayer(image.layers[0]!), /was closed/);
  });

  test('pull by digest, and name:tag@digest where the digest wins', async () => {
    const d = images.single.manifest.digest;
    for (const ref of [`${registry.host}/test/app@${d}`, `${registry.host}/test/app:no-such-tag@${d}`]) {
      const image = await openRegistryImage(ref, FAST);
      assert.equal(image.manifestDigest, d, ref);
      assert.equal(image.reference, ref);
      await image.close();
    }
  });

  test('a multi-platform index resolves to linux/amd64 and linux/arm64; a missing platform lists the available ones', async () => {
    const ref = `${registry.host}/test/multi:latest`;
    const cases: [string, BuiltImage, { os: string; architecture: string; variant?: string }][] = [
      ['linux/amd64', images.amd64, { os: 'linux', architecture: 'amd64' }],
      ['linux/arm64', images.arm64, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
      ['linux/arm64/v8', images.arm64, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ];
    for (const [platform, expected, p] of cases) {
      const image = await openRegistryImage(ref, { ...FAST, platform });
      assert.equal(image.manifestDigest, expected.manifest.digest, platform);
      assert.deepEqual(image.platform, p, platform);
      assert.deepEqual(await readAllLayers(image), expected.layers.map((l) => l.blob), platform);
      await image.close();
    }
    await assert.rejects(openRegistryImage(ref, { ...FAST, platform: 'linux/s390x' }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'not-found', String(e));
      assert.match(e.message, /linux\/s390x/);
      assert.match(e.message, /available platforms: linux\/amd64, linux\/arm64\/v8/);
      return true;
    });
  });

  test('an image with a zstd layer', async () => {
    const image = await openRegistryImage(`${registry.host}/test/zstd`, FAST);
    assert.equal(image.manifestDigest, images.zstd.manifest.digest);
    assert.equal(image.layers[1]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
    assert.deepEqual(await readAllLayers(image), images.zstd.layers.map((l) => l.blob));
    await image.close();
  });

  test('a tag that does not exist is not-found naming the reference', async () => {
    await assert.rejects(openRegistryImage(`${registry.host}/test/app:2.0`, FAST), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'not-found', String(e));
      assert.match(e.message, new RegExp(`${registry.host}/test/app:2.0`));
      assert.match(e.message, /MANIFEST_UNKNOWN/);
      return true;
    });
  });

  test('a 500 then 200 is retried; a 404 injected for a tag is a clear not-found', async () => {
    const path = '/v2/test/app/manifests/1.0';
    proxy.reset((r, n) => (r.path === path && n === 0 ? { kind: 'status', status: 500 } : undefined));
    const before = proxy.count((r) => r.path === path);
    const image = await openRegistryImage(`${proxy.host}/test/app:1.0`, FAST);
    assert.equal(image.manifestDigest, images.single.manifest.digest);
    assert.equal(proxy.count((r) => r.path === path) - before, 2);
    await image.close();

    proxy.reset((r) => (r.path === path ? { kind: 'status', status: 404 } : undefined));
    await assert.rejects(openRegistryImage(`${proxy.host}/test/app:1.0`, FAST), (e: unknown) => e instanceof ClairError && e.code === 'not-found' && e.message.includes(`${proxy.host}/test/app:1.0`));

    proxy.reset((r) => (r.path === path ? { kind: 'status', status: 503, headers: { 'retry-after': '0' } } : undefined));
    const start = proxy.count((r) => r.path === path);
    await assert.rejects(openRegistryImage(`${proxy.host}/test/app:1.0`, FAST), (e: unknown) => e instanceof ClairError && e.code === 'unavailable' && /failed 5 times; last: HTTP 503/.test(e.message));
    assert.equal(proxy.count((r) => r.path === path) - start, 5, 'bounded attempts');
    proxy.reset();
  });

  test('altered blob bytes fail with digest-mismatch', async () => {
    const layer = images.single.layers[2]!;
    proxy.reset((r) => (r.path.endsWith(`/blobs/${layer.digest}`) ? { kind: 'corrupt' } : undefined));
    const image = await openRegistryImage(`${proxy.host}/test/app:1.0`, FAST);
    const l = image.layers.find((x) => x.digest === layer.digest)!;
    await assert.rejects(collect(await image.openLayer(l)), (e: unknown) => e instanceof ClairError && e.code === 'digest-mismatch' && e.message.includes(layer.digest));
    proxy.reset();
    // Same image, unaltered: the failure was the bytes, not the client.
    assert.deepEqual(await collect(await image.openLayer(l)), layer.blob);
    await image.close();
  });

  test('a connection cut mid-blob resumes with a Range request and the digest still verifies', async () => {
    const layer = images.single.layers[2]!;
    const half = layer.blob.length >> 1;
    const blobPath = `/v2/test/app/blobs/${layer.digest}`;
    proxy.reset((r, n) => (r.path === blobPath && n === 0 ? { kind: 'cut', bytes: half } : undefined));
    const image = await openRegistryImage(`${proxy.host}/test/app:1.0`, FAST);
    const l = image.layers.find((x) => x.digest === layer.digest)!;
    assert.deepEqual(await collect(await image.openLayer(l)), layer.blob);
    const gets = proxy.requests.filter((r) => r.path === blobPath);
    assert.equal(gets.length, 2);
    assert.equal(gets[0]!.range, undefined);
    assert.equal(gets[1]!.range, `bytes=${half}-`);
    proxy.reset();
    await image.close();
  });

  test('a connection cut on every attempt is a clear unavailable error; a rerun succeeds', async () => {
    const layer = images.single.layers[2]!;
    const blobPath = `/v2/test/app/blobs/${layer.digest}`;
    proxy.reset((r) => (r.path === blobPath ? { kind: 'cut', bytes: 100 } : undefined));
    const image = await openRegistryImage(`${proxy.host}/test/app:1.0`, FAST);
    const l = image.layers.find((x) => x.digest === layer.digest)!;
    await assert.rejects(collect(await image.openLayer(l)), (e: unknown) => e instanceof ClairError && e.code === 'unavailable' && e.message.includes(layer.digest) && /cut at byte/.test(e.message));
    proxy.reset();
    assert.deepEqual(await collect(await image.openLayer(l)), layer.blob);
    await image.close();
  });

  test('openBlobUrl passes headers through, drops Authorization on a redirect to another host, verifies the digest', async () => {
    const layer = images.single.layers[0]!;
    const blobPath = `/v2/test/app/blobs/${layer.digest}`;
    proxy.reset((r) => (r.path === blobPath && !r.path.startsWith('/redirected') ? { kind: 'redirect-to-localhost' } : undefined));
    const from = proxy.requests.length;
    const stream = await openBlobUrl(`http://${proxy.host}${blobPath}`, { retry: FAST_RETRY, headers: { Authorization: ['Bearer opaque-test-token'] } });
    assert.deepEqual(await collect(stream), layer.blob);
    const seen = proxy.requests.slice(from);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.authorization, 'Bearer opaque-test-token');
    assert.equal(seen[1]!.path, `/redirected${blobPath}`);
    assert.match(seen[1]!.host, /^localhost:/);
    assert.equal(seen[1]!.authorization, undefined);

    proxy.reset((r) => (r.path === blobPath ? { kind: 'corrupt' } : undefined));
    await assert.rejects(collect(await openBlobUrl(`http://${proxy.host}${blobPath}`, { retry: FAST_RETRY })), (e: unknown) => e instanceof ClairError && e.code === 'digest-mismatch');
    proxy.reset();
    await assert.rejects(openBlobUrl(`http://${proxy.host}/v2/test/app/blobs/sha256:${'0'.repeat(64)}`, { retry: FAST_RETRY }), (e: unknown) => e instanceof ClairError && e.code === 'not-found');
  });
});

describe('registry client against a real registry with htpasswd auth', { skip }, () => {
  const user = { username: 'scanner', password: 'correct horse battery staple' };
  let images: Images;
  let registry: TestRegistry;

  before(async () => {
    images = await buildImages();
    registry = await startRegistry({ auth: { kind: 'htpasswd', users: [user] } });
    await registry.push(join(images.dir, 'layout'), 'single', 'private/app', '1', user);
  });
  after(async () => {
    await registry?.stop();
    if (images) await rm(images.dir, { recursive: true, force: true });
  });

  test('without credentials: unauthorized, saying how to log in', async () => {
    // A docker config the user named but that is absent is its own error, not a silent anonymous pull.
    await assert.rejects(openRegistryImage(`${registry.host}/private/app:1`, { ...FAST, dockerConfigPath: join(images.dir, 'absent.json') }), (e: unknown) => e instanceof ClairError && e.code === 'not-found' && /docker config/.test(e.message));
    const empty = join(images.dir, 'empty.json');
    await writeFile(empty, '{"auths":{}}');
    await assert.rejects(openRegistryImage(`${registry.host}/private/app:1`, { ...FAST, dockerConfigPath: empty }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'unauthorized', String(e));
      assert.match(e.message, /no credentials were found/);
      return true;
    });
  });

  test('credentials from a docker config file work; wrong ones are refused without being echoed', async () => {
    const config = join(images.dir, 'config.json');
    await writeFile(config, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') } } }));
    const image = await openRegistryImage(`${registry.host}/private/app:1`, { ...FAST, dockerConfigPath: config });
    assert.equal(image.manifestDigest, images.single.manifest.digest);
    assert.deepEqual(await readAllLayers(image), images.single.layers.map((l) => l.blob));
    await image.close();

    await assert.rejects(openRegistryImage(`${registry.host}/private/app:1`, { ...FAST, username: 'scanner', password: 'wrong-secret-xyz' }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'unauthorized', String(e));
      assert.match(e.message, /credentials from options were refused/);
      assert.doesNotMatch(e.message, /wrong-secret-xyz/);
      return true;
    });
  });

  test('credentials from CLAIR_TS_REGISTRY_USERNAME / CLAIR_TS_REGISTRY_PASSWORD work', async () => {
    const image = await openRegistryImage(`${registry.host}/private/app:1`, { ...FAST, env: { CLAIR_TS_REGISTRY_USERNAME: user.username, CLAIR_TS_REGISTRY_PASSWORD: user.password } });
    assert.equal(image.manifestDigest, images.single.manifest.digest);
    await image.close();
  });
});
