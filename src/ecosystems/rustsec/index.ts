import type { Ecosystem } from '../ecosystem.ts';
import { rustsecUpdater } from './updater.ts';

// RustSec's advisory database in its own layout. Its records are crates.io records like OSV's, matched by the
// cargo matcher of src/ecosystems/osv/.
export const rustsec: Ecosystem = {
  name: 'rustsec',
  scanners: [],
  updaters: [rustsecUpdater],
  matchers: [],
};
