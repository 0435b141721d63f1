import type { EnrichmentUpdater } from '../updater/updater.ts';
import { epssUpdater } from './epss/updater.ts';
import { kevUpdater } from './kev/updater.ts';
import { nvdUpdater } from './nvd/updater.ts';

// Every enrichment clair-ts knows, in the order reports list them. Adding one is adding its folder and a line here.
export const enrichmentUpdaters: readonly EnrichmentUpdater[] = [nvdUpdater, epssUpdater, kevUpdater];

export function findEnrichmentUpdater(name: string): EnrichmentUpdater | undefined {
  return enrichmentUpdaters.find((u) => u.name === name);
}
