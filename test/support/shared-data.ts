import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

// Tests that read ../shared/data skip when it is absent; CI sets CLAIR_TS_SHARED, which makes them mandatory.
const repoRoot = resolve(import.meta.dirname, '../..');

export function sharedDataPath(...parts: string[]): string {
  const base = process.env.CLAIR_TS_SHARED ? resolve(repoRoot, process.env.CLAIR_TS_SHARED) : resolve(repoRoot, '../shared');
  return join(base, 'data', ...parts);
}

/** The path when present; otherwise skips the test (or fails it when CLAIR_TS_SHARED says the data must be there). */
export function requireSharedData(t: TestContext, ...parts: string[]): string | undefined {
  const p = sharedDataPath(...parts);
  if (existsSync(p)) return p;
  if (process.env.CLAIR_TS_SHARED) throw new Error(`shared data ${p} is missing but CLAIR_TS_SHARED is set`);
  t.skip(`shared data not found at ${p} (set CLAIR_TS_SHARED)`);
  return undefined;
}
