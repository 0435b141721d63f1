import type { EnrichmentRecord } from '../../model/enrichment.ts';

// One CVE of NVD's CVE API 2.0 (https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema) → the CVSS
// enrichment record Clair's CVSS enricher stores: the `cvssData` object of the CVE's CVSS v3.x metric.
// Clair keeps only NVD's own ("Primary") v3.1/v3.0 score; since NVD's 2024 backlog many CVEs carry only the CNA's
// ("Secondary") score, so clair-ts falls back to it (the record says which source scored it), and to CVSS v4.0 when
// there is no v3 at all. Rejected CVEs carry no record.

export const NVD_UPDATER = 'nvd';

interface Metric {
  source?: unknown;
  type?: unknown;
  cvssData?: unknown;
}

function metrics(cve: Record<string, unknown>, key: string): Metric[] {
  const m = cve['metrics'];
  if (typeof m !== 'object' || m === null) return [];
  const list = (m as Record<string, unknown>)[key];
  return Array.isArray(list) ? (list as Metric[]) : [];
}

function pick(list: Metric[]): Metric | undefined {
  const usable = list.filter((m) => typeof m.cvssData === 'object' && m.cvssData !== null && typeof (m.cvssData as Record<string, unknown>)['baseScore'] === 'number');
  return usable.find((m) => m.type === 'Primary') ?? usable[0];
}

/** The CVSS record of one `vulnerabilities[].cve` object; undefined when it has no usable score or is rejected. */
export function cvssRecord(cve: Record<string, unknown>): EnrichmentRecord | undefined {
  const id = cve['id'];
  if (typeof id !== 'string' || !/^CVE-\d{4}-\d{4,}$/.test(id)) return undefined;
  if (typeof cve['vulnStatus'] === 'string' && cve['vulnStatus'].toLowerCase() === 'rejected') return undefined;
  const m = pick(metrics(cve, 'cvssMetricV31')) ?? pick(metrics(cve, 'cvssMetricV30')) ?? pick(metrics(cve, 'cvssMetricV40'));
  if (!m) return undefined;
  const data = m.cvssData as Record<string, unknown>;
  return { updater: NVD_UPDATER, tag: id, enrichment: { ...data, ...(m.type === 'Primary' ? {} : { source: String(m.source ?? ''), type: String(m.type ?? '') }) } };
}
