import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { debianTestImage, TEST_IMAGE_SKIP_MESSAGE } from '../support/test-image.ts';
import { postJson, schemaChecker, startTestService } from './serve-kit.ts';

// The real Debian bookworm test image (scripts/build-test-image.sh), its OCI layout blobs served over HTTP,
// indexed through the API: the packages must be exactly what dpkg-query printed inside the image.

const image = await debianTestImage();

for (const tag of ['bookworm', 'zstd'] as const) {
  test(`index the real Debian image (${tag} layers) over the API`, { skip: !image && TEST_IMAGE_SKIP_MESSAGE }, async (t) => {
    const check = await schemaChecker(t);
    if (!check || !image) return;
    const blobDir = join(image.dir, 'oci', 'blobs', 'sha256');
    const served: string[] = [];
    const server = createServer(async (req, res) => {
      const hex = /^\/blobs\/sha256:([0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
      const path = hex && join(blobDir, hex);
      const st = path ? await stat(path).catch(() => undefined) : undefined;
      if (!path || !st) return void res.writeHead(404).end();
      served.push(`sha256:${hex}`);
      res.writeHead(200, { 'content-length': st.size });
      createReadStream(path).pipe(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const index = JSON.parse(await readFile(join(image.dir, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!;
    const manifest = JSON.parse(await readFile(join(blobDir, desc.digest.slice('sha256:'.length)), 'utf8')) as { layers: { digest: string; mediaType: string }[] };

    const s = await startTestService(t, 'indexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\n');
    const body = {
      hash: desc.digest,
      layers: manifest.layers.map((l) => ({ hash: l.digest, uri: `${base}/blobs/${l.digest}`, media_type: l.mediaType, headers: {} })),
    };
    const res = await s.call('/indexer/api/v1/index_report', postJson(body));
    assert.equal(res.status, 201, await res.clone().text());
    const report = (await res.json()) as { packages: Record<string, { name: string; version: string; arch: string; source?: { name: string; version: string } }>; distributions: Record<string, { version_code_name: string }> };
    check('index_report', report);
    const got = Object.values(report.packages).map((p) => `${p.name} ${p.version} ${p.arch} ${p.source?.name ?? ''} ${p.source?.version ?? ''}`).sort();
    const want = image.expected.packages.map((p) => `${p.name} ${p.version} ${p.arch} ${p.sourceName} ${p.sourceVersion}`).sort();
    assert.deepEqual(got, want);
    assert.deepEqual(Object.values(report.distributions).map((d) => d.version_code_name), ['bookworm']);
    assert.deepEqual(served.sort(), manifest.layers.map((l) => l.digest).sort(), 'each layer fetched once');
  });
}
