import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LayerFile } from '../../indexer/scanner.ts';
import { npmScanner } from './scanner.ts';

const file = (path: string, json: unknown): LayerFile => ({ path, data: Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)), mode: 0o644 });
const lockV3 = readFileSync(new URL('./testdata/lockfiles/package-lock-v3.json', import.meta.url));

test('installed packages: top-level, scoped, nested and pnpm-stored package.json; not the project or package internals', () => {
  const w = (path: string, origin: 'layer' | 'directory' = 'layer') => npmScanner.wants({ path, size: 1, mode: 0o644, origin });
  for (const p of [
    'app/node_modules/express/package.json',
    'app/node_modules/@babel/code-frame/package.json',
    'app/node_modules/express/node_modules/debug/package.json',
    'node_modules/.pnpm/debug@4.3.4/node_modules/debug/package.json',
    'usr/lib/node_modules/npm/package.json',
  ]) assert.ok(w(p), p);
  for (const p of [
    'app/package.json',
    'app/node_modules/express/lib/package.json',
    'app/node_modules/.package-lock.json',
    'app/node_modules/@babel/package.json',
    'app/package-lock.json',
    'app/node_modules/express/package-lock.json',
  ]) assert.ok(!w(p), p);
  assert.ok(w('app/package-lock.json', 'directory') && w('app/yarn.lock', 'directory') && w('pnpm-lock.yaml', 'directory'));
  assert.ok(!w('app/node_modules/x/yarn.lock', 'directory'), "a dependency's own lockfile is not the project's");
});

test('a lockfile beside an installed node_modules is not read again; one without is', async () => {
  const r = await npmScanner.scan([
    file('app/node_modules/debug/package.json', { name: 'debug', version: '4.3.4' }),
    file('app/node_modules/ms/package.json', { name: 'ms', version: '2.1.2' }),
    { path: 'app/package-lock.json', data: lockV3, mode: 0o644 },
    { path: 'other/package-lock.json', data: lockV3, mode: 0o644 },
  ]);
  assert.deepEqual(r.errors, []);
  const dbs = r.packageDbs!;
  assert.deepEqual(dbs.map((d) => d.path), ['app/node_modules/debug/package.json', 'app/node_modules/ms/package.json', 'other/package-lock.json']);
  assert.equal(dbs[2]!.packages.length, 14);
  assert.ok(dbs.every((d) => d.repository?.name === 'npm' && d.packages.every((p) => p.packageDb === `npm:${d.path}`)));
});

test('malformed package.json files are warnings naming them; the rest is read', async () => {
  const r = await npmScanner.scan([
    file('app/node_modules/broken/package.json', '{ "name": "broken", "version": '),
    file('app/node_modules/noversion/package.json', { name: 'noversion' }),
    file('app/node_modules/ok/package.json', { name: 'ok', version: '1.0.0' }),
  ]);
  assert.deepEqual(r.packageDbs!.map((d) => d.packages[0]!.name), ['ok']);
  assert.equal(r.errors!.length, 2);
  assert.match(r.errors![0]!, /^app\/node_modules\/broken\/package.json: not JSON/);
  assert.match(r.errors![1]!, /^app\/node_modules\/noversion\/package.json: no "name" and "version"/);
});
