import { INTERNAL_INDEX_REPORT_TYPE } from './index-report-json.ts';
import type { Matcher } from '../matcher/matcher.ts';
import { indexReportJson, vulnerabilityJson } from '../model/clair-json.ts';
import { ClairError } from '../model/errors.ts';
import { affectedManifests } from '../matcher/affected-manifests.ts';
import { isLayerContentError, type IndexingService } from '../service/indexing.ts';
import type { Store } from '../store/store.ts';
import { HttpError } from './errors.ts';
import { checkDigest, parseBulkDelete, parseManifest, parseRepositoryHint } from './manifest-json.ts';
import { clairType } from './media-type.ts';
import { unmodified, type ApiAnswer, type ApiRoute } from './route.ts';
import { parseAffectedRequest } from './vulnerability-summary.ts';

// /indexer/api/v1/*: as Clair's httptransport/indexer_v1.go, with the status codes and headers of openapi.yaml.

export const INDEXER_PREFIX = '/indexer/api/v1';
const REPORT_PATH = `${INDEXER_PREFIX}/index_report`;
const VULN_REPORT_PATH = '/matcher/api/v1/vulnerability_report';

export interface IndexerDeps {
  indexing: IndexingService;
  store: Store;
  matchers: readonly Matcher[];
}

/**
 * The status of a failed index, as Clair's: 400 only when a layer's content is not a layer; a layer that cannot be
 * fetched (404, 401, an expired presigned URL, a refused private address, a digest mismatch, a network failure)
 * is 502 and the manifest's IndexError report is stored (service/indexing.ts), so the client retries later.
 */
function indexFailure(e: unknown): unknown {
  if (isLayerContentError(e)) return e;
  if (e instanceof HttpError) return e;
  const internal = e instanceof ClairError && e.code === 'internal';
  const status = e instanceof ClairError && !internal ? 502 : 500;
  const fetching = e instanceof ClairError && ['not-found', 'unauthorized', 'unavailable', 'digest-mismatch', 'bad-input'].includes(e.code);
  const code = status === 500 ? 'internal-error' : fetching ? 'layer-fetch-failed' : 'index-failed';
  return new HttpError(status, e instanceof ClairError ? `indexing failed: ${e.message}` : 'indexing failed; see the server log', { cause: e, code });
}

export function indexerRoutes(d: IndexerDeps): ApiRoute[] {
  const validator = () => `"${d.indexing.state}"`;
  return [
    {
      method: 'POST',
      url: REPORT_PATH,
      consumes: clairType('manifest'),
      produces: clairType('index_report'),
      async handler(req): Promise<ApiAnswer> {
        const m = parseManifest(req.body);
        const repository = parseRepositoryHint(req.body);
        const links = [
          `<${REPORT_PATH}/${m.hash}>; rel="https://projectquay.io/clair/v1/index_report"`,
          `<${VULN_REPORT_PATH}/${m.hash}>; rel="https://projectquay.io/clair/v1/vulnerability_report"`,
        ];
        if (unmodified(req.headers, validator())) return { status: 412, headers: { link: links } };
        // index() throws at once (400) for layer URIs the policy refuses (file://, other schemes); what fails
        // after indexing started is mapped by indexFailure.
        const indexing = d.indexing.index(m);
        let report;
        try {
          ({ report } = await indexing);
        } catch (e) {
          throw indexFailure(e);
        }
        if (repository !== undefined) await d.store.putManifestRepository(m.hash, repository);
        return { status: 201, headers: { location: `${REPORT_PATH}/${m.hash}`, link: links, etag: validator() }, body: indexReportJson(report) };
      },
    },
    {
      method: 'DELETE',
      url: REPORT_PATH,
      consumes: clairType('bulk_delete'),
      produces: clairType('bulk_delete'),
      async handler(req) {
        const deleted = await d.indexing.delete(parseBulkDelete(req.body));
        return { status: 200, body: deleted };
      },
    },
    {
      method: 'GET',
      url: `${REPORT_PATH}/:digest`,
      // clair-ts's own matcher (matcher.indexer_addr) asks for the report as stored: Clair's JSON has no place for what
      // the matcher also needs (the layer order, OS ownership of language packages). Clair's clients never ask for it.
      produces: [clairType('index_report'), INTERNAL_INDEX_REPORT_TYPE],
      async handler(req) {
        const digest = checkDigest(req.params.digest, 'path digest');
        if (unmodified(req.headers, validator())) return { status: 304 };
        const report = await d.indexing.report(digest);
        if (!report) throw new HttpError(404, `index report for manifest ${digest} not found`);
        return { status: 200, headers: { etag: validator() }, body: req.accepts === INTERNAL_INDEX_REPORT_TYPE ? report : indexReportJson(report) };
      },
    },
    {
      method: 'DELETE',
      url: `${REPORT_PATH}/:digest`,
      async handler(req) {
        const digest = checkDigest(req.params.digest, 'path digest');
        await d.indexing.delete([digest]);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      url: `${INDEXER_PREFIX}/index_state`,
      produces: clairType('index_state'),
      async handler(req) {
        const etag = validator();
        if (unmodified(req.headers, etag)) return { status: 304, headers: { etag } };
        return { status: 200, headers: { etag }, body: { state: d.indexing.state } };
      },
    },
    {
      method: 'POST',
      url: `${INDEXER_PREFIX}/internal/affected_manifest`,
      consumes: clairType('vulnerability_summaries'),
      produces: clairType('affected_manifests'),
      async handler(req) {
        const input = parseAffectedRequest(req.body);
        const r = await affectedManifests(d.store, d.matchers, input);
        const vulnerabilities: Record<string, unknown> = {};
        for (const [id, v] of r.vulnerabilities) vulnerabilities[id] = vulnerabilityJson(id, v);
        return { status: 200, body: { vulnerabilities, vulnerable_manifests: r.vulnerableManifests } };
      },
    },
  ];
}
