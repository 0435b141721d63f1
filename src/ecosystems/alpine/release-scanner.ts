import type { Scanner } from '../../indexer/scanner.ts';
import { emptyDistribution } from '../../model/distribution.ts';

// etc/alpine-release holds the release ("3.19.4\n"). Every Alpine image also has os-release, which wins (higher
// priority) because it carries the names; this file alone is enough to know the release for images without it.

const PATH = 'etc/alpine-release';

export const alpineReleaseScanner: Scanner = {
  name: 'alpine-release',
  version: '1',
  kind: 'distribution',
  maxFileSize: 4096,
  wants: ({ path }) => path === PATH,
  scan(files) {
    const distributions = [];
    for (const f of files) {
      const versionId = f.data.toString('utf8').split('\n')[0]!.trim();
      if (!/^\d+\.\d+/.test(versionId)) continue;
      const m = /^(\d+\.\d+)/.exec(versionId)!;
      const edge = versionId.includes('_alpha');
      distributions.push({
        path: f.path,
        priority: 0,
        distribution: {
          ...emptyDistribution(),
          did: 'alpine',
          name: 'Alpine Linux',
          versionId,
          prettyName: edge ? 'Alpine Linux edge' : `Alpine Linux v${m[1]}`,
        },
      });
    }
    return { distributions };
  },
};
