import type { IndexReport } from '../src/model/index-report.ts';

// An index report of a Debian bookworm image with one binary package per source package named, each installed at
// 1.0-1: with bench/synthetic-tracker.ts's feed over the same names, a report of thousands of findings (the size of
// a large real image's) without building that image.

export function syntheticDebianIndexReport(manifestHash: string, sources: string[]): IndexReport {
  const packages: IndexReport['packages'] = {};
  const environments: IndexReport['environments'] = {};
  const layer = 'sha256:' + 'b'.repeat(64);
  sources.forEach((name, i) => {
    const id = String(i + 1);
    packages[id] = {
      name: `${name}-bin`, version: '1.0-1', kind: 'binary', source: { name, version: '1.0-1' }, arch: 'amd64', module: '', cpe: '',
      packageDb: 'var/lib/dpkg/status', repositoryHint: '',
    };
    environments[id] = [{ packageDb: 'var/lib/dpkg/status', introducedIn: layer, distributionId: '1', repositoryIds: [] }];
  });
  return {
    manifestHash, state: 'IndexFinished', success: true, err: '', packages, environments, repositories: {}, layers: [layer],
    distributions: {
      '1': { did: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', versionId: '12', versionCodeName: 'bookworm', arch: '', cpe: '', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    },
  };
}
