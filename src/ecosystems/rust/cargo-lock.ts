import { lazyRequire } from '../../model/lazy-require.ts';
import { ClairError } from '../../model/errors.ts';

const toml = lazyRequire<typeof import('smol-toml')>('smol-toml');

// Cargo.lock, all four formats (cargo's src/cargo/core/resolver/resolve.rs, ResolveVersion):
// v1 (no `version` key, checksums in a [metadata] table, dependencies as "name version (source)"),
// v2 (no `version` key, checksums inline), v3 (`version = 3`), v4 (`version = 4`). Every format lists the resolved
// packages as [[package]] tables with name, version and (for anything but workspace/path crates) source, so one
// reading serves them all. TOML itself is parsed by smol-toml (TOML 1.0, no dependencies, no install scripts).
//
// Which entries count: every [[package]], as `cargo metadata` lists them (workspace members and path crates too,
// with no source). Only crates.io crates belong to the crates.io repository that advisories are matched against
// (cargo-audit's default scope is crates.io as well); git and path crates are inventoried but match nothing there,
// even when a crates.io crate of the same name exists.

export const CRATES_IO_SOURCES = new Set([
  'registry+https://github.com/rust-lang/crates.io-index',
  'sparse+https://index.crates.io/',
]);

export interface CargoLockPackage {
  name: string;
  version: string;
  /** `registry+…`, `sparse+…`, `git+…?rev=…#commit`, or undefined for workspace and path crates. */
  source?: string;
}

export interface CargoLock {
  /** 1 for files without a `version` key and a [metadata] table, 2 without either, else the key's value. */
  version: number;
  packages: CargoLockPackage[];
}

export function isCratesIo(source: string | undefined): boolean {
  return source !== undefined && CRATES_IO_SOURCES.has(source);
}

/** Parses a Cargo.lock; throws ClairError('bad-input') naming `file` when it is not TOML or not a lockfile. */
export function parseCargoLock(text: string, file: string): CargoLock {
  let doc: Record<string, unknown>;
  try {
    doc = toml().parse(text) as Record<string, unknown>;
  } catch (e) {
    const where = e instanceof toml().TomlError ? ` (line ${e.line}, column ${e.column})` : '';
    throw new ClairError('bad-input', `${file} is not valid TOML${where}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const rawVersion = doc.version;
  if (rawVersion !== undefined && (typeof rawVersion !== 'number' || !Number.isInteger(rawVersion))) {
    throw new ClairError('bad-input', `${file}: lockfile version ${JSON.stringify(rawVersion)} is not an integer`);
  }
  const version = typeof rawVersion === 'number' ? rawVersion : doc.metadata !== undefined ? 1 : 2;
  const list = doc.package ?? [];
  if (!Array.isArray(list)) throw new ClairError('bad-input', `${file}: "package" is not an array of tables`);
  const packages: CargoLockPackage[] = [];
  list.forEach((p: unknown, i) => {
    const entry = p as Record<string, unknown> | null;
    if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string' || typeof entry.version !== 'string') {
      throw new ClairError('bad-input', `${file}: [[package]] #${i + 1} has no string name and version`);
    }
    if (entry.source !== undefined && typeof entry.source !== 'string') {
      throw new ClairError('bad-input', `${file}: [[package]] ${entry.name} has a non-string source`);
    }
    packages.push({ name: entry.name, version: entry.version, ...(entry.source !== undefined ? { source: entry.source as string } : {}) });
  });
  return { version, packages };
}
