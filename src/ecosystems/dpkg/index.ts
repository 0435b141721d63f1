import type { Ecosystem } from '../ecosystem.ts';
import { dpkgFileListScanner } from './file-list-scanner.ts';
import { dpkgStatusScanner } from './scanner.ts';

// dpkg's database, the package format of Debian and Ubuntu: scanners only (the installed packages and the files
// each owns). The distributions that install with dpkg bring the updaters and matchers.
export const dpkg: Ecosystem = { name: 'dpkg', scanners: [dpkgStatusScanner, dpkgFileListScanner], updaters: [], matchers: [] };
