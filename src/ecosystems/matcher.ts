import type { Distribution } from '../model/distribution.ts';
import type { Package } from '../model/package.ts';
import type { Repository } from '../model/repository.ts';
import type { Vulnerability } from '../model/vulnerability.ts';

// claircore's matcher shape: the ecosystem says which packages are its own and how to decide; the engine does the
// database work (src/matcher/).

/** A package of an IndexReport with the context the matcher needs. */
export interface IndexedPackage {
  id: string;
  package: Package;
  distribution?: Distribution;
  repositories: Repository[];
}

/** Which stored records may affect a package: the store answers it with indexed lookups. */
export interface VulnerabilityQuery {
  /** Record package names to look up (e.g. the source package name and the binary name). */
  packageNames: string[];
  /** Restrict to records of updaters whose name starts with this. */
  updaterPrefix?: string;
  /** Distribution fields that must equal the record's (record fields that are "" match anything). */
  dist?: { did?: string; versionId?: string; versionCodeName?: string };
}

export interface Matcher {
  readonly name: string;
  /** Is this package mine? */
  filter(p: IndexedPackage): boolean;
  query(p: IndexedPackage): VulnerabilityQuery;
  /** The exact version decision. */
  vulnerable(p: IndexedPackage, v: Vulnerability): boolean;
}
