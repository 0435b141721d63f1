import type { Scanner } from '../../indexer/scanner.ts';
import { APK_INSTALLED_DB, apkPackages, parseInstalledDb } from './installed-db.ts';

/**
 * Reads apk's installed database (Alpine, Wolfi, Chainguard and any other apk-based image), and its F:/R: file
 * lists as file owners: a language package whose metadata an apk package installed (py3-* dist-info) is that
 * package's, and its vulnerabilities come from the distribution's feed (Package.ownedBy).
 */
export const apkInstalledScanner: Scanner = {
  name: 'apk',
  version: '2',
  kind: 'package',
  wants: ({ path }) => path === APK_INSTALLED_DB,
  scan(files) {
    return {
      packageDbs: files.map((f) => ({ path: f.path, packages: apkPackages(f.data.toString('utf8'), f.path) })),
      fileOwners: files.map((f) => ({
        path: f.path,
        owners: parseInstalledDb(f.data.toString('utf8')).map((p) => ({ owner: { name: p.name, version: p.version, packageDb: f.path }, files: p.files })),
      })),
    };
  },
};
