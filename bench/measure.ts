import { execFileSync } from 'node:child_process';
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
  for (let i = 0; i < runs; i++) samples.push(await timeOnce(() => fn(i)));
  return { runs, samples, median: median(samples), min: Math.min(...samples) };
}

/** Seconds of one run of `fn` (for runs timed apart from what surrounds them, such as opening a store). */
export async function timeOnce(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** The median of samples (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
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
