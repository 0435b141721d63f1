import { readdir, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { ClairError } from '../../model/errors.ts';
import type { EnrichmentRecord } from '../../model/enrichment.ts';
import { feedPath, isHttpLocation, openFeed, type FeedOpenOptions, type FeedOpenResult } from '../../updater/feed-location.ts';
import type { EnrichmentUpdater, UpdaterOptions } from '../../updater/updater.ts';
import { cvssRecord, NVD_UPDATER } from './cvss-record.ts';

// NVD's CVE API 2.0, https://nvd.nist.gov/developers/vulnerabilities. A location is
// - the API itself (https://services.nvd.nist.gov/rest/json/cves/2.0, with or without query parameters): pages of
//   2,000 CVEs are requested in turn (startIndex) at NVD's public rate limit, each parsed as it arrives;
// - a file holding one or more API pages (a saved response, gzip or plain), or a folder of such files, read in
//   name order. Single-CVE answers of the API are pages of one, so they work too.
// The bytes of all pages form one stream; the parser reads `vulnerabilities[]` of each page in turn.

export const NVD_TYPE = 'message/vnd.clair.map.vulnerability; enricher=clair.cvss schema=https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema';
const API = 'https://services.nvd.nist.gov/rest/json/cves/2.0';
const PAGE = 2000;
/** NVD allows 5 requests per 30 s without an API key (50 with one, `NVD_API_KEY`... given in the URL's apiKey). */
const PAGE_PAUSE_MS = 6500;

async function* gunzipIfNeeded(stream: Readable): AsyncGenerator<Buffer> {
  // Gzip by content (1f 8b), whatever the name says.
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value as Buffer;
  const rest = Readable.from((async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
  })());
  if (head[0] === 0x1f && head[1] === 0x8b) yield* rest.pipe(createGunzip());
  else yield* rest;
}

async function filesOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isFile() && /\.json(\.gz)?$/.test(e.name)) out.push(join(dir, e.name));
  }
  if (out.length === 0) throw new ClairError('bad-feed', `NVD feed folder ${dir} holds no .json or .json.gz files`);
  return out;
}

async function* apiPages(url: string, opts: FeedOpenOptions): AsyncGenerator<Buffer> {
  const f = opts.fetch ?? fetch;
  for (let start = 0, total = Infinity; start < total; start += PAGE) {
    const u = new URL(url);
    u.searchParams.set('startIndex', String(start));
    u.searchParams.set('resultsPerPage', String(PAGE));
    let res: Response | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await f(u, { headers: { 'user-agent': 'clair-ts' }, ...(opts.signal ? { signal: opts.signal } : {}) });
      } catch (e) {
        throw new ClairError('unavailable', `NVD API ${u.origin}${u.pathname}: ${(e as Error).message}`, { cause: e });
      }
      // 403/429/503 are NVD's rate limiting: wait and ask again, a few times.
      if ((res.status === 403 || res.status === 429 || res.status === 503) && attempt < 4) {
        await res.body?.cancel();
        await sleep(PAGE_PAUSE_MS * attempt, undefined, opts.signal ? { signal: opts.signal } : {});
        continue;
      }
      break;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ClairError('unavailable', `NVD API ${u.origin}${u.pathname} startIndex=${start}: HTTP ${res.status} ${res.statusText}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    try {
      const head = JSON.parse(body.toString('utf8')) as { totalResults?: unknown };
      if (typeof head.totalResults !== 'number') throw new Error('no totalResults');
      total = head.totalResults;
    } catch (e) {
      throw new ClairError('bad-feed', `NVD API page at startIndex=${start} is not an API 2.0 answer: ${(e as Error).message}`);
    }
    yield body;
    if (start + PAGE < total) await sleep(PAGE_PAUSE_MS, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}

/** The location's pages as one byte stream (see above). */
export async function openNvd(location: string, opts: FeedOpenOptions): Promise<FeedOpenResult> {
  if (isHttpLocation(location)) {
    const u = new URL(location);
    if (u.pathname.replace(/\/+$/, '').endsWith('/rest/json/cves/2.0')) return { stream: Readable.from(apiPages(location, opts)) };
    const opened = await openFeed(location, opts);
    return 'notModified' in opened ? opened : { ...opened, stream: Readable.from(gunzipIfNeeded(opened.stream)) };
  }
  const path = feedPath(location);
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    // openFeed names the missing path
  }
  if (!isDir) {
    const opened = await openFeed(location, opts);
    return 'notModified' in opened ? opened : { stream: Readable.from(gunzipIfNeeded(opened.stream)) };
  }
  const files = await filesOf(path);
  const out = new PassThrough();
  (async () => {
    for (const file of files) for await (const chunk of gunzipIfNeeded(createReadStream(file))) if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
    out.end();
  })().catch((e: unknown) => out.destroy(e as Error));
  return { stream: out };
}

/** Records of every page in the stream, as they are parsed. */
export async function* parseNvdPages(feed: Readable, opts: UpdaterOptions): AsyncGenerator<EnrichmentRecord> {
  // pipeline, not pipe: a parse error must reach the loop below instead of escaping as an unhandled 'error'.
  // Loaded here, not at the top: only `update` reads the feed, and every command imports the enrichment registry.
  const [{ parser }, { pick }, { streamValues }] = await Promise.all([
    import('stream-json/parser.js'), import('stream-json/filters/pick.js'), import('stream-json/streamers/stream-values.js'),
  ]);
  const values = pipeline(feed, parser.asStream({ jsonStreaming: true }), pick.asStream({ filter: /^vulnerabilities\.\d+$/ }), streamValues.asStream(), () => {});
  let entries = 0;
  try {
    for await (const item of values as AsyncIterable<{ value: unknown }>) {
      entries++;
      const v = item.value as { cve?: unknown };
      if (typeof v !== 'object' || v === null || typeof v.cve !== 'object' || v.cve === null) {
        throw new ClairError('bad-feed', `${opts.location}: vulnerabilities[] entry without a cve object`);
      }
      const r = cvssRecord(v.cve as Record<string, unknown>);
      if (r) yield r;
    }
  } catch (e) {
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-feed', `${opts.location}: not NVD CVE API 2.0 JSON: ${(e as Error).message}`, { cause: e });
  }
  if (entries === 0) throw new ClairError('bad-feed', `${opts.location}: no CVEs (expected NVD CVE API 2.0 pages with a vulnerabilities array)`);
}

export const nvdUpdater: EnrichmentUpdater = {
  kind: 'enrichment',
  name: NVD_UPDATER,
  version: '1',
  defaultLocation: API,
  type: NVD_TYPE,
  open: openNvd,
  parse: parseNvdPages,
  facts: (e) => (typeof e['baseScore'] === 'number' ? { cvss: { score: e['baseScore'], version: String(e['version'] ?? ''), vector: String(e['vectorString'] ?? '') } } : {}),
};
