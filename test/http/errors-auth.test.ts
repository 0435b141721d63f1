import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { INTRASERVICE_ISSUER } from '../../src/http/psk-auth.ts';
import { sha256Digest } from '../support/tar-layer.ts';
import { debianLikeImage, manifestFor, postJson, schemaChecker, startBlobServer, startTestService } from './serve-kit.ts';

// Bad input gets the spec's status and a JSON error, and leaves the store unchanged; PSK auth as Clair's.

const INDEX = '/indexer/api/v1/index_report';
const OPEN = 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\n';

test('bad requests: status, JSON error, nothing stored', async (t) => {
  const check = await schemaChecker(t);
  if (!check) return;
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const s = await startTestService(t, OPEN + 'http:\n  body_limit: 4096\n');
  const img = await debianLikeImage('bad');
  const good = manifestFor(img, blobs);
  // The first layer is served under its digest but with other bytes: the hash does not match.
  blobs.put(img.layers[0]!.digest, Buffer.from('not the layer'));
  blobs.put(img.layers[1]!.digest, img.layers[1]!.bytes);
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-bad-'));
  await writeFile(join(dir, 'layer'), img.layers[0]!.bytes);

  // Manifests of their own, so that what one case stores does not show in another's check.
  const other = (n: string) => `sha256:${n.repeat(64)}`;
  const notATar = Buffer.from('this is not a tar archive, nor gzip, nor zstd: just text, long enough to hold the tar magic offset. '.repeat(4));
  blobs.put(sha256Digest(notATar), notATar);
  const cases: { name: string; req: [string, RequestInit?]; status: number; message?: RegExp; code?: string; manifest?: string; stored?: 'IndexError' }[] = [
    { name: 'malformed JSON', req: [INDEX, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hash": ' }], status: 400, message: /not valid JSON/ },
    { name: 'empty body', req: [INDEX, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' }], status: 400 },
    { name: 'wrong content type', req: [INDEX, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(good) }], status: 415 },
    { name: 'form content type', req: [INDEX, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' }], status: 415 },
    { name: 'another Clair type', req: [INDEX, { method: 'POST', headers: { 'content-type': 'application/vnd.clair.bulk_delete.v1+json' }, body: JSON.stringify(good) }], status: 415 },
    { name: 'manifest without hash', req: [INDEX, postJson({ layers: good.layers })], status: 400, message: /manifest\.hash/ },
    { name: 'manifest with a bad hash', req: [INDEX, postJson({ ...good, hash: 'sha256:xyz' })], status: 400, message: /manifest\.hash/ },
    { name: 'manifest without layers', req: [INDEX, postJson({ hash: good.hash, layers: [] })], status: 400, message: /layers must be a non-empty array/ },
    { name: 'layer without uri', req: [INDEX, postJson({ hash: good.hash, layers: [{ hash: img.layers[0]!.digest }] })], status: 400, message: /layers\[0\]\.uri/ },
    // As Clair: a layer that cannot be fetched (or not as claimed) is a 5xx, and the IndexError report is stored.
    { name: 'layer hash mismatch', req: [INDEX, postJson(good)], status: 502, message: /expected sha256:[0-9a-f]{64}, got sha256:/, manifest: good.hash, stored: 'IndexError' },
    // A digest no earlier case fetched: a layer already in the store is not fetched at all.
    { name: 'unreachable layer URI', req: [INDEX, postJson({ hash: other('a'), layers: [{ hash: `sha256:${'3'.repeat(64)}`, uri: `http://127.0.0.1:1/blobs/sha256:${'3'.repeat(64)}` }] })], status: 502, message: /cannot reach|ECONNREFUSED/, manifest: other('a'), stored: 'IndexError' },
    { name: 'layer URI answers 404', req: [INDEX, postJson({ hash: other('b'), layers: [{ ...good.layers[0]!, hash: `sha256:${'1'.repeat(64)}`, uri: `${blobs.url}/blobs/sha256:${'1'.repeat(64)}` }] })], status: 502, message: /not found/, code: 'layer-fetch-failed', manifest: other('b'), stored: 'IndexError' },
    // Only content that is not a layer is the manifest's fault (400), as Clair's tarfs.ErrFormat.
    { name: 'layer is not a tar', req: [INDEX, postJson({ hash: other('c'), layers: [{ hash: sha256Digest(notATar), uri: `${blobs.url}/blobs/${sha256Digest(notATar)}` }] })], status: 400, message: /not gzip, zstd or tar/, code: 'bad-request', manifest: other('c'), stored: 'IndexError' },
    { name: 'file URI refused by default', req: [INDEX, postJson({ hash: other('d'), layers: [{ hash: img.layers[0]!.digest, uri: pathToFileURL(join(dir, 'layer')).href }] })], status: 400, message: /allow_file_uris/, manifest: other('d') },
    { name: 'unsupported URI scheme', req: [INDEX, postJson({ hash: good.hash, layers: [{ hash: img.layers[0]!.digest, uri: 'ftp://example.com/x' }] })], status: 400, message: /scheme ftp/ },
    { name: 'body too large', req: [INDEX, postJson({ ...good, padding: 'x'.repeat(8192) })], status: 413 },
    { name: 'malformed path digest', req: [`${INDEX}/sha256:abc`], status: 400, message: /path digest/ },
    { name: 'unknown digest', req: [`${INDEX}/sha256:${'2'.repeat(64)}`], status: 404 },
    { name: 'bulk delete of a non-array', req: [INDEX, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: '{"a":1}' }], status: 400 },
    { name: 'update_diff without cur', req: ['/matcher/api/v1/internal/update_diff'], status: 400, message: /cur/ },
    { name: 'update_diff with an unknown cur', req: ['/matcher/api/v1/internal/update_diff?cur=5e4b387e-88d3-4364-86fd-063447a6fad2'], status: 404 },
    { name: 'update_operation of a bad kind', req: ['/matcher/api/v1/internal/update_operation?kind=other'], status: 400 },
    { name: 'notification with a bad id', req: ['/notifier/api/v1/notification/not-a-uuid'], status: 400 },
    { name: 'affected_manifest with a non-array', req: ['/indexer/api/v1/internal/affected_manifest', postJson({ a: 1 })], status: 400 },
    { name: 'unknown endpoint', req: ['/indexer/api/v2/index_report'], status: 404 },
    { name: 'wrong method', req: ['/indexer/api/v1/index_state', { method: 'POST' }], status: 405 },
  ];
  for (const c of cases) {
    const res = await s.call(...c.req);
    const text = await res.text();
    assert.equal(res.status, c.status, `${c.name}: ${text}`);
    assert.equal(res.headers.get('content-type'), 'application/json', c.name);
    const body = JSON.parse(text) as { code: string; message: string };
    check('error', body);
    if (c.message) assert.match(body.message, c.message, c.name);
    if (c.code) assert.equal(body.code, c.code, c.name);
    if (c.manifest && !c.stored) assert.equal((await s.call(`${INDEX}/${c.manifest}`)).status, 404, `${c.name}: no index report stored`);
    if (c.manifest && c.stored) {
      const r = await s.call(`${INDEX}/${c.manifest}`);
      const stored = (await r.json()) as { state: string; success: boolean; err: string };
      check('index_report', stored);
      assert.deepEqual([r.status, stored.state, stored.success], [200, c.stored, false], c.name);
      assert.match(stored.err, c.message ?? /./, `${c.name}: the report's err says why`);
    }
  }
  // No feed was ever loaded: as Clair's matcher before its first update, 202 and no body, not a clean report.
  const early = await s.call(`/matcher/api/v1/vulnerability_report/${good.hash}`);
  assert.deepEqual([early.status, await early.text()], [202, '']);
  assert.equal(((await (await s.call('/indexer/api/v1/index_state', { method: 'POST' })).json()) as { code: string }).code, 'method-not-allowed');
});

test('private and loopback layer addresses are refused unless allowed', async (t) => {
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage('private');
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const s = await startTestService(t, 'matcher:\n  disable_updaters: true\n');
  const port = new URL(blobs.url).port;
  for (const host of ['127.0.0.1', 'localhost', '[::1]', '169.254.169.254', '10.1.2.3']) {
    const m = { hash: img.manifestHash, layers: img.layers.map((l) => ({ hash: l.digest, uri: `http://${host}:${port}/blobs/${l.digest}` })) };
    const res = await s.call(INDEX, postJson(m));
    const body = (await res.json()) as { message: string };
    // A refused address is a layer that could not be fetched: 5xx (Quay retries once the operator allowed it),
    // and the message names the setting.
    assert.equal(res.status, 502, `${host}: ${body.message}`);
    assert.match(body.message, /allow_private_addresses/, host);
  }
  assert.equal(blobs.hits.size, 0, 'nothing reached the blob server');
});

test('file:// layer URIs work when allowed', async (t) => {
  const img = await debianLikeImage('file');
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-file-'));
  const layers = [];
  for (const [i, l] of img.layers.entries()) {
    await writeFile(join(dir, `l${i}`), l.bytes);
    layers.push({ hash: l.digest, uri: pathToFileURL(join(dir, `l${i}`)).href });
  }
  const s = await startTestService(t, 'indexer:\n  allow_file_uris: true\nmatcher:\n  disable_updaters: true\n');
  const res = await s.call(INDEX, postJson({ hash: img.manifestHash, layers }));
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal(Object.keys(((await res.json()) as { packages: object }).packages).length, 3);
});

test('PSK auth: no token, bad signature, wrong issuer, expired, good', async (t) => {
  const key = Buffer.from('a pre-shared key of some length');
  const s = await startTestService(t, `auth:\n  psk:\n    key: ${key.toString('base64')}\n    iss: [quay]\nmatcher:\n  disable_updaters: true\n`);
  const sign = (k: Uint8Array, iss: string, exp = '5m', alg = 'HS256') => new SignJWT({}).setProtectedHeader({ alg }).setIssuer(iss).setIssuedAt().setExpirationTime(exp).sign(k);
  const cases: { name: string; auth?: string; status: number; message?: RegExp }[] = [
    { name: 'no token', status: 401, message: /authorization required/ },
    { name: 'not a bearer token', auth: 'Basic dXNlcjpwYXNz', status: 401 },
    { name: 'garbage token', auth: 'Bearer not.a.jwt', status: 401, message: /not a valid JWT/ },
    { name: 'bad signature', auth: `Bearer ${await sign(Buffer.from('another key entirely'), 'quay')}`, status: 401, message: /signature/ },
    { name: 'wrong issuer', auth: `Bearer ${await sign(key, 'mallory')}`, status: 401, message: /issuer "mallory"/ },
    { name: 'expired', auth: `Bearer ${await sign(key, 'quay', '-10m')}`, status: 401, message: /expired/ },
    { name: 'HS384', auth: `Bearer ${await sign(key, 'quay', '5m', 'HS384')}`, status: 200 },
    { name: 'HS512', auth: `Bearer ${await sign(key, 'quay', '5m', 'HS512')}`, status: 200 },
    { name: 'HS512 with another key', auth: `Bearer ${await sign(Buffer.from('another key entirely'), 'quay', '5m', 'HS512')}`, status: 401, message: /signature/ },
    { name: 'good', auth: `Bearer ${await sign(key, 'quay')}`, status: 200 },
    { name: 'intra-service issuer', auth: `Bearer ${await sign(key, INTRASERVICE_ISSUER)}`, status: 200 },
  ];
  for (const c of cases) {
    const res = await s.call('/indexer/api/v1/index_state', c.auth ? { headers: { authorization: c.auth } } : {});
    const body = (await res.json()) as { code?: string; message?: string };
    assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(body)}`);
    if (c.status === 401) {
      assert.equal(body.code, 'unauthorized', c.name);
      if (c.message) assert.match(body.message ?? '', c.message, c.name);
    }
  }
  // Only HMAC: a token signed with a key pair is refused whatever it claims.
  const pair = await generateKeyPair('ES256');
  const es = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('quay').setIssuedAt().setExpirationTime('5m').sign(pair.privateKey);
  const esRes = await s.call('/indexer/api/v1/index_state', { headers: { authorization: `Bearer ${es}` } });
  assert.equal(esRes.status, 401);
  assert.match(((await esRes.json()) as { message: string }).message, /not signed with HS256, HS384, HS512/);
  // Introspection is never authenticated.
  for (const p of ['/healthz', '/readyz', '/metrics']) assert.equal((await fetch(s.introspectionUrl + p)).status, 200, p);
});
