import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyDistribution } from '../../src/model/distribution.ts';
import type { IndexReport } from '../../src/model/index-report.ts';
import type { Package } from '../../src/model/package.ts';
import { newVulnerability } from '../../src/model/vulnerability.ts';
import { match } from '../../src/matcher/match.ts';
import { debianMatcher } from '../../src/ecosystems/debian/matcher.ts';
import { affectedManifests } from '../../src/matcher/affected-manifests.ts';
import type { Store, StoredVulnerability } from '../../src/store/store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

// Issue #18, items 4 and 8: one bad version costs one decision; matching is linear in the records of a package.

const bookworm = { ...emptyDistribution(), did: 'debian', versionId: '12', versionCodeName: 'bookworm' };

function pkg(name: string, version: string, source: [string, string]): Package {
  return { name, version, kind: 'binary', arch: 'amd64', module: '', cpe: '', packageDb: 'var/lib/dpkg/status', repositoryHint: '', source: { name: source[0], version: source[1] } };
}

function report(hash: string, pkgs: Package[]): IndexReport {
  const r: IndexReport = {
    manifestHash: hash, state: 'IndexFinished', success: true, err: '', packages: {}, distributions: { '1': bookworm },
    repositories: {}, environments: {}, layers: [],
  };
  pkgs.forEach((p, i) => {
    r.packages[String(i + 1)] = p;
    r.environments[String(i + 1)] = [{ packageDb: p.packageDb, introducedIn: 'sha256:' + 'a'.repeat(64), distributionId: '1', repositoryIds: [] }];
  });
  return r;
}

function record(id: number, source: string, fixed: string): StoredVulnerability {
  return {
    id: String(id),
    ...newVulnerability({
      updater: 'debian', name: `CVE-2024-${id}`, package: { name: source, kind: 'source', module: '', arch: '' },
      dist: { ...emptyDistribution(), did: 'debian', versionCodeName: 'bookworm' }, fixedInVersion: fixed, versionScheme: 'dpkg',
    }),
  };
}

/** A store answering every query with the records of the queried package names. */
function fakeStore(records: StoredVulnerability[]): Store {
  return {
    queryVulnerabilities: async (qs: { packageNames: string[] }[]) => qs.map((q) => records.filter((r) => q.packageNames.includes(r.package.name))),
  } as unknown as Store;
}

test('#18.4 an invalid installed version costs that package, with a warning; the report stands', async () => {
  const r = report('sha256:m', [pkg('bash', '5.2-1', ['bash', ':::']), pkg('curl', '7.88-1', ['curl', '7.88-1'])]);
  const m = await match(fakeStore([record(1, 'bash', '5.3-1'), record(2, 'curl', '7.90-1'), record(3, 'curl', 'x:1.0')]), [debianMatcher], r);
  assert.deepEqual(m.packageVulnerabilities, { '2': ['2'] });
  assert.equal(m.warnings.length, 2);
  assert.match(m.warnings[0]!, /^debian: package bash 5.2-1 against CVE-2024-1: invalid dpkg version ":::"/);
  assert.match(m.warnings[1]!, /^debian: package curl 7.88-1 against CVE-2024-3: invalid dpkg version "x:1.0"/);
});

test('#18.4 affected manifests (notifications) skip the undecidable package and keep the others', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    await store.putIndexReport(report('sha256:' + '1'.repeat(64), [pkg('bash', '5.2-1', ['bash', ':::'])]), 's');
    await store.putIndexReport(report('sha256:' + '2'.repeat(64), [pkg('bash', '5.2-1', ['bash', '5.2-1'])]), 's');
    const r = await affectedManifests(store, [debianMatcher], [{ id: 'x', vulnerability: record(1, 'bash', '5.3-1') }]);
    assert.deepEqual(r.vulnerableManifests, { ['sha256:' + '2'.repeat(64)]: ['x'] });
  } finally {
    await store.close();
  }
});

test('#18.8 300k records of one package match in linear time (was list.includes per record)', async () => {
  const records: StoredVulnerability[] = [];
  for (let i = 0; i < 300_000; i++) records.push(record(i + 1, 'bash', '9.0-1'));
  const r = report('sha256:m', [pkg('bash', '5.2-1', ['bash', '5.2-1'])]);
  const m = await match(fakeStore(records), [debianMatcher], r);
  assert.equal(m.packageVulnerabilities['1']!.length, 300_000);
  assert.equal(m.packageVulnerabilities['1']![299_999], '300000', 'ids sorted numerically');
});

test('#18.4 a matcher whose filter or query throws for one package skips it with a warning', async () => {
  const r = report('sha256:m', [pkg('bash', '5.2-1', ['bash', '5.2-1']), pkg('curl', '7.88-1', ['curl', '7.88-1'])]);
  const picky = {
    ...debianMatcher,
    name: 'picky',
    query: (p: Parameters<typeof debianMatcher.query>[0]) => {
      if (p.package.name === 'bash') throw new Error('cannot query bash');
      return debianMatcher.query(p);
    },
  };
  const m = await match(fakeStore([record(1, 'bash', '5.3-1'), record(2, 'curl', '7.90-1')]), [picky], r);
  assert.deepEqual(m.packageVulnerabilities, { '2': ['2'] });
  assert.deepEqual(m.warnings, ['picky: package bash 5.2-1: cannot query bash']);
});
