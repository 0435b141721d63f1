import type { Ecosystem } from '../ecosystem.ts';
import { apkInstalledScanner } from '../apk/scanner.ts';
import { alpineMatcher } from './matcher.ts';
import { alpineReleaseScanner } from './release-scanner.ts';
import { alpineUpdater } from './updater.ts';

// Alpine: packages from apk's installed database, vulnerabilities from Alpine's secdb, matched by origin package
// and branch with the ordering of the apk-tools generation the image's release ships (apk2 before 3.23, apk3 since).
export const alpine: Ecosystem = {
  name: 'alpine',
  scanners: [alpineReleaseScanner, apkInstalledScanner],
  updaters: [alpineUpdater],
  matchers: [alpineMatcher],
};
