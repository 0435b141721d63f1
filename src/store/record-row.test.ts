import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newVulnerability } from '../model/vulnerability.ts';
import { decodeRecordJson, decodeVulnerability, vulnerabilityRow } from './record-row.ts';
import { serializeVulnerability } from './vulnerability-hash.ts';

const alpine = (name: string, description = '') => newVulnerability({
  updater: 'alpine', name, description, links: `https://security.alpinelinux.org/vuln/${name}`,
  package: { name: 'busybox', kind: 'source', module: '', arch: '' }, fixedInVersion: '1.36.1-r21', versionScheme: 'apk',
});

const parts = (v: ReturnType<typeof alpine>) => {
  const r = vulnerabilityRow(v);
  return { row: r, stored: { name: r.name, package_name: r.packageName, data: r.data, context: r.context, text: r.text } };
};

test('record rows: texts that differ only by the record name are one text; every record reads back byte for byte', () => {
  const a = parts(alpine('CVE-2025-26519'));
  const b = parts(alpine('CVE-2024-0001'));
  assert.equal(a.row.textHash, b.row.textHash, 'one text row for both');
  for (const [v, p] of [[alpine('CVE-2025-26519'), a], [alpine('CVE-2024-0001'), b]] as const) {
    assert.deepEqual(decodeVulnerability(p.stored), v);
    assert.equal(decodeRecordJson(p.stored), serializeVulnerability(v).json);
  }
  // A name that needs escaping in JSON, a name inside a longer one, a text with no name, a text stored before the
  // mark existed (no mark: read as it is).
  for (const v of [alpine('X"\\\u0001', 'about X"\\\u0001 and X"\\\u0001x'), alpine('CVE-1', 'see CVE-12 and CVE-1'), alpine('')]) {
    assert.deepEqual(decodeVulnerability(parts(v).stored), v);
  }
  const old = { ...a.stored, text: JSON.stringify(['', 'https://security.alpinelinux.org/vuln/CVE-2025-26519']) };
  assert.deepEqual(decodeVulnerability(old), alpine('CVE-2025-26519'));
});
