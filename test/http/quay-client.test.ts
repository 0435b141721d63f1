import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load-config.ts';
import { startService } from '../../src/composition/start-service.ts';
import { WebhookDeliverer } from '../../src/notifier/webhook-deliverer.ts';
import { freePort } from '../support/free-port.ts';
import { updateWith, type FeedRecord } from '../notifier/notifier-kit.ts';
import { debianLikeImage, schemaChecker, startBlobServer, testEcosystems } from './serve-kit.ts';

// Quay's security scanner v4 client (quay/quay util/secscan/v4/api.py and endpoints/secscan.py) against clair-ts,
// request by request as Quay makes them: python-requests with `json=` bodies, a JWT it signs with
// SECURITY_SCANNER_V4_PSK (HS256, iss "quay", exp in 5 minutes) on every call, the layer headers it sends, and the
// validation it applies (each answer against its bundled OpenAPI schemas; QUAY_REQUIRED below restates their
// required lists). Its webhook endpoint verifies Clair's signature (HS256; nbf, iat and exp required; iat not in
// the future) and answers 401 otherwise; the receiver here does the same.

const PSK = Buffer.from('the pre-shared key Quay and clair-ts are both given');

/** Required keys of the schemas in Quay's util/secscan/v4/clair-v4.openapi.json, by object. */
const QUAY_REQUIRED = {
  IndexReport: ['manifest_hash', 'state', 'packages', 'distributions', 'environments', 'success', 'err'],
  VulnerabilityReport: ['manifest_hash', 'packages', 'distributions', 'environments', 'vulnerabilities', 'package_vulnerabilities'],
  Package: ['id', 'name', 'version'],
  Distribution: ['id', 'did', 'name', 'version', 'version_code_name', 'version_id', 'arch', 'cpe', 'pretty_name'],
  Environment: ['package_db', 'introduced_in', 'distribution_id'],
  Vulnerability: ['id', 'updater', 'name', 'links', 'severity', 'normalized_severity', 'fixed_in_version'],
  State: ['state'],
};

function hasKeys(o: unknown, keys: readonly string[], where: string): void {
  assert.ok(o !== null && typeof o === 'object', `${where} is an object`);
  for (const k of keys) assert.ok(k in (o as object), `${where} has ${k} (Quay requires it)`);
}

/** What Quay's validation would reject, walked by hand: required keys, and Vulnerability.range typed as a string. */
function quayAccepts(kind: 'IndexReport' | 'VulnerabilityReport', r: Record<string, any>): void {
  hasKeys(r, QUAY_REQUIRED[kind], kind);
  for (const [id, p] of Object.entries(r.packages as Record<string, any>)) {
    hasKeys(p, QUAY_REQUIRED.Package, `package ${id}`);
    if (p.source !== undefined) hasKeys(p.source, QUAY_REQUIRED.Package, `package ${id} source`);
  }
  for (const [id, d] of Object.entries(r.distributions as Record<string, any>)) hasKeys(d, QUAY_REQUIRED.Distribution, `distribution ${id}`);
  for (const [id, es] of Object.entries(r.environments as Record<string, any[]>)) for (const e of es) hasKeys(e, QUAY_REQUIRED.Environment, `environment of ${id}`);
  for (const [id, v] of Object.entries((r.vulnerabilities ?? {}) as Record<string, any>)) {
    hasKeys(v, QUAY_REQUIRED.Vulnerability, `vulnerability ${id}`);
    assert.ok(v.range === undefined || typeof v.range === 'string', `vulnerability ${id}: Quay types range as a string`);
    hasKeys(v.package, QUAY_REQUIRED.Package, `vulnerability ${id} package`);
    hasKeys(v.distribution, QUAY_REQUIRED.Distribution, `vulnerability ${id} distribution`);
  }
}

/** A Quay-side webhook endpoint: verifies the signature as endpoints/secscan.py does. */
async function quayNotificationEndpoint(key: Uint8Array) {
  const received: { status: number; body: unknown; authorization: string | undefined; claims?: Record<string, unknown>; header?: Record<string, unknown> }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      const m = /^Bearer (([a-zA-Z0-9+\-_/]+\.)+[a-zA-Z0-9+\-_/]+)$/.exec(req.headers.authorization ?? '');
      let status = 200;
      let claims: Record<string, unknown> | undefined;
      let header: Record<string, unknown> | undefined;
      try {
        if (!m) throw new Error('no bearer token');
        const v = await jwtVerify(m[1]!, key, { algorithms: ['HS256'], requiredClaims: ['nbf', 'iat', 'exp'] });
        if ((v.payload.iat ?? 0) > Date.now() / 1000) throw new Error('iat in the future');
        claims = v.payload as Record<string, unknown>;
        header = decodeProtectedHeader(m[1]!) as Record<string, unknown>;
      } catch {
        status = 401;
      }
      received.push({ status, body, authorization: req.headers.authorization, ...(claims ? { claims } : {}), ...(header ? { header } : {}) });
      res.writeHead(status).end(status === 200 ? 'Okay' : '');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/secscan/notification`,
    received,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** requests.request(method, url, json=body, headers={"authorization": "Bearer …"}) as Quay's _perform sends it. */
async function quayRequest(base: string, method: string, path: string, body?: unknown): Promise<Response> {
  const token = await new SignJWT({ iss: 'quay', exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(PSK);
  const headers: Record<string, string> = {
    'user-agent': 'python-requests/2.32.3', accept: '*/*', 'accept-encoding': 'gzip, deflate', authorization: `Bearer ${token}`,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(new URL(path, base), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

const OPENSSL: FeedRecord = { name: 'CVE-2023-5678', package: 'openssl', release: 'bookworm', fixed: '3.0.13-1~deb12u1', severity: 'Medium' };
const CURL: FeedRecord = { name: 'CVE-2023-38545', package: 'curl', release: 'bookworm', fixed: '7.88.1-10+deb12u5', severity: 'High' };

test("Quay's client flow: state, index, index report, vulnerability report, signed webhook, notification page, deletes", async (t) => {
  const check = (await schemaChecker(t))!;
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage('quay');
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const quay = await quayNotificationEndpoint(PSK);
  t.after(() => quay.close());

  // The clair-ts side of "Use clair-ts as Quay's scanner" (README), on a port known before start for the callback.
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const config = parseConfig(`
http_listen_addr: "127.0.0.1:${port}"
introspection_addr: "127.0.0.1:0"
indexer:
  allow_private_addresses: true
matcher:
  disable_updaters: true
notifier:
  poll_interval: 1h
  webhook:
    target: ${quay.url}
    callback: ${endpoint}/notifier/api/v1/notification/
auth:
  psk:
    key: ${PSK.toString('base64')}
    iss: [quay]
`, 'quay test config', {});
  const s = await startService(config, { mode: 'combo', db: ':memory:', env: {}, logger: pino({ level: process.env.CLAIR_TS_TEST_LOG ?? 'silent' }), ecosystems: testEcosystems });
  t.after(() => s.close());

  // ---- state(): GET index_state
  const state = await quayRequest(endpoint, 'GET', '/indexer/api/v1/index_state');
  assert.equal(state.status, 200);
  const stateBody = (await state.json()) as { state: string };
  hasKeys(stateBody, QUAY_REQUIRED.State, 'State');
  check('index_state', stateBody);

  // ---- index(): POST index_report with Quay's layer shape (an Accept header for each layer)
  const manifest = {
    hash: img.manifestHash,
    layers: img.layers.map((l) => ({ hash: l.digest, uri: `${blobs.url}/blobs/${l.digest}`, headers: { Accept: ['application/gzip'] } })),
  };
  const indexed = await quayRequest(endpoint, 'POST', '/indexer/api/v1/index_report', manifest);
  assert.equal(indexed.status, 201, await indexed.clone().text());
  const etag = indexed.headers.get('etag');
  assert.ok(etag, 'Quay asserts the etag header and stores it, unquoted, as the indexer hash');
  assert.equal(etag.replace(/^"|"$/g, ''), stateBody.state);
  const report = (await indexed.json()) as Record<string, any>;
  quayAccepts('IndexReport', report);
  check('index_report', report);
  assert.equal(report.state, 'IndexFinished', 'Quay marks the manifest COMPLETED only on IndexFinished');
  assert.equal(report.err, '');
  for (const p of Object.values(report.packages as Record<string, { kind: string }>)) assert.equal(p.kind, 'binary');

  // ---- index_report(): GET
  const got = await quayRequest(endpoint, 'GET', `/indexer/api/v1/index_report/${img.manifestHash}`);
  assert.equal(got.status, 200);
  const gotBody = (await got.json()) as Record<string, any>;
  quayAccepts('IndexReport', gotBody);
  assert.deepEqual(gotBody, report);

  // ---- vulnerability_report() before any feed was loaded: Clair's 202 without a body, never a clean report
  const early = await quayRequest(endpoint, 'GET', `/matcher/api/v1/vulnerability_report/${img.manifestHash}`);
  assert.deepEqual([early.status, await early.text()], [202, '']);

  await updateWith(s.store!, [OPENSSL]);
  const vr = await quayRequest(endpoint, 'GET', `/matcher/api/v1/vulnerability_report/${img.manifestHash}`);
  assert.equal(vr.status, 200);
  const vrBody = (await vr.json()) as Record<string, any>;
  quayAccepts('VulnerabilityReport', vrBody);
  check('vulnerability_report', vrBody);
  const vulns = Object.values(vrBody.vulnerabilities as Record<string, Record<string, any>>);
  assert.deepEqual(vulns.map((v) => [v.name, v.normalized_severity, v.fixed_in_version, v.package.name]), [['CVE-2023-5678', 'Medium', '3.0.13-1~deb12u1', 'openssl']]);

  // ---- a feed change: the notifier creates a set and delivers the signed webhook to Quay's endpoint
  await updateWith(s.store!, [OPENSSL, CURL]);
  await s.notifier!.processNew();
  assert.equal(quay.received.length, 1, 'one delivery');
  const delivery = quay.received[0]!;
  assert.equal(delivery.status, 200, 'Quay verified the signature');
  assert.deepEqual(delivery.header, { alg: 'HS256' });
  assert.equal(delivery.claims!.iss, 'clair-notifier');
  const c = delivery.claims as { iat: number; nbf: number; exp: number };
  assert.deepEqual([c.iat - c.nbf, c.exp - c.iat], [60, 60], "go-jose's one-minute leeway either side, as Clair signs");
  check('notification_webhook', delivery.body);
  const { notification_id: nid, callback } = delivery.body as { notification_id: string; callback: string };
  assert.equal(callback, `${endpoint}/notifier/api/v1/notification/${nid}`);

  // ---- retrieve_notification_page(): GET the callback's path (Quay builds it from its endpoint and the id)
  const page = await quayRequest(endpoint, 'GET', `/notifier/api/v1/notification/${nid}`);
  assert.equal(page.status, 200);
  const pageBody = (await page.json()) as { page: { size: number; next?: string }; notifications: Record<string, any>[] };
  check('notification_page', pageBody);
  assert.equal(pageBody.page.next, undefined, 'one page');
  assert.equal(pageBody.notifications.length, 1);
  const n = pageBody.notifications[0]!;
  // process_notification_page: reason "added", then these members of the vulnerability.
  assert.deepEqual([n.reason, n.manifest], ['added', img.manifestHash]);
  hasKeys(n.vulnerability.package, QUAY_REQUIRED.Package, 'notification vulnerability package');
  hasKeys(n.vulnerability.distribution, QUAY_REQUIRED.Distribution, 'notification vulnerability distribution');
  assert.deepEqual(
    [n.vulnerability.normalized_severity, n.vulnerability.name, n.vulnerability.package.name, n.vulnerability.fixed_in_version, n.vulnerability.links],
    ['High', 'CVE-2023-38545', 'curl', '7.88.1-10+deb12u5', 'https://security-tracker.debian.org/tracker/CVE-2023-38545'],
  );
  assert.match(n.vulnerability.description, /CVE-2023-38545/);

  // ---- delete_notification(), then the page is gone (Quay: None → the notification no longer exists)
  assert.equal((await quayRequest(endpoint, 'DELETE', `/notifier/api/v1/notification/${nid}`)).status, 200);
  assert.equal((await quayRequest(endpoint, 'GET', `/notifier/api/v1/notification/${nid}`)).status, 404);

  // ---- delete(): DELETE index_report/{digest}, as Clair 204; then it is unknown
  assert.equal((await quayRequest(endpoint, 'DELETE', `/indexer/api/v1/index_report/${img.manifestHash}`)).status, 204);
  assert.equal((await quayRequest(endpoint, 'GET', `/indexer/api/v1/index_report/${img.manifestHash}`)).status, 404);
});

test('a webhook signed with another PSK is refused by Quay; without a PSK nothing is signed', async (t) => {
  const quay = await quayNotificationEndpoint(PSK);
  t.after(() => quay.close());
  const { webhookSigner } = await import('../../src/notifier/webhook-signer.ts');
  const config = { target: quay.url, callback: 'http://clair.example/notifier/api/v1/notification/', headers: {} };
  const wrong = new WebhookDeliverer(config, { sign: webhookSigner(Buffer.from('not the key Quay has')) });
  await assert.rejects(wrong.deliver('5e4b387e-88d3-4364-86fd-063447a6fad2'), /answered 401/);
  const unsigned = new WebhookDeliverer(config);
  await assert.rejects(unsigned.deliver('5e4b387e-88d3-4364-86fd-063447a6fad2'), /answered 401/);
  const right = new WebhookDeliverer({ ...config, headers: { Authorization: ['Bearer configured'] } }, { sign: webhookSigner(PSK) });
  await right.deliver('5e4b387e-88d3-4364-86fd-063447a6fad2');
  assert.deepEqual(quay.received.map((r) => r.status), [401, 401, 200]);
  assert.equal(quay.received[1]!.authorization, undefined, 'no PSK: no Authorization header');
  assert.notEqual(quay.received[2]!.authorization, 'Bearer configured', 'the signature replaces a configured Authorization header');
});

test("the README's clair-ts configuration for Quay is a valid configuration", async () => {
  const { readFile } = await import('node:fs/promises');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf("### Use clair-ts as Quay's scanner"));
  const yaml = /and clair-ts's:\n\n```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(yaml, 'the section has the clair-ts YAML block');
  const c = parseConfig(yaml, 'README', {});
  assert.equal(c.indexer.allowPrivateAddresses, true);
  assert.deepEqual(c.auth.psk?.issuers, ['quay']);
  assert.equal(c.notifier.webhook?.target, 'https://quay.example.com/secscan/notification');
});
