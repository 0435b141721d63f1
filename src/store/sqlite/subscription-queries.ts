import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Subscription, SubscriptionDelivery } from '../../model/subscription.ts';
import type { NotificationReceipt, NotificationStatus } from '../store.ts';

// The subscription tables of the SQLite store (store.ts documents each method). One process owns the file, so a
// claim is one synchronous statement; the lease matters after a crash (a dead claimer's share is retried).

export class SqliteSubscriptions {
  readonly #db: DatabaseSync;
  readonly #stmt: (sql: string) => StatementSync;
  readonly #tx: <T>(fn: () => T) => T;

  constructor(db: DatabaseSync, stmt: (sql: string) => StatementSync, tx: <T>(fn: () => T) => T) {
    this.#db = db;
    this.#stmt = stmt;
    this.#tx = tx;
  }

  listNotificationSets(limit: number): (NotificationReceipt & { notificationId: string; count: number })[] {
    return this.#stmt(
      `SELECT r.operation_ref, r.updater, r.notification_id, r.status, r.attempts, r.created,
         (SELECT count(*) FROM notification n WHERE n.notification_id = r.notification_id) AS count
       FROM notification_receipt r WHERE r.notification_id IS NOT NULL ORDER BY r.created DESC, r.notification_id LIMIT ?`,
    ).all(limit).map((r) => ({
      operationRef: r.operation_ref as string,
      updater: r.updater as string,
      notificationId: r.notification_id as string,
      status: r.status as NotificationStatus,
      attempts: Number(r.attempts),
      created: r.created as string,
      count: Number(r.count),
    }));
  }

  putSubscription(s: Subscription): void {
    this.#stmt('INSERT INTO subscription (id, data, created) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data')
      .run(s.id, JSON.stringify(s), s.created);
  }

  listSubscriptions(): Subscription[] {
    return this.#stmt('SELECT data FROM subscription ORDER BY created, id').all().map((r) => JSON.parse(r.data as string) as Subscription);
  }

  deleteSubscription(id: string): boolean {
    return this.#tx(() => Number(this.#stmt('DELETE FROM subscription WHERE id = ?').run(id).changes) > 0);
  }

  putManifestRepository(manifestHash: string, repository: string): void {
    this.#stmt('INSERT OR IGNORE INTO manifest_repository (manifest_hash, repository) VALUES (?, ?)').run(manifestHash, repository);
  }

  manifestRepositories(manifestHashes: string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const q = this.#stmt('SELECT repository FROM manifest_repository WHERE manifest_hash = ? ORDER BY repository');
    for (const h of new Set(manifestHashes)) {
      const repos = q.all(h).map((r) => r.repository as string);
      if (repos.length > 0) out.set(h, repos);
    }
    return out;
  }

  setsAwaitingFanOut(limit: number): string[] {
    return this.#stmt(
      `SELECT r.notification_id FROM notification_receipt r
       WHERE r.notification_id IS NOT NULL AND r.status IN ('pending', 'delivered')
         AND NOT EXISTS (SELECT 1 FROM subscription_fanout f WHERE f.notification_id = r.notification_id)
       ORDER BY r.created, r.notification_id LIMIT ?`,
    ).all(limit).map((r) => r.notification_id as string);
  }

  putSubscriptionDeliveries(notificationId: string, deliveries: { subscriptionId: string; ids: string[] }[]): boolean {
    const now = new Date().toISOString();
    return this.#tx(() => {
      const done = this.#stmt('INSERT INTO subscription_fanout (notification_id, created) VALUES (?, ?) ON CONFLICT DO NOTHING').run(notificationId, now);
      if (Number(done.changes) === 0) return false;
      // A subscription deleted meanwhile has no row to reference: its share is dropped, not an error.
      const ins = this.#stmt(
        `INSERT INTO subscription_delivery (notification_id, subscription_id, ids, status, next_attempt)
         SELECT ?, id, ?, 'pending', ? FROM subscription WHERE id = ?`,
      );
      for (const d of deliveries) if (d.ids.length > 0) ins.run(notificationId, JSON.stringify(d.ids), now, d.subscriptionId);
      return true;
    });
  }

  claimSubscriptionDelivery(leaseMs: number): SubscriptionDelivery | undefined {
    const now = new Date();
    const row = this.#stmt(
      `UPDATE subscription_delivery SET claimed_until = ?, attempts = attempts + 1
       WHERE rowid = (
         SELECT rowid FROM subscription_delivery
         WHERE status = 'pending' AND next_attempt <= ? AND (claimed_until IS NULL OR claimed_until < ?)
         ORDER BY next_attempt, notification_id LIMIT 1)
       RETURNING notification_id, subscription_id, ids, attempts`,
    ).get(new Date(now.getTime() + leaseMs).toISOString(), now.toISOString(), now.toISOString());
    return row
      ? { notificationId: row.notification_id as string, subscriptionId: row.subscription_id as string, ids: JSON.parse(row.ids as string) as string[], attempts: Number(row.attempts) }
      : undefined;
  }

  markSubscriptionDelivered(notificationId: string, subscriptionId: string): void {
    this.#stmt("UPDATE subscription_delivery SET status = 'delivered', claimed_until = NULL WHERE notification_id = ? AND subscription_id = ?")
      .run(notificationId, subscriptionId);
  }

  markSubscriptionDeliveryFailed(notificationId: string, subscriptionId: string, retryInMs: number): void {
    this.#stmt("UPDATE subscription_delivery SET next_attempt = ?, claimed_until = NULL WHERE notification_id = ? AND subscription_id = ? AND status = 'pending'")
      .run(new Date(Date.now() + retryInMs).toISOString(), notificationId, subscriptionId);
  }

  subscriptionBacklog(): Map<string, number> {
    const rows = this.#db.prepare("SELECT subscription_id, count(*) AS n FROM subscription_delivery WHERE status = 'pending' GROUP BY subscription_id").all();
    return new Map(rows.map((r) => [r.subscription_id as string, Number(r.n)]));
  }

  notificationBacklog(): number {
    return Number(this.#db.prepare("SELECT count(*) AS n FROM notification_receipt WHERE status = 'pending'").get()?.n ?? 0);
  }
}
