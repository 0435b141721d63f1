import type { Scanner } from '../../indexer/scanner.ts';
import { APK_INSTALLED_DB, apkPackages } from './installed-db.ts';

/** Reads apk's installed database (Alpine, Wolfi, Chainguard and any other apk-based image). */
export const apkInstalledScanner: Scanner = {
  name: 'apk',
  version: '1',
  kind: 'package',
  wants: ({ path }) => path === APK_INSTALLED_DB,
  scan(files) {
    return { packageDbs: files.map((f) => ({ path: f.path, packages: apkPackages(f.data.toString('utf8'), f.path) })) };
  },
};
