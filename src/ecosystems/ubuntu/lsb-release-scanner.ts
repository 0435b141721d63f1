import type { Scanner } from '../../indexer/scanner.ts';
import { emptyDistribution } from '../../model/distribution.ts';
import { parseOsRelease } from '../os-release/os-release.ts';

// etc/lsb-release (DISTRIB_ID=Ubuntu, DISTRIB_RELEASE=18.04, DISTRIB_CODENAME=bionic, DISTRIB_DESCRIPTION="Ubuntu
// 18.04.6 LTS"): every Ubuntu image has it, and images older than 12.04 have nothing else. os-release wins where
// both exist (it has a higher priority).

const PATH = 'etc/lsb-release';

export const lsbReleaseScanner: Scanner = {
  name: 'lsb-release',
  version: '1',
  kind: 'distribution',
  maxFileSize: 64 * 1024,
  wants: ({ path }) => path === PATH,
  scan(files) {
    const distributions = [];
    for (const f of files) {
      const kv = parseOsRelease(f.data.toString('utf8'));
      const id = (kv.get('DISTRIB_ID') ?? '').trim();
      if (!id) continue;
      const description = kv.get('DISTRIB_DESCRIPTION') ?? '';
      distributions.push({
        path: f.path,
        priority: 0,
        distribution: {
          ...emptyDistribution(),
          did: id.toLowerCase(),
          name: id,
          versionId: kv.get('DISTRIB_RELEASE') ?? '',
          versionCodeName: kv.get('DISTRIB_CODENAME') ?? '',
          // "Ubuntu 18.04.6 LTS" → VERSION-like "18.04.6 LTS", so LTS is told the same way as from os-release.
          version: description.startsWith(id + ' ') ? description.slice(id.length + 1) : '',
          prettyName: description,
        },
      });
    }
    return { distributions };
  },
};
