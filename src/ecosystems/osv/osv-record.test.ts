import { test } from 'node:test';
import assert from 'node:assert/strict';
import semver from 'semver';
import { BadRecordError, convertOsvRecord, intervalsOfEvents } from './osv-record.ts';

// The OSV schema's range semantics (https://ossf.github.io/osv-schema/#affectedranges-field), case by case.

test('OSV events → intervals: introduced/fixed pairs, last_affected, limit, reopened ranges', () => {
  assert.deepEqual(intervalsOfEvents([{ introduced: '0' }, { fixed: '1.2.3' }]), [{ introduced: '', fixed: '1.2.3', lastAffected: '' }]);
  assert.deepEqual(intervalsOfEvents([{ introduced: '1.0' }]), [{ introduced: '1.0', fixed: '', lastAffected: '' }]);
  assert.deepEqual(intervalsOfEvents([{ introduced: '1.0' }, { last_affected: '1.4' }]), [{ introduced: '1.0', fixed: '', lastAffected: '1.4' }]);
  // Go vulndb's GO-2024-2916: three introduced/fixed pairs in one range.
  assert.deepEqual(
    intervalsOfEvents([{ introduced: '0' }, { fixed: '2.8.6+incompatible' }, { introduced: '2.9.0+incompatible' }, { fixed: '2.9.4+incompatible' }]),
    [{ introduced: '', fixed: '2.8.6+incompatible', lastAffected: '' }, { introduced: '2.9.0+incompatible', fixed: '2.9.4+incompatible', lastAffected: '' }],
  );
  // limit caps the range's open end; "*" is no limit.
  assert.deepEqual(intervalsOfEvents([{ introduced: '1.0' }, { limit: '2.0' }]), [{ introduced: '1.0', fixed: '2.0', lastAffected: '' }]);
  assert.deepEqual(intervalsOfEvents([{ introduced: '1.0' }, { limit: '*' }]), [{ introduced: '1.0', fixed: '', lastAffected: '' }]);
  // A second introduced inside an open interval adds nothing.
  assert.deepEqual(intervalsOfEvents([{ introduced: '1.0' }, { introduced: '1.5' }, { fixed: '2.0' }]), [{ introduced: '1.0', fixed: '2.0', lastAffected: '' }]);
  assert.throws(() => intervalsOfEvents([{ introduced: '1', fixed: '2' }]), BadRecordError);
  assert.throws(() => intervalsOfEvents([{ fixed: 3 }]), BadRecordError);
});

test('OSV events with the ecosystem order: the schema sort-then-walk evaluation', () => {
  const cmp = (a: string, b: string) => semver.compare(a, b);
  // GitHub's derby advisory lists introduced 4.0.0-beta1, fixed 4.0.0-beta.11; semver orders beta.11 first, so the
  // schema's walk leaves 4.0.0-beta1 and everything above affected.
  assert.deepEqual(intervalsOfEvents([{ introduced: '4.0.0-beta1' }, { fixed: '4.0.0-beta.11' }], cmp), [{ introduced: '4.0.0-beta1', fixed: '', lastAffected: '' }]);
  // Listed out of order: sorted first.
  assert.deepEqual(intervalsOfEvents([{ introduced: '2.0.0' }, { fixed: '2.1.0' }, { introduced: '0' }, { fixed: '1.0.0' }], cmp), [
    { introduced: '', fixed: '1.0.0', lastAffected: '' }, { introduced: '2.0.0', fixed: '2.1.0', lastAffected: '' },
  ]);
  // A fix while not affected changes nothing; at one version introduced sorts before fixed: an empty interval, dropped.
  assert.deepEqual(intervalsOfEvents([{ fixed: '0.5.0' }, { introduced: '1.0.0' }, { fixed: '1.0.0' }, { introduced: '2.0.0' }], cmp), [
    { introduced: '2.0.0', fixed: '', lastAffected: '' },
  ]);
  // Limits: affected only below the highest.
  assert.deepEqual(intervalsOfEvents([{ introduced: '0' }, { limit: '1.5.0' }, { limit: '2.0.0' }], cmp), [{ introduced: '', fixed: '2.0.0', lastAffected: '' }]);
  assert.deepEqual(intervalsOfEvents([{ introduced: '3.0.0' }, { limit: '2.0.0' }], cmp), []);
  assert.deepEqual(intervalsOfEvents([{ introduced: '1.0.0' }, { last_affected: '3.0.0' }, { limit: '2.0.0' }], cmp), [{ introduced: '1.0.0', fixed: '2.0.0', lastAffected: '' }]);
});

const base = {
  id: 'GHSA-aaaa-bbbb-cccc',
  aliases: ['CVE-2024-0001', 'PYSEC-2024-1'],
  summary: 'Thing breaks',
  published: '2024-01-02T03:04:05Z',
  database_specific: { severity: 'HIGH' },
  references: [{ type: 'WEB', url: 'https://example.org/a' }],
};

test('OSV record → records: one per package and interval, names normalised, severity, aliases, versions lists', () => {
  const c = convertOsvRecord(
    {
      ...base,
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [
        { package: { ecosystem: 'PyPI', name: 'Foo_Bar.baz' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0' }, { introduced: '2.0' }, { fixed: '2.1' }] }, { type: 'GIT', repo: 'x', events: [{ introduced: 'abc' }] }] },
        { package: { ecosystem: 'npm', name: '@scope/pkg' }, versions: ['1.0.0', '1.0.1'], severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N' }] },
        { package: { ecosystem: 'Debian:12', name: 'foo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] },
        { package: { ecosystem: 'crates.io', name: 'only-git' }, ranges: [{ type: 'GIT', repo: 'x', events: [{ introduced: 'abc' }] }] },
      ],
    },
    { updater: 'osv' },
  );
  assert.equal(c.skippedAffected, 1);
  assert.equal(c.records.length, 3);
  const [a, b, n] = c.records as [any, any, any];
  assert.deepEqual([a.package.name, a.repo.name, a.versionScheme, a.range.introduced, a.fixedInVersion], ['foo-bar-baz', 'pypi', 'pypi', '', '1.0']);
  assert.deepEqual([b.range.introduced, b.fixedInVersion], ['2.0', '2.1']);
  assert.equal(a.normalizedSeverity, 'Critical');
  assert.deepEqual(a.aliases, ['CVE-2024-0001', 'PYSEC-2024-1']);
  assert.equal(a.issued, '2024-01-02T03:04:05Z');
  assert.match(a.links, /^https:\/\/github\.com\/advisories\/GHSA-aaaa-bbbb-cccc https:\/\/example\.org\/a$/);
  // The npm entry has its own severity (3.1) and a version list instead of a range.
  assert.deepEqual([n.package.name, n.repo.uri, n.affectedVersions, n.normalizedSeverity], ['@scope/pkg', 'https://registry.npmjs.org/', ['1.0.0', '1.0.1'], 'Low']);
});

test('OSV record: withdrawn dropped, GitHub severity word as fallback, ecosystem filter, bad records named', () => {
  const affected = [{ package: { ecosystem: 'PyPI', name: 'x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }];
  assert.deepEqual(convertOsvRecord({ ...base, withdrawn: '2024-02-01T00:00:00Z', affected }, { updater: 'osv' }), { records: [], withdrawn: true, skippedAffected: 0 });
  const r = convertOsvRecord({ ...base, affected }, { updater: 'osv' }).records[0]!;
  assert.deepEqual([r.severity, r.normalizedSeverity, r.fixedInVersion], ['HIGH', 'High', '']);
  assert.equal(convertOsvRecord({ ...base, affected }, { updater: 'osv/npm', ecosystems: new Set(['npm']) }).records.length, 0);
  assert.throws(() => convertOsvRecord({ affected }, { updater: 'osv' }), /no "id"/);
  assert.throws(() => convertOsvRecord({ id: 'X-1' }, { updater: 'osv' }), /no "affected"/);
  assert.throws(() => convertOsvRecord([], { updater: 'osv' }), BadRecordError);
});
