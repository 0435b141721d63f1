import type { Ecosystem } from '../ecosystem.ts';
import { pythonScanner } from './scanner.ts';

// Python: installed distributions (.dist-info, .egg-info) in any layer or source tree.
export const python: Ecosystem = { name: 'python', scanners: [pythonScanner], updaters: [], matchers: [] };
