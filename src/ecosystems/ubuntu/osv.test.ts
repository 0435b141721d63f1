import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { fixedVersionOf, parseUbuntuEcosystem, ubuntuOsvRecords } from './osv.ts';
import { normalizeUbuntuPriority } from './severity.ts';

const key = (v: Vulnerability) => `${v.dist.versionId} ${v.package.name} ${v.fixedInVersion || '-'} [${v.range.introduced},${v.range.lastAffected}] ${v.repo.name}`;

test('ubuntu ecosystems: release, LTS, Pro and named Pro variants', () => {
  assert.deepEqual(parseUbuntuEcosystem('Ubuntu:22.04:LTS'), { versionId: '22.04', lts: true, pro: false, variant: '' });
  assert.deepEqual(parseUbuntuEcosystem('Ubuntu:25.10'), { versionId: '25.10', lts: false, pro: false, variant: '' });
  assert.deepEqual(parseUbuntuEcosystem('Ubuntu:Pro:16.04:LTS'), { versionId: '16.04', lts: true, pro: true, variant: '' });
  assert.deepEqual(parseUbuntuEcosystem('Ubuntu:Pro:FIPS-updates:20.04:LTS'), { versionId: '20.04', lts: true, pro: true, variant: 'FIPS-updates' });
  assert.equal(parseUbuntuEcosystem('Debian:12'), undefined);
  assert.equal(parseUbuntuEcosystem('Ubuntu:22.04:LTS:extra'), undefined);
});

test('ubuntu priorities → normalized severities', () => {
  assert.deepEqual(['negligible', 'low', 'medium', 'high', 'critical', 'untriaged', ''].map(normalizeUbuntuPriority), [
    'Negligible', 'Low', 'Medium', 'High', 'Critical', 'Unknown', 'Unknown',
  ]);
});

test('ubuntu OSV: a real CVE record with plain and Pro-only fixes', (t) => {
  const path = requireSharedData(t, 'feeds/ubuntu/vunnel/osv/cve/2021/UBUNTU-CVE-2021-3782.json');
  if (!path) return;
  const got = ubuntuOsvRecords(JSON.parse(readFileSync(path, 'utf8')), path);
  assert.deepEqual(got.map(key), [
    '16.04 wayland 1.12.0-1~ubuntu16.04.3+esm1 (Ubuntu Pro) [,] Ubuntu Pro (esm-infra)',
    '18.04 wayland 1.16.0-1ubuntu1.1~18.04.4 [,] ',
    '20.04 wayland 1.18.0-1ubuntu0.1 [,] ',
    '22.04 wayland 1.20.0-1ubuntu0.1 [,] ',
  ]);
  const v = got[1]!;
  assert.deepEqual([v.name, v.severity, v.normalizedSeverity, v.dist.versionCodeName, v.dist.prettyName, v.package.kind, v.updater], [
    'CVE-2021-3782', 'medium', 'Medium', 'bionic', 'Ubuntu 18.04 LTS', 'source', 'ubuntu',
  ]);
  assert.equal(v.links, 'https://ubuntu.com/security/CVE-2021-3782 https://ubuntu.com/security/notices/USN-5614-1 https://ubuntu.com/security/notices/USN-5614-2');
  assert.equal(fixedVersionOf(got[0]!.fixedInVersion), '1.12.0-1~ubuntu16.04.3+esm1');
});

test('ubuntu OSV: withdrawn records affect no one; unfixed entries affect every version', (t) => {
  const withdrawn = requireSharedData(t, 'feeds/ubuntu/vunnel/osv-esm-cases/cve/2014/UBUNTU-CVE-2014-2901.json');
  const netty = requireSharedData(t, 'feeds/ubuntu/vunnel/osv-esm-cases/cve/2022/UBUNTU-CVE-2022-24823.json');
  if (!withdrawn || !netty) return;
  assert.deepEqual(ubuntuOsvRecords(JSON.parse(readFileSync(withdrawn, 'utf8')), withdrawn), []);
  const got = ubuntuOsvRecords(JSON.parse(readFileSync(netty, 'utf8')), netty).map(key);
  assert.ok(got.includes('14.04 netty - [,] Ubuntu Pro (esm-infra-legacy)'), got.join('\n'));
  assert.ok(got.includes('18.04 netty 1:4.1.7-4ubuntu0.1+esm3 (Ubuntu Pro) [,] Ubuntu Pro (esm-apps)'), got.join('\n'));
  assert.ok(got.includes('25.10 netty - [,] '));
});

test('ubuntu OSV: versions outside every range are affected exactly; one of a plain and a Pro entry speaks (the plain fix, else the Pro fix); variants skipped', () => {
  const doc = {
    id: 'UBUNTU-CVE-2099-1', upstream: ['CVE-2099-1'], severity: [{ type: 'Ubuntu', score: 'high' }],
    affected: [
      { package: { ecosystem: 'Ubuntu:22.04:LTS', name: 'foo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0-1' }, { fixed: '1.2-1' }] }], versions: ['1.0-1', '1.1-1', '0.9-3'] },
      { package: { ecosystem: 'Ubuntu:Pro:22.04:LTS', name: 'foo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1+esm1' }] }] },
      { package: { ecosystem: 'Ubuntu:Pro:FIPS:22.04:LTS', name: 'foo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1fips1' }] }] },
      { package: { ecosystem: 'Ubuntu:24.04:LTS', name: 'foo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '2.0-1' }] }] },
      { package: { ecosystem: 'Ubuntu:24.10', name: 'foo' }, versions: ['2.1-1'] },
      // No fix in the release's archive, one in Pro: the Pro fix is the one to report.
      { package: { ecosystem: 'Ubuntu:20.04:LTS', name: 'foo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] },
      { package: { ecosystem: 'Ubuntu:Pro:20.04:LTS', name: 'foo', purl: 'pkg:deb/ubuntu/foo@0.9-1+esm1?arch=source&distro=esm-apps/focal' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0.9-1+esm1' }] }] },
    ],
  } as never;
  assert.deepEqual(ubuntuOsvRecords(doc, 'doc').map(key), [
    '22.04 foo 1.2-1 [1.0-1,] ',
    '22.04 foo - [0.9-3,0.9-3] ',
    '24.04 foo - [,2.0-1] ',
    '24.10 foo - [2.1-1,2.1-1] ',
    '20.04 foo 0.9-1+esm1 (Ubuntu Pro) [,] Ubuntu Pro (esm-apps)',
  ]);
});

test('ubuntu OSV: malformed records are bad-feed errors naming the record', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ affected: [] }, /not an OSV record/],
    [{ id: 'UBUNTU-CVE-1', affected: {} }, /"affected" is missing/],
    [{ id: 'UBUNTU-CVE-1', affected: [{ package: { ecosystem: 'Ubuntu:22.04:LTS', name: 'x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: 'not a version!' }] }] }] }, /affected\[0\] \(x, Ubuntu:22.04:LTS\): "not a version!" is not a dpkg version/],
    [{ id: 'UBUNTU-CVE-1', affected: [{ package: { ecosystem: 'Ubuntu:22.04:LTS', name: 'x' }, ranges: 'no' }] }, /"ranges" is not a list/],
  ];
  for (const [doc, message] of cases) {
    assert.throws(() => ubuntuOsvRecords(doc as never, 'f.json'), (e: unknown) => isClairError(e) && e.code === 'bad-feed' && message.test(e.message), message.source);
  }
});
