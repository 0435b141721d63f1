import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIgnoreFile } from './ignore-file.ts';
import { parseVex } from './vex.ts';
import { purlMatches } from './decisions.ts';
import { planOutputs } from '../cli/report-outputs.ts';

test('ignore file: entries read, bad ones refused with their place', () => {
  assert.deepEqual(parseIgnoreFile('ignore:\n  - id: CVE-1\n    reason: r\n    expires: 2027-01-02\n  - id: GHSA-x\n    package: "lib*"\n    reason: s\n', 'f.yaml'), [
    { id: 'CVE-1', reason: 'r', expires: '2027-01-02' }, { id: 'GHSA-x', package: 'lib*', reason: 's' },
  ]);
  assert.deepEqual(parseIgnoreFile('', 'f.yaml'), []);
  assert.throws(() => parseIgnoreFile('ignore:\n  - id: CVE-1\n', 'f.yaml'), /f\.yaml: ignore\[0\] \(CVE-1\): a reason is required/);
  assert.throws(() => parseIgnoreFile('ignore:\n  - id: CVE-1\n    reason: r\n    expires: soon\n', 'f.yaml'), /expires must be a date/);
  assert.throws(() => parseIgnoreFile('ignore:\n  - id: CVE-1\n    reason: r\n    until: 2020-01-01\n', 'f.yaml'), /unknown key until/);
  assert.throws(() => parseIgnoreFile('[1, 2', 'f.yaml'), /f\.yaml: not YAML/);
});

test('VEX: OpenVEX (v0.0.1 and v0.2) and CycloneDX statements', () => {
  const old = parseVex({ statements: [{ vulnerability: 'CVE-1', products: ['pkg:deb/debian/curl'], status: 'fixed' }] }, 'a.json');
  assert.deepEqual(old, [{ ids: ['CVE-1'], products: [{ id: 'pkg:deb/debian/curl', subcomponents: [] }], status: 'fixed', source: 'a.json: statement 1' }]);
  const v2 = parseVex({ statements: [{ vulnerability: { name: 'CVE-2', aliases: ['GHSA-2'] }, products: [{ '@id': 'registry/app@sha256:ab', subcomponents: [{ '@id': 'pkg:pypi/jinja2' }] }], status: 'not_affected', justification: 'component_not_present' }] }, 'b.json');
  assert.deepEqual(v2[0]!.ids, ['CVE-2', 'GHSA-2']);
  assert.deepEqual(v2[0]!.products[0]!.subcomponents, ['pkg:pypi/jinja2']);
  const cdx = parseVex({ bomFormat: 'CycloneDX', components: [{ 'bom-ref': 'c1', purl: 'pkg:npm/x@1' }], vulnerabilities: [{ id: 'CVE-3', analysis: { state: 'false_positive' }, affects: [{ ref: 'c1' }] }, { id: 'CVE-4' }] }, 'c.json');
  assert.deepEqual(cdx.map((s) => [s.ids[0], s.status, s.products[0]?.id]), [['CVE-3', 'not_affected', 'pkg:npm/x@1']]);
  assert.throws(() => parseVex({ statements: [{ vulnerability: 'CVE-1', status: 'maybe' }] }, 'd.json'), /d\.json: statement 1: status must be/);
  assert.throws(() => parseVex({ hello: 1 }, 'e.json'), /neither OpenVEX/);
});

test('purl patterns: without a version any version and qualifiers; with one that version; globs', () => {
  const p = 'pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12';
  assert.ok(purlMatches('pkg:deb/debian/openssl', p));
  assert.ok(purlMatches('pkg:deb/debian/openssl@3.0.11-1~deb12u2', p));
  assert.ok(!purlMatches('pkg:deb/debian/openssl@3.0.15-1~deb12u1', p));
  assert.ok(!purlMatches('pkg:deb/debian/openssl-provider-legacy', p));
  assert.ok(purlMatches('pkg:deb/debian/libssl*', 'pkg:deb/debian/libssl3@3?arch=amd64'));
});

test('output plans: one format to stdout, the others to files', () => {
  const allowed = ['table', 'json', 'sarif'];
  assert.deepEqual(planOutputs(['table', 'sarif'], ['sarif=o.sarif'], allowed, 'table'), [{ format: 'table' }, { format: 'sarif', file: 'o.sarif' }]);
  assert.deepEqual(planOutputs('sarif', ['o.sarif'], allowed, 'table'), [{ format: 'sarif', file: 'o.sarif' }]);
  assert.deepEqual(planOutputs(undefined, undefined, allowed, 'table'), [{ format: 'table' }]);
  assert.throws(() => planOutputs(['table', 'sarif'], ['o.sarif'], allowed, 'table'), /name the format: --output FORMAT=FILE/);
  assert.throws(() => planOutputs(['table'], ['json=o.json'], allowed, 'table'), /format json was not asked for/);
});
