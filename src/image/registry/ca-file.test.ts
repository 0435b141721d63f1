// A registry served over HTTPS with a certificate from a private CA made here with openssl: reachable
// with caFile, refused without it (and never silently read over plain HTTP instead).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { registrySkipReason, startRegistry, type TestRegistry } from '../../../test/support/registry.ts';
import { ClairError } from '../../model/errors.ts';
import { buildLayer, collect, layerTar, OciLayoutWriter, type BuiltImage } from '../testdata/image-builder.ts';
import { openRegistryImage } from './index.ts';

const run = promisify(execFile);
const skip = registrySkipReason();

describe('a registry behind a private CA', { skip }, () => {
  let dir: string;
  let registry: TestRegistry;
  let image: BuiltImage;
  let ca: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clair-ts-ca-'));
    ca = join(dir, 'ca.pem');
    const ssl = (...args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir });
    await ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=clair-ts test CA');
    await ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', '/CN=127.0.0.1');
    await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    await ssl('x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'cert.pem', '-days', '1', '-extfile', 'ext.cnf');
    registry = await startRegistry({ tls: { certificate: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), ca } });
    const w = await new OciLayoutWriter(join(dir, 'layout')).init();
    image = await w.addImage([buildLayer(await layerTar({ 'etc/os-release': 'ID=debian\n' }), 'gzip')], { os: 'linux', architecture: 'amd64' });
    await w.writeIndex([{ descriptor: image.manifest, tag: 't' }]);
    await registry.push(join(dir, 'layout'), 't', 'secure/app', '1');
  });
  after(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('with caFile the image is read over HTTPS', async () => {
    const img = await openRegistryImage(`${registry.host}/secure/app:1`, { env: {}, caFile: ca });
    assert.equal(img.manifestDigest, image.manifest.digest);
    assert.deepEqual(await collect(await img.openLayer(img.layers[0]!)), image.layers[0]!.blob);
    await img.close();
  });

  test('without caFile the untrusted certificate fails the pull', async () => {
    await assert.rejects(openRegistryImage(`${registry.host}/secure/app:1`, { env: {}, retry: { attempts: 1 } }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'unavailable', String(e));
      assert.match(e.message, new RegExp(`https://${registry.host}/v2/secure/app/manifests/1`));
      assert.match(e.message, /certificate.*caFile/i);
      return true;
    });
  });

  test('a caFile that is not a certificate is bad-input naming it', async () => {
    const junk = join(dir, 'junk.pem');
    await writeFile(junk, 'not a certificate');
    await assert.rejects(openRegistryImage(`${registry.host}/secure/app:1`, { env: {}, caFile: junk }), (e: unknown) => e instanceof ClairError && e.code === 'bad-input' && e.message.includes(junk));
  });
});
