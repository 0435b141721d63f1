import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseLockfile } from './lockfiles.ts';

// Each lockfile was written by the real tool and its truth listed by that tool (scripts/gen-npm-lockfile-fixtures.ts).
const dir = new URL('./testdata/lockfiles/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, dir), 'utf8');
const lockfiles = readdirSync(dir).filter((f) => !f.endsWith('.truth.txt') && f !== 'package.json');

for (const f of lockfiles) {
  test(`${f}: exactly the packages its tool says it resolves`, () => {
    const realName = f.startsWith('package-lock') ? 'package-lock.json' : f.startsWith('pnpm') ? 'pnpm-lock.yaml' : 'yarn.lock';
    const got = new Set(parseLockfile(`src/${realName}`, read(f)).map((p) => `${p.name}@${p.version}`));
    assert.deepEqual([...got].sort(), read(`${f}.truth.txt`).trim().split('\n'));
  });
}

test('all formats were generated', () => {
  assert.equal(lockfiles.length, 8);
});

test('malformed lockfiles are errors naming the file', () => {
  assert.throws(() => parseLockfile('a/package-lock.json', '{"lockfileVersion": 3,'), /a\/package-lock.json: not JSON/);
  assert.throws(() => parseLockfile('a/package-lock.json', '{"name": "x"}'), /a\/package-lock.json: neither "packages" nor "dependencies"/);
  assert.throws(() => parseLockfile('a/pnpm-lock.yaml', 'packages: {}\n'), /a\/pnpm-lock.yaml: no lockfileVersion/);
  assert.throws(() => parseLockfile('a/pnpm-lock.yaml', 'lockfileVersion: [\n'), /a\/pnpm-lock.yaml: not YAML/);
  assert.throws(() => parseLockfile('a/yarn.lock', 'a@^1:\n  version "1.0.0"\n<<<<<<< HEAD\n'), /a\/yarn.lock/);
});

test('package-lock v3: workspaces, links and non-registry versions are not packages; aliases keep the real name', () => {
  const lock = JSON.stringify({
    lockfileVersion: 3,
    packages: {
      '': { name: 'root', version: '1.0.0' },
      'packages/a': { name: 'a', version: '0.1.0' },
      'node_modules/a': { resolved: 'packages/a', link: true },
      'node_modules/b': { version: '2.0.0' },
      'node_modules/b/node_modules/@s/c': { version: '3.0.0' },
      'node_modules/alias': { name: 'real-name', version: '1.2.3' },
      'node_modules/g': { version: 'git+ssh://git@github.com/x/g.git#abc' },
    },
  });
  assert.deepEqual(parseLockfile('package-lock.json', lock), [
    { name: 'b', version: '2.0.0' },
    { name: '@s/c', version: '3.0.0' },
    { name: 'real-name', version: '1.2.3' },
  ]);
});
