import type { Scanner } from '../indexer/scanner.ts';
import type { Updater } from '../updater/updater.ts';
import type { Matcher } from '../matcher/matcher.ts';

// An ecosystem folder (src/ecosystems/<name>/index.ts) exports one of these; the engines iterate the registry
// (src/ecosystems/registry.ts), so adding an ecosystem is adding a folder and a line there.
export interface Ecosystem {
  readonly name: string;
  readonly scanners: readonly Scanner[];
  readonly updaters: readonly Updater[];
  readonly matchers: readonly Matcher[];
}
