import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServiceMetrics } from './metrics.ts';

// The introspection server (introspection_addr), as Clair's: /healthz (the process answers), /readyz (the API is
// listening and not shutting down), /metrics (Prometheus text). Never authenticated: probes and scrapers do not
// carry tokens, and nothing here reveals image or vulnerability data.

export function createIntrospectionApp(d: { metrics: ServiceMetrics; ready: () => boolean; logger: Logger }): FastifyInstance {
  const app = Fastify({
    // Probes and scrapers call every few seconds: their requests are not worth a log line.
    loggerInstance: d.logger.child({ server: 'introspection' }, { level: 'warn' }) as FastifyBaseLogger,
    forceCloseConnections: true,
  });
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok\n'));
  app.get('/readyz', async (_req, reply) => (d.ready() ? reply.type('text/plain').send('ready\n') : reply.code(503).type('text/plain').send('not ready\n')));
  app.get('/metrics', async (_req, reply) => reply.type(d.metrics.registry.contentType).send(await d.metrics.registry.metrics()));
  return app;
}
