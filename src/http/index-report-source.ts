import { withIdleTimeout } from '../model/idle-timeout-fetch.ts';
import { intraserviceToken } from './psk-auth.ts';
import { ClairError } from '../model/errors.ts';
import type { IndexReport } from '../model/index-report.ts';
import type { Store } from '../store/store.ts';
import { INTERNAL_INDEX_REPORT_TYPE, indexReportFromJson, internalIndexReportFromJson } from './index-report-json.ts';

// Where the matcher gets IndexReports: the store it shares with the indexer (combo mode), or the indexer's API
// (matcher mode, matcher.indexer_addr), authenticated with the intra-service PSK token when auth is configured.

export interface IndexReportSource {
  get(manifestHash: string): Promise<IndexReport | undefined>;
  /**
   * The reports are the matcher's store's own (combo mode): its index report stamps (Store.getReportStamps) tell
   * when one changes, without reading it.
   */
  fromStore?: true;
}

export function storeIndexReports(store: Store): IndexReportSource {
  return { get: async (hash) => (await store.getIndexReport(hash))?.report, fromStore: true };
}

export function remoteIndexReports(indexerAddr: string, opts: { pskKey?: Uint8Array; fetch?: typeof fetch; timeoutMs?: number } = {}): IndexReportSource {
  const base = indexerAddr.replace(/\/+$/, '');
  const f = withIdleTimeout(opts.fetch ?? fetch);
  return {
    get: async (hash) => {
      const url = `${base}/indexer/api/v1/index_report/${encodeURIComponent(hash)}`;
      // The report as a clair-ts indexer stores it when it can give that; Clair's JSON from any other indexer.
      const headers: Record<string, string> = { accept: `${INTERNAL_INDEX_REPORT_TYPE}, application/json;q=0.5` };
      if (opts.pskKey) headers.authorization = `Bearer ${await intraserviceToken(opts.pskKey, base)}`;
      let res: Response;
      try {
        res = await f(url, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000) });
      } catch (e) {
        throw new ClairError('unavailable', `indexer ${base}: ${(e as Error).message}`, { cause: e });
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (res.status !== 200) {
        const text = await res.text().catch(() => '');
        throw new ClairError('unavailable', `indexer ${base} answered HTTP ${res.status} for ${hash}: ${text.slice(0, 200)}`);
      }
      let doc: unknown;
      try {
        doc = await res.json();
      } catch (e) {
        throw new ClairError('unavailable', `indexer ${base} sent an index report for ${hash} that is not JSON: ${(e as Error).message}`, { cause: e });
      }
      const what = `indexer ${base} report for ${hash}`;
      return (res.headers.get('content-type') ?? '').startsWith(INTERNAL_INDEX_REPORT_TYPE) ? internalIndexReportFromJson(doc, what) : indexReportFromJson(doc, what);
    },
  };
}
