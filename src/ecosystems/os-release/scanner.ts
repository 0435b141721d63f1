import type { Scanner } from '../../indexer/scanner.ts';
import { distributionFromOsRelease } from './os-release.ts';

// etc/os-release takes precedence over usr/lib/os-release, as os-release(5) says readers should do.
const PATHS = new Map([
  ['etc/os-release', 2],
  ['usr/lib/os-release', 1],
]);

export const osReleaseScanner: Scanner = {
  name: 'os-release',
  version: '1',
  kind: 'distribution',
  maxFileSize: 64 * 1024,
  wants: ({ path }) => PATHS.has(path),
  scan(files) {
    const distributions = [];
    for (const f of files) {
      const d = distributionFromOsRelease(f.data.toString('utf8'));
      if (d) distributions.push({ path: f.path, distribution: d, priority: PATHS.get(f.path)! });
    }
    return { distributions };
  },
};
