import type { Ecosystem } from '../ecosystem.ts';
import { rpmPackageScanner } from './scanner.ts';

// rpm's database (sqlite, ndb, Berkeley DB), the package format of the Red Hat family: a scanner only. The
// distributions that install with rpm bring the updaters and matchers.
export const rpm: Ecosystem = { name: 'rpm', scanners: [rpmPackageScanner], updaters: [], matchers: [] };
