import type { Ecosystem } from '../ecosystem.ts';
import { apkInstalledScanner } from './scanner.ts';

// apk's installed database, the package format of Alpine and Wolfi: a scanner only. The shared secdb parser and
// matcher (secdb.ts, matcher.ts) are built into the distributions that use them.
export const apk: Ecosystem = { name: 'apk', scanners: [apkInstalledScanner], updaters: [], matchers: [] };
