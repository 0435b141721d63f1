import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { test } from 'node:test';

// The layering of src/, bottom first. A module may import from its own group and from any layer below it; never from
// a layer above it, and never from a sibling group of its own layer (the engines do not know the ecosystems, the
// ecosystems do not know the engines: both know only the contracts). The README's "Architecture" section draws this.
//
// A group is a list of paths relative to src/: a folder ("store/") or a file ("indexer/scanner.ts"). A file belongs
// to the group with the longest path that contains it, so the contract files of an engine folder sit below the store
// while the rest of the folder sits above it.
export const LAYERS: readonly (readonly (readonly string[])[])[] = [
  [['model/']],
  [['versions/']],
  [['image/']],
  // What the engines drive and the ecosystems implement, with the helpers each engine offers its implementations
  // (the one form of a layer path; opening a feed location or archive).
  [
    [
      'indexer/scanner.ts',
      'indexer/layer-path.ts',
      'updater/updater.ts',
      'updater/feed-location.ts',
      'updater/feed-archive.ts',
      'matcher/matcher.ts',
      'matcher/vulnerability-query.ts',
    ],
  ],
  [['store/']],
  // Engines and ecosystems: siblings that meet only through the contracts. The enrichment feeds (NVD, EPSS, KEV)
  // implement the updater contract as the ecosystems do, and the ecosystems' registry lists them beside its own feeds.
  [['indexer/'], ['updater/'], ['matcher/'], ['ecosystems/', 'enrichment/']],
  [['notifier/']],
  // Report formats, decisions (ignore, VEX), advice and freshness over the matcher's findings; read by the CLI.
  [['report/']],
  [['config/']],
  [['service/']],
  [['http/']],
  // Wires store, engines, ecosystems and http into a running service.
  [['composition/']],
  [['cli/']],
];

interface Place {
  layer: number;
  group: number;
  path: string;
}

export function placeOf(file: string): Place | undefined {
  let best: Place | undefined;
  LAYERS.forEach((groups, layer) =>
    groups.forEach((paths, group) => {
      for (const p of paths) {
        const hit = p.endsWith('/') ? file.startsWith(p) : file === p;
        if (hit && (best === undefined || p.length > best.path.length)) best = { layer, group, path: p };
      }
    }),
  );
  return best;
}

/** Relative specifiers a module imports or re-exports, static or dynamic (type-only imports count too). */
export function importSpecifiers(source: string): string[] {
  // Comments may quote imports; strings do not start a line with `import`, so dropping comments is enough.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;'"]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]!);
  return specs.filter((s) => s.startsWith('.'));
}

/** Every import of `file` (path relative to src/) that climbs a layer, crosses to a sibling or leaves src/. */
export function violations(file: string, source: string): string[] {
  const from = placeOf(file);
  if (from === undefined) return [`${file}: in no layer (add its folder to LAYERS in test/architecture/import-layers.test.ts)`];
  const out: string[] = [];
  for (const spec of importSpecifiers(source)) {
    const target = posix.normalize(posix.join(posix.dirname(file), spec));
    if (target.startsWith('../')) {
      out.push(`${file} imports ${spec}: outside src/`);
      continue;
    }
    const to = placeOf(target);
    if (to === undefined) out.push(`${file} imports ${target}: in no layer`);
    else if (to.layer > from.layer) out.push(`${file} imports ${target}: ${to.path} is above ${from.path}`);
    else if (to.layer === from.layer && to.group !== from.group) out.push(`${file} imports ${target}: ${to.path} is a sibling of ${from.path}`);
  }
  return out;
}

const SRC = join(import.meta.dirname, '../../src');

function productionModules(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    // Tests and their fixtures may reach anywhere (test/support, builders in testdata/).
    if (e.isDirectory()) {
      if (e.name !== 'testdata') out.push(...productionModules(p));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.suite.ts')) {
      out.push(relative(SRC, p).split('\\').join('/'));
    }
  }
  return out;
}

test('no module of src/ imports from a layer above its own or from a sibling', () => {
  const modules = productionModules(SRC);
  assert.ok(modules.length > 100, `found only ${modules.length} modules under ${SRC}`);
  let imports = 0;
  const found: string[] = [];
  for (const m of modules) {
    const source = readFileSync(join(SRC, m), 'utf8');
    imports += importSpecifiers(source).length;
    found.push(...violations(m, source));
  }
  assert.ok(imports > 300, `parsed only ${imports} relative imports`);
  assert.deepEqual(found, []);
});

/** The first import cycle among `graph`'s modules, as the path that closes it; undefined when there is none. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (m: string): string[] | undefined => {
    if (state.get(m) === 'done') return undefined;
    if (state.get(m) === 'open') return [...path.slice(path.indexOf(m)), m];
    state.set(m, 'open');
    path.push(m);
    for (const d of graph.get(m) ?? []) {
      const c = graph.has(d) ? visit(d) : undefined;
      if (c) return c;
    }
    path.pop();
    state.set(m, 'done');
    return undefined;
  };
  for (const m of graph.keys()) {
    const c = visit(m);
    if (c) return c;
  }
  return undefined;
}

// Layers rule out cycles between folders; this rules them out inside a folder too (a type-only cycle included,
// as image-source.ts and the local sources once had).
test('no import cycle between modules of src/', () => {
  const graph = new Map(
    productionModules(SRC).map((m) => [m, importSpecifiers(readFileSync(join(SRC, m), 'utf8')).map((s) => posix.normalize(posix.join(posix.dirname(m), s)))]),
  );
  assert.equal(findCycle(graph), undefined);
  assert.deepEqual(findCycle(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['b.ts']]])), ['b.ts', 'c.ts', 'b.ts']);
});

// A comment that sends the reader to a module must name one that exists (files move; comments are not type-checked).
test('every .ts file a comment of src/ names exists', () => {
  const ROOT = join(SRC, '..');
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) names.add(e.name);
    }
  };
  for (const d of ['src', 'test', 'bench', 'scripts']) walk(join(ROOT, d));
  const missing: string[] = [];
  for (const m of productionModules(SRC)) {
    const comments = readFileSync(join(SRC, m), 'utf8').match(/\/\/.*|\/\*[\s\S]*?\*\//g) ?? [];
    for (const c of comments) {
      for (const ref of c.matchAll(/(?<![\w./-])[A-Za-z0-9_][\w./-]*\.ts\b/g)) {
        // A file of another project, inside a URL, is not ours to check.
        const word = c.slice(0, ref.index).split(/\s/).pop()!;
        if (/^\W*https?:/.test(word)) continue;
        // A path is read from the repository, from src/ or from the module's folder; a bare name is any module's.
        const found = ref[0].includes('/')
          ? [join(ROOT, ref[0]), join(SRC, ref[0]), join(SRC, posix.dirname(m), ref[0])].some((p) => existsSync(p))
          : names.has(ref[0]);
        if (!found) missing.push(`${m}: ${ref[0]}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});

test('every folder of src/ is in a layer', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${e.name}/`);
  assert.deepEqual(folders.filter((f) => placeOf(`${f}x.ts`) === undefined), []);
});

test('the checker sees what climbs, crosses and leaves', () => {
  assert.deepEqual(violations('model/package.ts', "import type { Store } from '../store/store.ts';"), [
    'model/package.ts imports store/store.ts: store/ is above model/',
  ]);
  // Multi-line, re-export and dynamic forms; a comment quoting an import is not one.
  const src = [
    '// import { x } from "../cli/main.ts";',
    "import {\n  a,\n  type B,\n} from '../http/app.ts';",
    "export { c } from '../composition/start-service.ts';",
    "const r = await import('../ecosystems/registry.ts');",
    "import '../../test/support/postgres.ts';",
  ].join('\n');
  assert.deepEqual(violations('store/store.ts', src), [
    'store/store.ts imports http/app.ts: http/ is above store/',
    'store/store.ts imports composition/start-service.ts: composition/ is above store/',
    'store/store.ts imports ../../test/support/postgres.ts: outside src/',
    'store/store.ts imports ecosystems/registry.ts: ecosystems/ is above store/',
  ]);
  assert.deepEqual(violations('matcher/match.ts', "import { rhel } from '../ecosystems/rhel/index.ts';"), [
    'matcher/match.ts imports ecosystems/rhel/index.ts: ecosystems/ is a sibling of matcher/',
  ]);
  // Contracts sit below the store; the rest of their folder above it.
  assert.deepEqual(violations('store/store.ts', "import type { VulnerabilityQuery } from '../matcher/vulnerability-query.ts';"), []);
  assert.deepEqual(violations('store/store.ts', "import { indexedPackages } from '../matcher/match.ts';"), [
    'store/store.ts imports matcher/match.ts: matcher/ is above store/',
  ]);
  assert.deepEqual(violations('cli/main.ts', "import { x } from './commands.ts';\nimport { y } from '../model/errors.ts';"), []);
});
