import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load-config.ts';
import { startService } from '../../src/composition/start-service.ts';
import { isPrivateAddress, layerFetch } from '../../src/service/address-guard.ts';
import { HttpTransport } from '../../src/image/registry/http-transport.ts';
import { withIdleTimeout } from '../../src/model/idle-timeout-fetch.ts';
import { freePort } from '../support/free-port.ts';
import { debianLikeImage, manifestFor, postJson, startBlobServer, startTestService, testEcosystems } from '../http/serve-kit.ts';

// Issue #18, items 9-12 and 14 over HTTP: sha512 manifests, secrets in headers and redirects, stalled servers,
// SIGTERM, SSRF address forms, the framework's error shape, and `scan | head`.

const root = resolve(import.meta.dirname, '../..');

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

test('#18.9 a sha512 manifest hash works for POST, GET and DELETE (no 414)', async (t) => {
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\n');
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage('sha512');
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const hash = 'sha512:' + 'ab'.repeat(64);
  const post = await s.call('/indexer/api/v1/index_report', postJson({ ...manifestFor(img, blobs), hash }));
  assert.equal(post.status, 201, await post.clone().text());
  const get = await s.call(`/indexer/api/v1/index_report/${hash}`);
  assert.equal(get.status, 200);
  assert.equal(((await get.json()) as { manifest_hash: string }).manifest_hash, hash);
  const del = await s.call(`/indexer/api/v1/index_report/${hash}`, { method: 'DELETE' });
  assert.ok(del.status === 204 || del.status === 200, `DELETE answered ${del.status}`);
  assert.equal((await s.call(`/indexer/api/v1/index_report/${hash}`)).status, 404);
});

test('#18.14 errors the HTTP framework raises have Clair\'s shape {code, message}', async (t) => {
  const s = await startTestService(t, '');
  const tooLong = await s.call(`/indexer/api/v1/index_report/sha256:${'a'.repeat(600)}`);
  assert.equal(tooLong.status, 414);
  assert.deepEqual(Object.keys((await tooLong.json()) as object).sort(), ['code', 'message']);
  const badUrl = await s.call('/indexer/api/v1/index_report/%zz');
  assert.equal(badUrl.status, 400);
  assert.deepEqual(await badUrl.json(), { code: 'bad-request', message: 'the request path is not a valid URL' });
  // Not HTTP at all: the server's client-error path.
  const port = new URL(s.apiUrl).port;
  const raw = await new Promise<string>((resolveRaw) => {
    const sock = connect(Number(port), '127.0.0.1', () => sock.write('NOT HTTP AT ALL\r\n\r\n'));
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('close', () => resolveRaw(got));
    sock.on('error', () => {});
  });
  assert.match(raw, /^HTTP\/1\.1 400 Bad Request/);
  assert.deepEqual(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)), { code: 'bad-request', message: 'malformed HTTP request' });
});

test('#18.10 a header value with control characters is refused without being echoed or logged', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => void (lines.push(c.toString()), cb()) });
  const config = parseConfig('http_listen_addr: "127.0.0.1:0"\nintrospection_addr: "127.0.0.1:0"\nindexer:\n  allow_private_addresses: true\n', 'c', {});
  const s = await startService(config, { mode: 'combo', db: ':memory:', env: {}, logger: pino({ level: 'debug' }, sink), ecosystems: testEcosystems });
  t.after(() => s.close());
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage('ctl');
  const secret = 'Bearer SECRET-TOKEN-1234\r\nX-Injected: 1';
  const res = await fetch(s.apiUrl + '/indexer/api/v1/index_report', postJson(manifestFor(img, blobs, { Authorization: [secret] })));
  const body = await res.text();
  assert.equal(res.status, 400, body);
  assert.match(body, /value holds control characters \(value not shown\)/);
  assert.doesNotMatch(body, /SECRET-TOKEN/);
  assert.doesNotMatch(lines.join(''), /SECRET-TOKEN/);
});

test('#18.10 Cookie, X-Registry-Auth and every other credential header are dropped on a cross-origin redirect', async (t) => {
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\n');
  const img = await debianLikeImage('redirect');
  const seen: Record<string, string | string[] | undefined>[] = [];
  const storage = await serve((req, res) => {
    seen.push({ ...req.headers });
    const l = img.layers.find((x) => req.url!.endsWith(x.digest))!;
    res.writeHead(200, { 'content-length': l.bytes.length }).end(l.bytes);
  });
  const registry = await serve((req, res) => res.writeHead(307, { location: `${storage.url}${req.url}` }).end());
  t.after(() => Promise.all([storage.close(), registry.close()]));
  const headers = { Authorization: ['Bearer a'], Cookie: ['session=s'], 'X-Registry-Auth': ['eyJ'], 'X-Custom-Token': ['t'], Accept: ['*/*'] };
  const manifest = { hash: img.manifestHash, layers: img.layers.map((l) => ({ hash: l.digest, uri: `${registry.url}/blobs/${l.digest}`, headers })) };
  const res = await s.call('/indexer/api/v1/index_report', postJson(manifest));
  assert.equal(res.status, 201, await res.text());
  assert.ok(seen.length >= 2);
  for (const h of seen) {
    for (const k of ['authorization', 'cookie', 'x-registry-auth', 'x-custom-token']) assert.equal(h[k], undefined, `${k} reached the other origin`);
    assert.equal(h.accept, '*/*');
  }
});

test('#18.11 a layer server that stalls mid-body: the fetch ends after the idle timeout and the socket is closed', async (t) => {
  let closed = 0;
  let requests = 0;
  const stalled = await serve((req, res) => {
    requests++;
    req.socket.on('close', () => closed++);
    res.writeHead(200, { 'content-length': 1000 });
    res.write(Buffer.alloc(100)); // then nothing, for ever
  });
  t.after(() => stalled.close());
  const transport = new HttpTransport({ fetch: withIdleTimeout(fetch, 200), retry: { attempts: 2, baseDelayMs: 1 } });
  const res = await transport.request(`${stalled.url}/blob`, {}, 'blob');
  const started = Date.now();
  await assert.rejects(res.arrayBuffer(), (e: Error & { code?: string }) => /idle timeout/.test(e.message) || e.code === 'ETIMEDOUT' || /idle timeout/.test(String((e as { cause?: unknown }).cause)));
  assert.ok(Date.now() - started < 10_000);
  // A server that never sends headers: the request itself gives up, retried once, then 'unavailable'.
  const silent = await serve(() => {});
  t.after(() => silent.close());
  await assert.rejects(transport.request(`${silent.url}/x`, {}, 'blob'), (e: Error & { code?: string }) => e.code === 'unavailable' && /idle timeout/.test(e.message));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closed, requests, 'every stalled socket was closed by the client');
});

test('#18.11 through the API: a stalled layer answers an error within the idle timeout, and a retry is not a 503', async (t) => {
  const previous = process.env.CLAIR_TS_IDLE_TIMEOUT;
  process.env.CLAIR_TS_IDLE_TIMEOUT = '300ms';
  t.after(() => (previous === undefined ? delete process.env.CLAIR_TS_IDLE_TIMEOUT : (process.env.CLAIR_TS_IDLE_TIMEOUT = previous)));
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\n');
  const img = await debianLikeImage('stall');
  const stalled = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': 100_000 });
    res.write(Buffer.alloc(10));
  });
  t.after(() => stalled.close());
  const manifest = { hash: img.manifestHash, layers: img.layers.map((l) => ({ hash: l.digest, uri: `${stalled.url}/blobs/${l.digest}`, headers: {} })) };
  for (let i = 0; i < 2; i++) {
    const res = await s.call('/indexer/api/v1/index_report', postJson(manifest));
    const body = (await res.json()) as { code?: string; state?: string; err?: string };
    assert.notEqual(res.status, 503, JSON.stringify(body));
    assert.ok(res.status >= 400, `status ${res.status}`);
    assert.match(JSON.stringify(body), /idle timeout/);
  }
});

test('#18.11 SIGTERM completes the shutdown while a request waits on a stalled layer server', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'harden-sigterm-'));
  const [api, intro] = [await freePort(), await freePort()];
  const config = join(dir, 'config.yaml');
  await writeFile(config, `http_listen_addr: "127.0.0.1:${api}"\nintrospection_addr: "127.0.0.1:${intro}"\nmatcher:\n  disable_updaters: true\nindexer:\n  allow_private_addresses: true\n`);
  let asked!: () => void;
  const gotRequest = new Promise<void>((r) => (asked = r));
  const stalled = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': 100_000 });
    res.write(Buffer.alloc(10));
    asked();
  });
  t.after(() => stalled.close());
  const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'serve', '--config', config, '--db', join(dir, 'db.sqlite')], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLAIR_TS_DB: '', CLAIR_TS_SHUTDOWN_GRACE: '1s', CLAIR_TS_IDLE_TIMEOUT: '10m' },
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = once(child, 'exit');
  try {
    for (let i = 0; i < 200 && !(await fetch(`http://127.0.0.1:${intro}/readyz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    const img = await debianLikeImage('sigterm');
    const manifest = { hash: img.manifestHash, layers: img.layers.map((l) => ({ hash: l.digest, uri: `${stalled.url}/blobs/${l.digest}`, headers: {} })) };
    const pending = fetch(`http://127.0.0.1:${api}/indexer/api/v1/index_report`, postJson(manifest)).catch(() => undefined);
    await gotRequest;
    const killedAt = Date.now();
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, null, output);
    assert.equal(code, 0, output);
    assert.ok(Date.now() - killedAt < 15_000, `shutdown took ${Date.now() - killedAt} ms`);
    assert.match(output, /did not finish within the shutdown grace period/);
    await pending;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('#18.12 the SSRF guard normalises every address form before the check', async () => {
  for (const a of ['::127.0.0.1', '[::127.0.0.1]', '::ffff:7f00:1', '::ffff:127.0.0.1', '::ffff:0:7f00:1', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1',
    '2001:0:4136:e378:8000:63bf:80ff:fffe', '2130706433', '0177.0.0.1', '0x7f.1', '127.1', '0', 'fe80::1%eth0', '::', '::1', '169.254.169.254', 'not-an-address']) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ['8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '::8.8.8.8', '2002:0808:0808::1']) assert.equal(isPrivateAddress(a), false, a);
  const target = await serve((_q, r) => r.end('reached'));
  try {
    const port = new URL(target.url).port;
    for (const host of ['[::127.0.0.1]', '[::ffff:7f00:1]', '2130706433', '0177.0.0.1', '0x7f.0.0.1', '127.1']) {
      await assert.rejects(layerFetch(false)(`http://${host}:${port}/x`), (e: Error & { code?: string }) => e.code === 'bad-input' && /loopback, private or link-local/.test(e.message), host);
    }
  } finally {
    await target.close();
  }
});

test('#18.14 `clair-ts … | head`: a closed stdout ends the command quietly with 0', async () => {
  const lines = Array.from({ length: 200_000 }, (_, i) => `1.${i}\t1.${i + 1}`).join('\n') + '\n';
  const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'compare-versions', '--scheme', 'dpkg', '--stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdin!.on('error', () => {});
  child.stdin!.end(lines);
  await once(child.stdout!, 'data');
  child.stdout!.destroy(); // the reader goes away, as `head` does
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(err, '');
  assert.equal(code, 0);
});
