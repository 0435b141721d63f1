// Bearer token auth against a REAL registry: docker-registry configured with `auth: token:` trusts a
// self-signed certificate made here with openssl (rootcertbundle); a small token server in this test
// checks Basic credentials and signs ES256 JWTs (jose) carrying that certificate in x5c, which the
// registry verifies as it would Docker Hub's or Harbor's tokens.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { importPKCS8, SignJWT } from 'jose';
import { registrySkipReason, startRegistry, type TestRegistry } from '../../../test/support/registry.ts';
import { ClairError } from '../../model/errors.ts';
import { buildLayer, collect, layerTar, OciLayoutWriter, type BuiltImage } from '../testdata/image-builder.ts';
import { openRegistryImage, TokenCache } from './index.ts';

const run = promisify(execFile);
const skip = registrySkipReason();
const SERVICE = 'clair-ts-test-registry';
const ISSUER = 'clair-ts-test-token-issuer';
const pusher = { username: 'pusher', password: 'push-secret' };
const reader = { username: 'reader', password: 'read-secret' };

interface TokenRequest {
  scope: string[];
  service: string | null;
  account: string | null;
  user: string | undefined;
}

describe('bearer token auth against a real registry', { skip }, () => {
  let dir: string;
  let registry: TestRegistry;
  let tokenServer: http.Server;
  const tokenRequests: TokenRequest[] = [];
  let image: BuiltImage;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clair-ts-token-'));
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=clair-ts test token signer']);
    const key = await importPKCS8(await readFile(keyPath, 'utf8'), 'ES256');
    const certDer = (await readFile(certPath, 'utf8')).replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

    tokenServer = http.createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const auth = req.headers.authorization;
        let user: { username: string; password: string } | undefined;
        if (auth?.startsWith('Basic ')) {
          const [u, p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':') as [string, string];
          user = [pusher, reader].find((c) => c.username === u && c.password === p);
          if (!user) {
            res.writeHead(401, { 'content-type': 'application/json' });
            res.end('{"details":"bad credentials"}');
            return;
          }
        }
        const scopes = url.searchParams.getAll('scope');
        tokenRequests.push({ scope: scopes, service: url.searchParams.get('service'), account: url.searchParams.get('account'), user: user?.username });
        // Anonymous callers get a token with no access, as Docker Hub's auth does for private repos.
        const access = scopes.flatMap((s) => {
          const [type, name, actions] = s.split(':') as [string, string, string];
          if (!user) return [];
          const granted = actions.split(',').filter((a) => a === 'pull' || (a === 'push' && user === pusher));
          return [{ type, name, actions: granted }];
        });
        const now = Math.floor(Date.now() / 1000);
        const token = await new SignJWT({ access })
          .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [certDer] })
          .setIssuer(ISSUER)
          .setAudience(SERVICE)
          .setSubject(user?.username ?? '')
          .setIssuedAt(now)
          .setNotBefore(now - 10)
          .setExpirationTime(now + 300)
          .setJti(String(Math.random()))
          .sign(key);
        res.writeHead(200, { 'content-type': 'application/json' });
        // Half the answers use the OAuth2 field name, which the spec allows instead of "token".
        res.end(JSON.stringify(tokenRequests.length % 2 ? { token, expires_in: 300 } : { access_token: token, expires_in: 300 }));
      })().catch((err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
    await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', r));
    const realm = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
    registry = await startRegistry({ auth: { kind: 'token', realm, service: SERVICE, issuer: ISSUER, rootCertBundle: certPath } });

    const w = await new OciLayoutWriter(join(dir, 'layout')).init();
    image = await w.addImage([buildLayer(await layerTar({ 'etc/os-release': 'ID=debian\n' }), 'gzip')], { os: 'linux', architecture: 'amd64' });
    await w.writeIndex([{ descriptor: image.manifest, tag: 't' }]);
    await registry.push(join(dir, 'layout'), 't', 'team/app', 'v1', pusher);
  });
  after(async () => {
    await registry?.stop();
    if (tokenServer) await new Promise((r) => tokenServer.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('with credentials: one token for the pull scope, reused for manifest, config and layers', async () => {
    tokenRequests.length = 0;
    const cache = new TokenCache();
    const img = await openRegistryImage(`${registry.host}/team/app:v1`, { env: {}, username: reader.username, password: reader.password, tokenCache: cache });
    assert.equal(img.manifestDigest, image.manifest.digest);
    assert.deepEqual(await collect(await img.openLayer(img.layers[0]!)), image.layers[0]!.blob);
    await img.close();
    assert.deepEqual(tokenRequests, [{ scope: ['repository:team/app:pull'], service: SERVICE, account: reader.username, user: reader.username }]);

    // A second image opened with the same cache asks for no new token.
    const again = await openRegistryImage(`${registry.host}/team/app@${image.manifest.digest}`, { env: {}, username: reader.username, password: reader.password, tokenCache: cache });
    await again.close();
    assert.equal(tokenRequests.length, 1);
  });

  test('anonymous: the registry refuses the access-less token, an unauthorized error', async () => {
    tokenRequests.length = 0;
    await assert.rejects(openRegistryImage(`${registry.host}/team/app:v1`, { env: { DOCKER_CONFIG: join(dir, 'no-such-dir') }, tokenCache: new TokenCache() }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'unauthorized', String(e));
      assert.match(e.message, /no credentials were found/);
      return true;
    });
    assert.equal(tokenRequests.length, 1);
    assert.equal(tokenRequests[0]!.user, undefined);
  });

  test('wrong credentials: the token service refuses, unauthorized without the secret', async () => {
    await assert.rejects(openRegistryImage(`${registry.host}/team/app:v1`, { env: {}, username: 'reader', password: 'not-the-secret', tokenCache: new TokenCache() }), (e: unknown) => {
      assert.ok(e instanceof ClairError && e.code === 'unauthorized', String(e));
      assert.match(e.message, /token service .* answered 401/);
      assert.doesNotMatch(e.message, /not-the-secret/);
      return true;
    });
  });
});
