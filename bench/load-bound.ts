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
  /**
   * CPU time of this process (where the servers run; the load generator is another process) per request answered:
   * unlike throughput, not shared with the machine's other work.
   */
  serverCpuMsPerRequest?: number;
  /** The same for the database's sessions of the service (PostgreSQL backends), when measured. */
  databaseCpuMsPerRequest?: number;
}

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  /** The URL's server runs in another process (`clair-ts serve`): its CPU is not this process's, none is reported. */
  serverOutOfProcess?: boolean;
}

export async function runLoad(url: string, o: LoadOptions, databaseCpuMs?: () => Promise<number>, serverCpu = true): Promise<LoadFigures> {
  const db0 = await databaseCpuMs?.();
  const cpu0 = process.cpuUsage();
  const child = spawn(process.execPath, [join(import.meta.dirname, 'api-load.ts'), url, String(o.concurrency), String(o.durationMs), String(o.maxRequests)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`load generator exited ${code}`);
  const cpu = process.cpuUsage(cpu0);
  const db1 = await databaseCpuMs?.();
  const f = JSON.parse(out) as LoadFigures;
  const ok = Math.max(1, f.requests - f.errors);
  if (serverCpu) f.serverCpuMsPerRequest = Number(((cpu.user + cpu.system) / 1000 / ok).toFixed(3));
  if (db0 !== undefined && db1 !== undefined) f.databaseCpuMsPerRequest = Number(((db1 - db0) / ok).toFixed(3));
  return f;
}

/** Rounds of alternating load: the machine's other work shifts over a run, and should weigh on both sides alike. */
const ROUNDS = 3;

function total(runs: LoadFigures[]): LoadFigures {
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const ok = requests - errors;
  // Latency percentiles are not additive: the round's median of each is shown.
  const mid = (k: 'p50Ms' | 'p99Ms' | 'meanBodyBytes') => [...runs].sort((a, b) => a[k] - b[k])[Math.floor(runs.length / 2)]![k];
  const perRequest = (k: 'serverCpuMsPerRequest' | 'databaseCpuMsPerRequest') =>
    runs.every((r) => r[k] !== undefined) ? { [k]: Number((runs.reduce((n, r) => n + r[k]! * (r.requests - r.errors), 0) / Math.max(1, ok)).toFixed(3)) } : {};
  return {
    requests, errors, seconds: Number(seconds.toFixed(2)), requestsPerSecond: Number((ok / seconds).toFixed(1)),
    p50Ms: mid('p50Ms'), p99Ms: mid('p99Ms'), meanBodyBytes: mid('meanBodyBytes'),
    ...perRequest('serverCpuMsPerRequest'), ...perRequest('databaseCpuMsPerRequest'),
  };
}

/**
 * The URL under load beside a plain node:http server sending the bytes and headers the URL answers, in alternating
 * rounds of the same load (each a third of durationMs and maxRequests), totalled per side.
 */
export async function loadBesidePlainNode(url: string, o: LoadOptions, databaseCpuMs?: () => Promise<number>): Promise<{ served: LoadFigures; plainNode: LoadFigures; ratio: number }> {
  const sample = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  const bytes = Buffer.from(await sample.arrayBuffer());
  if (sample.status !== 200) throw new Error(`${url} answered HTTP ${sample.status}`);
  const headers: Record<string, string> = { 'content-type': sample.headers.get('content-type')!, etag: sample.headers.get('etag')!, vary: 'accept-encoding' };
  const freshness = sample.headers.get('clair-ts-feed-freshness');
  if (freshness) headers['clair-ts-feed-freshness'] = freshness;
  const plain = createServer((_req, res) => void res.writeHead(200, headers).end(bytes));
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  const plainUrl = `http://127.0.0.1:${(plain.address() as { port: number }).port}/`;
  const round = { ...o, durationMs: Math.round(o.durationMs / ROUNDS), maxRequests: Math.ceil(o.maxRequests / ROUNDS) };
  const served: LoadFigures[] = [];
  const bound: LoadFigures[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      served.push(await runLoad(url, round, databaseCpuMs, !o.serverOutOfProcess));
      bound.push(await runLoad(plainUrl, round));
    }
  } finally {
    plain.closeAllConnections();
    plain.close();
  }
  const s = total(served);
  const p = total(bound);
  return { served: s, plainNode: p, ratio: Number((s.requestsPerSecond / p.requestsPerSecond).toFixed(2)) };
}
