import type { Ecosystem } from '../ecosystem.ts';
import { apkInstalledScanner } from '../apk/scanner.ts';
import { chainguardMatcher, wolfiMatcher } from './matcher.ts';
import { chainguardUpdater, wolfiUpdater } from './updater.ts';

// Wolfi and Chainguard OS: apk's installed database, their security.json secdb feeds, matched by origin with apk
// 2.14's ordering (the apk-tools they ship).
export const wolfi: Ecosystem = {
  name: 'wolfi',
  scanners: [apkInstalledScanner],
  updaters: [wolfiUpdater, chainguardUpdater],
  matchers: [wolfiMatcher, chainguardMatcher],
};
