import assert from 'node:assert/strict';
import type { IndexReport } from '../model/index-report.ts';
import type { Distribution } from '../model/distribution.ts';
import type { Package } from '../model/package.ts';
import type { Repository } from '../model/repository.ts';
import type { Store } from './store.ts';

// Index reports for the tests of the notifier's package index (store.suite.ts, and the migration that indexes
// existing reports in sqlite-store.test.ts and postgres-store.test.ts), and what the index must say about them.

export const h = (n: number): string => 'sha256:' + String(n).repeat(64);

const bookworm: Distribution = { did: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', versionId: '12', versionCodeName: 'bookworm', arch: '', cpe: '', prettyName: 'Debian GNU/Linux 12 (bookworm)' };
const bullseye: Distribution = { ...bookworm, version: '11 (bullseye)', versionId: '11', versionCodeName: 'bullseye', prettyName: 'Debian GNU/Linux 11 (bullseye)' };

export function dpkg(name: string, version: string, source?: string): Package {
  return {
    name, version, kind: 'binary', arch: 'amd64', module: '', cpe: '', packageDb: 'var/lib/dpkg/status', repositoryHint: '',
    ...(source ? { source: { name: source, version } } : {}),
  };
}

export function reportOf(manifestHash: string, packages: Package[], distribution?: Distribution, repository?: Repository): IndexReport {
  const r: IndexReport = { manifestHash, state: 'IndexFinished', success: true, err: '', packages: {}, distributions: {}, repositories: {}, environments: {}, layers: [] };
  if (distribution) r.distributions['1'] = distribution;
  if (repository) r.repositories['1'] = repository;
  packages.forEach((p, i) => {
    // Ids differ between reports (they are document-local): the index must not care.
    const id = String(100 * i + manifestHash.charCodeAt(8));
    r.packages[id] = p;
    r.environments[id] = [{ packageDb: p.packageDb, introducedIn: 'sha256:' + 'f'.repeat(64), distributionId: distribution ? '1' : '', repositoryIds: repository ? ['1'] : [] }];
  });
  return r;
}

export const libssl3 = dpkg('libssl3', '3.0.11-1', 'openssl');
const libssl11 = dpkg('libssl1.1', '1.1.1w-0', 'openssl');
const zope: Package = { ...dpkg('Zope.Interface', '6.0'), packageDb: 'python:usr/lib/python3/dist-packages/zope.interface-6.0.dist-info' };
const pypi: Repository = { name: 'pypi', key: '', uri: 'https://pypi.org/simple', cpe: '' };

/** Four manifests: two share libssl3 on bookworm, one has openssl's libssl1.1 on bullseye, one a PyPI project. */
export function packageIndexReports(): IndexReport[] {
  return [
    reportOf(h(1), [libssl3, dpkg('bash', '5.2.15-2')], bookworm),
    reportOf(h(2), [{ ...libssl3 }], bookworm),
    reportOf(h(3), [libssl11], bullseye),
    reportOf(h(4), [zope], undefined, pypi),
  ];
}

/** What the index says after packageIndexReports() were stored (or indexed by the migration). */
export async function assertPackageIndex(s: Store): Promise<void> {
  const openssl = await s.indexedPackagesNamed(['openssl', 'nothing']);
  const byName = new Map(openssl.map((p) => [p.package.name, p]));
  assert.deepEqual([...byName.keys()].sort(), ['libssl1.1', 'libssl3'], 'one row per distinct package, whatever the number of manifests');
  assert.deepEqual(byName.get('libssl3')!.package, libssl3);
  assert.deepEqual(byName.get('libssl3')!.distribution, bookworm);
  assert.deepEqual(byName.get('libssl1.1')!.distribution, bullseye);
  assert.deepEqual(byName.get('libssl3')!.repositories, []);
  const holders = await s.manifestsWithIndexedPackages(openssl.map((p) => p.id));
  assert.deepEqual(holders.get(byName.get('libssl3')!.id)!.sort(), [h(1), h(2)]);
  assert.deepEqual(holders.get(byName.get('libssl1.1')!.id), [h(3)]);
  // Filed under the binary name too, and a PyPI project under its PEP 503 form (the records' name).
  assert.deepEqual((await s.indexedPackagesNamed(['libssl3'])).map((p) => p.id), [byName.get('libssl3')!.id]);
  const [py, ...more] = await s.indexedPackagesNamed(['zope-interface']);
  assert.equal(more.length, 0);
  assert.deepEqual(py!.repositories, [pypi]);
  assert.equal(py!.distribution, undefined);
  assert.deepEqual([...(await s.manifestsWithIndexedPackages([py!.id])).entries()], [[py!.id, [h(4)]]]);
  assert.deepEqual(await s.manifestsWithPackages(['openssl']), [h(1), h(2), h(3)]);
}
