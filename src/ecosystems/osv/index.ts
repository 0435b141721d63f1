import type { Ecosystem } from '../ecosystem.ts';
import { languageMatchers } from './matcher.ts';
import { goUpdater, osvUpdater } from './updater.ts';

// Language advisories in OSV form (OSV exports, GitHub's advisory database, PyPA, the Go vulnerability database) and
// the matchers of every language ecosystem. The inventories (Python, npm, Go, Java, Ruby, Rust) are their own
// folders' scanners; RustSec's own format is src/ecosystems/rustsec/.
export const osv: Ecosystem = {
  name: 'osv',
  scanners: [],
  updaters: [osvUpdater, goUpdater],
  matchers: languageMatchers,
};
