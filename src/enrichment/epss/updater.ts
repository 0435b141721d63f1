import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ClairError } from '../../model/errors.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import type { EnrichmentUpdater, UpdaterOptions } from '../../updater/updater.ts';

// FIRST's EPSS scores, https://www.first.org/epss/data_stats: a CSV (usually gzip) published daily,
//   #model_version:v2023.03.01,score_date:2024-10-25T00:00:00+0000
//   cve,epss,percentile
//   CVE-1999-0005,0.91963,0.99030
// Each row becomes Clair's EPSS enrichment record ({modelVersion, date, cve, epss, percentile}). Read line by line:
// the full file is ~270,000 rows.

export const EPSS_UPDATER = 'epss';
export const EPSS_TYPE = 'message/vnd.clair.map.vulnerability; enricher=clair.epss schema=https://csrc.nist.gov/schema/nvd/feed/1.1/cvss-v3.x.json';

async function* text(feed: Readable): AsyncGenerator<Buffer> {
  const it = feed[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value as Buffer;
  const all = Readable.from((async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
  })());
  yield* head[0] === 0x1f && head[1] === 0x8b ? all.pipe(createGunzip()) : all;
}

function score(s: string, what: string, where: string): number {
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new ClairError('bad-feed', `${where}: ${what} ${JSON.stringify(s)} is not a probability`);
  return n;
}

export async function* parseEpss(feed: Readable, opts: UpdaterOptions): AsyncGenerator<EnrichmentRecord> {
  const lines = createInterface({ input: Readable.from(text(feed)), crlfDelay: Infinity });
  let modelVersion = '';
  let date = '';
  let header: string[] | undefined;
  let lineNo = 0;
  let rows = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    const where = `${opts.location} line ${lineNo}`;
    if (line.startsWith('#')) {
      for (const field of line.slice(1).split(',')) {
        const i = field.indexOf(':');
        if (i < 0) continue;
        const k = field.slice(0, i).trim();
        const v = field.slice(i + 1).trim();
        if (k === 'model_version') modelVersion = v;
        if (k === 'score_date') date = v;
      }
      continue;
    }
    if (!header) {
      header = line.split(',').map((h) => h.trim());
      if (header[0] !== 'cve' || header[1] !== 'epss' || header[2] !== 'percentile') {
        throw new ClairError('bad-feed', `${where}: expected the header "cve,epss,percentile", found ${JSON.stringify(line.slice(0, 80))}`);
      }
      if (!modelVersion || !date) throw new ClairError('bad-feed', `${opts.location}: the "#model_version:…,score_date:…" line is missing before the header`);
      continue;
    }
    const f = line.split(',');
    if (f.length !== header.length) throw new ClairError('bad-feed', `${where}: ${f.length} fields, the header has ${header.length}`);
    const cve = f[0]!.trim();
    if (!/^CVE-\d{4}-\d{4,}$/.test(cve)) throw new ClairError('bad-feed', `${where}: ${JSON.stringify(cve.slice(0, 40))} is not a CVE id`);
    rows++;
    yield {
      updater: EPSS_UPDATER,
      tag: cve,
      enrichment: { modelVersion, date, cve, epss: score(f[1]!, 'epss', where), percentile: score(f[2]!, 'percentile', where) },
    };
  }
  if (!header) throw new ClairError('bad-feed', `${opts.location}: not an EPSS CSV (no "cve,epss,percentile" header)`);
  if (rows === 0) throw new ClairError('bad-feed', `${opts.location}: no EPSS rows`);
}

export const epssUpdater: EnrichmentUpdater = {
  kind: 'enrichment',
  name: EPSS_UPDATER,
  version: '1',
  // FIRST publishes the newest scores here (a redirect to the dated file).
  defaultLocation: 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz',
  type: EPSS_TYPE,
  parse: parseEpss,
  facts: (e) => (typeof e['epss'] === 'number' && typeof e['percentile'] === 'number' ? { epss: { score: e['epss'], percentile: e['percentile'] } } : {}),
};
