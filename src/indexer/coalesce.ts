import type { Distribution } from '../model/distribution.ts';
import type { Environment, IndexReport } from '../model/index-report.ts';
import { packageKey, type Package, type PackageOwner } from '../model/package.ts';
import { repositoryKey, type Repository } from '../model/repository.ts';
import type { LayerReport } from '../model/layer-report.ts';

// Turns per-layer findings into what the final image holds, the way an overlay filesystem would: walking layers
// base first, a layer's whiteouts remove what lower layers had at that path (or below it), then what the layer
// itself holds at a path replaces what was there. A package database is replaced whole when a layer rewrites it,
// and each surviving package keeps the layer where it first appeared with this same identity.

interface DbState {
  layer: string;
  /**
   * Keyed by package identity and registry. Language packages carry their registry (they have no distribution); one
   * file may hold packages of several (a Cargo.lock lists crates.io, git and path crates): the scanner then reports
   * one finding per registry with the same path, and they make up one database here.
   */
  packages: Map<string, { pkg: Package; introducedIn: string; repository?: Repository }>;
}

/**
 * Whether a layer's whiteouts remove `path`: the path itself or one of its parent directories is whited out, or
 * one of its parent directories is opaque. Set lookups over the path's parents, so a layer with 100k whiteouts over
 * 100k package databases costs 100k × depth, not their product.
 */
function removedBy(path: string, whiteouts: ReadonlySet<string>, opaqueDirs: ReadonlySet<string>): boolean {
  if (whiteouts.has(path)) return true;
  if (opaqueDirs.has('')) return true;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const dir = path.slice(0, i);
    if (whiteouts.has(dir) || opaqueDirs.has(dir)) return true;
  }
  return false;
}

export function coalesce(manifestHash: string, layers: readonly LayerReport[]): IndexReport {
  const dbs = new Map<string, DbState>();
  const dists = new Map<string, { distribution: Distribution; priority: number }>();
  const repos = new Map<string, { repositories: Repository[]; packageDbPrefixes: string[] }>();
  // OS file lists (dpkg info/*.list, rpm headers), by the file they were read from: metadata path → owner.
  const fileOwners = new Map<string, Map<string, PackageOwner>>();
  const errors: string[] = [];

  for (const layer of layers) {
    if (layer.whiteouts.length > 0 || layer.opaqueDirs.length > 0) {
      const whiteouts = new Set(layer.whiteouts);
      const opaqueDirs = new Set(layer.opaqueDirs);
      for (const map of [dbs, dists, repos, fileOwners] as Map<string, unknown>[]) {
        for (const path of [...map.keys()]) if (removedBy(path, whiteouts, opaqueDirs)) map.delete(path);
      }
    }
    // What each path held below this layer: the layer's findings for a path replace it together.
    const below = new Map<string, DbState | undefined>();
    for (const db of layer.packageDbs) {
      if (!below.has(db.path)) {
        below.set(db.path, dbs.get(db.path));
        dbs.set(db.path, { layer: layer.digest, packages: new Map() });
      }
      const before = below.get(db.path);
      const packages = dbs.get(db.path)!.packages;
      const repoKey = db.repository ? repositoryKey(db.repository) : '';
      for (const pkg of db.packages) {
        const key = `${packageKey(pkg)}\u0000${repoKey}`;
        packages.set(key, { pkg, introducedIn: before?.packages.get(key)?.introducedIn ?? layer.digest, ...(db.repository ? { repository: db.repository } : {}) });
      }
    }
    for (const fo of layer.fileOwners ?? []) {
      const owned = new Map<string, PackageOwner>();
      for (const { owner, files } of fo.owners) for (const f of files) owned.set(f, owner);
      fileOwners.set(fo.path, owned);
    }
    for (const d of layer.distributions) dists.set(d.path, { distribution: d.distribution, priority: d.priority });
    for (const r of layer.repositories) repos.set(r.path, { repositories: r.repositories, packageDbPrefixes: r.packageDbPrefixes ?? [] });
    for (const e of layer.errors) errors.push(`layer ${layer.digest}: ${e}`);
  }

  const report: IndexReport = {
    manifestHash, state: 'IndexFinished', success: true, err: errors.join('; '),
    packages: {}, distributions: {}, repositories: {}, environments: {}, layers: layers.map((l) => l.digest),
  };

  // One distribution per image: the release file with the highest priority that survived (etc/os-release wins
  // over usr/lib/os-release); ties go to the path that sorts first, so the result does not depend on map order.
  let best: { distribution: Distribution; priority: number; path: string } | undefined;
  for (const [path, d] of dists) {
    if (!best || d.priority > best.priority || (d.priority === best.priority && path < best.path)) best = { ...d, path };
  }
  const distributionId = best ? '1' : '';
  if (best) report.distributions['1'] = best.distribution;

  const repoIds = new Map<string, string>();
  // Which repositories each package database prefix brings to its packages (ids in report order).
  const byPrefix: { prefix: string; ids: string[] }[] = [];
  for (const path of [...repos.keys()].sort()) {
    const found = repos.get(path)!;
    const ids: string[] = [];
    for (const r of found.repositories) {
      const k = repositoryKey(r);
      if (!repoIds.has(k)) {
        const id = String(repoIds.size + 1);
        repoIds.set(k, id);
        report.repositories[id] = r;
      }
      ids.push(repoIds.get(k)!);
    }
    for (const prefix of found.packageDbPrefixes) byPrefix.push({ prefix, ids });
  }
  const repositoryIdsOf = (packageDb: string): string[] => {
    const ids = new Set<string>();
    for (const b of byPrefix) if (packageDb.startsWith(b.prefix)) for (const id of b.ids) ids.add(id);
    return [...ids].sort((a, b) => Number(a) - Number(b));
  };

  const repositoryId = (r: Repository): string => {
    const k = repositoryKey(r);
    let id = repoIds.get(k);
    if (id === undefined) {
      id = String(repoIds.size + 1);
      repoIds.set(k, id);
      report.repositories[id] = r;
    }
    return id;
  };
  const ownerOf = ownership(fileOwners, dbs);

  // Deterministic ids: packages sorted by database path, then name, version and arch.
  const entries: { pkg: Package; introducedIn: string; dbPath: string; repository?: Repository }[] = [];
  for (const path of [...dbs.keys()].sort()) {
    const state = dbs.get(path)!;
    const sorted = [...state.packages.values()].sort((a, b) => cmp(a.pkg, b.pkg));
    for (const e of sorted) entries.push({ ...e, dbPath: path });
  }
  entries.forEach(({ pkg, introducedIn, dbPath, repository }, i) => {
    const id = String(i + 1);
    const owner = repository ? ownerOf(dbPath) : undefined;
    report.packages[id] = owner ? { ...pkg, ownedBy: owner } : pkg;
    const env: Environment = repository
      ? // A language package: its registry, and no distribution (a PyPI package is the same on Debian and Alpine).
        { packageDb: pkg.packageDb, introducedIn, distributionId: '', repositoryIds: [repositoryId(repository)] }
      : {
          packageDb: pkg.packageDb,
          introducedIn,
          distributionId,
          // Repositories found for this package's database (rpm content manifests); none for dpkg images.
          repositoryIds: repositoryIdsOf(pkg.packageDb),
        };
    report.environments[id] = [env];
  });
  return report;
}

/**
 * Which OS package owns a language package database's file, among the file lists that survived. An owner named
 * without a version (dpkg's NAME.list files) takes it from its package database; an owner no longer installed there
 * owns nothing.
 */
function ownership(fileOwners: Map<string, Map<string, PackageOwner>>, dbs: Map<string, DbState>): (path: string) => PackageOwner | undefined {
  const byPath = new Map<string, PackageOwner>();
  // Sorted, so that when two lists name the same file the result does not depend on layer order.
  for (const listPath of [...fileOwners.keys()].sort().reverse()) {
    for (const [file, owner] of fileOwners.get(listPath)!) byPath.set(file, owner);
  }
  const resolved = new Map<PackageOwner, PackageOwner | undefined>();
  // Each OS database's packages by name, built on first use: owners are looked up by name, not scanned for.
  const byName = new Map<string, Map<string, Package[]>>();
  const named = (packageDb: string, name: string): Package[] => {
    let index = byName.get(packageDb);
    if (!index) {
      byName.set(packageDb, (index = new Map()));
      for (const { pkg } of dbs.get(packageDb)?.packages.values() ?? []) {
        const list = index.get(pkg.name);
        if (list) list.push(pkg);
        else index.set(pkg.name, [pkg]);
      }
    }
    return index.get(name) ?? [];
  };
  return (path) => {
    const owner = byPath.get(path);
    if (!owner) return undefined;
    if (resolved.has(owner)) return resolved.get(owner);
    const found = named(owner.packageDb, owner.name).find((pkg) => owner.version === '' || pkg.version === owner.version);
    const r = found ? { name: owner.name, version: found.version, packageDb: owner.packageDb } : undefined;
    resolved.set(owner, r);
    return r;
  };
}

function cmp(a: Package, b: Package): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0;
}
