import type { Distribution } from './distribution.ts';
import type { Package, PackageOwner } from './package.ts';
import type { Repository } from './repository.ts';

/** A package database found in a layer. */
export interface PackageDbFinding {
  /** The file it was read from, as in the layer (the unit a whiteout removes and a later layer replaces). */
  path: string;
  packages: Package[];
  /**
   * Language package databases name the registry their packages come from (PyPI, npm, ...): every package of the
   * database is associated with it, and with no distribution.
   */
  repository?: Repository;
}

/**
 * Files an OS package database lists as owned by its packages (dpkg's info/NAME.list, rpm headers' file lists),
 * keyed by the file they were read from. Only paths some scanner declares `ownable` are kept: the walker drops the rest.
 */
export interface FileOwnersFinding {
  path: string;
  owners: { owner: PackageOwner; files: string[] }[];
}

// What one layer holds, as the scanners saw it: stored under the layer's digest so a layer shared by several
// images is scanned once. Whiteouts are kept so coalescing can remove what lower layers held.
export interface LayerReport {
  digest: string;
  /** Names and versions of the scanners that produced it; a change of scanner invalidates the cache. */
  scannerSet: string;
  packageDbs: PackageDbFinding[];
  distributions: { path: string; distribution: Distribution; priority: number }[];
  /** See ScanFindings.repositories. */
  repositories: { path: string; repositories: Repository[]; packageDbPrefixes?: string[] }[];
  /** OS packages' file lists, filtered to paths language scanners read (absent in reports made before them). */
  fileOwners?: FileOwnersFinding[];
  /** Paths this layer deletes from the layers below it (from `.wh.NAME` entries). */
  whiteouts: string[];
  /** Directories whose lower-layer content this layer hides (from `.wh..wh..opq`). */
  opaqueDirs: string[];
  /** Files a scanner could not read. */
  errors: string[];
  /** Compressed bytes read, for metrics. */
  size: number;
}
