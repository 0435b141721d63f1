import type { Ecosystem } from '../ecosystem.ts';
import { rustScanner } from './scanner.ts';

// Rust: Cargo.lock (in images and source trees) and cargo-auditable binaries.
export const rust: Ecosystem = { name: 'rust', scanners: [rustScanner], updaters: [], matchers: [] };
