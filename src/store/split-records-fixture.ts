import { createHash } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
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

/**
 * A SQLite database at schema version `version` (before the packs of migration 11), holding these operations as
 * rows of the layout of migrations 5-10 (vuln, uo_vuln, vuln_context, vuln_text; texts keyed by `textOf`, by
 * default the marked text of record-row.ts). Operations share rows of equal records, as that layout did.
 */
export function rowLayoutDatabase(
  db: DatabaseSync, migrations: readonly (string | ((db: DatabaseSync) => void))[], version: number, ops: { ref: string; updater: string; records: Vulnerability[] }[],
  textOf: (v: Vulnerability) => { hash: string; text: string } = (v) => ({ hash: vulnerabilityRow(v).textHash!, text: vulnerabilityRow(v).text! }),
): void {
  db.exec('PRAGMA auto_vacuum = INCREMENTAL'); // as SqliteStore.open makes a file
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('CREATE TABLE schema_migration (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)');
  for (let v = 1; v <= version; v++) {
    const m = migrations[v - 1]!;
    if (typeof m === 'string') db.exec(m);
    else m(db);
    db.prepare('INSERT INTO schema_migration VALUES (?, ?)').run(v, 'then');
  }
  ops.forEach((op, i) => {
    const uo = db.prepare('INSERT INTO update_operation (ref, updater, fingerprint, date, count) VALUES (?, ?, ?, ?, ?) RETURNING id')
      .get(op.ref, op.updater, `fp-${i}`, '2026-01-01T00:00:00Z', op.records.length)!.id as number;
    for (const v of op.records) {
      const r = vulnerabilityRow(v);
      const context = (db.prepare('SELECT id FROM vuln_context WHERE data = ?').get(r.context)?.id as number | undefined)
        ?? (db.prepare('INSERT INTO vuln_context (updater, dist_did, dist_version_id, dist_version_code_name, data) VALUES (?, ?, ?, ?, ?) RETURNING id')
          .get(r.updater, r.did, r.versionId, r.codeName, r.context)!.id as number);
      const t = textOf(v);
      const text = (db.prepare('SELECT id FROM vuln_text WHERE hash = unhex(?)').get(t.hash)?.id as number | undefined)
        ?? (db.prepare('INSERT INTO vuln_text (hash, data) VALUES (unhex(?), ?) RETURNING id').get(t.hash, t.text)!.id as number);
      const row = (db.prepare('SELECT id FROM vuln WHERE hash = unhex(?)').get(r.hash)?.id as number | undefined)
        ?? (db.prepare('INSERT INTO vuln (hash, name, package_name, context_id, text_id, data) VALUES (unhex(?), ?, ?, ?, ?, ?) RETURNING id')
          .get(r.hash, r.name, r.packageName, context, text, r.data)!.id as number);
      db.prepare('INSERT OR IGNORE INTO uo_vuln (uo_id, vuln_id) VALUES (?, ?)').run(uo, row);
    }
  });
}
