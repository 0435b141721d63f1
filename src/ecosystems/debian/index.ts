import type { Ecosystem } from '../ecosystem.ts';
import { dpkgFileListScanner } from '../dpkg/file-list-scanner.ts';
import { dpkgStatusScanner } from '../dpkg/scanner.ts';
import { debianUpdater } from './updater.ts';
import { debianMatcher } from './matcher.ts';

// Debian: packages from dpkg's database, vulnerabilities from the Debian security tracker, matched by source
// package and release with dpkg version rules.
export const debian: Ecosystem = {
  name: 'debian',
  scanners: [dpkgStatusScanner, dpkgFileListScanner],
  updaters: [debianUpdater],
  matchers: [debianMatcher],
};
