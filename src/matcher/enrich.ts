import type { EnrichmentRecord, RiskFacts } from '../model/enrichment.ts';
import type { NormalizedSeverity } from '../model/severity.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import type { Store } from '../store/store.ts';
import type { EnrichmentUpdater } from '../updater/updater.ts';

// Report time, as Clair's enrichers do it: the CVE ids each vulnerability names (in its name, description or links)
// are looked up in the newest operation of each enrichment updater, and the records found are attached in Clair's
// `enrichments` shape: { <enricher type>: [ { <vulnerability id>: [record, …] } ] }. Where the feed's severity is
// Unknown, NVD's CVSS base score decides the normalized severity.

// Clair's enricher.CVERegexp: case-insensitive "cve", then dash- or underscore-separated year and number.
const CVE = /cve[-_](\d{4})[-_](\d{4,})/gi;

export function cveIds(v: Pick<Vulnerability, 'name' | 'description' | 'links'>): string[] {
  const ids = new Set<string>();
  for (const text of [v.name, v.description, v.links]) for (const m of text.matchAll(CVE)) ids.add(`CVE-${m[1]}-${m[2]}`);
  return [...ids].sort();
}

export interface Enrichment {
  /** Clair's `enrichments` object. */
  json: Record<string, Record<string, unknown>[]>;
  /** Per vulnerability id. */
  facts: Map<string, RiskFacts>;
  /** Vulnerability ids whose Unknown severity CVSS decided, with the severity it gave. */
  severityFromCvss: Map<string, NormalizedSeverity>;
}

/** CVSS v3/v4 qualitative rating of a base score (FIRST's specification, section 5 / table 14). */
export function severityOfScore(score: number): NormalizedSeverity {
  if (score >= 9) return 'Critical';
  if (score >= 7) return 'High';
  if (score >= 4) return 'Medium';
  if (score >= 0.1) return 'Low';
  return 'Negligible';
}

/** Adds one record's facts; where two records of one vulnerability say the same kind of thing, the higher score wins. */
function merge(into: RiskFacts, f: RiskFacts): void {
  if (f.cvss && (!into.cvss || f.cvss.score > into.cvss.score)) into.cvss = f.cvss;
  if (f.epss && (!into.epss || f.epss.score > into.epss.score)) into.epss = f.epss;
  if (f.kev && !into.kev) into.kev = f.kev;
}

export async function enrich(store: Store, allEnrichers: readonly EnrichmentUpdater[], vulns: ReadonlyMap<string, Vulnerability>): Promise<Enrichment> {
  const json: Enrichment['json'] = {};
  const facts = new Map<string, RiskFacts>();
  const severityFromCvss = new Map<string, NormalizedSeverity>();
  // Enrichers with no data stored are left out first: without any, searching every description for CVE ids (the
  // larger part of enriching thousands of findings) would find nothing to attach.
  const stored = await Promise.all(allEnrichers.map(async (u) => (await store.listUpdateOperations(u.name)).length > 0));
  const enrichers = allEnrichers.filter((_, i) => stored[i]);
  if (enrichers.length === 0) return { json, facts, severityFromCvss };
  const idsOf = new Map<string, string[]>();
  const allIds = new Set<string>();
  for (const [id, v] of vulns) {
    const ids = cveIds(v);
    if (ids.length === 0) continue;
    idsOf.set(id, ids);
    for (const c of ids) allIds.add(c);
  }
  if (allIds.size === 0) return { json, facts, severityFromCvss };
  const tags = [...allIds];
  // Every enricher's lookup at once: on PostgreSQL each is a round trip (or two), and they do not depend on each other.
  const found = await Promise.all(enrichers.map((u) => store.queryEnrichments(u.name, tags)));
  for (const [i, u] of enrichers.entries()) {
    const byTag = new Map<string, EnrichmentRecord[]>();
    for (const r of found[i]!) {
      const list = byTag.get(r.tag);
      if (list) list.push(r);
      else byTag.set(r.tag, [r]);
    }
    if (byTag.size === 0) continue;
    const map: Record<string, unknown[]> = {};
    for (const [vid, ids] of idsOf) {
      const recs = ids.flatMap((c) => byTag.get(c) ?? []);
      if (recs.length === 0) continue;
      map[vid] = recs.map((r) => r.enrichment);
      const f = facts.get(vid) ?? {};
      for (const r of recs) merge(f, u.facts(r.enrichment));
      facts.set(vid, f);
    }
    if (Object.keys(map).length > 0) json[u.type] = [map];
  }
  for (const [vid, v] of vulns) {
    const cvss = facts.get(vid)?.cvss;
    if (v.normalizedSeverity === 'Unknown' && cvss) severityFromCvss.set(vid, severityOfScore(cvss.score));
  }
  return { json, facts, severityFromCvss };
}
