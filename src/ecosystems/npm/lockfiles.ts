import { lazyRequire } from '../../model/lazy-require.ts';
import { ClairError } from '../../model/errors.ts';

const yarnLockfile = lazyRequire<typeof import('@yarnpkg/lockfile')>('@yarnpkg/lockfile');
const yaml = lazyRequire<typeof import('yaml')>('yaml');

// npm-ecosystem lockfiles of source trees (dir: scans only), each to the list of (name, version) it resolves:
//   package-lock.json / npm-shrinkwrap.json   v1 (nested "dependencies") and v2/v3 ("packages" keyed by install path)
//   yarn.lock                                  v1 (yarn's own format, read with yarn's own parser) and berry (YAML)
//   pnpm-lock.yaml                             v5 (/name/1.0.0), v6 (/name@1.0.0(peer)), v9 (name@1.0.0)
// Only registry packages are listed: workspace members, links, file: and git dependencies have no registry version.

export interface LockedPackage {
  name: string;
  version: string;
}

export const NPM_LOCKFILES = new Set(['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml']);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

function bad(path: string, why: string): ClairError {
  return new ClairError('bad-database', `${path}: ${why}`);
}

/** A version from the registry: semver-like, not a URL, path or git reference. */
function registryVersion(v: unknown): v is string {
  return typeof v === 'string' && /^\d+\.\d+\.\d+/.test(v);
}

export function parseLockfile(path: string, text: string): LockedPackage[] {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base === 'yarn.lock') return parseYarnLock(path, text);
  if (base === 'pnpm-lock.yaml') return parsePnpmLock(path, text);
  return parsePackageLock(path, text);
}

export function parsePackageLock(path: string, text: string): LockedPackage[] {
  let doc: Json;
  try {
    doc = obj(JSON.parse(text));
  } catch (e) {
    throw bad(path, `not JSON: ${(e as Error).message}`);
  }
  const out: LockedPackage[] = [];
  const packages = doc.packages;
  if (packages !== undefined) {
    // v2/v3: "node_modules/a/node_modules/@s/b" → @s/b; "" is the project; keys without node_modules are workspaces.
    for (const [key, value] of Object.entries(obj(packages))) {
      const e = obj(value);
      const at = key.lastIndexOf('node_modules/');
      if (at < 0 || e.link === true) continue;
      const name = typeof e.name === 'string' ? e.name : key.slice(at + 'node_modules/'.length);
      if (registryVersion(e.version)) out.push({ name, version: e.version });
    }
    return out;
  }
  if (doc.dependencies === undefined) throw bad(path, 'neither "packages" nor "dependencies": not a package-lock.json');
  // v1: nested "dependencies", each { version, dependencies? }.
  const walk = (deps: unknown): void => {
    for (const [name, value] of Object.entries(obj(deps))) {
      const e = obj(value);
      if (registryVersion(e.version)) out.push({ name, version: e.version });
      if (e.dependencies !== undefined) walk(e.dependencies);
    }
  };
  walk(doc.dependencies);
  return out;
}

/** "@scope/name@npm:^1" or "name@^1" → the name: everything before the "@" that is not the scope's. */
function nameOfSpec(spec: string): string {
  const at = spec.indexOf('@', 1);
  return at < 0 ? spec : spec.slice(0, at);
}

export function parseYarnLock(path: string, text: string): LockedPackage[] {
  const out: LockedPackage[] = [];
  if (/^__metadata:/m.test(text)) {
    // berry: YAML; "resolution" says which package and protocol each entry resolved to.
    let doc: Json;
    try {
      doc = obj(yaml().parse(text, { maxAliasCount: 0 }));
    } catch (e) {
      throw bad(path, `not YAML: ${(e as Error).message}`);
    }
    for (const [key, value] of Object.entries(doc)) {
      if (key === '__metadata') continue;
      const e = obj(value);
      const resolution = typeof e.resolution === 'string' ? e.resolution : '';
      const name = nameOfSpec(resolution);
      if (!resolution.slice(name.length + 1).startsWith('npm:') || !registryVersion(e.version)) continue;
      out.push({ name, version: e.version });
    }
    return out;
  }
  const parsed = (() => {
    try {
      return yarnLockfile().parse(text);
    } catch (e) {
      throw bad(path, `not a yarn v1 lockfile: ${(e as Error).message}`);
    }
  })();
  if (parsed.type !== 'success') throw bad(path, `has unresolved merge conflicts (${parsed.type})`);
  for (const [spec, e] of Object.entries(parsed.object)) {
    // Several specs ("a@^1", "a@^1.1") share one entry; Set-like dedup happens in the caller.
    const name = nameOfSpec(spec.replace(/^"|"$/g, ''));
    if (registryVersion(e.version) && !/@(file|link|portal|workspace):/.test(spec)) out.push({ name, version: e.version });
  }
  return out;
}

export function parsePnpmLock(path: string, text: string): LockedPackage[] {
  let doc: Json;
  try {
    doc = obj(yaml().parse(text, { maxAliasCount: 0 }));
  } catch (e) {
    throw bad(path, `not YAML: ${(e as Error).message}`);
  }
  if (doc.lockfileVersion === undefined) throw bad(path, 'no lockfileVersion: not a pnpm lockfile');
  const major = Number.parseFloat(String(doc.lockfileVersion));
  const out: LockedPackage[] = [];
  for (const [key, value] of Object.entries(obj(doc.packages))) {
    const e = obj(value);
    // Peer-dependency suffixes: "(react@18.2.0)" since v6, "_react@18.2.0" in v5.
    let k = key.replace(/^\//, '').replace(/\(.*$/, '');
    let name: string;
    let version: string;
    if (major < 6) {
      k = k.replace(/_.*$/, '');
      const slash = k.lastIndexOf('/');
      name = k.slice(0, slash);
      version = k.slice(slash + 1);
    } else {
      name = nameOfSpec(k);
      version = k.slice(name.length + 1);
    }
    // Non-registry packages (git, tarballs) carry their own name and version fields.
    if (typeof e.name === 'string') name = e.name;
    if (typeof e.version === 'string') version = e.version;
    if (name && registryVersion(version)) out.push({ name, version });
  }
  return out;
}
