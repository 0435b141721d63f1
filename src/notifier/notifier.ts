import type { Logger } from 'pino';
import type { Matcher } from '../matcher/matcher.ts';
import { errorMessage } from '../model/errors.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import type { Store } from '../store/store.ts';
import { AmqpDeliverer } from './amqp-deliverer.ts';
import type { Deliverer } from './deliverer.ts';
import { checkDeliveryConfig, type NotifierConfig } from './notifier-config.ts';
import { processNewOperations, processUpdateOperation, type ProcessResult } from './processor.ts';
import { WebhookDeliverer } from './webhook-deliverer.ts';
import { webhookSigner } from './webhook-signer.ts';
import { StompDeliverer } from './stomp-deliverer.ts';
import type { ChannelOptions } from './channel-sender.ts';
import { deliverShares, fanOut, type SubscriptionObserver } from './subscriptions.ts';

// The notifier of one process: two loops on the store.
//   processing (every poll_interval, and at once when this process commits an update operation): notifications
//     for the newest operation of each updater that has no receipt yet (processor.ts);
//   delivery (every delivery_interval, and at once after processing created a set): claim due sets one at a time
//     and hand each to every deliverer; all confirmed → delivered, else the set is due again after a backoff.
// Several instances on one PostgreSQL store may all run both loops: the receipt's key makes processing happen once,
// and the claim's lease (FOR UPDATE SKIP LOCKED) makes one instance deliver each set.
// The configured deliverers are an implicit subscription to everything (Clair's notifier); the delivery pass then
// shares new sets out among the stored subscriptions and delivers their shares (subscriptions.ts), with the same
// claim, lease and backoff per (set, subscription).

/** What the notifier reports to metrics: "config" names the configured deliverers. */
export interface NotifierObserver extends SubscriptionObserver {
  notificationsCreated(count: number): void;
}

export interface NotifierOptions {
  log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** Replaces the deliverers the config describes (tests). */
  deliverers?: Deliverer[];
  /** How long a claim keeps other instances off a set. Default 5 minutes; longer than any one delivery takes. */
  leaseMs?: number;
  /** First retry delay after a failed delivery; doubles per attempt up to retryMaxMs. Default 30 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** auth.psk.key: webhook deliveries are signed with it, as Clair signs them. */
  pskKey?: Uint8Array;
  /** How subscriptions' channels are reached: the address check (notifier.allow_private_addresses), a test fetch. */
  channel?: Omit<ChannelOptions, 'sign'>;
  observer?: NotifierObserver;
}

export class Notifier {
  readonly #store: Store;
  readonly #matchers: readonly Matcher[];
  readonly #config: NotifierConfig;
  readonly #opts: NotifierOptions;
  readonly #deliverers: Deliverer[];
  readonly #timers = new Set<NodeJS.Timeout>();
  #processing: Promise<unknown> = Promise.resolve();
  #delivering: Promise<unknown> | undefined;
  #stopped = false;

  constructor(store: Store, matchers: readonly Matcher[], config: NotifierConfig, opts: NotifierOptions) {
    this.#store = store;
    this.#matchers = matchers;
    this.#config = config;
    this.#opts = opts;
    if (opts.deliverers) {
      this.#deliverers = opts.deliverers;
    } else {
      checkDeliveryConfig(config);
      this.#deliverers = [];
      if (config.webhook) {
        const sign = opts.pskKey ? webhookSigner(opts.pskKey) : undefined;
        this.#deliverers.push(new WebhookDeliverer({ ...config.webhook, callback: config.webhook.callback! }, sign ? { sign } : {}));
      }
      if (config.amqp) this.#deliverers.push(new AmqpDeliverer(config.amqp, store));
      if (config.stomp) this.#deliverers.push(new StompDeliverer(config.stomp, store));
    }
  }

  get deliverers(): readonly string[] {
    return this.#deliverers.map((d) => d.name);
  }

  /** Starts both loops; each runs once now. */
  start(): void {
    this.#every(this.#config.pollIntervalMs, () => this.processNew());
    // Always: subscriptions may be added at any time.
    this.#every(this.#config.deliveryIntervalMs, () => this.deliverDue());
  }

  #every(ms: number, fn: () => Promise<unknown>): void {
    const tick = async () => {
      if (this.#stopped) return;
      await fn().catch((e) => this.#opts.log.error({ err: errorMessage(e) }, 'notifier loop failed; trying again next interval'));
      if (this.#stopped) return;
      const t = setTimeout(() => {
        this.#timers.delete(t);
        void tick();
      }, ms);
      this.#timers.add(t);
    };
    void tick();
  }

  /** Processes one operation (the hook after this process committed it), then delivers. Never throws: it logs. */
  async processOperation(op: Pick<UpdateOperation, 'ref' | 'updater'>): Promise<ProcessResult | undefined> {
    const r = await this.#serialized(() => processUpdateOperation(this.#store, this.#matchers, op, { disableSummary: this.#config.disableSummary }))
      .catch((e) => {
        this.#opts.log.error({ updater: op.updater, ref: op.ref, err: errorMessage(e) }, 'notifications for update operation failed; the poll retries');
        return undefined;
      });
    if (r) this.#logResult(op, r);
    if (r?.kind === 'created') void this.deliverDue().catch((e) => this.#opts.log.error({ err: errorMessage(e) }, 'notification delivery failed'));
    return r;
  }

  /** One processing pass over the newest operation of every updater. */
  async processNew(): Promise<void> {
    const results = await this.#serialized(() => processNewOperations(this.#store, this.#matchers, { disableSummary: this.#config.disableSummary }));
    for (const { op, result } of results) this.#logResult(op, result);
    if (results.some((r) => r.result.kind === 'created')) await this.deliverDue();
  }

  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#processing.then(fn, fn);
    this.#processing = run.catch(() => undefined);
    return run;
  }

  #logResult(op: Pick<UpdateOperation, 'ref' | 'updater'>, r: ProcessResult): void {
    if (r.kind === 'already-processed') return;
    if (r.kind === 'created') this.#opts.observer?.notificationsCreated(r.count);
    const fields = { updater: op.updater, ref: op.ref, ...(r.kind === 'created' ? { notificationId: r.notificationId, notifications: r.count } : {}) };
    this.#opts.log.info(fields, r.kind === 'created' ? 'notifications created' : `no notifications: ${r.kind}`);
  }

  /**
   * Delivers every due set to the configured deliverers, shares new sets out among subscriptions and delivers the
   * due shares (one pass); concurrent calls share the pass in progress. Returns the set ids the deliverers took.
   */
  async deliverDue(): Promise<string[]> {
    const running = this.#delivering;
    if (running) {
      await running;
      return [];
    }
    const pass = this.#deliveryPass();
    this.#delivering = pass;
    try {
      return await pass;
    } finally {
      this.#delivering = undefined;
    }
  }

  retryDelay(attempts: number): number {
    const base = this.#opts.retryBaseMs ?? 30_000;
    return Math.min(this.#opts.retryMaxMs ?? 3_600_000, base * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  }

  async #deliveryPass(): Promise<string[]> {
    const delivered: string[] = [];
    // Failed sets keep their claim until the pass ends, so this pass does not claim them again (with a zero
    // retry delay it would loop); then each is due again after its backoff.
    const failed: { id: string; retryMs: number }[] = [];
    try {
      while (!this.#stopped && this.#deliverers.length > 0) {
        const claim = await this.#store.claimNotificationDelivery(this.#opts.leaseMs ?? 5 * 60_000);
        if (!claim) break;
        try {
          for (const d of this.#deliverers) await d.deliver(claim.notificationId);
        } catch (e) {
          const retryMs = this.retryDelay(claim.attempts);
          failed.push({ id: claim.notificationId, retryMs });
          this.#opts.observer?.subscriptionFailed('config');
          this.#opts.log.warn({ notificationId: claim.notificationId, attempts: claim.attempts, retryInSeconds: Math.round(retryMs / 1000), err: errorMessage(e) }, 'notification delivery failed; will retry');
          continue;
        }
        await this.#store.markNotificationDelivered(claim.notificationId);
        delivered.push(claim.notificationId);
        this.#opts.observer?.subscriptionDelivered('config', 0);
        this.#opts.log.info({ notificationId: claim.notificationId, attempts: claim.attempts, to: this.deliverers }, 'notification delivered');
      }
    } finally {
      // If recording fails, the claims expire with their lease and the sets are retried then.
      for (const f of failed) await this.#store.markNotificationDeliveryFailed(f.id, f.retryMs);
    }
    await fanOut(this.#store, this.#opts.log);
    await deliverShares(this.#store, {
      leaseMs: this.#opts.leaseMs ?? 5 * 60_000,
      retryDelay: (a) => this.retryDelay(a),
      channel: { ...this.#opts.channel, ...(this.#opts.pskKey ? { sign: webhookSigner(this.#opts.pskKey) } : {}) },
      log: this.#opts.log,
      ...(this.#opts.observer ? { observer: this.#opts.observer } : {}),
      stopped: () => this.#stopped,
    });
    return delivered;
  }

  /** Stops both loops, waits for work in progress, closes deliverer connections. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#processing;
    await this.#delivering?.catch(() => undefined); // its failure was logged by whoever started it
    await Promise.all(this.#deliverers.map((d) => d.close()));
  }
}
