import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatDuration } from '../config/duration.ts';
import { HttpError } from './errors.ts';
import { JSON_TYPE, mediaTypeOf, negotiate } from './media-type.ts';

// The API's routes are plain async functions from a parsed request to an answer; this module does the HTTP
// around them the same way for every route: request media type (415), response media type negotiation (415 as
// Clair), the per-request time limit (503), 405 for a known path with another method, JSON out.

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
  headers: FastifyRequest['headers'];
  /** The answer's media type as negotiated from Accept among the route's `produces` and application/json. */
  accepts?: string;
}

export interface ApiAnswer {
  status: number;
  body?: unknown;
  /** The body already serialized as JSON (a cached answer); sent as it is instead of `body`. */
  rawJson?: Buffer;
  headers?: Record<string, string | string[]>;
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** Vendor media type(s) of the answer, offered in this order, then application/json. */
  produces?: string | readonly string[];
  /** Vendor media type of the request body, accepted with application/json; the body is then required. */
  consumes?: string;
  handler(req: ApiRequest): Promise<ApiAnswer>;
}

/** Is the request's If-None-Match one of (or "*" for) this validator? As Clair's `unmodified`. */
export function unmodified(headers: FastifyRequest['headers'], validator: string): boolean {
  const v = headers['if-none-match'];
  if (v === undefined) return false;
  return v.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === validator;
  });
}

/** Accept values whose negotiated type a route keeps. */
const MAX_NEGOTIATED = 64;

export function registerRoutes(app: FastifyInstance, routes: readonly ApiRoute[], opts: { timeoutMs: number }): void {
  const methodsByUrl = new Map<string, Set<string>>();
  for (const r of routes) {
    (methodsByUrl.get(r.url) ?? methodsByUrl.set(r.url, new Set()).get(r.url)!).add(r.method);
    const offered = r.produces ? [...(typeof r.produces === 'string' ? [r.produces] : r.produces), JSON_TYPE] : undefined;
    // Negotiated once per Accept value: clients send the same few ("*/*", a vendor type, application/json), and
    // parsing one was a few µs of a cached report GET. Cleared when full: the values are the client's to choose.
    const negotiated = new Map<string | undefined, string | undefined>();
    app.route({
      method: r.method,
      url: r.url,
      handler: async (req, reply) => {
        if (r.consumes) {
          // No Content-Type is taken as JSON, as Clair (which never checks it) and clairctl (which never sends it).
          const type = mediaTypeOf(req.headers['content-type']);
          if (type !== undefined && type !== JSON_TYPE && type !== r.consumes) {
            throw new HttpError(415, `request body must be ${r.consumes} or ${JSON_TYPE}, not ${type ?? '(no Content-Type)'}`);
          }
          if (req.body === undefined) throw new HttpError(400, 'request body required');
        }
        let type: string | undefined;
        if (offered) {
          const accept = req.headers.accept;
          if (negotiated.has(accept)) type = negotiated.get(accept);
          else {
            if (negotiated.size >= MAX_NEGOTIATED) negotiated.clear();
            negotiated.set(accept, (type = negotiate(accept, offered)));
          }
          if (type === undefined) throw new HttpError(415, `unable to negotiate a common media type; this endpoint answers ${offered.join(' or ')}`);
        }
        const answer = await withTimeout(
          r.handler({ params: req.params as Record<string, string>, query: req.query as Record<string, string | undefined>, body: req.body, headers: req.headers, ...(type ? { accepts: type } : {}) }),
          opts.timeoutMs,
        );
        reply.code(answer.status);
        for (const [k, v] of Object.entries(answer.headers ?? {})) reply.header(k, v);
        if (answer.rawJson) return reply.header('content-type', type ?? JSON_TYPE).send(answer.rawJson);
        if (answer.body === undefined) return reply.send();
        // A Buffer, so Fastify sends the media type as negotiated (a string would get "; charset=utf-8" appended).
        return reply.header('content-type', type ?? JSON_TYPE).send(Buffer.from(JSON.stringify(answer.body)));
      },
    });
  }
  for (const [url, methods] of methodsByUrl) {
    const others = (['GET', 'POST', 'DELETE', 'PUT', 'PATCH'] as const).filter((m) => !methods.has(m) && !(m === 'GET' && methods.has('GET')));
    const allow = [...methods].join(', ');
    app.route({
      method: others,
      url,
      handler: async (req, reply) => {
        reply.header('allow', allow);
        throw new HttpError(405, `method ${req.method} is not allowed on ${url}; allowed: ${allow}`);
      },
    });
  }
}

/** The handler's answer, or 503 when it takes longer than the limit. The work itself is not cancelled. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpError(503, `request took longer than ${formatDuration(ms)} (http.request_timeout)`, { code: 'timeout' })), ms);
  });
  // If the limit wins, the handler's later failure must not become an unhandled rejection.
  p.catch(() => {});
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}
