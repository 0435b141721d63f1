import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { join } from 'node:path';

// Load on a URL from a separate process (bench/api-load.ts), and the same load on a plain node:http server that
// sends the same bytes and headers, in the same run: the bound report serving is measured against.

export interface LoadFigures {
  requests: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanBodyBytes: number;
}

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  maxRequests: number;
}

export async function runLoad(url: string, o: LoadOptions): Promise<LoadFigures> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'api-load.ts'), url, String(o.concurrency), String(o.durationMs), String(o.maxRequests)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`load generator exited ${code}`);
  return JSON.parse(out) as LoadFigures;
}

/** The URL under load, then a plain node:http server sending the bytes and headers the URL answered, same load. */
export async function loadBesidePlainNode(url: string, o: LoadOptions): Promise<{ served: LoadFigures; plainNode: LoadFigures; ratio: number }> {
  const served = await runLoad(url, o);
  const sample = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  const bytes = Buffer.from(await sample.arrayBuffer());
  if (sample.status !== 200) throw new Error(`${url} answered HTTP ${sample.status}`);
  const headers: Record<string, string> = { 'content-type': sample.headers.get('content-type')!, etag: sample.headers.get('etag')!, vary: 'accept-encoding' };
  const freshness = sample.headers.get('clair-ts-feed-freshness');
  if (freshness) headers['clair-ts-feed-freshness'] = freshness;
  const plain = createServer((_req, res) => void res.writeHead(200, headers).end(bytes));
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  try {
    const plainNode = await runLoad(`http://127.0.0.1:${(plain.address() as { port: number }).port}/`, o);
    return { served, plainNode, ratio: Number((served.requestsPerSecond / plainNode.requestsPerSecond).toFixed(2)) };
  } finally {
    plain.closeAllConnections();
    plain.close();
  }
}
