import { pipeline, type Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import type { EnrichmentUpdater, UpdaterOptions } from '../../updater/updater.ts';

// CISA's Known Exploited Vulnerabilities catalog, https://www.cisa.gov/known-exploited-vulnerabilities-catalog:
// { catalogVersion, dateReleased, count, vulnerabilities: [{ cveID, vendorProject, product, vulnerabilityName,
// dateAdded, shortDescription, requiredAction, dueDate, knownRansomwareCampaignUse, notes, cwes }] }.
// Each entry becomes Clair's KEV enrichment record (enricher/kev Entry: snake_case keys plus the catalog version).

export const KEV_UPDATER = 'kev';
export const KEV_TYPE = 'message/vnd.clair.map.vulnerability; enricher=clair.kev schema=https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities_schema.json';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export async function* parseKev(feed: Readable, opts: UpdaterOptions): AsyncGenerator<EnrichmentRecord> {
  // catalogVersion precedes vulnerabilities in CISA's file; it is picked in the same pass.
  // pipeline, not pipe: a parse error must reach the loop below instead of escaping as an unhandled 'error'.
  // Loaded here, not at the top: only `update` reads the feed, and every command imports the enrichment registry.
  const [{ parser }, { pick }, { streamValues }] = await Promise.all([
    import('stream-json/parser.js'), import('stream-json/filters/pick.js'), import('stream-json/streamers/stream-values.js'),
  ]);
  const values = pipeline(feed, parser.asStream(), pick.asStream({ filter: /^(catalogVersion|vulnerabilities\.\d+)$/ }), streamValues.asStream(), () => {});
  let catalogVersion = '';
  let n = 0;
  try {
    for await (const { value } of values as AsyncIterable<{ value: unknown }>) {
      if (typeof value === 'string') {
        catalogVersion = value;
        continue;
      }
      const v = value as Record<string, unknown>;
      const cve = str(v?.['cveID']);
      if (!/^CVE-\d{4}-\d{4,}$/.test(cve)) throw new ClairError('bad-feed', `${opts.location}: vulnerabilities[${n}] has no valid cveID`);
      n++;
      yield {
        updater: KEV_UPDATER,
        tag: cve,
        enrichment: {
          cve,
          vulnerability_name: str(v['vulnerabilityName']),
          catalog_version: catalogVersion,
          date_added: str(v['dateAdded']),
          short_description: str(v['shortDescription']),
          required_action: str(v['requiredAction']),
          due_date: str(v['dueDate']),
          known_ransomware_campaign_use: str(v['knownRansomwareCampaignUse']),
        },
      };
    }
  } catch (e) {
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-feed', `${opts.location}: not the KEV catalog JSON: ${(e as Error).message}`, { cause: e });
  }
  if (n === 0) throw new ClairError('bad-feed', `${opts.location}: no KEV entries (expected a catalog with a vulnerabilities array)`);
}

export const kevUpdater: EnrichmentUpdater = {
  kind: 'enrichment',
  name: KEV_UPDATER,
  version: '1',
  defaultLocation: 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json',
  type: KEV_TYPE,
  parse: parseKev,
  facts: (e) => ({ kev: { dateAdded: String(e['date_added'] ?? ''), dueDate: String(e['due_date'] ?? ''), ransomware: String(e['known_ransomware_campaign_use'] ?? '') } }),
};
