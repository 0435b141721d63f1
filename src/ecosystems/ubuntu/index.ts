import type { Ecosystem } from '../ecosystem.ts';
import { lsbReleaseScanner } from './lsb-release-scanner.ts';
import { ubuntuMatcher } from './matcher.ts';
import { ubuntuUpdater } from './updater.ts';

// Ubuntu: packages from dpkg's database (src/ecosystems/dpkg, registered on its own), vulnerabilities from
// Canonical's OSV records, matched by source package and release with dpkg version rules; Ubuntu Pro (ESM) fixes are
// marked as such. Detection from os-release, or lsb-release for the oldest images.
export const ubuntu: Ecosystem = {
  name: 'ubuntu',
  scanners: [lsbReleaseScanner],
  updaters: [ubuntuUpdater],
  matchers: [ubuntuMatcher],
};
