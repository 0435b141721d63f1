import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClairError } from '../../src/model/errors.ts';
import { debianTestImageDir } from './test-image.ts';

// The polyglot image and source trees built by scripts/build-polyglot-image.sh from real packages (Debian's python3-*
// and ruby-*, a virtualenv, npm packages, removals in a last layer), with the truth each ecosystem's tool printed.

export const POLYGLOT_SKIP_MESSAGE = 'polyglot test image not built: run scripts/build-polyglot-image.sh (root, Debian mirror, npm registry)';

const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-polyglot-image.sh', import.meta.url));

export interface PolyglotImage {
  dir: string;
  ociRef: string;
  /** Source trees for dir: scans: npm-lock, yarn-v1, yarn-berry, pnpm, ruby. */
  tree: string;
  layers: string[];
  expected: {
    /** importlib.metadata of the system python3 and of /opt/venv's python. */
    python: { system: PythonDist[]; venv: PythonDist[] };
    gemList: string;
    npmLs: NpmTree;
    /** Metadata file (relative path) → owning dpkg package, or "-". */
    owners: Map<string, string>;
    tree: { npmLock: NpmTree; yarnV1: string; yarnBerry: string; pnpm: NpmTree[]; ruby: [string, string][] };
  };
}

export interface PythonDist {
  name: string;
  version: string;
  path: string;
}

export type NpmTree = { dependencies?: Record<string, { version?: string; dependencies?: NpmTree['dependencies'] }> };

export function polyglotImageDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(debianTestImageDir(env), '..', 'polyglot');
}

let pending: Promise<PolyglotImage | undefined> | undefined;

/** Like debianTestImage(): built only under CI or CLAIR_TS_BUILD_TEST_IMAGE=1; a failed build throws. */
export function polyglotImage(): Promise<PolyglotImage | undefined> {
  pending ??= load();
  return pending;
}

async function load(): Promise<PolyglotImage | undefined> {
  const dir = polyglotImageDir();
  if (!existsSync(join(dir, '.complete'))) {
    if (!(process.env.CLAIR_TS_BUILD_TEST_IMAGE === '1' || process.env.CI)) return undefined;
    await runBuild();
    if (!existsSync(join(dir, '.complete'))) throw new ClairError('internal', `${BUILD_SCRIPT} finished but ${dir}/.complete is missing`);
  }
  const e = join(dir, 'expected');
  const json = async <T>(f: string): Promise<T> => JSON.parse(await readFile(join(e, f), 'utf8')) as T;
  const owners = new Map<string, string>();
  for (const line of (await readFile(join(e, 'owners.tsv'), 'utf8')).split('\n')) {
    const [path, owner] = line.split('\t');
    if (path && owner) owners.set(path, owner);
  }
  const layers = (await json<{ layers: { digest: string }[] }>('layers.json')).layers.map((l) => l.digest);
  return {
    dir,
    ociRef: `oci:${dir}/oci:polyglot`,
    tree: join(dir, 'tree'),
    layers,
    expected: {
      python: await json('python.json'),
      gemList: await readFile(join(e, 'gem-list.txt'), 'utf8'),
      npmLs: await json('npm-ls.json'),
      owners,
      tree: {
        npmLock: await json('tree/npm-lock.json'),
        yarnV1: await readFile(join(e, 'tree/yarn-v1.json'), 'utf8'),
        yarnBerry: await readFile(join(e, 'tree/yarn-berry.json'), 'utf8'),
        pnpm: await json('tree/pnpm.json'),
        ruby: await json('tree/ruby.json'),
      },
    },
  };
}

function runBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.on('error', (err) => reject(new ClairError('unavailable', `cannot run ${BUILD_SCRIPT}: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = Buffer.concat(stderr).toString('utf8').trimEnd().split('\n').slice(-20).join('\n');
      reject(new ClairError('unavailable', `${BUILD_SCRIPT} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
  });
}

/** "name@version" of every package of an `npm ls --json` / `pnpm ls --json` tree. */
export function npmTreePackages(tree: NpmTree, out = new Set<string>()): Set<string> {
  for (const [name, d] of Object.entries(tree.dependencies ?? {})) {
    if (d.version) out.add(`${name}@${d.version}`);
    npmTreePackages(d, out);
  }
  return out;
}

/** `gem list --local` lines, "name (1.0, default: 2.0)" → "name@1.0", "name@2.0". */
export function gemListPackages(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+) \((.*)\)$/.exec(line);
    if (!m) continue;
    for (const v of m[2]!.split(', ')) out.add(`${m[1]}@${v.replace(/^default: /, '').split(' ')[0]}`);
  }
  return out;
}
