import type { IndexReport } from '../model/index-report.ts';
import type { Distribution } from '../model/distribution.ts';
import type { Package } from '../model/package.ts';
import type { Repository } from '../model/repository.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import type { VulnerabilityQuery } from './vulnerability-query.ts';

// claircore's matcher shape: the ecosystem says which packages are its own and how to decide; the engine does the
// database work (src/matcher/).

/** A package of an IndexReport with the context the matcher needs. */
export interface IndexedPackage {
  id: string;
  package: Package;
  distribution?: Distribution;
  repositories: Repository[];
}

/** The packages of a report with their distribution and repositories (the first environment's), as matchers see them. */
export function indexedPackages(report: IndexReport): IndexedPackage[] {
  return Object.entries(report.packages).map(([id, pkg]) => {
    const env = report.environments[id]?.[0];
    const distribution = env?.distributionId ? report.distributions[env.distributionId] : undefined;
    const repositories = (env?.repositoryIds ?? []).map((r) => report.repositories[r]).filter((r) => r !== undefined);
    return { id, package: pkg, ...(distribution ? { distribution } : {}), repositories };
  });
}

export interface Matcher {
  readonly name: string;
  /** Is this package mine? */
  filter(p: IndexedPackage): boolean;
  query(p: IndexedPackage): VulnerabilityQuery;
  /** The exact version decision. */
  vulnerable(p: IndexedPackage, v: Vulnerability): boolean;
}
