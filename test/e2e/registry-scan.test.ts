import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/run-cli.ts';
import { OciLayoutWriter, buildLayer, layerTar } from '../../src/image/testdata/image-builder.ts';
import { startFaultProxy } from '../../src/image/registry/testdata/fault-proxy.ts';
import { registrySkipReason, startRegistry } from '../support/registry.ts';
import { debianTestImage } from '../support/test-image.ts';

// Pull-and-index from a real registry on loopback (Debian's docker-registry), through a proxy that counts the
// requests: an image that shares its base with one indexed before downloads only its own layer.


test('registry: a second image sharing a base fetches only its new layer', async (t) => {
  const skip = registrySkipReason();
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-regscan-'));
  const registry = await startRegistry();
  const proxy = await startFaultProxy(registry.host);
  try {
    const base = buildLayer(await layerTar({
      'usr/lib/os-release': 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
      'var/lib/dpkg/status': 'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n',
      'usr/share/filler': 'x'.repeat(200_000),
    }), 'gzip');
    const app1 = buildLayer(await layerTar({ 'opt/app1': 'one' }), 'gzip');
    const app2 = buildLayer(await layerTar({ 'opt/app2': 'two'.repeat(1000) }), 'zstd');
    const w = await new OciLayoutWriter(join(dir, 'layout')).init();
    const one = await w.addImage([base, app1]);
    const two = await w.addImage([base, app2]);
    await w.writeIndex([{ descriptor: one.manifest, tag: 'one' }, { descriptor: two.manifest, tag: 'two' }]);
    await registry.push(join(dir, 'layout'), 'one', 'team/app', 'one');
    await registry.push(join(dir, 'layout'), 'two', 'team/app', 'two');

    const db = join(dir, 'clair.db');
    const proxied = `127.0.0.1:${proxy.port}/team/app`;
    const blobGets = () => proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/') && !r.path.includes(one.configDigest) && !r.path.includes(two.configDigest)).map((r) => r.path.slice(r.path.lastIndexOf('/') + 1));

    proxy.reset();
    const first = await runCli(db, ['index', `${proxied}:one`, '--format', 'json']);
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(blobGets().sort(), [base.digest, app1.digest].sort());
    assert.match(first.err, /2 layer\(s\) scanned, 0 reused/);
    assert.equal(JSON.parse(first.out).manifest_hash, one.manifest.digest);

    proxy.reset();
    const second = await runCli(db, ['index', `${proxied}:two`]);
    assert.equal(second.code, 0, second.err);
    assert.deepEqual(blobGets(), [app2.digest], 'only the new layer is downloaded');
    assert.match(second.err, new RegExp(`1 layer\\(s\\) scanned, 1 reused from the cache, ${app2.blob.length} bytes read`));

    proxy.reset();
    const byDigest = await runCli(db, ['index', `${proxied}@${two.manifest.digest}`]);
    assert.equal(byDigest.code, 0, byDigest.err);
    assert.deepEqual(blobGets(), [], 'an image already indexed downloads no layer');

    const missing = await runCli(db, ['index', `${proxied}:three`]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /three/);
  } finally {
    await proxy.close();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('registry: the real Debian test image pulled and indexed equals the OCI layout index', async (t) => {
  const skip = registrySkipReason();
  if (skip) return t.skip(skip);
  const image = await debianTestImage();
  if (!image) return t.skip('Debian test image not built: run scripts/build-test-image.sh');
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-regscan-'));
  const registry = await startRegistry();
  try {
    await registry.push(join(image.dir, 'oci'), 'bookworm', 'library/debian', 'bookworm');
    const fromRegistry = await runCli(join(dir, 'a.db'), ['index', `${registry.host}/library/debian:bookworm`, '--format', 'json']);
    assert.equal(fromRegistry.code, 0, fromRegistry.err);
    const fromLayout = await runCli(join(dir, 'b.db'), ['index', image.ociRef, '--format', 'json']);
    const a = JSON.parse(fromRegistry.out);
    const b = JSON.parse(fromLayout.out);
    assert.deepEqual(a.packages, b.packages);
    assert.deepEqual(a.environments, b.environments);
    assert.equal(Object.keys(a.packages).length, image.expected.packages.length);
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
