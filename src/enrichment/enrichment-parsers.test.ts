import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnrichmentRecord } from '../model/enrichment.ts';
import { openNvd, parseNvdPages } from './nvd/updater.ts';
import { cvssRecord } from './nvd/cvss-record.ts';
import { parseEpss } from './epss/updater.ts';
import { parseKev } from './kev/updater.ts';
import { requireSharedData } from '../../test/support/shared-data.ts';
import { cveIds, severityOfScore } from '../matcher/enrich.ts';

async function all(it: AsyncIterable<EnrichmentRecord>): Promise<EnrichmentRecord[]> {
  const out: EnrichmentRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}
const text = (s: string | Buffer) => Readable.from([Buffer.from(s)]);
const metric = (type: string, score: number, version = '3.1') => ({ source: type === 'Primary' ? 'nvd@nist.gov' : 'cna@example', type, cvssData: { version, vectorString: `CVSS:${version}/AV:N`, baseScore: score, baseSeverity: 'X' } });
const page = (...cves: object[]) => JSON.stringify({ resultsPerPage: cves.length, startIndex: 0, totalResults: cves.length, format: 'NVD_CVE', version: '2.0', vulnerabilities: cves.map((cve) => ({ cve })) });

test('NVD: the Primary v3.1 score, else v3.0, else the CNA\'s, else v4.0; rejected and unscored CVEs carry none', () => {
  assert.equal(cvssRecord({ id: 'CVE-2024-0001', metrics: { cvssMetricV31: [metric('Secondary', 5), metric('Primary', 7.5)] } })?.enrichment['baseScore'], 7.5);
  assert.equal(cvssRecord({ id: 'CVE-2024-0001', metrics: { cvssMetricV30: [metric('Primary', 6.1, '3.0')] } })?.enrichment['version'], '3.0');
  const cna = cvssRecord({ id: 'CVE-2024-0001', metrics: { cvssMetricV31: [metric('Secondary', 5.3)] } });
  assert.deepEqual([cna?.enrichment['baseScore'], cna?.enrichment['type']], [5.3, 'Secondary'], 'the record says who scored it');
  assert.equal(cvssRecord({ id: 'CVE-2024-0001', metrics: { cvssMetricV40: [metric('Secondary', 8.7, '4.0')] } })?.enrichment['version'], '4.0');
  assert.equal(cvssRecord({ id: 'CVE-2024-0001', vulnStatus: 'Rejected', metrics: { cvssMetricV31: [metric('Primary', 9)] } }), undefined);
  assert.equal(cvssRecord({ id: 'CVE-2024-0001', metrics: { cvssMetricV2: [metric('Primary', 9, '2.0')] } }), undefined);
  assert.equal(cvssRecord({ id: 'not-a-cve', metrics: { cvssMetricV31: [metric('Primary', 9)] } }), undefined);
});

test('NVD pages: several pages in one stream, gzip by content, folders in name order; malformed input is bad-feed', async () => {
  const a = page({ id: 'CVE-2024-0001', metrics: { cvssMetricV31: [metric('Primary', 7.5)] } });
  const b = page({ id: 'CVE-2024-0002', metrics: { cvssMetricV31: [metric('Primary', 9.8)] } }, { id: 'CVE-2024-0003', metrics: {} });
  assert.deepEqual((await all(parseNvdPages(text(a + '\n' + b), { location: 't' }))).map((r) => r.tag), ['CVE-2024-0001', 'CVE-2024-0002']);
  const dir = mkdtempSync(join(tmpdir(), 'nvd-'));
  try {
    writeFileSync(join(dir, 'nvdcve-2.0-2024-b.json.gz'), gzipSync(b));
    writeFileSync(join(dir, 'nvdcve-2.0-2024-a.json'), a);
    writeFileSync(join(dir, 'README.txt'), 'ignored');
    const opened = await openNvd(dir, {});
    assert.ok(!('notModified' in opened));
    assert.deepEqual((await all(parseNvdPages(opened.stream, { location: dir }))).map((r) => r.tag), ['CVE-2024-0001', 'CVE-2024-0002']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(all(parseNvdPages(text('{"vulnerabilities": [{"cve": '), { location: 'cut.json' })), (e: any) => e.code === 'bad-feed' && /cut\.json/.test(e.message));
  await assert.rejects(all(parseNvdPages(text('{}'), { location: 'empty.json' })), /no CVEs/);
  await assert.rejects(all(parseNvdPages(text('{"vulnerabilities": [42]}'), { location: 'x' })), /without a cve object/);
});

test('NVD: the real API pages and single-CVE answers in ../shared', async (t) => {
  const full = requireSharedData(t, 'feeds', 'nvd', 'vunnel', 'full-page.json');
  const single = requireSharedData(t, 'feeds', 'nvd', 'osv.dev', 'nvdcve-2.0');
  if (!full || !single) return;
  const a = await all(parseNvdPages(createReadStream(full), { location: full }));
  // 38 CVEs on the page; 3 have no CVSS v3/v4 score.
  assert.equal(a.length, 35);
  assert.deepEqual(a[0], {
    updater: 'nvd', tag: 'CVE-2023-27314',
    enrichment: { version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', attackVector: 'NETWORK', attackComplexity: 'LOW', privilegesRequired: 'NONE', userInteraction: 'NONE', scope: 'UNCHANGED', confidentialityImpact: 'NONE', integrityImpact: 'NONE', availabilityImpact: 'HIGH', baseScore: 7.5, baseSeverity: 'HIGH' },
  });
  const opened = await openNvd(single, {});
  assert.ok(!('notModified' in opened));
  const b = await all(parseNvdPages(opened.stream, { location: single }));
  assert.equal(b.find((r) => r.tag === 'CVE-2024-3094')?.enrichment['baseScore'], 10);
});

test('EPSS: the real CSVs; the metadata line and header are required; rows are probabilities', async (t) => {
  const ok = 'model_version:v2023.03.01,score_date:2024-10-25T00:00:00+0000';
  const rows = await all(parseEpss(text(`#${ok}\ncve,epss,percentile\nCVE-2024-0001,0.5,0.97\n`), { location: 'x' }));
  assert.deepEqual(rows, [{ updater: 'epss', tag: 'CVE-2024-0001', enrichment: { modelVersion: 'v2023.03.01', date: '2024-10-25T00:00:00+0000', cve: 'CVE-2024-0001', epss: 0.5, percentile: 0.97 } }]);
  assert.equal((await all(parseEpss(text(gzipSync(`#${ok}\ncve,epss,percentile\nCVE-2024-0001,0.5,0.97\n`)), { location: 'x.gz' }))).length, 1);
  await assert.rejects(all(parseEpss(text(`#${ok}\ncve,epss,percentile\nCVE-2024-0001,1.5,0.97\n`), { location: 'x' })), /line 3: epss "1.5" is not a probability/);
  await assert.rejects(all(parseEpss(text(`#${ok}\ncve,epss,percentile\nCVE-2024-0001,0.5\n`), { location: 'x' })), /2 fields/);
  await assert.rejects(all(parseEpss(text(`#${ok}\ncve,epss,percentile\n`), { location: 'x' })), /no EPSS rows/);
  await assert.rejects(all(parseEpss(text('cve,epss,percentile\nCVE-2024-0001,0.5,0.9\n'), { location: 'x' })), /model_version/);
  const base = requireSharedData(t, 'feeds', 'enrichment');
  if (!base) return;
  assert.equal((await all(parseEpss(createReadStream(join(base, 'claircore/epss/data.csv')), { location: 'data.csv' }))).length, 29);
  assert.equal((await all(parseEpss(createReadStream(join(base, 'vunnel/epss/example-1.csv')), { location: 'e' }))).length, 5);
  await assert.rejects(all(parseEpss(createReadStream(join(base, 'vunnel/epss/missing-date.csv')), { location: 'm' })), /score_date/);
  await assert.rejects(all(parseEpss(createReadStream(join(base, 'vunnel/epss/invalid-header.csv')), { location: 'i' })), /expected the header/);
});

test('KEV: the real catalogs; entries need a CVE id; an empty catalog is refused', async (t) => {
  await assert.rejects(all(parseKev(text('{"catalogVersion":"1","vulnerabilities":[]}'), { location: 'k' })), /no KEV entries/);
  await assert.rejects(all(parseKev(text('{"catalogVersion":"1","vulnerabilities":[{"cveID":"x"}]}'), { location: 'k' })), /no valid cveID/);
  await assert.rejects(all(parseKev(text('{"catalogVersion":'), { location: 'k' })), (e: any) => e.code === 'bad-feed');
  const base = requireSharedData(t, 'feeds', 'enrichment');
  if (!base) return;
  const a = await all(parseKev(createReadStream(join(base, 'claircore/kev/known_exploited_vulnerabilities.json')), { location: 'kev' }));
  assert.deepEqual(a.map((r) => [r.tag, r.enrichment['catalog_version'], r.enrichment['known_ransomware_campaign_use']]), [['CVE-2017-3066', '2025.02.24', 'Unknown'], ['CVE-2021-44228', '2025.02.24', 'Known']]);
  assert.equal((await all(parseKev(createReadStream(join(base, 'vunnel/kev/valid-catalog-1.json')), { location: 'v' }))).length, 3);
});

test('CVE ids are found in the name, description and links, as Clair\'s enrichers find them; scores map to severities', () => {
  assert.deepEqual(cveIds({ name: 'DSA-5000-1', description: 'fixes cve-2024-1234 and CVE_2023_99999', links: 'https://x/CVE-2024-1234' }), ['CVE-2023-99999', 'CVE-2024-1234']);
  assert.deepEqual(cveIds({ name: 'GHSA-xxxx', description: '', links: '' }), []);
  assert.deepEqual([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityOfScore), ['Negligible', 'Low', 'Low', 'Medium', 'Medium', 'High', 'High', 'Critical', 'Critical']);
});
