import type { Distribution } from './distribution.ts';
import type { Package } from './package.ts';
import type { Repository } from './repository.ts';

// Internal IndexReport: the result of indexing one manifest. src/http/ maps it to Clair v4's JSON shape.

export type IndexState = 'IndexFinished' | 'IndexError';

export interface Environment {
  packageDb: string;
  introducedIn: string;
  distributionId: string;
  repositoryIds: string[];
}

export interface IndexReport {
  manifestHash: string;
  state: IndexState;
  success: boolean;
  err: string;
  /** Document-local ids → package. */
  packages: Record<string, Package>;
  distributions: Record<string, Distribution>;
  repositories: Record<string, Repository>;
  environments: Record<string, Environment[]>;
  /** Layers of the manifest, base first (not part of Clair's JSON; kept for reports and the notifier). */
  layers: string[];
}
