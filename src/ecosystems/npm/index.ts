import type { Ecosystem } from '../ecosystem.ts';
import { npmScanner } from './scanner.ts';

// npm: installed packages (node_modules) in images and trees; lockfiles in dir: trees.
export const npm: Ecosystem = { name: 'npm', scanners: [npmScanner], updaters: [], matchers: [] };
