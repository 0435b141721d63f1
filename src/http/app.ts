import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { codeForStatus, errorAnswer, HttpError } from './errors.ts';
import { indexerRoutes, type IndexerDeps } from './indexer-routes.ts';
import { matcherRoutes, type MatcherDeps } from './matcher-routes.ts';
import type { ServiceMetrics } from './metrics.ts';
import { notifierRoutes, type NotifierDeps } from './notifier-routes.ts';
import { pskVerifier, type PskConfig } from './psk-auth.ts';
import { registerRoutes } from './route.ts';
import { subscriptionRoutes } from './subscription-routes.ts';
import { deliveryHostCheck } from '../service/delivery-host-check.ts';

// The API server: the routes of the services this process runs (indexer, matcher, notifier; all of them in
// combo mode), PSK auth when configured, Clair's error bodies, request metrics.

export interface ApiDeps {
  indexer?: IndexerDeps;
  matcher?: MatcherDeps;
  notifier?: NotifierDeps;
  psk?: PskConfig;
  metrics: ServiceMetrics;
  logger: Logger;
  bodyLimit: number;
  requestTimeoutMs: number;
}

// application/json, and the vendor types application/vnd.clair.<name>.v1+json, with or without parameters.
const JSON_BODY = /^application\/(?:vnd\.clair\.[a-z0-9_.]+\.v1\+)?json(?:\s*;.*)?$/i;

export function createApiApp(d: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: d.logger as FastifyBaseLogger,
    bodyLimit: d.bodyLimit,
    // Time to receive the whole request; the handler's own limit is enforced per route (route.ts).
    requestTimeout: d.requestTimeoutMs,
    // Clair's 503 body instead of Fastify's own while closing (the onRequest hook below).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Path parameters up to a sha512 digest ("sha512:" + 128 hex) and more: Fastify's default of 100 answered 414.
    routerOptions: { maxParamLength: 512 },
    // Errors raised by the framework before any route runs get Clair's error shape too ({code, message}), not
    // Fastify's {error, message, statusCode}.
    frameworkErrors: (err, _req, reply) => {
      const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : err.code === 'FST_ERR_BAD_URL' ? 400 : 500;
      const message = status === 414 ? 'a path parameter is too long' : status === 400 ? 'the request path is not a valid URL' : 'internal error; see the server log';
      void sendClairError(reply, status, codeForStatus(status), message);
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, text, message] =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request was not received in time']
        : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'request headers too large']
        : [400, 'Bad Request', 'malformed HTTP request'];
      const body = JSON.stringify({ code: codeForStatus(status), message });
      if (socket.writable) socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
      socket.destroy(err);
    },
  });

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (closing) return sendClairError(reply.header('connection', 'close'), 503, 'unavailable', 'the server is shutting down; retry on another instance');
  });

  app.removeAllContentTypeParsers();
  const parseJson = (text: string, done: (err: Error | null, body?: unknown) => void) => {
    if (text === '') return done(new HttpError(400, 'request body is empty; expected JSON'), undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  };
  app.addContentTypeParser(JSON_BODY, { parseAs: 'string' }, (_req, text, done) => parseJson(text as string, done));
  // A body without Content-Type is JSON: clairctl sends its index_report and bulk DELETE bodies chunked and
  // untyped, and Clair never looks at the type. A body of another declared type stays a 415 (route.ts).
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, text, done) => {
    if (req.headers['content-type'] === undefined) return parseJson(text as string, done);
    done(new HttpError(415, `request body must be JSON (application/json or a Clair vendor type), not ${req.headers['content-type']}`), undefined);
  });

  if (d.psk) {
    const verify = pskVerifier(d.psk);
    app.addHook('onRequest', async (req) => {
      await verify(req.headers.authorization);
    });
  }

  app.addHook('onResponse', async (req, reply) => {
    d.metrics.request(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (err, req, reply) => {
    if (reply.sent) return;
    const a = errorAnswer(err);
    if (a.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ status: a.status, code: a.code, reason: a.message }, 'request refused');
    return reply.code(a.status).header('content-type', 'application/json').header('x-content-type-options', 'nosniff').send(Buffer.from(JSON.stringify({ code: a.code, message: a.message })));
  });

  app.setNotFoundHandler(async (req, reply) => {
    return reply.code(404).header('content-type', 'application/json').send(Buffer.from(JSON.stringify({ code: 'not-found', message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` })));
  });

  const opts = { timeoutMs: d.requestTimeoutMs };
  if (d.indexer) registerRoutes(app, indexerRoutes(d.indexer), opts);
  if (d.matcher) registerRoutes(app, matcherRoutes(d.matcher), opts);
  if (d.notifier) registerRoutes(app, notifierRoutes(d.notifier), opts);
  if (d.notifier) registerRoutes(app, subscriptionRoutes({ store: d.notifier.store, checkHost: d.notifier.checkHost ?? deliveryHostCheck(false) }), opts);
  return app;
}

function sendClairError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .header('x-content-type-options', 'nosniff')
    .send(Buffer.from(JSON.stringify({ code, message })));
}
