import type { Distribution } from './distribution.ts';
import type { Package } from './package.ts';
import type { Repository } from './repository.ts';

// What one layer holds, as the scanners saw it: stored under the layer's digest so a layer shared by several
// images is scanned once. Whiteouts are kept so coalescing can remove what lower layers held.
export interface LayerReport {
  digest: string;
  /** Names and versions of the scanners that produced it; a change of scanner invalidates the cache. */
  scannerSet: string;
  packageDbs: { path: string; packages: Package[] }[];
  distributions: { path: string; distribution: Distribution; priority: number }[];
  /** See ScanFindings.repositories. */
  repositories: { path: string; repositories: Repository[]; packageDbPrefixes?: string[] }[];
  /** Paths this layer deletes from the layers below it (from `.wh.NAME` entries). */
  whiteouts: string[];
  /** Directories whose lower-layer content this layer hides (from `.wh..wh..opq`). */
  opaqueDirs: string[];
  /** Files a scanner could not read. */
  errors: string[];
  /** Compressed bytes read, for metrics. */
  size: number;
}
