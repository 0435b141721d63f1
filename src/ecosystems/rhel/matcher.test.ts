import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyDistribution } from '../../model/distribution.ts';
import { newVulnerability } from '../../model/vulnerability.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import { cpeMatches, cpeMatchesRelease, parseCpe } from './cpe.ts';
import { rhelMatcher } from './matcher.ts';

const repo = (cpe: string) => ({ name: cpe, key: 'rhel-cpe-repository', uri: '', cpe });
function pkg(over: Partial<IndexedPackage['package']> = {}, repos: string[] = ['cpe:/a:redhat:enterprise_linux:8::appstream', 'cpe:/o:redhat:enterprise_linux:8::baseos'], distCpe = 'cpe:/o:redhat:enterprise_linux:8::baseos'): IndexedPackage {
  return {
    id: '1',
    package: { name: 'perl-FCGI', version: '1:0.78-11.module+el8.6.0+23193+83e23a7a.1', kind: 'binary', arch: 'x86_64', module: 'perl-FCGI:0.78', cpe: '', packageDb: 'var/lib/rpm/rpmdb.sqlite', repositoryHint: '', source: { name: 'perl-FCGI', version: '0.78-11' }, ...over },
    distribution: { ...emptyDistribution(), did: 'rhel', versionId: '8.10', cpe: distCpe },
    repositories: repos.map(repo),
  };
}
const fixedRecord = newVulnerability({
  updater: 'rhel-vex', name: 'CVE-2025-40907',
  package: { name: 'perl-FCGI', kind: 'binary', module: 'perl-FCGI:0.78', arch: 'aarch64|ppc64le|s390x|src|x86_64' },
  repo: repo('cpe:/a:redhat:enterprise_linux:8::appstream'), fixedInVersion: '1:0.78-12.module+el8.10.0+23147+95b68fad', versionScheme: 'rpm',
});
const affectedRecord = newVulnerability({
  updater: 'rhel-vex', name: 'CVE-2026-2673', package: { name: 'openssl', kind: 'source', module: '', arch: '' }, repo: repo('cpe:/o:redhat:enterprise_linux:8'), versionScheme: 'rpm',
});

test('rhel matcher: version, module, arch, name and repository CPE decide', () => {
  const cases: [string, IndexedPackage, typeof fixedRecord, boolean][] = [
    ['older EVR in the same module and stream', pkg(), fixedRecord, true],
    ['the fixed EVR itself', pkg({ version: '1:0.78-12.module+el8.10.0+23147+95b68fad' }), fixedRecord, false],
    ['newer', pkg({ version: '1:0.79-1.module+el8.10.0' }), fixedRecord, false],
    ['no epoch on the package sorts as epoch 0', pkg({ version: '0.99-1' }), fixedRecord, true],
    ['another module stream', pkg({ module: 'perl-FCGI:0.80' }), fixedRecord, false],
    ['not modular', pkg({ module: '' }), fixedRecord, false],
    ['an arch the record does not list', pkg({ arch: 'i686' }), fixedRecord, false],
    ['image repositories of another product stream', pkg({}, ['cpe:/a:redhat:rhel_eus:8.6::appstream']), fixedRecord, false],
    ['RHEL 9 image', pkg({}, ['cpe:/a:redhat:enterprise_linux:9::appstream']), fixedRecord, false],
    ['no repositories: the release CPE decides (same product, major 8)', pkg({}, []), fixedRecord, true],
    ['no repositories, RHEL 9 release', pkg({}, [], 'cpe:/o:redhat:enterprise_linux:9::baseos'), fixedRecord, false],
    ['known_affected source name, product-wide CPE covers BaseOS', pkg({ name: 'openssl-libs', module: '', source: { name: 'openssl', version: '1' }, version: '1:1.1.1k-12.el8' }), affectedRecord, true],
    ['known_affected, other name', pkg({ name: 'curl', module: '', source: { name: 'curl', version: '1' } }), affectedRecord, false],
    ['fixed records match the binary name only', pkg({ name: 'perl-FCGI-doc', source: { name: 'perl-FCGI', version: '1' } }), fixedRecord, false],
  ];
  for (const [name, p, v, want] of cases) assert.equal(rhelMatcher.vulnerable(p, v), want, name);
});

test('rhel matcher: filter keeps rpms of Red Hat images only; query asks by binary and source name', () => {
  assert.ok(rhelMatcher.filter(pkg()));
  assert.ok(!rhelMatcher.filter(pkg({ packageDb: 'var/lib/dpkg/status' })));
  const rocky = { ...pkg({}, []), distribution: { ...emptyDistribution(), did: 'rocky', versionId: '8.9', cpe: 'cpe:/o:rocky:rocky:8:GA' } };
  assert.ok(!rhelMatcher.filter(rocky), 'Rocky rebuilds are not matched against Red Hat VEX');
  const noCpe = { ...pkg({}, []), distribution: { ...emptyDistribution(), did: 'rhel', versionId: '6.10' } };
  assert.ok(rhelMatcher.filter(noCpe), 'a RHEL release file without a CPE still counts');
  assert.deepEqual(rhelMatcher.query(pkg({ name: 'openssl-libs', source: { name: 'openssl', version: '1' } })), { packageNames: ['openssl-libs', 'openssl'], updaterPrefix: 'rhel-vex' });
});

test('cpe: bindings and matching', () => {
  const c = (s: string) => parseCpe(s)!;
  assert.deepEqual(c('cpe:/a:redhat:enterprise_linux:8::appstream'), { part: 'a', vendor: 'redhat', product: 'enterprise_linux', version: '8', update: '', edition: 'appstream', language: '' });
  assert.deepEqual(c('cpe:2.3:o:redhat:enterprise_linux:9:*:*:*:*:*:*:*').version, '9');
  assert.equal(parseCpe('redhat'), undefined);
  assert.ok(cpeMatches(c('cpe:/a:redhat:openshift:4.1*'), c('cpe:/a:redhat:openshift:4.12')));
  assert.ok(!cpeMatches(c('cpe:/a:redhat:openshift:4.1*'), c('cpe:/a:redhat:openshift:4.2')));
  assert.ok(!cpeMatches(c('cpe:/o:redhat:enterprise_linux:8::baseos'), c('cpe:/a:redhat:enterprise_linux:8::appstream')));
  assert.ok(cpeMatches(c('cpe:/o:redhat:enterprise_linux:8'), c('cpe:/a:redhat:enterprise_linux:8::appstream')));
  assert.ok(cpeMatchesRelease(c('cpe:/a:redhat:enterprise_linux:8::appstream'), c('cpe:/o:redhat:enterprise_linux:8.1:GA')));
  assert.ok(!cpeMatchesRelease(c('cpe:/a:redhat:rhel_eus:8.6::appstream'), c('cpe:/o:redhat:enterprise_linux:8.1:GA')));
});
