import type { Ecosystem } from '../ecosystem.ts';
import { debianUpdater } from './updater.ts';
import { debianMatcher } from './matcher.ts';

// Debian: packages from dpkg's database (src/ecosystems/dpkg, registered on its own), vulnerabilities from the
// Debian security tracker, matched by source package and release with dpkg version rules.
export const debian: Ecosystem = {
  name: 'debian',
  scanners: [],
  updaters: [debianUpdater],
  matchers: [debianMatcher],
};
