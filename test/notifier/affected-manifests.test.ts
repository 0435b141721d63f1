import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { allMatchers } from '../../src/ecosystems/registry.ts';
import { affectedManifests } from '../../src/matcher/affected-manifests.ts';
import { newVulnerability, type Vulnerability } from '../../src/model/vulnerability.ts';
import { emptyDistribution } from '../../src/model/distribution.ts';
import { dpkg, h, reportOf } from '../../src/store/package-index-fixture.ts';

// Affected manifests through the store's package index: the decisions are made per distinct package (package,
// distribution, repositories), so what tells two manifests apart must be part of that identity.

const debian = (codename: string, versionId: string) => ({ ...emptyDistribution(), did: 'debian', versionId, versionCodeName: codename, name: 'Debian GNU/Linux' });

function debianRecord(name: string, source: string, codename: string, fixed: string): Vulnerability {
  return newVulnerability({
    updater: 'debian', name, package: { name: source, kind: 'source', module: '', arch: '' },
    dist: { ...emptyDistribution(), did: 'debian', versionCodeName: codename }, fixedInVersion: fixed, versionScheme: 'dpkg',
  });
}

test('one source package on two releases and at two versions: each manifest gets the decision for its own package', async () => {
  const s = SqliteStore.open(':memory:');
  try {
    await s.putIndexReport(reportOf(h(1), [dpkg('libssl3', '3.0.11-1', 'openssl')], debian('bookworm', '12')), 's');
    await s.putIndexReport(reportOf(h(2), [dpkg('libssl3', '3.0.13-1', 'openssl')], debian('bookworm', '12')), 's');
    await s.putIndexReport(reportOf(h(3), [dpkg('libssl1.1', '1.1.1n-0', 'openssl')], debian('bullseye', '11')), 's');
    await s.putIndexReport(reportOf(h(4), [dpkg('libssl3', '3.0.11-1', 'openssl'), dpkg('bash', '5.2-1')], debian('bookworm', '12')), 's');
    const r = await affectedManifests(s, allMatchers(), [
      { id: 'a', vulnerability: debianRecord('CVE-1', 'openssl', 'bookworm', '3.0.12-1') },
      { id: 'b', vulnerability: debianRecord('CVE-2', 'openssl', 'bullseye', '1.1.1w-0') },
      { id: 'c', vulnerability: debianRecord('CVE-3', 'bash', 'bookworm', '') },
    ]);
    assert.deepEqual(r.vulnerableManifests, { [h(1)]: ['a'], [h(3)]: ['b'], [h(4)]: ['a', 'c'] });
    assert.deepEqual([...r.vulnerabilities.keys()].sort(), ['a', 'b', 'c']);
  } finally {
    await s.close();
  }
});

test('a PyPI project installed under another spelling is found by the record naming its PEP 503 form', async () => {
  const s = SqliteStore.open(':memory:');
  try {
    const zope = { ...dpkg('Zope.Interface', '5.4.0'), packageDb: 'python:usr/lib/python3/dist-packages/Zope.Interface-5.4.0.dist-info' };
    await s.putIndexReport(reportOf(h(1), [zope], undefined, { name: 'pypi', key: '', uri: 'https://pypi.org/simple', cpe: '' }), 's');
    const record = newVulnerability({
      updater: 'osv/pypi', name: 'GHSA-0000', package: { name: 'zope-interface', kind: 'binary', module: '', arch: '' },
      repo: { name: 'pypi', key: '', uri: 'https://pypi.org/simple', cpe: '' }, versionScheme: 'pypi', fixedInVersion: '5.4.1',
      range: { introduced: '0', lastAffected: '' },
    });
    const r = await affectedManifests(s, allMatchers(), [{ id: 'x', vulnerability: record }]);
    assert.deepEqual(r.vulnerableManifests, { [h(1)]: ['x'] });
  } finally {
    await s.close();
  }
});
