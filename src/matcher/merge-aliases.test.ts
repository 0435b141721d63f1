import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newVulnerability } from '../model/vulnerability.ts';
import type { StoredVulnerability } from '../store/store.ts';
import { mergeAliases } from './merge-aliases.ts';

function rec(id: string, name: string, extra: Partial<StoredVulnerability> = {}): StoredVulnerability {
  return { ...newVulnerability({ updater: 'osv', name, links: `https://x/${name}`, ...extra }), id };
}

test('records of one flaw from several databases become one finding listing every id', () => {
  // waitress: PyPA's PYSEC-2020-178 (no severity) and GitHub's GHSA-4ppp-gpcr-7qf6 (High), both naming CVE-2019-16792;
  // an unrelated GHSA on the same package; and the same GHSA on another package.
  const pysec = rec('1', 'PYSEC-2020-178', { aliases: ['CVE-2019-16792', 'GHSA-4ppp-gpcr-7qf6'], fixedInVersion: '1.4.0' });
  const ghsa = rec('2', 'GHSA-4ppp-gpcr-7qf6', { aliases: ['CVE-2019-16792'], normalizedSeverity: 'High', fixedInVersion: '1.4.0' });
  const other = rec('3', 'GHSA-zzzz-zzzz-zzzz', { normalizedSeverity: 'Low' });
  // The same advisory twice (RustSec and OSV's copy of it) joins by its id.
  const rs1 = rec('4', 'RUSTSEC-2020-0105', { aliases: ['CVE-2020-36212'] });
  const rs2 = rec('5', 'RUSTSEC-2020-0105', { updater: 'osv', aliases: ['GHSA-vq23-5h4f-vwpv'], normalizedSeverity: 'High', fixedInVersion: '0.9.1' });
  const m = mergeAliases({
    packageVulnerabilities: { p1: ['1', '2', '3'], p2: ['2'], p3: ['4', '5'] },
    vulnerabilities: new Map([pysec, ghsa, other, rs1, rs2].map((v) => [v.id, v])),
  });
  assert.deepEqual(m.packageVulnerabilities, { p1: ['2', '3'], p2: ['2'], p3: ['5'] });
  const g = m.vulnerabilities.get('2')!;
  assert.equal(g.name, 'GHSA-4ppp-gpcr-7qf6');
  assert.deepEqual(g.aliases, ['CVE-2019-16792', 'PYSEC-2020-178']);
  assert.equal(g.links, 'https://x/GHSA-4ppp-gpcr-7qf6 https://nvd.nist.gov/vuln/detail/CVE-2019-16792 https://osv.dev/vulnerability/PYSEC-2020-178');
  assert.equal(m.vulnerabilities.get('3')!.aliases, undefined);
  assert.deepEqual(m.vulnerabilities.get('5')!.aliases, ['CVE-2020-36212', 'GHSA-vq23-5h4f-vwpv']);
  assert.deepEqual([...m.vulnerabilities.keys()].sort(), ['2', '3', '5']);
});
