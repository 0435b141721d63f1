import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ClairError } from '../../model/errors.ts';
import { findCredentials, matchesRegistry } from './credentials.ts';

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
