import { createHash } from 'node:crypto';
import { newVulnerability, type Vulnerability } from '../model/vulnerability.ts';
import type { EnrichmentRecord } from '../model/enrichment.ts';
import { serializeVulnerability } from './vulnerability-hash.ts';
import { textHash, vulnerabilityRow } from './record-row.ts';

// Records as the schema before migration 5 stored them (whole JSON per row, 64-hex content hash), for the tests
// that migrate such a database on each store.

export const oldVulnerabilities: Vulnerability[] = [
  newVulnerability({
    updater: 'debian', name: 'CVE-2024-0001', description: 'A flaw in the parser.', links: 'https://security-tracker.debian.org/tracker/CVE-2024-0001',
    severity: 'high', normalizedSeverity: 'High', package: { name: 'openssl', kind: 'source', module: '', arch: '' },
    dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: 'Debian GNU/Linux', version: '12 (bookworm)', prettyName: '', arch: '' },
    fixedInVersion: '3.0.11-1', versionScheme: 'dpkg',
  }),
  newVulnerability({
    updater: 'debian', name: 'CVE-2024-0001', description: 'A flaw in the parser.', links: 'https://security-tracker.debian.org/tracker/CVE-2024-0001',
    severity: 'low', normalizedSeverity: 'Low', package: { name: 'openssl', kind: 'source', module: '', arch: '' },
    dist: { did: 'debian', versionId: '11', versionCodeName: 'bullseye', cpe: '', name: 'Debian GNU/Linux', version: '11 (bullseye)', prettyName: '', arch: '' },
    versionScheme: 'dpkg',
  }),
  newVulnerability({
    updater: 'osv/pypi', name: 'GHSA-xxxx-yyyy-zzzz', description: 'Unsafe "quotes" \\ and\nnewlines', package: { name: 'jinja2', kind: 'binary', module: '', arch: '' },
    repo: { name: 'pypi', key: '', uri: 'https://pypi.org/simple', cpe: '' }, versionScheme: 'pypi', range: { introduced: '2.0', lastAffected: '' },
    fixedInVersion: '3.1.3', aliases: ['CVE-2024-22195'], informational: '',
  }),
];

export const oldEnrichment: EnrichmentRecord = { updater: 'epss', tag: 'CVE-2024-0001', enrichment: { cve: 'CVE-2024-0001', epss: 0.01, percentile: 0.5 } };

/** Rows of the old vuln table: hash, updater, name, package_name, dist_did, dist_version_id, dist_version_code_name, data. */
export function oldRows(): string[][] {
  const rows = oldVulnerabilities.map((v) => {
    const { json, hash } = serializeVulnerability(v);
    return [hash, v.updater, v.name, v.package.name, v.dist.did, v.dist.versionId, v.dist.versionCodeName, json];
  });
  const ej = JSON.stringify({ updater: oldEnrichment.updater, tag: oldEnrichment.tag, enrichment: oldEnrichment.enrichment });
  rows.push([createHash('sha256').update(ej).digest('hex'), 'epss', oldEnrichment.tag, '', '', '', '', ej]);
  return rows;
}

/** Records whose links name the record (Alpine's), for the tests of migration 8 (texts with the name as a mark). */
export const namedLinkRecords: Vulnerability[] = ['CVE-2025-26519', 'CVE-2024-0001'].map((name) => newVulnerability({
  updater: 'alpine', name, links: `https://security.alpinelinux.org/vuln/${name}`,
  package: { name: 'busybox', kind: 'source', module: '', arch: '' },
  dist: { did: 'alpine', versionId: '3.19', versionCodeName: '', cpe: '', name: 'Alpine Linux', version: '', prettyName: 'Alpine Linux v3.19', arch: '' },
  fixedInVersion: '1.36.1-r21', versionScheme: 'apk',
}));

/** A record's text as stored before migration 9 (the name written out), and its key (hex). */
export function unmarkedText(v: Vulnerability): { hash: string; text: string } {
  const text = vulnerabilityRow(v).text!.split('\u0001').join(v.name);
  return { hash: textHash(v.updater, text), text };
}
