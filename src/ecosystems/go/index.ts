import type { Ecosystem } from '../ecosystem.ts';
import { goScanner } from './scanner.ts';

// Go: module build info of Go binaries in any layer; go.mod in source trees.
export const go: Ecosystem = { name: 'go', scanners: [goScanner], updaters: [], matchers: [] };
