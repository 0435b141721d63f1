import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NotifierObserver } from '../notifier/notifier.ts';
import type { IndexObserver } from '../service/indexing.ts';
import type { UpdaterObserver } from '../service/updater-scheduler.ts';

// Prometheus metrics on the introspection server's /metrics, in a registry of this service's own (not
// prom-client's global one), so several services in one process (tests) do not collide.

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class ServiceMetrics implements IndexObserver, UpdaterObserver, NotifierObserver {
  readonly registry = new Registry();
  readonly #http: Histogram<'route' | 'method' | 'status'>;
  readonly #index: Counter<'result'>;
  readonly #indexSeconds: Histogram<'result'>;
  readonly #match: Counter<'result'>;
  readonly #matchSeconds: Histogram<'result'>;
  readonly #layers: Counter<'result'>;
  readonly #updaterRuns: Counter<'updater' | 'result'>;
  readonly #updaterErrors: Counter<'updater'>;
  readonly #updaterRecords: Counter<'updater'>;
  readonly #updaterSeconds: Histogram<'updater'>;
  readonly #notificationsCreated: Counter;
  readonly #deliveries: Counter<'subscription' | 'result'>;
  readonly #notificationsDelivered: Counter<'subscription'>;
  #backlog: (() => Promise<Map<string, number>>) | undefined;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'clair_ts_' });
    this.#http = new Histogram({ name: 'clair_ts_http_request_duration_seconds', help: 'API request durations by route template, method and status', labelNames: ['route', 'method', 'status'], buckets: SECONDS, registers });
    this.#index = new Counter({ name: 'clair_ts_index_total', help: 'index requests by result: new (indexed now), stored (answered from the store), error', labelNames: ['result'], registers });
    this.#indexSeconds = new Histogram({ name: 'clair_ts_index_duration_seconds', help: 'time to answer an index request', labelNames: ['result'], buckets: SECONDS, registers });
    this.#match = new Counter({ name: 'clair_ts_match_total', help: 'vulnerability reports by result', labelNames: ['result'], registers });
    this.#matchSeconds = new Histogram({ name: 'clair_ts_match_duration_seconds', help: 'time to build a vulnerability report', labelNames: ['result'], buckets: SECONDS, registers });
    this.#layers = new Counter({ name: 'clair_ts_layer_cache_total', help: 'layers of indexed manifests: hit (report in the store, not fetched) or miss (fetched and scanned)', labelNames: ['result'], registers });
    this.#updaterRuns = new Counter({ name: 'clair_ts_updater_runs_total', help: 'updater runs by result: updated, unchanged, error', labelNames: ['updater', 'result'], registers });
    this.#updaterErrors = new Counter({ name: 'clair_ts_updater_errors_total', help: 'failed updater runs', labelNames: ['updater'], registers });
    this.#updaterRecords = new Counter({ name: 'clair_ts_updater_records_total', help: 'vulnerability records parsed by updaters', labelNames: ['updater'], registers });
    this.#notificationsCreated = new Counter({ name: 'clair_ts_notifier_notifications_created_total', help: 'notifications created by the notifier (all sets)', registers });
    this.#deliveries = new Counter({ name: 'clair_ts_notifier_deliveries_total', help: 'delivery attempts of notification sets by subscription (id; "config" = the configured deliverers) and result: delivered, failed', labelNames: ['subscription', 'result'], registers });
    this.#notificationsDelivered = new Counter({ name: 'clair_ts_notifier_notifications_delivered_total', help: 'notifications delivered to subscriptions, by subscription id', labelNames: ['subscription'], registers });
    const backlog = () => this.#backlog;
    new Gauge({
      name: 'clair_ts_notifier_retry_backlog',
      help: 'notification set shares waiting for (another) delivery attempt, by subscription id ("config": sets pending for the configured deliverers)',
      labelNames: ['subscription'],
      registers,
      async collect() {
        const read = backlog();
        if (!read) return;
        this.reset();
        for (const [subscription, n] of await read()) this.set({ subscription }, n);
      },
    });
    this.#updaterSeconds = new Histogram({ name: 'clair_ts_updater_duration_seconds', help: 'updater run durations', labelNames: ['updater'], buckets: [0.1, 1, 5, 15, 30, 60, 120, 300, 600, 1800], registers });
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.#http.observe({ route, method, status: String(status) }, seconds);
  }

  indexed(result: 'new' | 'stored' | 'error', seconds: number): void {
    this.#index.inc({ result });
    this.#indexSeconds.observe({ result }, seconds);
  }

  layer(result: 'hit' | 'miss'): void {
    this.#layers.inc({ result });
  }

  matched(result: 'ok' | 'not-found' | 'not-initialized' | 'error', seconds: number): void {
    this.#match.inc({ result });
    this.#matchSeconds.observe({ result }, seconds);
  }

  ran(updater: string, result: 'updated' | 'unchanged' | 'error', seconds: number, records: number): void {
    this.#updaterRuns.inc({ updater, result });
    if (result === 'error') this.#updaterErrors.inc({ updater });
    this.#updaterRecords.inc({ updater }, records);
    this.#updaterSeconds.observe({ updater }, seconds);
  }

  notificationsCreated(count: number): void {
    this.#notificationsCreated.inc(count);
  }

  subscriptionDelivered(subscription: string, notifications: number): void {
    this.#deliveries.inc({ subscription, result: 'delivered' });
    if (notifications > 0) this.#notificationsDelivered.inc({ subscription }, notifications);
  }

  subscriptionFailed(subscription: string): void {
    this.#deliveries.inc({ subscription, result: 'failed' });
  }

  /** Where the retry backlog gauge reads from at each scrape (the notifier's store). */
  watchSubscriptionBacklog(read: () => Promise<Map<string, number>>): void {
    this.#backlog = read;
  }
}
