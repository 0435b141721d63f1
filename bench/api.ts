import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load-config.ts';
import { startService } from '../src/composition/start-service.ts';
import { runUpdater } from '../src/updater/run-updater.ts';
import { debianTestImage } from '../test/support/test-image.ts';
import { debianLikeImage, testEcosystems, testFeedUpdater } from '../test/http/serve-kit.ts';
import { loadBesidePlainNode } from './load-bound.ts';

// The HTTP API under load: GET vulnerability_report for an indexed image, requested by a separate process
// (bench/api-load.ts) over loopback with a fixed number of concurrent connections, bounded in time and count;
// and POST index_report for an image already indexed (answered from the store, no layer fetched).
// The service is combo mode on SQLite. Vulnerability data: a generated feed in the tests' own format with two
// records per source package of the image (one affecting, one fixed), so the report carries real findings.

const CONCURRENCY = 16;
const DURATION_MS = 10_000;
const MAX_REQUESTS = 50_000;
const POST_REPEATS = 30;

interface Blob {
  digest: string;
  path?: string;
  bytes?: Buffer;
}

export async function benchApi(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-bench-api-'));
  const real = await debianTestImage();
  let manifestHash: string;
  let blobs: Blob[];
  let imageName: string;
  if (real) {
    const blobDir = join(real.dir, 'oci', 'blobs', 'sha256');
    const index = JSON.parse(await readFile(join(real.dir, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    manifestHash = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'bookworm')!.digest;
    const manifest = JSON.parse(await readFile(join(blobDir, manifestHash.slice(7)), 'utf8')) as { layers: { digest: string }[] };
    blobs = manifest.layers.map((l) => ({ digest: l.digest, path: join(blobDir, l.digest.slice(7)) }));
    imageName = 'Debian bookworm test image';
  } else {
    const img = await debianLikeImage('bench');
    manifestHash = img.manifestHash;
    blobs = img.layers.map((l) => ({ digest: l.digest, bytes: l.bytes }));
    imageName = 'synthetic 2-layer Debian-like image (test image not built)';
  }

  const server = createServer(async (req, res) => {
    const b = blobs.find((x) => req.url === `/blobs/${x.digest}`);
    if (!b) return void res.writeHead(404).end();
    if (b.bytes) return void res.writeHead(200).end(b.bytes);
    res.writeHead(200, { 'content-length': (await stat(b.path!)).size });
    createReadStream(b.path!).pipe(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const blobBase = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const config = parseConfig(
    'http_listen_addr: "127.0.0.1:0"\nintrospection_addr: "127.0.0.1:0"\nlog_level: warn\nindexer:\n  allow_private_addresses: true\nmatcher:\n  disable_updaters: true\n',
    'bench config',
  );
  const s = await startService(config, { mode: 'combo', db: join(dir, 'bench.db'), env: {}, logger: pino({ level: 'warn' }), ecosystems: testEcosystems });
  try {
    const body = JSON.stringify({ hash: manifestHash, layers: blobs.map((b) => ({ hash: b.digest, uri: `${blobBase}/blobs/${b.digest}`, headers: {} })) });
    const post = () => fetch(`${s.apiUrl}/indexer/api/v1/index_report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const t0 = performance.now();
    const first = await post();
    const report = (await first.json()) as { packages: Record<string, { name: string; version: string; source?: { name: string; version: string } }> };
    if (first.status !== 201) throw new Error(`indexing failed: HTTP ${first.status}`);
    const coldIndexMs = performance.now() - t0;

    // Two records per source package: one fixed after the installed version (a finding), one before (none).
    const sources = new Map<string, string>();
    for (const p of Object.values(report.packages)) sources.set(p.source?.name ?? p.name, p.source?.version ?? p.version);
    const feed = [...sources.keys()].flatMap((name, i) => [
      { name: `CVE-2099-${10000 + 2 * i}`, package: name, release: 'bookworm', fixed: `${sources.get(name)}+bench1`, severity: 'High' },
      { name: `CVE-2000-${10000 + 2 * i}`, package: name, release: 'bookworm', fixed: '0.0-1', severity: 'Low' },
    ]);
    await writeFile(join(dir, 'feed.json'), JSON.stringify(feed));
    await runUpdater(s.store!, testFeedUpdater, join(dir, 'feed.json'));

    const postMs: number[] = [];
    for (let i = 0; i < POST_REPEATS; i++) {
      const t = performance.now();
      const r = await post();
      await r.arrayBuffer();
      if (r.status !== 201) throw new Error(`re-index answered HTTP ${r.status}`);
      postMs.push(performance.now() - t);
    }
    postMs.sort((a, b) => a - b);

    const url = `${s.apiUrl}/matcher/api/v1/vulnerability_report/${manifestHash}`;
    const vr = (await (await fetch(url)).json()) as { vulnerabilities: object; package_vulnerabilities: Record<string, string[]> };
    const findings = Object.values(vr.package_vulnerabilities).reduce((n, l) => n + l.length, 0);
    // Beside the bound: a plain node:http server sending the same bytes and headers, loaded the same way, in
    // alternating rounds of the same run (bench/load-bound.ts).
    const load = await loadBesidePlainNode(url, { concurrency: CONCURRENCY, durationMs: DURATION_MS, maxRequests: MAX_REQUESTS });
    return {
      image: { name: imageName, layers: blobs.length, packages: Object.keys(report.packages).length, findings },
      coldIndexMs: Math.round(coldIndexMs),
      postIndexedMedianMs: Number(postMs[Math.floor(postMs.length / 2)]!.toFixed(2)),
      postIndexedP99Ms: Number(postMs[postMs.length - 1]!.toFixed(2)),
      vulnerabilityReport: { concurrency: CONCURRENCY, durationLimitMs: DURATION_MS, ...load.served },
      plainNode: load.plainNode,
      ratioToPlainNode: load.ratio,
    };
  } finally {
    await s.close();
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(await benchApi(), null, 2) + '\n');
}
