import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Ecosystem } from './ecosystem.ts';
import { allMatchers, allScanners, allUpdaters, buildEcosystems } from './registry.ts';

const ecosystems = buildEcosystems();

// A folder under src/ecosystems/ that is not in the registry is code no engine runs: this fails until it is.

const folders = readdirSync(import.meta.dirname, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

function isEcosystem(v: unknown): v is Ecosystem {
  return typeof v === 'object' && v !== null && 'name' in v && 'scanners' in v && 'updaters' in v && 'matchers' in v;
}

/** What an index.ts offers: an Ecosystem, or the function that builds one from its options (all optional). */
function offered(v: unknown): Ecosystem | undefined {
  if (isEcosystem(v)) return v;
  if (typeof v === 'function' && v.length <= 1) {
    const built: unknown = v();
    if (isEcosystem(built)) return built;
  }
  return undefined;
}

test('every folder under src/ecosystems/ has an index.ts whose Ecosystem is in the registry', async () => {
  assert.ok(folders.length >= 5, `found ${folders.length} folders`);
  for (const folder of folders) {
    const index = join(import.meta.dirname, folder, 'index.ts');
    assert.ok(existsSync(index), `src/ecosystems/${folder}/index.ts is missing`);
    const exported = Object.values(await import(index)).map(offered).filter((e) => e !== undefined);
    assert.equal(exported.length, 1, `src/ecosystems/${folder}/index.ts exports ${exported.length} Ecosystems (or builders), not 1`);
    const name = exported[0]!.name;
    assert.ok(ecosystems.some((e) => e.name === name), `ecosystem "${name}" of src/ecosystems/${folder}/ is not in registry.ts`);
  }
  assert.equal(ecosystems.length, folders.length, 'the registry holds an ecosystem with no folder of its own');
});

test('ecosystems are built from their options, each build its own', () => {
  const mapping = { cpes: new Map([['rhel-9-for-x86_64-baseos-rpms', ['cpe:/o:redhat:enterprise_linux:9::baseos']]]), digest: 'ab'.repeat(32) };
  const version = (ecos: Ecosystem[]) => allScanners(ecos).find((s) => s.name === 'rhel-content-manifest')?.version;
  assert.equal(version(buildEcosystems({ rhel: { repositoryCpeMapping: mapping } })), `1+${'ab'.repeat(6)}`);
  // No state carried over from the build before: without the option, the scanner has no mapping.
  assert.equal(version(buildEcosystems()), '1');
});

test('names are unique: ecosystems, scanners, updaters, matchers', () => {
  const unique = (names: string[], what: string) => assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], `duplicate ${what}`);
  unique(ecosystems.map((e) => e.name), 'ecosystem names');
  // allScanners() keeps one scanner per name: two different scanners under one name would hide one.
  const scanners = ecosystems.flatMap((e) => e.scanners);
  // Of one build: each build makes its own scanner objects (ecosystems are built from their options).
  const kept = allScanners(ecosystems);
  assert.deepEqual(kept.map((s) => scanners.filter((t) => t.name === s.name && t !== s).length), kept.map(() => 0), 'two scanners share a name');
  unique(allUpdaters(ecosystems).map((u) => u.name), 'updater names');
  unique(allMatchers(ecosystems).map((m) => m.name), 'matcher names');
});
