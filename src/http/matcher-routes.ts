import { createHash } from 'node:crypto';
import { chooseCoding, codedValidator, encode, type Coding } from './content-coding.ts';
import type { Matcher } from '../matcher/matcher.ts';
import { LruCache } from '../model/lru-cache.ts';
import { buildVulnerabilityReport } from '../matcher/vulnerability-report.ts';
import { feedFreshness, freshnessHeader } from '../report/scan-report.ts';
import { GO_ZERO_TIME, vulnerabilityJson, vulnerabilityReportJson } from '../model/clair-json.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import type { IndexReport } from '../model/index-report.ts';
import type { IndexReportSource } from './index-report-source.ts';
import type { Store } from '../store/store.ts';
import { HttpError } from './errors.ts';
import { checkDigest } from './manifest-json.ts';
import { clairType } from './media-type.ts';
import type { ServiceMetrics } from './metrics.ts';
import { unmodified, type ApiAnswer, type ApiRoute } from './route.ts';
import { ReportStampBatcher } from './report-stamps.ts';
import { isUuid } from '../model/uuid.ts';

// /matcher/api/v1/*: as Clair's httptransport/matcher_v1.go.

import type { EnrichmentUpdater } from '../updater/updater.ts';

export const MATCHER_PREFIX = '/matcher/api/v1';

export interface MatcherDeps {
  store: Store;
  matchers: readonly Matcher[];
  /** Enrichment updaters whose data the reports attach (and whose operations are of kind "enrichment"). */
  enrichers: readonly EnrichmentUpdater[];
  reports: IndexReportSource;
  metrics?: ServiceMetrics;
}

function operationJson(op: UpdateOperation, kind: 'vulnerability' | 'enrichment' = 'vulnerability'): Record<string, unknown> {
  return { ref: op.ref, updater: op.updater, fingerprint: op.fingerprint, date: op.date, kind };
}

/** driver.UpdateOperation's zero value as Go encodes it: what Clair writes for an absent `prev`. */
const NO_OPERATION = { ref: '00000000-0000-0000-0000-000000000000', updater: '', fingerprint: '', date: GO_ZERO_TIME, kind: '' };

function checkRef(value: string | undefined, what: string): string {
  if (value === undefined || !isUuid(value.toLowerCase())) throw new HttpError(400, `${what} must be an update operation ref (a UUID), got ${JSON.stringify(value ?? '')}`);
  return value.toLowerCase();
}

/** A strong validator of a vulnerability report: the index report's content and the current operation of each updater. */
function reportValidator(index: unknown, ops: readonly UpdateOperation[]): string {
  const current = new Map<string, string>();
  for (const op of ops) if (!current.has(op.updater)) current.set(op.updater, op.ref); // newest first
  const h = createHash('sha256').update(JSON.stringify(index));
  for (const [u, ref] of [...current].sort()) h.update(`\n${u}=${ref}`);
  return `"vr-${h.digest('hex').slice(0, 40)}"`;
}

/** The committed update operations as of one operations stamp, and what reports derive from them. */
interface OperationsView {
  ops: UpdateOperation[];
  /** The operations' refs, newest first: a report's validator and freshness header hold while this is unchanged. */
  key: string;
  /** Some updater stored a non-empty operation (else the matcher is not initialized: 202). */
  initialized: boolean;
}

/** A serialized report and its coded forms, each made once (concurrent requests share the work in progress). */
interface CachedReport {
  raw: Promise<Buffer>;
  coded: Partial<Record<Coding, Promise<Buffer>>>;
}

export function matcherRoutes(d: MatcherDeps): ApiRoute[] {
  // Serialized reports by validator, each with its gzip and br forms once asked for. A report of a large image is
  // a few MB as JSON.
  const reportCache = new LruCache<string, CachedReport>(32);
  // Per manifest: the validator and freshness header last computed, with the index report stamp and operations
  // they hold for.
  const validators = new LruCache<string, { stamp: string; opsKey: string; base: string; feeds: string }>(4096);
  // Per request, one batched read of the stamps (report-stamps.ts); the index report's stamp only when the store
  // holds the index reports (combo mode); a remote indexer's report is read and hashed per request.
  const stamps = new ReportStampBatcher((hashes) => d.store.getReportStamps(d.reports.fromStore ? hashes : []));
  // The operations are listed again only when their stamp changes (an update, a delete, here or on another instance).
  let opsView: { stamp: string; view: Promise<OperationsView> } | undefined;
  const operations = (stamp: string): Promise<OperationsView> => {
    if (opsView?.stamp !== stamp) {
      const view = d.store.listUpdateOperations().then((ops) => ({ ops, key: ops.map((op) => op.ref).join(','), initialized: ops.some((op) => op.count > 0) }));
      const entry = { stamp, view };
      opsView = entry;
      view.catch(() => {
        if (opsView === entry) opsView = undefined;
      });
    }
    return opsView.view;
  };
  return [
    {
      method: 'GET',
      url: `${MATCHER_PREFIX}/vulnerability_report/:digest`,
      produces: clairType('vulnerability_report'),
      async handler(req) {
        const digest = checkDigest(req.params.digest, 'path digest');
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        try {
          const current = await stamps.get(digest);
          const { ops, key: opsKey, initialized } = await operations(current.operations);
          // As Clair's matcher (Initialized: the vulnerability store holds no record yet): 202 Accepted with no
          // body until some updater has stored a non-empty operation, instead of a report that looks clean only
          // because no feed was loaded. Quay and clairctl retry later.
          if (!initialized) {
            d.metrics?.matched('not-initialized', seconds());
            const accepted: ApiAnswer = { status: 202, headers: { 'retry-after': '60' } };
            return accepted;
          }
          // The validator and freshness header of a report depend on the index report and the current operations
          // only: while the stored report's stamp and the operations are unchanged, they are reused and the index
          // report is not read at all (a large image's is megabytes of JSON to parse and hash).
          const stamp = current.indexReport;
          let known = stamp === undefined ? undefined : validators.get(digest);
          if (known && (known.stamp !== stamp || known.opsKey !== opsKey)) known = undefined;
          let index: IndexReport | undefined;
          const readIndex = async () => {
            const r = await d.reports.get(digest);
            // As Clair: a report that ended in IndexError has nothing to match: 404.
            if (!r || r.state !== 'IndexFinished') {
              d.metrics?.matched('not-found', seconds());
              throw new HttpError(404, r
                ? `manifest ${digest} did not index (IndexError: ${r.err}); index it again (POST /indexer/api/v1/index_report)`
                : `index report for manifest ${digest} not found; index it first (POST /indexer/api/v1/index_report)`);
            }
            return r;
          };
          if (!known) {
            index = await readIndex();
            // Clair's JSON has no place for the data's age: a header says, per feed covering the image, which update
            // operation the report was made from and when it was stored ("none" for a feed without data).
            known = { stamp: stamp ?? '', opsKey, base: reportValidator(index, ops), feeds: freshnessHeader(feedFreshness(index, ops, d.matchers)) };
            if (stamp !== undefined) validators.set(digest, known);
          }
          // A report is a function of the index report and the newest operation of each updater: while neither
          // changes, the same bytes are served again (and a client holding them gets 304).
          const coding = chooseCoding(req.headers);
          const base = known.base;
          const etag = codedValidator(base, coding);
          const vary = { vary: 'accept-encoding' };
          if (unmodified(req.headers, etag)) return { status: 304, headers: { etag, ...vary } };
          let cached = reportCache.get(base);
          if (!cached) {
            // Built once: requests arriving while it is built wait for the same build rather than each starting one.
            const built = (async () => {
              const idx = index ?? (await readIndex());
              const vr = await buildVulnerabilityReport(d.store, d.matchers, idx, d.enrichers);
              return Buffer.from(JSON.stringify(vulnerabilityReportJson(idx, vr.vulnerabilities, vr.packageVulnerabilities, vr.enrichments)));
            })();
            const entry: CachedReport = { raw: built, coded: {} };
            cached = entry;
            reportCache.set(base, entry);
            built.catch(() => {
              if (reportCache.get(base) === entry) reportCache.delete(base);
            });
          }
          const entry = cached;
          const raw = coding ? await (entry.coded[coding] ??= entry.raw.then((b) => encode(b, coding))) : await entry.raw;
          d.metrics?.matched('ok', seconds());
          const feeds = known.feeds;
          // openapi.yaml says 201 here, but Clair answers 200 and its clients (clairctl) accept only 200.
          return {
            status: 200, rawJson: raw,
            headers: { etag, ...vary, ...(coding ? { 'content-encoding': coding } : {}), ...(feeds ? { 'clair-ts-feed-freshness': feeds } : {}) },
          };
        } catch (e) {
          if (!(e instanceof HttpError)) d.metrics?.matched('error', seconds());
          throw e;
        }
      },
    },
    {
      method: 'GET',
      url: `${MATCHER_PREFIX}/internal/update_operation`,
      produces: clairType('update_operations'),
      async handler(req) {
        const kind = req.query.kind ?? 'vulnerability';
        if (kind !== 'vulnerability' && kind !== 'enrichment') throw new HttpError(400, `unknown kind ${JSON.stringify(kind)}; expected vulnerability or enrichment`);
        const latestParam = (req.query.latest ?? 'false').toLowerCase();
        if (!['true', 'false', '1', '0', 't', 'f'].includes(latestParam)) throw new HttpError(400, `latest must be true or false, got ${JSON.stringify(req.query.latest)}`);
        const latest = ['true', '1', 't'].includes(latestParam);
        const enrichers = new Set(d.enrichers.map((u) => u.name));
        const ops = (await d.store.listUpdateOperations()).filter((op) => enrichers.has(op.updater) === (kind === 'enrichment'));
        const headers: Record<string, string> = {};
        if (ops[0]) {
          const validator = `"${ops[0].ref}"`;
          if (unmodified(req.headers, validator)) return { status: 304, headers: { etag: validator } };
          headers.etag = validator;
        }
        const byUpdater: Record<string, Record<string, unknown>[]> = {};
        for (const op of ops) {
          const list = (byUpdater[op.updater] ??= []);
          if (!latest || list.length === 0) list.push(operationJson(op, kind));
        }
        return { status: 200, headers, body: byUpdater };
      },
    },
    {
      method: 'DELETE',
      url: `${MATCHER_PREFIX}/internal/update_operation/:ref`,
      async handler(req) {
        await d.store.deleteUpdateOperations([checkRef(req.params.ref, 'path ref')]);
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      url: `${MATCHER_PREFIX}/internal/update_diff`,
      produces: clairType('update_diff'),
      async handler(req) {
        // As Clair's handler: cur is required, prev optional (a client that lost its state diffs against nothing).
        const cur = checkRef(req.query.cur, 'query parameter cur');
        const prev = req.query.prev ? checkRef(req.query.prev, 'query parameter prev') : undefined;
        const curOp = await d.store.getUpdateOperation(cur);
        if (!curOp) throw new HttpError(404, `update operation ${cur} not found`);
        const prevOp = prev ? await d.store.getUpdateOperation(prev) : undefined;
        if (prev && !prevOp) throw new HttpError(404, `update operation ${prev} not found`);
        for (const op of [curOp, prevOp]) {
          if (op && d.enrichers.some((u) => u.name === op.updater)) throw new HttpError(400, `update operation ${op.ref} holds enrichment data (${op.updater}): diffs compare vulnerability operations`);
        }
        const diff = await d.store.diffUpdateOperations(prev, cur);
        return {
          status: 200,
          body: {
            // Clair's UpdateDiff.Prev is a struct, not a pointer: without a previous operation it is Go's zero value.
            prev: prevOp ? operationJson(prevOp) : NO_OPERATION,
            cur: operationJson(curOp),
            added: diff.added.map((v) => vulnerabilityJson(v.id, v)),
            removed: diff.removed.map((v) => vulnerabilityJson(v.id, v)),
          },
        };
      },
    },
  ];
}
