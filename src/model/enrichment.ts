// Data that enriches vulnerabilities without being one (claircore's EnrichmentRecord): NVD's CVSS, FIRST's EPSS,
// CISA's KEV entries, each keyed by the CVE id it describes. Enrichment updaters store them as update operations
// like any feed; the vulnerability report attaches them to the vulnerabilities that name the CVE.
export interface EnrichmentRecord {
  /** The enrichment updater that produced it ("nvd", "epss", "kev"). */
  updater: string;
  /** The CVE id the record describes. */
  tag: string;
  /** The record as the report carries it (Clair's enrichment JSON for this enricher). */
  enrichment: Record<string, unknown>;
}

/** What a person reads beside a finding: the CVSS, EPSS and KEV facts of the CVEs it names. */
export interface RiskFacts {
  cvss?: { score: number; version: string; vector: string };
  epss?: { score: number; percentile: number };
  kev?: { dateAdded: string; dueDate: string; ransomware: string };
}
