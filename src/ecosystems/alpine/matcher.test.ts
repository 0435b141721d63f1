import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyDistribution, type Distribution } from '../../model/distribution.ts';
import { newVulnerability } from '../../model/vulnerability.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import { alpineMatcher as matcher } from './matcher.ts';
import { alpineBranch, apkSchemeForRelease } from './releases.ts';

const dist = (versionId: string, prettyName = ''): Distribution => ({ ...emptyDistribution(), did: 'alpine', versionId, prettyName });
const pkg = (name: string, version: string, origin: string, d: Distribution): IndexedPackage => ({
  id: '1',
  package: { name, version, kind: 'binary', source: { name: origin, version }, arch: 'x86_64', module: '', cpe: '', packageDb: 'lib/apk/db/installed', repositoryHint: '' },
  distribution: d,
  repositories: [],
});


test('alpine releases: branch from VERSION_ID, edge, and the apk generation', () => {
  assert.equal(alpineBranch(dist('3.20.3', 'Alpine Linux v3.20')), '3.20');
  assert.equal(alpineBranch(dist('3.21.0_alpha20240923', 'Alpine Linux edge')), 'edge');
  assert.equal(alpineBranch(dist('')), undefined);
  assert.equal(apkSchemeForRelease('3.22.1').id, 'apk2');
  assert.equal(apkSchemeForRelease('3.23.0').id, 'apk3');
  assert.equal(apkSchemeForRelease('3.21.0_alpha20240923').id, 'apk2'); // an edge from before the switch
  assert.equal(apkSchemeForRelease('4.0').id, 'apk3');
});

test('alpine matcher: origin and branch in the query; the image\'s apk generation decides', () => {
  const p = pkg('libcrypto3', '3.1.7-r0', 'openssl', dist('3.19.4'));
  assert.equal(matcher.filter(p), true);
  assert.deepEqual(matcher.query(p), { packageNames: ['openssl'], updaterPrefix: 'alpine', dist: { did: 'alpine', versionId: '3.19' } });
  assert.equal(matcher.filter({ ...p, distribution: dist('') }), false);
  assert.equal(matcher.filter({ ...p, package: { ...p.package, packageDb: 'var/lib/dpkg/status' } }), false);
  const fixedAt = (v: string) => newVulnerability({ updater: 'alpine', name: 'CVE-1', fixedInVersion: v });
  assert.equal(matcher.vulnerable(p, fixedAt('3.1.7-r1')), true);
  assert.equal(matcher.vulnerable(p, fixedAt('3.1.7-r0')), false);
  // Leading zeros: apk 2 (3.22) says 1.0 > 1.00, apk 3 (3.23) the reverse.
  const old = pkg('x', '1.0-r0', 'x', dist('3.22.0'));
  const now = pkg('x', '1.0-r0', 'x', dist('3.23.0'));
  assert.equal(matcher.vulnerable(old, fixedAt('1.00-r0')), false);
  assert.equal(matcher.vulnerable(now, fixedAt('1.00-r0')), true);
  // A fixed version apk 3 calls invalid is compared as apk 3 compares it (the "_p" suffix sorts before the letter
  // "p" there), not an error; apk 2 reads "5.1p1" as a valid version.
  assert.equal(matcher.vulnerable(pkg('openssh', '5.1_p1-r0', 'openssh', dist('3.23.1')), fixedAt('5.1p1-r0')), true);
  assert.equal(matcher.vulnerable(pkg('openssh', '5.1p2-r0', 'openssh', dist('3.22.1')), fixedAt('5.1p1-r0')), false);
});
