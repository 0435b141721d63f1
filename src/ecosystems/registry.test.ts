import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Ecosystem } from './ecosystem.ts';
import { allMatchers, allScanners, allUpdaters, ecosystems } from './registry.ts';

// A folder under src/ecosystems/ that is not in the registry is code no engine runs: this fails until it is.

const folders = readdirSync(import.meta.dirname, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

function isEcosystem(v: unknown): v is Ecosystem {
  return typeof v === 'object' && v !== null && 'name' in v && 'scanners' in v && 'updaters' in v && 'matchers' in v;
}

test('every folder under src/ecosystems/ has an index.ts whose Ecosystem is in the registry', async () => {
  assert.ok(folders.length >= 5, `found ${folders.length} folders`);
  for (const folder of folders) {
    const index = join(import.meta.dirname, folder, 'index.ts');
    assert.ok(existsSync(index), `src/ecosystems/${folder}/index.ts is missing`);
    const exported = Object.values(await import(index)).filter(isEcosystem);
    assert.equal(exported.length, 1, `src/ecosystems/${folder}/index.ts exports ${exported.length} Ecosystem objects, not 1`);
    assert.ok(ecosystems.includes(exported[0]!), `ecosystem "${exported[0]!.name}" of src/ecosystems/${folder}/ is not in registry.ts`);
  }
  assert.equal(ecosystems.length, folders.length, 'the registry holds an ecosystem with no folder of its own');
});

test('names are unique: ecosystems, scanners, updaters, matchers', () => {
  const unique = (names: string[], what: string) => assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], `duplicate ${what}`);
  unique(ecosystems.map((e) => e.name), 'ecosystem names');
  // allScanners() keeps one scanner per name: two different scanners under one name would hide one.
  const scanners = ecosystems.flatMap((e) => e.scanners);
  assert.deepEqual(allScanners().map((s) => scanners.filter((t) => t.name === s.name && t !== s).length), allScanners().map(() => 0), 'two scanners share a name');
  unique(allUpdaters().map((u) => u.name), 'updater names');
  unique(allMatchers().map((m) => m.name), 'matcher names');
});
