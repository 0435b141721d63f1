// Generates src/ecosystems/npm/testdata/lockfiles/: the same small project (debug 4.3.4, @babel/code-frame 7.22.13)
// locked by each real tool in each lockfile format, and beside each lockfile the packages that tool itself says the
// lockfile resolves (`<format>.truth.txt`, "name@version" per line, sorted), so lockfiles.test.ts checks our readers
// against the tools rather than against our reading of the formats.
//
//   package-lock v1   npm 6 install --package-lock-only         truth: npm ls --all --json --package-lock-only
//   package-lock v2   npm install --lockfile-version 2           truth: same
//   package-lock v3   npm install --package-lock-only            truth: same
//   yarn.lock v1      yarn 1 install                             truth: yarn list --json (with node_modules)
//   yarn.lock berry   yarn 4 install --mode=update-lockfile      truth: yarn info --all --recursive --json
//   pnpm-lock 5.4/6/9 pnpm 7/8/9 install --lockfile-only         truth: pnpm ls --depth Infinity --json (after a
//                                                                frozen install with the same pnpm)
// Rerun (needs the npm registry), from the repo root: node_modules/.bin/node scripts/gen-npm-lockfile-fixtures.ts

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const OUT = resolve('src/ecosystems/npm/testdata/lockfiles');
const WORK = mkdtempSync(join(tmpdir(), 'clair-ts-npm-fixtures-'));
const TOOLS = join(WORK, 'tools');
const PROJECT = { name: 'fixture', version: '1.0.0', private: true, dependencies: { debug: '4.3.4', '@babel/code-frame': '7.22.13' } };

const run = (cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });

type Tree = Record<string, { version?: string; dependencies?: Tree }>;
function npmTree(deps: Tree | undefined, out: Set<string>): Set<string> {
  for (const [name, d] of Object.entries(deps ?? {})) {
    if (d.version) out.add(`${name}@${d.version}`);
    npmTree(d.dependencies, out);
  }
  return out;
}

function project(dir: string): string {
  const d = join(WORK, dir);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'package.json'), JSON.stringify(PROJECT, null, 2) + '\n');
  return d;
}

function save(name: string, dir: string, lockfile: string, truth: Set<string>): void {
  copyFileSync(join(dir, lockfile), join(OUT, name));
  writeFileSync(join(OUT, `${name}.truth.txt`), [...truth].sort().join('\n') + '\n');
  console.log(`${name}: ${truth.size} packages`);
}

try {
  mkdirSync(TOOLS, { recursive: true });
  mkdirSync(OUT, { recursive: true });
  run(TOOLS, 'npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', TOOLS,
    'npm6@npm:npm@6.14.18', 'yarn@1.22.22', '@yarnpkg/cli-dist@4.5.3', 'pnpm7@npm:pnpm@7.33.7', 'pnpm8@npm:pnpm@8.15.9', 'pnpm@9.15.0']);
  const tool = (p: string) => join(TOOLS, 'node_modules', p);
  const npmLs = (dir: string) => npmTree((JSON.parse(run(dir, 'npm', ['ls', '--all', '--json', '--package-lock-only'])) as { dependencies?: Tree }).dependencies, new Set());

  const v1 = project('v1');
  run(v1, 'node', [tool('npm6/bin/npm-cli.js'), 'install', '--package-lock-only', '--ignore-scripts', '--no-audit']);
  save('package-lock-v1.json', v1, 'package-lock.json', npmLs(v1));
  const v2 = project('v2');
  run(v2, 'npm', ['install', '--package-lock-only', '--lockfile-version', '2', '--ignore-scripts', '--no-audit', '--no-fund']);
  save('package-lock-v2.json', v2, 'package-lock.json', npmLs(v2));
  const v3 = project('v3');
  run(v3, 'npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund']);
  save('package-lock-v3.json', v3, 'package-lock.json', npmLs(v3));

  const y1 = project('yarn1');
  run(y1, 'node', [tool('yarn/bin/yarn.js'), 'install', '--ignore-scripts', '--no-progress', '--non-interactive']);
  const yarnList = JSON.parse(run(y1, 'node', [tool('yarn/bin/yarn.js'), 'list', '--json', '--no-progress'])) as { data: { trees: YarnTree[] } };
  // "shadow" children are the ranges a package asked for, printed beside the resolved entries.
  type YarnTree = { name: string; shadow?: boolean; children?: YarnTree[] };
  const y1Truth = new Set<string>();
  const walkYarn = (ts: YarnTree[] | undefined) => ts?.forEach((t) => (t.shadow ? undefined : y1Truth.add(t.name), walkYarn(t.children)));
  walkYarn(yarnList.data.trees);
  save('yarn-v1.lock', y1, 'yarn.lock', y1Truth);

  const berry = project('berry');
  writeFileSync(join(berry, 'yarn.lock'), '');
  writeFileSync(join(berry, '.yarnrc.yml'), 'nodeLinker: node-modules\nenableTelemetry: false\n');
  const berryEnv = { YARN_ENABLE_GLOBAL_CACHE: '0' };
  run(berry, 'node', [tool('@yarnpkg/cli-dist/bin/yarn.js'), 'install', '--mode=update-lockfile'], berryEnv);
  const info = run(berry, 'node', [tool('@yarnpkg/cli-dist/bin/yarn.js'), 'info', '--all', '--recursive', '--json'], berryEnv);
  const berryTruth = new Set<string>();
  // The project itself is listed as "fixture@workspace:.": not a registry package.
  for (const line of info.split('\n').filter(Boolean)) {
    const value = (JSON.parse(line) as { value: string }).value;
    if (value.includes('@npm:')) berryTruth.add(value.replace('@npm:', '@'));
  }
  save('yarn-berry.lock', berry, 'yarn.lock', berryTruth);

  for (const [format, pnpm] of [['5.4', 'pnpm7'], ['6.0', 'pnpm8'], ['9.0', 'pnpm']] as const) {
    const d = project(`pnpm-${format}`);
    const bin = tool(`${pnpm}/bin/pnpm.cjs`);
    run(d, 'node', [bin, 'install', '--lockfile-only', '--ignore-scripts']);
    run(d, 'node', [bin, 'install', '--frozen-lockfile', '--ignore-scripts']);
    const ls = JSON.parse(run(d, 'node', [bin, 'ls', '--depth', 'Infinity', '--json'])) as { dependencies?: Tree }[];
    const truth = new Set<string>();
    for (const p of ls) npmTree(p.dependencies, truth);
    save(`pnpm-lock-${format}.yaml`, d, 'pnpm-lock.yaml', truth);
  }
  writeFileSync(join(OUT, 'package.json'), readFileSync(join(v3, 'package.json')));
} finally {
  rmSync(WORK, { recursive: true, force: true });
}
