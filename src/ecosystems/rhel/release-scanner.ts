import type { Scanner } from '../../indexer/scanner.ts';
import { distributionFromReleaseFile, parseSystemReleaseCpe } from './releases.ts';

// Release files rank below os-release (priorities 2 and 1, see ecosystems/os-release/scanner.ts), which names the
// release with its CPE when present. Among themselves the vendor's own file wins over redhat-release (which Oracle
// Linux and CentOS also carry), and both over the generic system-release.
const PRIORITY = new Map([
  ['etc/centos-release', 0.5],
  ['etc/rocky-release', 0.5],
  ['etc/almalinux-release', 0.5],
  ['etc/fedora-release', 0.5],
  ['etc/oracle-release', 0.5],
  ['etc/redhat-release', 0.4],
  ['etc/system-release', 0.3],
]);
const CPE_FILE = 'etc/system-release-cpe';

export const rhelReleaseScanner: Scanner = {
  name: 'rhel-release',
  version: '1',
  kind: 'distribution',
  maxFileSize: 64 * 1024,
  wants: ({ path }) => PRIORITY.has(path) || path === CPE_FILE,
  scan(files) {
    const cpeFile = files.find((f) => f.path === CPE_FILE);
    const cpe = cpeFile ? parseSystemReleaseCpe(cpeFile.data.toString('utf8')) : undefined;
    const errors: string[] = [];
    if (cpeFile && cpe === undefined) errors.push(`${CPE_FILE}: not a CPE name`);
    const distributions = [];
    for (const f of files) {
      const priority = PRIORITY.get(f.path);
      if (priority === undefined) continue;
      const d = distributionFromReleaseFile(f.data.toString('utf8'), cpe ?? '');
      if (d) distributions.push({ path: f.path, distribution: d, priority });
    }
    return { distributions, errors };
  },
};
