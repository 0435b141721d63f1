import type { Ecosystem } from '../ecosystem.ts';
import { rubyScanner } from './scanner.ts';

// Ruby: installed gem specifications in images and trees; Gemfile.lock in dir: trees.
export const ruby: Ecosystem = { name: 'ruby', scanners: [rubyScanner], updaters: [], matchers: [] };
