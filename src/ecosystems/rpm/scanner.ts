import { posix } from 'node:path';
import type { LayerFile, Scanner, ScanFindings } from '../../indexer/scanner.ts';
import { errorMessage } from '../../model/errors.ts';
import type { Package } from '../../model/package.ts';
import { detectRpmDb, evr, readRpmDatabase, RPMDB_FILE_NAMES, type RpmPackage } from './rpmdb.ts';

// The rpm package database of a layer, in any backend (sqlite, ndb, Berkeley DB), at the two places rpm keeps it.
// The package database is keyed by the path of the database file itself ("var/lib/rpm/rpmdb.sqlite"): a whiteout
// of that file, or of its folder, removes the packages, and a layer that rewrites the file replaces them.

export const RPMDB_DIRS = ['var/lib/rpm/', 'usr/lib/sysimage/rpm/'] as const;
const NAMES = new Set(Object.values(RPMDB_FILE_NAMES).flat());

export const rpmPackageScanner: Scanner = {
  name: 'rpm',
  version: '2',
  kind: 'package',
  // Real rpm databases of large images reach a few hundred MiB (bdb Packages of RHEL 7 with many packages).
  maxFileSize: 1024 * 1024 * 1024,
  wants: ({ path }) => RPMDB_DIRS.some((d) => path.startsWith(d) && NAMES.has(path.slice(d.length))),
  async scan(files) {
    const findings: Required<Pick<ScanFindings, 'packageDbs' | 'errors' | 'fileOwners'>> = { packageDbs: [], errors: [], fileOwners: [] };
    const byDir = new Map<string, LayerFile[]>();
    for (const f of files) {
      const dir = posix.dirname(f.path);
      byDir.set(dir, [...(byDir.get(dir) ?? []), f]);
    }
    for (const [dir, dirFiles] of [...byDir].sort(([a], [b]) => (a < b ? -1 : 1))) {
      let db: ReturnType<typeof detectRpmDb>;
      try {
        db = detectRpmDb(dirFiles);
      } catch (e) {
        findings.errors.push(`rpm database in ${dir}: ${errorMessage(e)}`);
        continue;
      }
      if (!db) {
        // Only a WAL: its pages mean nothing without the database file of a lower layer, which we do not see here.
        findings.errors.push(`rpm database in ${dir}: ${dirFiles.map((f) => f.path).join(', ')} without the database file in the same layer; not read`);
        continue;
      }
      const dbPath = db.file.path;
      try {
        const pkgs = await readRpmDatabase(dirFiles, { files: true });
        findings.packageDbs.push({ path: dbPath, packages: pkgs.map((p) => toPackage(p, dbPath)) });
        // Who owns which file, for language packages shipped as rpms (python3-* egg-infos); the walker keeps
        // only the paths language scanners read.
        findings.fileOwners.push({
          path: dbPath,
          owners: pkgs.map((p) => ({ owner: { name: p.name, version: evr(p), packageDb: dbPath }, files: (p.files ?? []).map((f) => f.replace(/^\/+/, '')) })),
        });
      } catch (e) {
        findings.errors.push(`rpm database ${dbPath}: ${errorMessage(e)}`);
        continue;
      }
      // Other backends' files in the same folder of this layer are stale copies (rpm --rebuilddb converts but may
      // leave the old file): they now hold nothing, which also replaces what a lower layer read from them.
      for (const f of dirFiles) {
        if (f.path !== dbPath && !f.path.endsWith('-wal')) findings.packageDbs.push({ path: f.path, packages: [] });
      }
    }
    return findings;
  },
};

export function toPackage(p: RpmPackage, packageDb: string): Package {
  return {
    name: p.name,
    version: evr(p),
    kind: 'binary',
    ...(p.sourceName ? { source: { name: p.sourceName, version: p.sourceVersion } } : {}),
    arch: p.arch,
    module: p.module,
    cpe: '',
    packageDb,
    repositoryHint: '',
  };
}
