import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../config/duration.ts';
import { resolveDbLocation } from '../config/db-location.ts';
import type { ServeConfig } from '../config/load-config.ts';
import type { Matcher } from '../matcher/matcher.ts';
import type { ScannerRecipe } from '../indexer/layer-workers.ts';
import type { Scanner } from '../indexer/scanner.ts';
import { createApiApp } from '../http/app.ts';
import { createIntrospectionApp } from '../http/introspection.ts';
import { parseListenAddress } from '../http/listen-address.ts';
import { ServiceMetrics } from '../http/metrics.ts';
import { ClairError, errorMessage } from '../model/errors.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import { isEnrichmentUpdater, type AnyUpdater, type EnrichmentUpdater } from '../updater/updater.ts';
import { Notifier } from '../notifier/notifier.ts';
import { remoteIndexReports, storeIndexReports } from '../http/index-report-source.ts';
import { IndexingService } from '../service/indexing.ts';
import { deliveryHostCheck } from '../service/delivery-host-check.ts';
import { displayLocation, UpdaterScheduler, type UpdaterTarget } from '../service/updater-scheduler.ts';

// Wiring of `clair-ts serve` for one mode:
//   combo    indexer + matcher + notifier routes on one store; updaters in this process
//   indexer  indexer routes on indexer.connstring
//   matcher  matcher routes on matcher.connstring; index reports from matcher.indexer_addr; updaters here
//   notifier notifier routes and loops on notifier.connstring, which must be the store the matcher writes (a shared
//            PostgreSQL): notifications are computed from its update operations and index reports
// combo and notifier modes run the notifier (src/notifier): notifications for each new update operation, delivered
// by notifier.webhook / notifier.amqp when configured.

export const SERVE_MODES = ['combo', 'indexer', 'matcher', 'notifier'] as const;
export type ServeMode = (typeof SERVE_MODES)[number];

export interface Ecosystems {
  scanners: readonly Scanner[];
  matchers: readonly Matcher[];
  /** Enrichments attached to reports; the updaters that feed them are among `updaters`. */
  enrichers?: readonly EnrichmentUpdater[];
  updaters: readonly AnyUpdater[];
  /** How layer worker threads build `scanners` (Indexer); without it every layer is scanned on the main thread. */
  scannerRecipe?: ScannerRecipe;
}

export interface StartOptions {
  mode: ServeMode;
  /** --db: wins over the config's connstring. */
  db?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Default: every ecosystem of src/ecosystems/registry.ts. */
  ecosystems?: Ecosystems;
  /** First retry delay of a failed updater (tests shorten it). */
  updaterRetryBaseMs?: number;
  /** First retry delay of a failed notification delivery (tests shorten it). */
  notifierRetryBaseMs?: number;
  /**
   * How long close() lets in-flight requests and background work finish before cutting them off (default 20 s,
   * or CLAIR_TS_SHUTDOWN_GRACE as a duration such as "5s"). Shutdown always completes: a request stalled on a
   * layer server does not hold SIGTERM hostage.
   */
  shutdownGraceMs?: number;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;

/** Waits for `p`, at most until `deadline`; true when it settled in time. */
async function settledBefore(p: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RunningService {
  mode: ServeMode;
  apiUrl: string;
  introspectionUrl: string;
  /** The store this process opened. */
  store: Store | undefined;
  /** The notifier (combo and notifier modes). */
  notifier: Notifier | undefined;
  metrics: ServiceMetrics;
  logger: Logger;
  api: FastifyInstance;
  /** Stops accepting, lets in-flight requests finish, stops updaters, closes the store. Idempotent. */
  close(): Promise<void>;
}

async function registryEcosystems(config: ServeConfig, env: NodeJS.ProcessEnv): Promise<Ecosystems> {
  const r = await import('../ecosystems/registry.ts');
  const { loadEcosystemOptions } = await import('../config/ecosystem-options.ts');
  const options = loadEcosystemOptions(config.indexer, env);
  const ecosystems = r.buildEcosystems(options);
  const feeds = r.allFeeds(ecosystems);
  return { scanners: r.allScanners(ecosystems), scannerRecipe: r.scannerRecipe(options), matchers: r.allMatchers(ecosystems), updaters: feeds, enrichers: feeds.filter(isEnrichmentUpdater) };
}

/** Updaters to run and where their feeds are, from updaters.sets and updaters.config.<name>.url. */
export function updaterTargets(config: ServeConfig, updaters: readonly AnyUpdater[]): UpdaterTarget[] {
  const known = new Map(updaters.map((u) => [u.name, u]));
  const names = config.updaters.sets ?? [...known.keys()];
  const unknownSets = names.filter((n) => !known.has(n));
  if (unknownSets.length > 0) throw new ClairError('bad-input', `config updaters.sets: unknown updater ${unknownSets.join(', ')}; known: ${[...known.keys()].join(', ')}`);
  const unknownConfig = Object.keys(config.updaters.locations).filter((n) => !known.has(n));
  if (unknownConfig.length > 0) throw new ClairError('bad-input', `config updaters.config: unknown updater ${unknownConfig.join(', ')}; known: ${[...known.keys()].join(', ')}`);
  return names.map((n) => ({ updater: known.get(n)!, location: config.updaters.locations[n] ?? known.get(n)!.defaultLocation }));
}

function urlOf(app: FastifyInstance): string {
  const a = app.server.address();
  if (a === null || typeof a === 'string') return String(a);
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
  return `http://${host}:${a.port}`;
}

async function listen(app: FastifyInstance, a: { host: string; port: number }, key: string): Promise<void> {
  try {
    await app.listen({ host: a.host, port: a.port });
  } catch (e) {
    throw new ClairError('unavailable', `${key}: cannot listen on ${a.host}:${a.port}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`, { cause: e });
  }
}

export async function startService(config: ServeConfig, opts: StartOptions): Promise<RunningService> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'clair-ts', mode: opts.mode } });
  const mode = opts.mode;
  const api = parseListenAddress(config.httpListenAddr, 'http_listen_addr');
  const intro = parseListenAddress(config.introspectionAddr, 'introspection_addr');
  if (mode === 'matcher' && !config.matcher.indexerAddr) {
    throw new ClairError('bad-input', 'matcher mode needs matcher.indexer_addr (CLAIR_TS_MATCHER_INDEXER_ADDR): the indexer to read index reports from');
  }
  // The notifier decides which manifests a record affects with the ecosystems' matchers, so notifier mode loads them too.
  const eco = opts.ecosystems ?? (await registryEcosystems(config, env));
  const runUpdaters = (mode === 'combo' || mode === 'matcher') && !config.matcher.disableUpdaters;
  const targets = runUpdaters ? updaterTargets(config, eco.updaters) : [];

  const location =
    opts.db ??
    (mode === 'notifier' ? config.notifier.connstring : undefined) ??
    (mode === 'matcher' ? config.matcher.connstring : (config.indexer.connstring ?? (mode === 'combo' ? config.matcher.connstring : undefined))) ??
    resolveDbLocation(undefined, env);
  if (mode === 'combo' && config.indexer.connstring && config.matcher.connstring && config.indexer.connstring !== config.matcher.connstring && !opts.db) {
    throw new ClairError('bad-input', 'combo mode uses one store: indexer.connstring and matcher.connstring differ; set one of them');
  }
  const store = await openStore(location);
  const metrics = new ServiceMetrics();
  const checkHost = deliveryHostCheck(config.notifier.allowPrivateAddresses);
  let ready = false;
  let scheduler: UpdaterScheduler | undefined;
  let notifier: Notifier | undefined;
  let apiApp: FastifyInstance | undefined;
  let introApp: FastifyInstance | undefined;

  const graceMs = opts.shutdownGraceMs ?? (env.CLAIR_TS_SHUTDOWN_GRACE ? parseDuration(env.CLAIR_TS_SHUTDOWN_GRACE, 'CLAIR_TS_SHUTDOWN_GRACE') : DEFAULT_SHUTDOWN_GRACE_MS);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      ready = false;
      const deadline = Date.now() + graceMs;
      // Fastify's close stops accepting, answers 503 to new requests on kept-alive connections and waits for the
      // in-flight ones; only then is the store closed under them. Past the grace period, connections still open
      // are cut (their requests end with the socket) and the shutdown goes on.
      if (apiApp && !(await settledBefore(apiApp.close(), deadline))) {
        logger.warn({ graceMs }, 'in-flight requests did not finish within the shutdown grace period; closing their connections');
        apiApp.server.closeAllConnections();
      }
      for (const [what, stop] of [['updaters', scheduler?.stop()], ['notifier', notifier?.stop()], ['introspection', introApp?.close()]] as const) {
        if (stop && !(await settledBefore(stop, deadline + 1000))) logger.warn({ what }, 'did not stop within the shutdown grace period; leaving it');
      }
      await store?.close();
      logger.info('stopped');
    })());

  try {
    const indexing =
      store && (mode === 'combo' || mode === 'indexer')
        ? new IndexingService(store, eco.scanners, {
            policy: { allowFileUris: config.indexer.allowFileUris, allowPrivateAddresses: config.indexer.allowPrivateAddresses },
            concurrency: config.indexer.layerScanConcurrency,
            observer: metrics,
            ...(eco.scannerRecipe ? { workers: eco.scannerRecipe } : {}),
          })
        : undefined;
    const pskKey = config.auth.psk?.key;
    apiApp = createApiApp({
      ...(indexing && store ? { indexer: { indexing, store, matchers: eco.matchers } } : {}),
      ...(store && (mode === 'combo' || mode === 'matcher')
        ? {
            matcher: {
              store,
              matchers: eco.matchers,
              enrichers: eco.enrichers ?? [],
              reports: mode === 'combo' ? storeIndexReports(store) : remoteIndexReports(config.matcher.indexerAddr!, pskKey ? { pskKey } : {}),
              metrics,
            },
          }
        : {}),
      ...(mode === 'combo' || mode === 'notifier' ? { notifier: { store, checkHost } } : {}),
      ...(config.auth.psk ? { psk: config.auth.psk } : {}),
      metrics,
      logger,
      bodyLimit: config.http.bodyLimit,
      requestTimeoutMs: config.http.requestTimeoutMs,
    });
    introApp = createIntrospectionApp({ metrics, ready: () => ready, logger });
    if (mode === 'combo' || mode === 'notifier') {
      notifier = new Notifier(store, eco.matchers, config.notifier, {
        log: logger.child({ component: 'notifier' }),
        ...(config.auth.psk ? { pskKey: config.auth.psk.key } : {}),
        ...(opts.notifierRetryBaseMs !== undefined ? { retryBaseMs: opts.notifierRetryBaseMs } : {}),
        channel: { checkHost },
        observer: metrics,
      });
      const withDeliverers = notifier.deliverers.length > 0;
      metrics.watchSubscriptionBacklog(async () => {
        const backlog = await store.subscriptionBacklog();
        // The configured deliverers are the implicit subscription "config"; without any, nothing delivers those sets.
        if (withDeliverers) backlog.set('config', await store.notificationBacklog());
        return backlog;
      });
    }
    await listen(apiApp, api, 'http_listen_addr');
    await listen(introApp, intro, 'introspection_addr');
    if (store && targets.length > 0) {
      scheduler = new UpdaterScheduler(store, targets, {
        periodMs: config.matcher.periodMs,
        retention: config.matcher.updateRetention,
        observer: metrics,
        log: logger.child({ component: 'updaters' }),
        ...(notifier ? { onOperation: (op: UpdateOperation) => void notifier!.processOperation(op) } : {}),
        ...(opts.updaterRetryBaseMs !== undefined ? { retryBaseMs: opts.updaterRetryBaseMs } : {}),
      });
      scheduler.start();
    }
    notifier?.start();
    ready = true;
    logger.info(
      {
        api: urlOf(apiApp), introspection: urlOf(introApp), store: store ? displayLocation(location.replace(/\/\/[^@/]*@/, '//')) : undefined,
        updaters: targets.map((t) => t.updater.name), ...(notifier ? { notifier: notifier.deliverers } : {}), auth: config.auth.psk ? 'psk' : 'none',
        // With a shared store, updater runs, index requests and layer scans are coordinated with other instances.
        ...(store ? { coordination: store.coordination ? 'shared store: advisory locks' : 'this process only' } : {}),
      },
      `clair-ts ${mode} ready`,
    );
    return { mode, apiUrl: urlOf(apiApp), introspectionUrl: urlOf(introApp), store, notifier, metrics, logger, api: apiApp, close };
  } catch (e) {
    await close().catch((err) => logger.error({ err: errorMessage(err) }, 'cleanup after a failed start'));
    throw e;
  }
}
