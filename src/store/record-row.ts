import { createHash } from 'node:crypto';
import type { EnrichmentRecord } from '../model/enrichment.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import { serializeVulnerability } from './vulnerability-hash.ts';

// The stored form of one record of an update operation, whatever its kind. Vulnerabilities and enrichment records
// share the record table (deduplication by content hash, operations sharing rows, retention, diffs, export): an
// enrichment row has the CVE id as its name and an empty package name, which no vulnerability query asks for (the
// match engine never sends an empty package name), so the two kinds never meet in a lookup.
export interface RecordRow {
  hash: string;
  /** The stored JSON, the bytes the hash was taken of. */
  json: string;
  updater: string;
  name: string;
  packageName: string;
  did: string;
  versionId: string;
  codeName: string;
}

export function vulnerabilityRow(v: Vulnerability): RecordRow {
  const { json, hash } = serializeVulnerability(v);
  return { hash, json, updater: v.updater, name: v.name, packageName: v.package.name, did: v.dist.did, versionId: v.dist.versionId, codeName: v.dist.versionCodeName };
}

export function enrichmentRow(e: EnrichmentRecord): RecordRow {
  // Field order fixed here, so equal records hash equal whatever order the parser built them in at the top level.
  const json = JSON.stringify({ updater: e.updater, tag: e.tag, enrichment: e.enrichment });
  const hash = createHash('sha256').update(json).digest('hex');
  return { hash, json, updater: e.updater, name: e.tag, packageName: '', did: '', versionId: '', codeName: '' };
}

/** The record of a stored enrichment row's JSON. */
export function parseEnrichmentRow(json: string): EnrichmentRecord {
  return JSON.parse(json) as EnrichmentRecord;
}
