import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { emptyDistribution, type Distribution } from '../../model/distribution.ts';
import type { Package } from '../../model/package.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { distributionFromOsRelease } from '../os-release/os-release.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import { debianMatcher } from './matcher.ts';
import { debianCodename } from './releases.ts';
import { debianRecords } from './updater.ts';

const bookworm: Distribution = {
  ...emptyDistribution(),
  did: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', versionId: '12', versionCodeName: 'bookworm',
  prettyName: 'Debian GNU/Linux 12 (bookworm)',
};

function pkg(name: string, version: string, source?: [string, string], packageDb = 'var/lib/dpkg/status'): Package {
  return {
    name, version, kind: 'binary', arch: 'amd64', module: '', cpe: '', packageDb, repositoryHint: '',
    source: source ? { name: source[0], version: source[1] } : { name, version },
  };
}

/** `null`: the package has no distribution. */
function indexed(p: Package, distribution: Distribution | null = bookworm): IndexedPackage {
  return { id: '1', package: p, ...(distribution ? { distribution } : {}), repositories: [] };
}

function record(source: string, fixedInVersion: string, codename = 'bookworm'): Vulnerability {
  return newVulnerability({
    updater: 'debian', name: 'CVE-2024-0001', package: { name: source, kind: 'source', module: '', arch: '' },
    dist: { ...emptyDistribution(), did: 'debian', versionCodeName: codename }, fixedInVersion, versionScheme: 'dpkg',
  });
}

test('debianCodename: VERSION_CODENAME, then "(codename)" in VERSION, then VERSION_ID', () => {
  const cases: [Partial<Distribution>, string | undefined][] = [
    [{ versionCodeName: 'bookworm', versionId: '12' }, 'bookworm'],
    [{ versionCodeName: 'Trixie' }, 'trixie'],
    [{ version: '8 (jessie)', versionId: '8' }, 'jessie'],
    [{ version: '7 (wheezy)' }, 'wheezy'],
    [{ versionId: '7' }, 'wheezy'],
    [{ versionId: '11' }, 'bullseye'],
    [{ versionId: '13' }, 'trixie'],
    [{ versionId: '8.11' }, 'jessie'],
    [{ versionId: '6.0' }, 'squeeze'],
    [{ versionId: '3.1' }, 'sarge'],
    [{ versionId: '99' }, undefined],
    [{ versionId: '6.1' }, undefined],
    [{ version: 'trixie/sid' }, undefined],
    [{}, undefined],
  ];
  for (const [fields, want] of cases) {
    assert.equal(debianCodename({ ...emptyDistribution(), did: 'debian', ...fields }), want, JSON.stringify(fields));
  }
});

test('debianCodename reads real Debian 7–12 os-release files', (t) => {
  const dir = requireSharedData(t, 'fixtures', 'claircore', 'debian', 'testdata', 'dist');
  if (!dir) return;
  const want: Record<string, string> = { 7: 'wheezy', 8: 'jessie', 9: 'stretch', 10: 'buster', 11: 'bullseye', 12: 'bookworm' };
  for (const [n, codename] of Object.entries(want)) {
    const dist = distributionFromOsRelease(readFileSync(join(dir, n, 'etc', 'os-release'), 'utf8'));
    assert.ok(dist, n);
    assert.equal(debianCodename(dist), codename, `Debian ${n}`);
  }
});

test('filter: dpkg-installed packages of a Debian release', () => {
  const ubuntu = { ...bookworm, did: 'ubuntu', versionCodeName: 'jammy', versionId: '22.04' };
  const noRelease = { ...emptyDistribution(), did: 'debian', name: 'Debian GNU/Linux' };
  const cases: [string, IndexedPackage, boolean][] = [
    ['dpkg status', indexed(pkg('curl', '7.88.1-10+deb12u14')), true],
    ['distroless status.d', indexed(pkg('libc6', '2.36-9+deb12u7', ['glibc', '2.36-9+deb12u7'], 'var/lib/dpkg/status.d/libc6')), true],
    ['Debian 8 without VERSION_CODENAME', indexed(pkg('bash', '4.3-11+deb8u2'), { ...emptyDistribution(), did: 'debian', version: '8 (jessie)', versionId: '8' }), true],
    ['Ubuntu', indexed(pkg('curl', '7.81.0-1'), ubuntu), false],
    ['no distribution', indexed(pkg('curl', '7.88.1-10'), null), false],
    ['not from dpkg', indexed(pkg('requests', '2.31.0', undefined, 'python:usr/lib/python3/dist-packages/requests.dist-info')), false],
    ['Debian without any release information', indexed(pkg('curl', '7.88.1-10'), noRelease), false],
  ];
  for (const [name, p, want] of cases) assert.equal(debianMatcher.filter(p), want, name);
});

test('query: the source package in the image\'s release', () => {
  const cases: [IndexedPackage, VulnerabilityQuery][] = [
    [indexed(pkg('libssl3', '3.0.19-1~deb12u2', ['openssl', '3.0.19-1~deb12u2'])), { packageNames: ['openssl'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bookworm' } }],
    [indexed(pkg('curl', '7.88.1-10+deb12u14')), { packageNames: ['curl'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'bookworm' } }],
    [indexed(pkg('zlib1g', '1:1.2.8.dfsg-2+b1', ['zlib', '1:1.2.8.dfsg-2']), { ...emptyDistribution(), did: 'debian', versionId: '8' }), { packageNames: ['zlib'], updaterPrefix: 'debian', dist: { did: 'debian', versionCodeName: 'jessie' } }],
  ];
  for (const [p, want] of cases) assert.deepEqual(debianMatcher.query(p), want, p.package.name);
});

test('vulnerable: the installed source version against the first fixed version', () => {
  const cases: [string, Package, Vulnerability, boolean][] = [
    ['open issue, no fix yet', pkg('curl', '7.88.1-10+deb12u14'), record('curl', ''), true],
    ['before the fix', pkg('libc6', '2.36-9+deb12u2', ['glibc', '2.36-9+deb12u2']), record('glibc', '2.36-9+deb12u3'), true],
    ['at the fix', pkg('libc6', '2.36-9+deb12u3', ['glibc', '2.36-9+deb12u3']), record('glibc', '2.36-9+deb12u3'), false],
    ['after the fix (u14 > u3 numerically)', pkg('libc6', '2.36-9+deb12u14', ['glibc', '2.36-9+deb12u14']), record('glibc', '2.36-9+deb12u3'), false],
    ['tilde sorts before: ~deb12u1 < the upload it backports', pkg('openssl', '3.0.18-1~deb12u1'), record('openssl', '3.0.18-1~deb12u2'), true],
    ['fixed in unstable before the release branched', pkg('zlib1g', '1:1.2.13.dfsg-1', ['zlib', '1:1.2.13.dfsg-1']), record('zlib', '1:1.2.11.dfsg-4.1'), false],
    // Epoch: any epoch beats none, whatever the upstream part says.
    ['epoch in the fix only', pkg('zlib1g', '1.2.13.dfsg-1', ['zlib', '1.2.13.dfsg-1']), record('zlib', '1:1.2.11.dfsg-2+deb11u2'), true],
    // A binary whose version is not its source's: bookworm's cpp is 4:12.2.0-3, built from gcc-defaults 1.203.
    // Compared as a binary the epoch would hide the issue; the tracker's versions are source versions.
    ['source version differs from the binary (epoch)', pkg('cpp', '4:12.2.0-3', ['gcc-defaults', '1.203']), record('gcc-defaults', '1.210'), true],
    ['source version differs from the binary, fixed', pkg('cpp', '4:12.2.0-3', ['gcc-defaults', '1.203']), record('gcc-defaults', '1.190'), false],
    // binNMU: bookworm's bash binary is 5.2.15-2+b13 from source bash 5.2.15-2 (dpkg-deb -f bash_5.2.15-2+b13_amd64.deb).
    ['binNMU of an unfixed source', pkg('bash', '5.2.15-2+b13', ['bash', '5.2.15-2']), record('bash', '5.2.15-2+deb12u1'), true],
    ['binNMU of the fixed source', pkg('bash', '5.2.15-2+b13', ['bash', '5.2.15-2']), record('bash', '5.2.15-2'), false],
    ['binNMU: the rebuild suffix does not count as the fix', pkg('bash', '5.2.15-2+b13', ['bash', '5.2.15-2']), record('bash', '5.2.15-2+b2'), true],
    ['no source recorded: the package version is used', { ...pkg('tar', '1.34+dfsg-1.2+deb12u1'), source: undefined } as unknown as Package, record('tar', '1.34+dfsg-1.2+deb12u1'), false],
  ];
  for (const [name, p, v, want] of cases) assert.equal(debianMatcher.vulnerable(indexed(p), v), want, name);
});

test('updater and matcher together: a bookworm image against the excerpt', async () => {
  const records: Vulnerability[] = [];
  const feed = Readable.from([readFileSync(join(import.meta.dirname, 'testdata', 'tracker-excerpt.json'))]);
  for await (const v of debianRecords(feed, 'tracker-excerpt.json')) records.push(v);
  // What the store does for a query: package name, updater prefix and the release must match.
  const lookup = (q: VulnerabilityQuery) =>
    records.filter((v) => q.packageNames.includes(v.package.name) && v.updater.startsWith(q.updaterPrefix ?? '') &&
      v.dist.did === q.dist?.did && v.dist.versionCodeName === q.dist?.versionCodeName);
  const image = [
    // Versions this bookworm host has installed (apt-cache policy, 2026-11-22), plus an old libc6 and libexpat1.
    pkg('curl', '7.88.1-10+deb12u14'),
    pkg('libc6', '2.36-9+deb12u1', ['glibc', '2.36-9+deb12u1']),
    pkg('libssl3', '3.0.19-1~deb12u2', ['openssl', '3.0.19-1~deb12u2']),
    pkg('zlib1g', '1:1.2.13.dfsg-1', ['zlib', '1:1.2.13.dfsg-1']),
    pkg('libexpat1', '2.5.0-1', ['expat', '2.5.0-1']),
    pkg('libxml2', '2.9.14+dfsg-1.3~deb12u5'),
    pkg('tar', '1.34+dfsg-1.2+deb12u1'),
    pkg('bash', '5.2.15-2+b8', ['bash', '5.2.15-2']),
  ];
  const found: string[] = [];
  for (const p of image) {
    const ip = indexed(p);
    assert.ok(debianMatcher.filter(ip), p.name);
    for (const v of lookup(debianMatcher.query(ip))) if (debianMatcher.vulnerable(ip, v)) found.push(`${p.name} ${v.name}`);
  }
  assert.deepEqual(found.sort(), [
    'curl CVE-2025-0725', // open in bookworm (unimportant)
    'libc6 CVE-2023-4911', // fixed in 2.36-9+deb12u3
    'libexpat1 CVE-2023-52425', // fixed in 2.5.0-1+deb12u2
    'libssl3 CVE-2025-27587', // open in bookworm (unimportant)
  ]);
});

test('records of another release never reach the decision', () => {
  const q = debianMatcher.query(indexed(pkg('curl', '7.74.0-1.3+deb11u1'), { ...bookworm, versionCodeName: 'bullseye', versionId: '11' }));
  assert.equal(q.dist?.versionCodeName, 'bullseye');
  assert.notEqual(record('curl', '').dist.versionCodeName, q.dist?.versionCodeName);
});
