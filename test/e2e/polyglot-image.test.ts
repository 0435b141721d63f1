import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allScanners } from '../../src/ecosystems/registry.ts';
import { openImage } from '../../src/image/image-source.ts';
import { Indexer } from '../../src/indexer/indexer.ts';
import type { IndexReport } from '../../src/model/index-report.ts';
import type { Package } from '../../src/model/package.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli } from '../support/run-cli.ts';
import { gemListPackages, npmTreePackages, POLYGLOT_SKIP_MESSAGE, polyglotImage } from '../support/polyglot-image.ts';

// Acceptance: the polyglot image (Debian's python3-jinja2, python3-yaml, ruby, ruby-rack, bundler; a virtualenv; an
// npm application; pip and npm removals in the last layer) and its source trees, indexed, compared with what pip's
// importlib.metadata, gem, npm, yarn, pnpm, Bundler and dpkg said about the same files.

const normalize = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

async function index(ref: string): Promise<IndexReport> {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-polyglot-'));
  const store = await openStore(join(dir, 'clair.db'));
  const image = await openImage(ref);
  try {
    return (await new Indexer(store, allScanners()).index(image)).report;
  } finally {
    await image.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function ofEcosystem(r: IndexReport, eco: string): { id: string; p: Package; path: string }[] {
  return Object.entries(r.packages)
    .filter(([, p]) => p.packageDb.startsWith(`${eco}:`))
    .map(([id, p]) => ({ id, p, path: p.packageDb.slice(eco.length + 1) }));
}

const set = (xs: Iterable<string>) => [...new Set(xs)].sort();

test('the polyglot image: installed Python, Ruby and npm packages equal what their own tools list', async (t) => {
  const img = await polyglotImage();
  if (!img) return t.skip(POLYGLOT_SKIP_MESSAGE);
  const r = await index(img.ociRef);
  const layerOf = (id: string) => img.layers.indexOf(r.environments[id]![0]!.introducedIn);

  await t.test('python: every distribution importlib.metadata finds, in the system python and the virtualenv', () => {
    const truth = new Map<string, string>();
    for (const d of [...img.expected.python.system, ...img.expected.python.venv]) truth.set(d.path.replace(/^\//, ''), `${normalize(d.name)}@${d.version}`);
    const got = new Map(ofEcosystem(r, 'python').map(({ p, path }) => [path, `${p.name}@${p.version}`]));
    assert.deepEqual([...got].sort(), [...truth].sort());
    assert.ok(got.get('usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info')?.startsWith('jinja2@'));
    assert.ok([...got.keys()].some((k) => k.startsWith('opt/venv/') && got.get(k)!.startsWith('pip@')), 'pip in the virtualenv');
    assert.ok(![...got.values()].some((v) => v.startsWith('setuptools@')), 'setuptools was uninstalled by layer 5');
  });

  await t.test('ruby: every gem `gem list` shows; the same gem in two gem homes is two packages', () => {
    const got = ofEcosystem(r, 'rubygems');
    assert.deepEqual(set(got.map(({ p }) => `${p.name}@${p.version}`)), [...gemListPackages(img.expected.gemList)].sort());
    const bundler = got.filter(({ p }) => p.name === 'bundler');
    assert.ok(bundler.length >= 2, `bundler: the default gem and Debian's (${bundler.map((b) => b.path).join(', ')})`);
    assert.ok(got.some(({ path }) => path.includes('/specifications/default/')), 'default gems are inventoried');
  });

  await t.test('npm: the packages `npm ls --all` lists for /app; the removed one is gone; the stray lockfile is not read', () => {
    const got = ofEcosystem(r, 'npm');
    assert.deepEqual(set(got.map(({ p }) => `${p.name}@${p.version}`)), [...npmTreePackages(img.expected.npmLs)].sort());
    assert.ok(!got.some(({ p }) => p.name === 'lodash'), 'npm uninstall lodash in layer 5');
    assert.ok(got.some(({ path }) => /node_modules\/[^/]+\/node_modules\//.test(path)), 'nested node_modules are read');
    assert.ok(got.every(({ path }) => path.startsWith('app/node_modules/')), 'only installed packages, no lockfile');
    assert.ok(!Object.values(r.packages).some((p) => p.packageDb.includes('srv/stray')), 'lockfiles in an image are not installed packages');
    assert.match(r.err, /app\/node_modules\/broken-package\/package.json: not JSON/);
  });

  await t.test('ownership: exactly the packages whose metadata file dpkg -S names an owner', () => {
    let owned = 0;
    for (const eco of ['python', 'rubygems', 'npm']) {
      for (const { p, path } of ofEcosystem(r, eco)) {
        // The metadata file of the package: the packageDbs path, which is below (python) or equal to the packageDb path.
        const file = [...img.expected.owners.keys()].find((f) => f === path || f.startsWith(path + '/'));
        assert.ok(file, `${path} is among the metadata files found by find(1)`);
        const owner = img.expected.owners.get(file);
        assert.equal(p.ownedBy?.name ?? '-', owner, `${p.name} ${p.version} at ${path}`);
        if (p.ownedBy) owned++;
      }
    }
    assert.ok(owned >= 20, `${owned} language packages owned by Debian packages`);
    const jinja = ofEcosystem(r, 'python').find(({ p }) => p.name === 'jinja2')!;
    assert.equal(jinja.p.ownedBy?.name, 'python3-jinja2');
    assert.match(jinja.p.ownedBy!.version, /^3\.1\.2-1/);
  });

  await t.test('language packages: their registry, no distribution, the layer that installed them', () => {
    const repoName = { python: 'pypi', rubygems: 'rubygems', npm: 'npm' } as const;
    for (const [eco, name] of Object.entries(repoName)) {
      for (const { id } of ofEcosystem(r, eco)) {
        const env = r.environments[id]![0]!;
        assert.equal(env.distributionId, '');
        assert.deepEqual(env.repositoryIds.map((i) => r.repositories[i]!.name), [name]);
      }
    }
    const layer = (eco: string, name: string) => layerOf(ofEcosystem(r, eco).find(({ p }) => p.name === name)!.id);
    assert.equal(layer('python', 'jinja2'), 1);
    assert.equal(layer('python', 'pip'), 2);
    assert.equal(layer('npm', 'express'), 3);
    assert.equal(layer('rubygems', 'rack'), 1);
  });
});

test('dir: source trees: each lockfile format gives exactly what its tool resolves; installed node_modules win', async (t) => {
  const img = await polyglotImage();
  if (!img) return t.skip(POLYGLOT_SKIP_MESSAGE);
  const r = await index(`dir:${img.tree}`);
  const at = (prefix: string, eco = 'npm') => set(ofEcosystem(r, eco).filter(({ path }) => path.startsWith(prefix)).map(({ p }) => `${p.name}@${p.version}`));
  assert.deepEqual(at('npm-lock/package-lock.json'), [...npmTreePackages(img.expected.tree.npmLock)].sort());
  const yarnV1 = (JSON.parse(img.expected.tree.yarnV1) as { data: { trees: YarnTree[] } }).data.trees;
  type YarnTree = { name: string; shadow?: boolean; children?: YarnTree[] };
  const yarnTruth = new Set<string>();
  const walk = (ts?: YarnTree[]) => ts?.forEach((x) => (x.shadow ? undefined : yarnTruth.add(x.name), walk(x.children)));
  walk(yarnV1);
  assert.deepEqual(at('yarn-v1/yarn.lock'), [...yarnTruth].sort());
  const berry = img.expected.tree.yarnBerry.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { value: string }).value).filter((v) => v.includes('@npm:'));
  assert.deepEqual(at('yarn-berry/yarn.lock'), set(berry.map((v) => v.replace('@npm:', '@'))));
  // pnpm's tree has its node_modules: the installed packages (each once, in node_modules/.pnpm) and not the lockfile.
  const pnpmTruth = new Set<string>();
  for (const p of img.expected.tree.pnpm) npmTreePackages(p, pnpmTruth);
  assert.deepEqual(at('pnpm/'), [...pnpmTruth].sort());
  assert.ok(!ofEcosystem(r, 'npm').some(({ path }) => path === 'pnpm/pnpm-lock.yaml'));
  assert.equal(ofEcosystem(r, 'npm').filter(({ path }) => path.startsWith('pnpm/')).length, pnpmTruth.size, 'each pnpm package once');
  assert.deepEqual(at('ruby/Gemfile.lock', 'rubygems'), set(img.expected.tree.ruby.map(([n, v]) => `${n}@${v}`)));
  assert.equal(Object.keys(r.distributions).length, 0);
});

test('clair-ts index dir:… prints the packages grouped by ecosystem', async (t) => {
  const img = await polyglotImage();
  if (!img) return t.skip(POLYGLOT_SKIP_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-polyglot-cli-'));
  try {
    const r = await runCli(join(dir, 'clair.db'), ['index', `dir:${join(img.tree, 'ruby')}`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /no distribution detected, \d+ packages \(\d+ rubygems\)/);
    assert.match(r.out, /^RUBYGEMS \(\d+\)\nPACKAGE +VERSION +OWNED BY +LAYER +PATH\nrack +\d/m);
    const missing = await runCli(join(dir, 'clair.db'), ['index', `dir:${join(dir, 'nope')}`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
