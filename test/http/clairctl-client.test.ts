import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { updateWith } from '../notifier/notifier-kit.ts';
import { debianLikeImage, schemaChecker, startBlobServer, startTestService } from './serve-kit.ts';

// clairctl's requests (quay/clair cmd/clairctl/client.go) against clair-ts, as Go's net/http sends them: bodies are
// an io.Reader set after the request was built, so they go out chunked (Transfer-Encoding: chunked, no
// Content-Length) and without any Content-Type; the index_report validator (the POST's ETag, stored under the path
// of the Link rel index_report) comes back as If-None-Match on the next GET of that path.

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over node:http; a body is written in several chunks with no Content-Length and no Content-Type. */
function goRequest(base: string, method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers: { 'user-agent': 'clairctl/v4.8.0', 'accept-encoding': 'gzip', ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      // Go's Transport asked for gzip itself, so it decodes a gzip answer transparently, as here.
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: (res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) {
      req.setHeader('transfer-encoding', 'chunked');
      const b = opts.body;
      const third = Math.ceil(b.length / 3);
      req.write(b.slice(0, third));
      req.write(b.slice(third, 2 * third));
      req.write(b.slice(2 * third));
    }
    req.end();
  });
}

test("clairctl's requests: chunked untyped bodies, If-None-Match from the Link header, report, bulk delete", async (t) => {
  const check = (await schemaChecker(t))!;
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  const img = await debianLikeImage('clairctl');
  for (const l of img.layers) blobs.put(l.digest, l.bytes);
  const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\n');
  const base = s.apiUrl;
  const reportPath = `/indexer/api/v1/index_report/${img.manifestHash}`;

  // IndexReport(): GET first; 404 means a novel manifest, so the manifest is POSTed.
  assert.equal((await goRequest(base, 'GET', reportPath)).status, 404);
  // claircore.Manifest as Go encodes it: a layer without headers has "headers": null.
  const manifest = { hash: img.manifestHash, layers: img.layers.map((l) => ({ hash: l.digest, uri: `${blobs.url}/blobs/${l.digest}`, headers: null })) };
  const posted = await goRequest(base, 'POST', '/indexer/api/v1/index_report', { body: JSON.stringify(manifest) });
  assert.equal(posted.status, 201, posted.body);
  const report = JSON.parse(posted.body) as { success: boolean; err: string; state: string };
  check('index_report', report);
  assert.deepEqual([report.success, report.err, report.state], [true, '', 'IndexFinished']);
  // The validator is stored under the Link rel index_report's path; the next GET of that path sends it.
  const links = ([] as string[]).concat(posted.headers.link ?? []).join(', ');
  const rel = /<([^>]+)>;\s*rel="https:\/\/projectquay\.io\/clair\/v1\/index_report"/.exec(links);
  assert.equal(rel?.[1], reportPath);
  const etag = posted.headers.etag;
  assert.ok(etag);
  assert.equal((await goRequest(base, 'GET', rel[1]!, { headers: { 'if-none-match': etag } })).status, 304, 'clairctl: up to date, nothing to send');

  // VulnerabilityReport(): only 200 is a report; before any feed clair-ts answers 202 as Clair does.
  assert.equal((await goRequest(base, 'GET', `/matcher/api/v1/vulnerability_report/${img.manifestHash}`)).status, 202);
  await updateWith(s.store!, [{ name: 'CVE-2023-38545', package: 'curl', release: 'bookworm', fixed: '7.88.1-10+deb12u5', severity: 'High' }]);
  const vr = await goRequest(base, 'GET', `/matcher/api/v1/vulnerability_report/${img.manifestHash}`);
  assert.equal(vr.status, 200);
  assert.equal(vr.headers['content-encoding'], 'gzip', 'the report comes gzip coded, as Go asked');
  const vrBody = JSON.parse(vr.body) as { vulnerabilities: Record<string, { name: string }> };
  check('vulnerability_report', vrBody);
  assert.deepEqual(Object.values(vrBody.vulnerabilities).map((v) => v.name), ['CVE-2023-38545']);

  // DeleteIndexReports(): DELETE with a chunked, untyped JSON array; only 200 is success.
  const other = `sha256:${'9'.repeat(64)}`;
  const deleted = await goRequest(base, 'DELETE', '/indexer/api/v1/index_report', { body: JSON.stringify([img.manifestHash, other]) });
  assert.equal(deleted.status, 200, deleted.body);
  assert.deepEqual(JSON.parse(deleted.body), [img.manifestHash]);
  check('bulk_delete', JSON.parse(deleted.body));
  assert.equal((await goRequest(base, 'GET', reportPath)).status, 404);

  // A body that declares another type is still refused; an empty untyped chunked body is a 400, not a crash.
  const typed = await goRequest(base, 'POST', '/indexer/api/v1/index_report', { body: JSON.stringify(manifest), headers: { 'content-type': 'text/plain' } });
  assert.equal(typed.status, 415, typed.body);
  const empty = await goRequest(base, 'POST', '/indexer/api/v1/index_report', { body: '' });
  assert.equal(empty.status, 400, empty.body);
  check('error', JSON.parse(empty.body));
});
