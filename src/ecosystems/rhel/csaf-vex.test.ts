import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { parseVexDocument } from './csaf-vex.ts';
import { normalizeRedHatImpact } from './severity.ts';
import { parsePurl } from './purl.ts';

const VEX = ['feeds', 'redhat', 'vex'];
function readDoc(path: string): unknown {
  const b = readFileSync(path);
  return JSON.parse((path.endsWith('.gz') ? gunzipSync(b) : b).toString('utf8'));
}

test('claircore acceptance CSV: the perl-FCGI product the ubi8/perl-526 image is affected by becomes a fixed record', (t) => {
  const dir = requireSharedData(t, ...VEX, 'claircore-acceptance');
  if (!dir) return;
  // "CVE-2025-40907,AppStream-8.10.0.Z.MAIN.EUS:perl-FCGI-1:0.78-12.module+el8.10.0+23147+95b68fad.aarch64::perl-FCGI:0.78,affected"
  const rows = readFileSync(`${dir}/cve-2025-40907.csv`, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(','));
  const { name, records } = parseVexDocument(readDoc(`${dir}/cve-2025-40907-perl.json.gz`), 'perl');
  assert.equal(name, 'CVE-2025-40907');
  for (const [cve, product, status] of rows) {
    assert.equal(cve, name);
    assert.equal(status, 'affected');
    const m = /^[^:]+:(.+)-(\d+):([^-]+-.+)\.(\w+)::(.+)$/.exec(product!)!;
    const [, pkg, epoch, vr, arch, module] = m;
    const rec = records.find((r) => r.package.name === pkg && r.fixedInVersion === `${epoch}:${vr}` && r.package.module === module);
    assert.ok(rec, `a record for ${product}`);
    assert.ok(rec.package.arch.split('|').includes(arch!));
    assert.equal(rec.repo.cpe, 'cpe:/a:redhat:enterprise_linux:8::appstream');
    assert.deepEqual([rec.severity, rec.normalizedSeverity, rec.package.kind, rec.archOperation], ['Important', 'High', 'binary', 'pattern match']);
    assert.match(rec.links, /RHSA-2025:8696/);
  }
  // Arches fold into one record per (stream, module, package, fixed EVR): 278 fixed products, far fewer records.
  assert.equal(new Set(records.map((r) => `${r.repo.cpe}|${r.package.module}|${r.package.name}|${r.fixedInVersion}`)).size, records.length);
  assert.ok(records.every((r) => r.fixedInVersion !== '' && r.versionScheme === 'rpm' && r.updater === 'rhel-vex'));
});

test('known_affected becomes unfixed records per product; known_not_affected becomes none', (t) => {
  const dir = requireSharedData(t, ...VEX, 'claircore-acceptance');
  if (!dir) return;
  const doc = readDoc(`${dir}/cve-2026-0968.json`) as { vulnerabilities: { product_status: Record<string, string[]> }[] };
  const { records } = parseVexDocument(doc, 'libssh');
  const status = doc.vulnerabilities[0]!.product_status;
  // Expected from the document itself: each known_affected "<stream>:<component>" minus ".src" duplicates and
  // the non-rpm rhcos component.
  const want = new Set(status.known_affected!.filter((id) => !id.endsWith(':rhcos')).map((id) => id.replace(/\.src$/, '')));
  assert.deepEqual(new Set(records.map((r) => `${r.repo.cpe.replace('cpe:/o:redhat:enterprise_linux:', 'red_hat_enterprise_linux_')}:${r.package.name}`)), want);
  assert.ok(records.every((r) => r.fixedInVersion === '' && r.package.kind === 'source' && r.normalizedSeverity === 'Low'));
  const notAffected = new Set(status.known_not_affected!.map((id) => id.split(':')[1]!.replace(/\.src$/, '')));
  assert.ok(notAffected.has('libssh2'));
  assert.ok(!records.some((r) => notAffected.has(r.package.name)), 'no record for a not-affected component');
});

test('documents with only known_not_affected produce no records; mixed documents keep fixed and affected apart', (t) => {
  const dir = requireSharedData(t, ...VEX);
  if (!dir) return;
  assert.deepEqual(parseVexDocument(readDoc(`${dir}/claircore/cve-2023-42670.json`), 'samba').records, []);
  const openssl = parseVexDocument(readDoc(`${dir}/claircore-acceptance/cve-2024-0727-openssl.json`), 'openssl').records;
  const rhel9 = openssl.filter((r) => r.package.name === 'openssl-libs' && r.repo.cpe === 'cpe:/o:redhat:enterprise_linux:9::baseos');
  assert.deepEqual(rhel9.map((r) => r.fixedInVersion), ['1:3.0.7-27.el9']);
  assert.ok(rhel9[0]!.package.arch.split('|').includes('x86_64'));
  assert.ok(openssl.some((r) => r.fixedInVersion === '' && r.repo.cpe === 'cpe:/o:redhat:enterprise_linux:6'));
  // openssl-fips-provider is known_not_affected in BaseOS-9.4.0.GA: no record says otherwise.
  assert.ok(!openssl.some((r) => r.package.name === 'openssl-fips-provider' && r.repo.cpe.includes('enterprise_linux:9')));
});

test('a deleted document and malformed input', () => {
  assert.deepEqual(parseVexDocument({ document: { tracking: { id: 'CVE-2023-0030', status: 'deleted' } } }, 'x'), { name: 'CVE-2023-0030', deleted: true, records: [] });
  assert.throws(() => parseVexDocument([], 'doc.json'), { code: 'bad-feed', message: /doc\.json/ });
  assert.throws(() => parseVexDocument({ document: {} }, 'doc.json'), { code: 'bad-feed', message: /tracking\.id/ });
});

test('severity: Red Hat impact → normalized', () => {
  for (const [impact, want] of [['Low', 'Low'], ['moderate', 'Medium'], ['Important', 'High'], ['Critical', 'Critical'], ['', 'Unknown'], ['bogus', 'Unknown']] as const) {
    assert.equal(normalizeRedHatImpact(impact), want, impact);
  }
});

test('purl: rpm purls as VEX writes them', () => {
  const p = parsePurl('pkg:rpm/redhat/perl-FCGI@0.78-11.module%2Bel8.6.0%2B23193%2B83e23a7a.1?arch=src&epoch=1&rpmmod=perl-FCGI:0.78:8060020250604201935:513b2a65')!;
  assert.deepEqual([p.type, p.namespace, p.name, p.version], ['rpm', 'redhat', 'perl-FCGI', '0.78-11.module+el8.6.0+23193+83e23a7a.1']);
  assert.deepEqual(Object.fromEntries(p.qualifiers), { arch: 'src', epoch: '1', rpmmod: 'perl-FCGI:0.78:8060020250604201935:513b2a65' });
  assert.deepEqual(parsePurl('pkg:rpm/redhat/libssh'), { type: 'rpm', namespace: 'redhat', name: 'libssh', version: '', qualifiers: new Map() });
  assert.equal(parsePurl('rpm/redhat/libssh'), undefined);
  assert.equal(parsePurl('pkg:rpm'), undefined);
});
