import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { cpus } from 'node:os';

// Shared by the benchmark sections: timing of repeated runs and a description of the machine they ran on.

export interface Timing {
  runs: number;
  /** Seconds, per run. */
  samples: number[];
  median: number;
  min: number;
}

export async function timeRuns(runs: number, fn: (i: number) => Promise<void> | void): Promise<Timing> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push((performance.now() - t0) / 1000);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { runs, samples, median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]! };
}

/** Wall time of a shell pipeline, in seconds. */
export function timeShell(script: string): number {
  const t0 = performance.now();
  execFileSync('bash', ['-c', `set -o pipefail; ${script}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - t0) / 1000;
}

export function machine(): Record<string, string | number> {
  return { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '', platform: `${process.platform}/${process.arch}` };
}

export const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/**
 * HTTP load from a separate process (bench/api-load.ts, so the load does not share the server's event loop):
 * `concurrency` connections GET `url` in a closed loop until `durationMs` or `maxRequests`. Its JSON figures.
 */
export async function apiLoad(url: string, concurrency: number, durationMs: number, maxRequests: number): Promise<Record<string, number>> {
  const args = [join(import.meta.dirname, 'api-load.ts'), url, String(concurrency), String(durationMs), String(maxRequests)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`load generator exited ${code}`);
  return JSON.parse(out) as Record<string, number>;
}
