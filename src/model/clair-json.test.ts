import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GO_ZERO_TIME, packageJson, vulnerabilityJson, vulnerabilitySummaryJson } from './clair-json.ts';
import { newVulnerability } from './vulnerability.ts';

// The wire shapes key by key, as Clair's server writes them (claircore v1.5 types; notifier.VulnSummary).

test('a package: every key, lower-case kind, source only when known', () => {
  const base = { name: 'libssl3', version: '3.0.11-1~deb12u1', kind: 'binary' as const, arch: 'amd64', module: '', cpe: '', packageDb: 'var/lib/dpkg/status', repositoryHint: '' };
  assert.deepEqual(packageJson('7', base), {
    id: '7', name: 'libssl3', version: '3.0.11-1~deb12u1', kind: 'binary', normalized_version: '', module: '', arch: 'amd64', cpe: '', detector: null,
  });
  const withSource = packageJson('7', { ...base, source: { name: 'openssl', version: '3.0.11-1~deb12u1' } });
  assert.deepEqual(withSource.source, {
    id: '7-src', name: 'openssl', version: '3.0.11-1~deb12u1', kind: 'source', normalized_version: '', module: '', arch: '', cpe: '', detector: null,
  });
});

test('a vulnerability: Go zero time for no date, no range, package/distribution/repository always, arch_op', () => {
  const v = newVulnerability({
    updater: 'debian/bookworm', name: 'CVE-2023-5678', severity: 'low', normalizedSeverity: 'Medium', links: 'https://a https://b',
    package: { name: 'openssl', kind: 'source', module: '', arch: '' }, fixedInVersion: '3.0.13-1~deb12u1',
    dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: 'Debian GNU/Linux', version: '12 (bookworm)', prettyName: '', arch: '' },
    range: { introduced: '3.0.0', lastAffected: '' },
  });
  const j = vulnerabilityJson('42', v);
  assert.deepEqual(Object.keys(j), ['id', 'updater', 'name', 'description', 'issued', 'links', 'severity', 'normalized_severity', 'package', 'distribution', 'repository', 'fixed_in_version', 'arch_op']);
  assert.equal(j.issued, GO_ZERO_TIME);
  assert.equal(j.arch_op, 'pattern match');
  assert.deepEqual(j.package, { id: '', name: 'openssl', version: '', kind: 'source', normalized_version: '', module: '', arch: '', cpe: '', detector: null });
  assert.deepEqual(j.repository, { id: '', name: '', key: '', uri: '', cpe: '' });
  assert.equal((j.distribution as { version_code_name: string }).version_code_name, 'bookworm');
  assert.equal(vulnerabilityJson('1', { ...v, issued: '2023-10-24T00:00:00Z', package: { ...v.package, arch: 'x86_64' } }).issued, '2023-10-24T00:00:00Z');
  assert.equal(vulnerabilityJson('1', { ...v, package: { ...v.package, arch: 'x86_64' } }).arch_op, 'equals');
});

test("a notification's vulnerability: Clair's VulnSummary keys (severity is the normalized one) plus the spec's", () => {
  const v = newVulnerability({ updater: 'u', name: 'CVE-1', description: 'd', severity: 'low', normalizedSeverity: 'High', links: 'l', package: { name: 'curl', kind: 'source', module: '', arch: '' } });
  const s = vulnerabilitySummaryJson(v);
  assert.deepEqual(Object.keys(s).sort(), ['arch_op', 'description', 'distribution', 'fixed_in_version', 'links', 'name', 'normalized_severity', 'package', 'repo', 'repository', 'severity']);
  assert.deepEqual([s.severity, s.normalized_severity, (s.package as { id: string }).id], ['High', 'High', '']);
});
