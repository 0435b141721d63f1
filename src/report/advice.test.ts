import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adviceLine, packageAdvice } from './advice.ts';
import { newVulnerability } from '../model/vulnerability.ts';
import type { NormalizedSeverity } from '../model/severity.ts';
import type { Finding } from '../matcher/vulnerability-report.ts';

const finding = (name: string, fixed: string, severity: NormalizedSeverity, scheme = 'dpkg', pkg = 'openssl', installed = '3.0.11-1~deb12u2'): Finding => ({
  packageId: pkg, packageName: pkg, installed, introducedIn: 'sha256:aa', ecosystem: 'debian', risk: {}, foundIn: '',
  vulnerability: { ...newVulnerability({ updater: 'debian', name, fixedInVersion: fixed, normalizedSeverity: severity, versionScheme: scheme }), id: name },
});

test('advice: the smallest version fixing every finding, by the ecosystem order, not string order', () => {
  // Real OpenSSL bookworm security updates; as strings "3.0.9…" > "3.0.15…", by dpkg 3.0.15 is the newer.
  const fs = [
    finding('CVE-2023-5678', '3.0.13-1~deb12u1', 'Medium'), finding('CVE-2024-0727', '3.0.13-1~deb12u1', 'Low'),
    finding('CVE-2024-5535', '3.0.14-1~deb12u1', 'Low'), finding('CVE-2024-6119', '3.0.14-1~deb12u2', 'High'),
    finding('CVE-2023-3817', '3.0.9-1', 'Low'), finding('CVE-2024-9143', '3.0.15-1~deb12u1', 'High'), finding('CVE-2024-2511', '3.0.13-1~deb12u2', 'Medium'),
  ];
  const [a] = packageAdvice(fs);
  assert.equal(adviceLine(a!), 'upgrade openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1: fixes 7, 2 High');
  const withOpen = packageAdvice([...fs, finding('CVE-2025-27587', '', 'Negligible')]);
  assert.equal(adviceLine(withOpen[0]!), 'upgrade openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1: fixes 7, 2 High; 1 without a fix yet');
  const py = packageAdvice([finding('GHSA-1', '2.0.0', 'High', 'pypi', 'jinja2', '1.0'), finding('GHSA-2', '10.0.0rc1', 'Critical', 'pypi', 'jinja2', '1.0')]);
  assert.equal(adviceLine(py[0]!), 'upgrade jinja2 1.0 → 10.0.0rc1: fixes 2, 1 Critical, 1 High');
  assert.equal(adviceLine(packageAdvice([finding('CVE-1', '', 'Low', 'dpkg', 'curl', '7.88')])[0]!), 'curl 7.88: no fixed version yet for its 1 finding(s)');
});
