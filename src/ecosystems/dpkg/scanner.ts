import type { Scanner } from '../../indexer/scanner.ts';
import { installedPackages } from './status-file.ts';

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d/';

/** Reads dpkg's status file and distroless status.d entries (but not their .md5sums companions). */
export const dpkgStatusScanner: Scanner = {
  name: 'dpkg',
  version: '1',
  kind: 'package',
  wants: ({ path }) =>
    path === STATUS || (path.startsWith(STATUS_D) && !path.endsWith('.md5sums') && !path.slice(STATUS_D.length).includes('/')),
  scan(files) {
    return {
      packageDbs: files.map((f) => ({
        path: f.path,
        packages: installedPackages(f.data.toString('utf8'), f.path, f.path === STATUS),
      })),
    };
  },
};
