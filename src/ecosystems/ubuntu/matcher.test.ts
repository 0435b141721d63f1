import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { emptyDistribution, type Distribution } from '../../model/distribution.ts';
import { newVulnerability } from '../../model/vulnerability.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { distributionFromOsRelease } from '../os-release/os-release.ts';
import { lsbReleaseScanner } from './lsb-release-scanner.ts';
import { ubuntuMatcher } from './matcher.ts';
import { ubuntuRelease } from './releases.ts';

test('ubuntu detection: every real os-release and lsb-release from 10.04 to 23.10 names its release, codename and LTS', async (t) => {
  const root = requireSharedData(t, 'fixtures/claircore/ubuntu/testdata/dist');
  if (!root) return;
  let checked = 0;
  for (const version of readdirSync(root)) {
    const etc = join(root, version, 'etc');
    const lts = /^(\d*[02468])\.04$/.test(version);
    for (const file of ['os-release', 'lsb-release']) {
      if (!existsSync(join(etc, file))) continue;
      const text = readFileSync(join(etc, file));
      const d = file === 'os-release'
        ? distributionFromOsRelease(text.toString('utf8'))
        : (await lsbReleaseScanner.scan([{ path: 'etc/lsb-release', data: text, mode: 0o644 }])).distributions?.[0]?.distribution;
      if (!d || d.did !== 'ubuntu') continue; // 10.04/11's os-release predates ID=ubuntu
      const r = ubuntuRelease(d);
      assert.equal(r?.versionId, version, `${version} ${file}`);
      assert.equal(r?.lts, lts, `${version} ${file} LTS`);
      assert.ok(r?.codename, `${version} ${file} codename`);
      checked++;
    }
  }
  assert.ok(checked >= 40, `only ${checked} files checked`);
});

const dist = (versionId: string): Distribution => ({ ...emptyDistribution(), did: 'ubuntu', versionId });
const pkg = (name: string, version: string, src: string, srcVersion: string, d: Distribution): IndexedPackage => ({
  id: '1',
  package: { name, version, kind: 'binary', source: { name: src, version: srcVersion }, arch: 'amd64', module: '', cpe: '', packageDb: 'var/lib/dpkg/status', repositoryHint: '' },
  distribution: d,
  repositories: [],
});

test('ubuntu matcher: source package and release; fixes, Pro-only fixes, ranges and exact versions', () => {
  const p = pkg('libwayland-client0', '1.16.0-1ubuntu1.1~18.04.3', 'wayland', '1.16.0-1ubuntu1.1~18.04.3', dist('18.04'));
  assert.equal(ubuntuMatcher.filter(p), true);
  assert.deepEqual(ubuntuMatcher.query(p), { packageNames: ['wayland'], updaterPrefix: 'ubuntu', dist: { did: 'ubuntu', versionId: '18.04' } });
  assert.equal(ubuntuMatcher.filter({ ...p, distribution: { ...emptyDistribution(), did: 'ubuntu' } }), false);
  const v = (fixedInVersion: string, introduced = '', lastAffected = '') => newVulnerability({ updater: 'ubuntu', name: 'CVE-1', fixedInVersion, range: { introduced, lastAffected } });
  assert.equal(ubuntuMatcher.vulnerable(p, v('1.16.0-1ubuntu1.1~18.04.4')), true);
  assert.equal(ubuntuMatcher.vulnerable(p, v('1.16.0-1ubuntu1.1~18.04.3')), false);
  assert.equal(ubuntuMatcher.vulnerable(p, v('')), true);
  // A Pro-only fix: a plain package is affected, the Pro build at or past the fix is not.
  assert.equal(ubuntuMatcher.vulnerable(p, v('1.16.0-1ubuntu1.1~18.04.3+esm1 (Ubuntu Pro)')), true);
  const pro = pkg('libwayland-client0', '1.16.0-1ubuntu1.1~18.04.3+esm1', 'wayland', '1.16.0-1ubuntu1.1~18.04.3+esm1', dist('18.04'));
  assert.equal(ubuntuMatcher.vulnerable(pro, v('1.16.0-1ubuntu1.1~18.04.3+esm1 (Ubuntu Pro)')), false);
  // [introduced, fixed), [introduced, last_affected], exact [v, v].
  assert.equal(ubuntuMatcher.vulnerable(p, v('1.17-1', '1.16.1-1')), false);
  assert.equal(ubuntuMatcher.vulnerable(p, v('', '', '1.16.0-1ubuntu1.1~18.04.3')), true);
  assert.equal(ubuntuMatcher.vulnerable(p, v('', '1.16.0-1ubuntu1.1~18.04.2', '1.16.0-1ubuntu1.1~18.04.2')), false);
  assert.equal(ubuntuMatcher.vulnerable(p, v('', '1.16.0-1ubuntu1.1~18.04.3', '1.16.0-1ubuntu1.1~18.04.3')), true);
});
