import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registrySkipReason, startRegistry, type TestRegistry } from '../../../test/support/registry.ts';
import { ClairError } from '../../model/errors.ts';
import { buildLayer, collect, layerTar, OciLayoutWriter, type BuiltImage } from '../testdata/image-builder.ts';
import { HELPER_NOT_FOUND_MESSAGE } from './credential-helper.ts';
import { findCredentials, matchesRegistry } from './credentials.ts';
import { openRegistryImage, TokenCache } from './index.ts';
import { credentialsJson, fakeHelpers, type FakeHelpers } from './testdata/fake-credential-helper.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('docker config: keys as docker login writes them, Docker Hub under index.docker.io/v1/', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-creds-'));
  try {
    const path = join(dir, 'config.json');
    await writeFile(
      path,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
          'quay.io': { auth: b64('quser:qpass') },
          'https://ghcr.io': { auth: b64('guser:gpass') },
          'localhost:5000': { username: 'luser', password: 'lpass' },
          'broken.example': { auth: b64('no-colon') },
        },
      }),
    );
    const cases: [string, [string, string] | undefined][] = [
      ['docker.io', ['hubuser', 'hub:pass']],
      ['quay.io', ['quser', 'qpass']],
      ['ghcr.io', ['guser', 'gpass']],
      ['localhost:5000', ['luser', 'lpass']],
      ['localhost:5001', undefined],
      ['gcr.io', undefined],
    ];
    for (const [registry, expected] of cases) {
      const c = await findCredentials(registry, { dockerConfigPath: path, env: {} });
      assert.deepEqual(c && [c.username, c.password], expected, registry);
      if (c) assert.equal(c.source, `docker config ${path}`);
    }
    await assert.rejects(findCredentials('broken.example', { dockerConfigPath: path, env: {} }), (e: unknown) => e instanceof ClairError && e.code === 'bad-input' && !e.message.includes('no-colon'));
    // Options, then environment, come before the file.
    assert.equal((await findCredentials('quay.io', { dockerConfigPath: path, username: 'o', password: 'p', env: {} }))?.source, 'options');
    const env = { CLAIR_TS_REGISTRY_USERNAME: 'e', CLAIR_TS_REGISTRY_PASSWORD: 'p' };
    assert.equal((await findCredentials('quay.io', { dockerConfigPath: path, env }))?.username, 'e');
    // DOCKER_CONFIG names the folder; an absent default file means anonymous.
    assert.equal((await findCredentials('quay.io', { env: { DOCKER_CONFIG: dir } }))?.username, 'quser');
    assert.equal(await findCredentials('quay.io', { env: { DOCKER_CONFIG: join(dir, 'none') } }), undefined);
    await assert.rejects(findCredentials('quay.io', { env: { CLAIR_TS_REGISTRY_USERNAME: 'only-user' } }), /set both/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('matchesRegistry', () => {
  const cases: [string, string, boolean][] = [
    ['https://index.docker.io/v1/', 'docker.io', true],
    ['docker.io', 'docker.io', true],
    ['quay.io', 'docker.io', false],
    ['https://quay.io/v2/', 'quay.io', true],
    ['http://localhost:5000', 'localhost:5000', true],
    ['localhost', 'localhost:5000', false],
  ];
  for (const [key, registry, expected] of cases) assert.equal(matchesRegistry(key, registry), expected, `${key} ~ ${registry}`);
});

describe('credential helpers named in the docker config', () => {
  let helpers: FakeHelpers;
  let config: string;
  const writeConfig = (doc: unknown): Promise<void> => writeFile(config, JSON.stringify(doc));
  before(async () => {
    helpers = await fakeHelpers();
    config = join(helpers.dir, 'config.json');
  });
  after(async () => helpers?.remove());

  test('credHelpers[host] before credsStore before auths; Docker Hub asked as https://index.docker.io/v1/', async () => {
    await writeConfig({
      auths: { 'gcr.io': { auth: b64('file:gcr') }, 'quay.io': { auth: b64('file:quay') } },
      credsStore: 'desktop',
      credHelpers: { 'gcr.io': 'gcloud', '123.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login' },
    });
    await helpers.install('desktop', { out: credentialsJson('', 'desk-user', 'desk-secret') });
    await helpers.install('gcloud', { out: credentialsJson('https://gcr.io', 'oauth2accesstoken', 'gcloud-secret') });
    await helpers.install('ecr-login', { out: credentialsJson('', 'AWS', 'ecr-secret') });
    const cases: [string, [string, string], string, string][] = [
      // registry, expected user/password, the helper that must have been run, what it must have read
      ['gcr.io', ['oauth2accesstoken', 'gcloud-secret'], 'gcloud', 'gcr.io'],
      ['123.dkr.ecr.us-east-1.amazonaws.com', ['AWS', 'ecr-secret'], 'ecr-login', '123.dkr.ecr.us-east-1.amazonaws.com'],
      ['quay.io', ['desk-user', 'desk-secret'], 'desktop', 'quay.io'],
      ['localhost:5000', ['desk-user', 'desk-secret'], 'desktop', 'localhost:5000'],
      ['docker.io', ['desk-user', 'desk-secret'], 'desktop', 'https://index.docker.io/v1/'],
    ];
    for (const [registry, expected, helper, server] of cases) {
      await helpers.clearCalls();
      const c = await findCredentials(registry, { dockerConfigPath: config, env: helpers.env });
      assert.deepEqual(c && [c.username, c.password], expected, registry);
      assert.deepEqual(await helpers.calls(), [{ name: helper, args: 'get', server }], registry);
      assert.match(c?.source ?? '', new RegExp(`^docker-credential-${helper} \\((credHelpers\\[.*\\]|credsStore) in ${config}\\)$`), registry);
    }
    assert.equal((await findCredentials('gcr.io', { dockerConfigPath: config, env: helpers.env }))?.source, `docker-credential-gcloud (credHelpers["gcr.io"] in ${config})`);
  });

  test('without credsStore, hosts with no credHelpers entry still come from auths', async () => {
    await writeConfig({ auths: { 'quay.io': { auth: b64('file:quay') } }, credHelpers: { 'gcr.io': 'gcloud', 'ghcr.io': '' } });
    await helpers.install('gcloud', { out: credentialsJson('', 'g', 'gs') });
    await helpers.clearCalls();
    assert.deepEqual(await findCredentials('quay.io', { dockerConfigPath: config, env: helpers.env }), { username: 'file', password: 'quay', source: `docker config ${config}` });
    // An empty helper name is no helper, as in docker.
    assert.equal(await findCredentials('ghcr.io', { dockerConfigPath: config, env: helpers.env }), undefined);
    assert.deepEqual(await helpers.calls(), []);
  });

  test('Docker Hub under any of its credHelpers keys', async () => {
    await helpers.install('hub', { out: credentialsJson('', 'hubuser', 'hubsecret') });
    for (const key of ['https://index.docker.io/v1/', 'docker.io', 'index.docker.io']) {
      await writeConfig({ credHelpers: { [key]: 'hub' } });
      await helpers.clearCalls();
      assert.equal((await findCredentials('docker.io', { dockerConfigPath: config, env: helpers.env }))?.username, 'hubuser', key);
      assert.deepEqual((await helpers.calls()).map((c) => c.server), ['https://index.docker.io/v1/'], key);
    }
  });

  test('a helper holding nothing for the host means anonymous, without falling back to auths (as docker)', async () => {
    await writeConfig({ auths: { 'quay.io': { auth: b64('file:quay') } }, credsStore: 'desktop' });
    await helpers.install('desktop', { out: `${HELPER_NOT_FOUND_MESSAGE}\n`, exit: 1 });
    assert.equal(await findCredentials('quay.io', { dockerConfigPath: config, env: helpers.env }), undefined);
  });

  test('an identity token (Username "<token>") is sent as a password, and the source says so', async () => {
    await writeConfig({ credsStore: 'desktop' });
    await helpers.install('desktop', { out: credentialsJson('quay.io', '<token>', 'refresh-token-value') });
    const c = await findCredentials('quay.io', { dockerConfigPath: config, env: helpers.env });
    assert.deepEqual(c && [c.username, c.password], ['<token>', 'refresh-token-value']);
    assert.match(c?.source ?? '', /^docker-credential-desktop \(credsStore in .*; an identity token, sent as a password/);
    assert.doesNotMatch(c?.source ?? '', /refresh-token-value/);
  });

  test('a broken or missing helper is an error naming it; malformed config entries are bad-input', async () => {
    await helpers.install('desktop', { out: 'user:secret-in-garbage' });
    const cases: [string, unknown, string, RegExp][] = [
      ['malformed answer', { credsStore: 'desktop' }, 'unauthorized', /docker-credential-desktop .* did not print a JSON object/],
      ['missing helper', { credHelpers: { 'quay.io': 'pass' } }, 'unauthorized', /docker-credential-pass \(for quay\.io\) was not found on PATH/],
      ['credHelpers not an object', { credHelpers: 'gcloud' }, 'bad-input', /credHelpers is not an object/],
      ['credHelpers entry not a string', { credHelpers: { 'quay.io': true } }, 'bad-input', /credHelpers\["quay\.io"\] is not a string/],
      ['credsStore not a string', { credsStore: 1 }, 'bad-input', /credsStore is not a string/],
    ];
    for (const [name, doc, code, message] of cases) {
      await writeConfig(doc);
      await assert.rejects(findCredentials('quay.io', { dockerConfigPath: config, env: helpers.env }), (e: unknown) => {
        assert.ok(e instanceof ClairError && e.code === code, `${name}: ${String(e)}`);
        assert.match(e.message, message, name);
        assert.doesNotMatch(e.message, /secret-in-garbage/, name);
        return true;
      });
    }
  });

  test('options and environment still come first: no helper is run', async () => {
    await writeConfig({ credsStore: 'desktop' });
    await helpers.install('desktop', { out: credentialsJson('', 'desk', 'ds') });
    await helpers.clearCalls();
    assert.equal((await findCredentials('quay.io', { dockerConfigPath: config, env: helpers.env, username: 'o', password: 'p' }))?.source, 'options');
    const env = { ...helpers.env, CLAIR_TS_REGISTRY_USERNAME: 'e', CLAIR_TS_REGISTRY_PASSWORD: 'p' };
    assert.equal((await findCredentials('quay.io', { dockerConfigPath: config, env }))?.username, 'e');
    assert.deepEqual(await helpers.calls(), []);
    // DOCKER_CONFIG in the given env finds the same file and runs the helper.
    assert.equal((await findCredentials('quay.io', { env: { ...helpers.env, DOCKER_CONFIG: helpers.dir } }))?.username, 'desk');
  });
});

describe('a real htpasswd registry with credentials from a credential helper', { skip: registrySkipReason({ htpasswd: true }) }, () => {
  const user = { username: 'scanner', password: 'helper-held secret' };
  let helpers: FakeHelpers;
  let registry: TestRegistry;
  let image: BuiltImage;
  let config: string;

  before(async () => {
    helpers = await fakeHelpers();
    registry = await startRegistry({ auth: { kind: 'htpasswd', users: [user] } });
    const w = await new OciLayoutWriter(join(helpers.dir, 'layout')).init();
    image = await w.addImage([buildLayer(await layerTar({ 'etc/os-release': 'ID=debian\n' }), 'gzip')], { os: 'linux', architecture: 'amd64' });
    await w.writeIndex([{ descriptor: image.manifest, tag: 't' }]);
    await registry.push(join(helpers.dir, 'layout'), 't', 'private/app', '1', user);
    config = join(helpers.dir, 'config.json');
    await writeFile(config, JSON.stringify({ credHelpers: { [registry.host]: 'fake' } }));
  });
  after(async () => {
    await registry?.stop();
    await helpers?.remove();
  });

  test('pulls with the credentials the helper gives; refused ones name the helper, not the secret', async () => {
    await helpers.install('fake', { out: credentialsJson(registry.host, user.username, user.password) });
    await helpers.clearCalls();
    const img = await openRegistryImage(`${registry.host}/private/app:1`, { env: helpers.env, dockerConfigPath: config, tokenCache: new TokenCache(), retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    assert.equal(img.manifestDigest, image.manifest.digest);
    assert.deepEqual(await collect(await img.openLayer(img.layers[0]!)), image.layers[0]!.blob);
    await img.close();
    assert.deepEqual(await helpers.calls(), [{ name: 'fake', args: 'get', server: registry.host }]);

    await helpers.install('fake', { out: credentialsJson(registry.host, user.username, 'stale-helper-secret') });
    await assert.rejects(openRegistryImage(`${registry.host}/private/app:1`, { env: helpers.env, dockerConfigPath: config, tokenCache: new TokenCache(), retry: { baseDelayMs: 1, maxDelayMs: 5 } }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'unauthorized', String(e));
      assert.match(e.message, /credentials from docker-credential-fake \(credHelpers\[.*\] in .*\) were refused/);
      assert.doesNotMatch(e.message, /stale-helper-secret/);
      return true;
    });
  });
});
