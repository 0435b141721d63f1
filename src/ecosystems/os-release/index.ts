import type { Ecosystem } from '../ecosystem.ts';
import { osReleaseScanner } from './scanner.ts';

// Distribution detection shared by every Linux distribution.
export const osRelease: Ecosystem = { name: 'os-release', scanners: [osReleaseScanner], updaters: [], matchers: [] };
