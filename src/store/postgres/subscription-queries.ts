import { isUuid } from '../../model/uuid.ts';
import type { Subscription, SubscriptionDelivery } from '../../model/subscription.ts';
import type { NotificationReceipt, NotificationStatus } from '../store.ts';
import { toClairError } from './pg-errors.ts';
import type { PgSession } from './pg-session.ts';

// The subscription tables of the PostgreSQL store (store.ts documents each method). Sharing a set out happens once
// across instances (subscription_fanout's key: a second INSERT waits for the first transaction, then does nothing);
// each share is claimed under a lease with FOR UPDATE SKIP LOCKED, as notification sets are (notification-queries.ts).

export class PostgresSubscriptions {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  async listNotificationSets(limit: number): Promise<(NotificationReceipt & { notificationId: string; count: number })[]> {
    const rows = await this.#session.rows<{ operation_ref: string; updater: string; notification_id: string; status: string; attempts: number; created: Date; count: string }>(
      'list of notification sets',
      `SELECT r.operation_ref, r.updater, r.notification_id, r.status, r.attempts, r.created,
         (SELECT count(*) FROM notification n WHERE n.notification_id = r.notification_id) AS count
       FROM notification_receipt r WHERE r.notification_id IS NOT NULL ORDER BY r.created DESC, r.notification_id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      operationRef: r.operation_ref, updater: r.updater, notificationId: r.notification_id, status: r.status as NotificationStatus,
      attempts: r.attempts, created: r.created.toISOString(), count: Number(r.count),
    }));
  }

  async putSubscription(s: Subscription): Promise<void> {
    await this.#session.rows(
      `write of subscription ${s.id}`,
      'INSERT INTO subscription (id, data, created) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
      [s.id, JSON.stringify(s), s.created],
    );
  }

  async listSubscriptions(): Promise<Subscription[]> {
    const rows = await this.#session.rows<{ data: string }>('list of subscriptions', 'SELECT data FROM subscription ORDER BY created, id');
    return rows.map((r) => JSON.parse(r.data) as Subscription);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.#session.rows(`delete of subscription ${id}`, 'DELETE FROM subscription WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  async putManifestRepository(manifestHash: string, repository: string): Promise<void> {
    await this.#session.rows(
      `record of the repository of ${manifestHash}`,
      'INSERT INTO manifest_repository (manifest_hash, repository) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [manifestHash, repository],
    );
  }

  async manifestRepositories(manifestHashes: string[]): Promise<Map<string, string[]>> {
    const rows = await this.#session.rows<{ manifest_hash: string; repository: string }>(
      'read of manifest repositories',
      'SELECT manifest_hash, repository FROM manifest_repository WHERE manifest_hash = ANY($1::text[]) ORDER BY manifest_hash, repository',
      [[...new Set(manifestHashes)]],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.manifest_hash, [...(out.get(r.manifest_hash) ?? []), r.repository]);
    return out;
  }

  async setsAwaitingFanOut(limit: number): Promise<string[]> {
    const rows = await this.#session.rows<{ notification_id: string }>(
      'list of notification sets to share out',
      `SELECT r.notification_id FROM notification_receipt r
       WHERE r.notification_id IS NOT NULL AND r.status IN ('pending', 'delivered')
         AND NOT EXISTS (SELECT 1 FROM subscription_fanout f WHERE f.notification_id = r.notification_id)
       ORDER BY r.created, r.notification_id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.notification_id);
  }

  async putSubscriptionDeliveries(notificationId: string, deliveries: { subscriptionId: string; ids: string[] }[]): Promise<boolean> {
    return this.#session.transaction(`share out of notifications ${notificationId}`, true, async (c) => {
      const done = await c.query('INSERT INTO subscription_fanout (notification_id) VALUES ($1) ON CONFLICT DO NOTHING', [notificationId]);
      if (done.rowCount === 0) return false;
      const shares = deliveries.filter((d) => d.ids.length > 0 && isUuid(d.subscriptionId));
      if (shares.length > 0) {
        // A subscription deleted meanwhile has no row to join: its share is dropped, not an error.
        await c.query(
          `INSERT INTO subscription_delivery (notification_id, subscription_id, ids, status)
           SELECT $1, s.id, d.ids, 'pending' FROM unnest($2::uuid[], $3::text[]) AS d(sid, ids) JOIN subscription s ON s.id = d.sid`,
          [notificationId, shares.map((d) => d.subscriptionId), shares.map((d) => JSON.stringify(d.ids))],
        );
      }
      return true;
    });
  }

  async claimSubscriptionDelivery(leaseMs: number): Promise<SubscriptionDelivery | undefined> {
    // Not retried: a claim whose answer was lost is simply not used, and its lease expires.
    const res = await this.#session.pool.query<{ notification_id: string; subscription_id: string; ids: string; attempts: number }>(
      `UPDATE subscription_delivery d SET claimed_until = clock_timestamp() + $1 * interval '1 millisecond', attempts = d.attempts + 1
       FROM (SELECT notification_id, subscription_id FROM subscription_delivery
             WHERE status = 'pending' AND next_attempt <= clock_timestamp() AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
             ORDER BY next_attempt, notification_id LIMIT 1
             FOR UPDATE SKIP LOCKED) due
       WHERE d.notification_id = due.notification_id AND d.subscription_id = due.subscription_id
       RETURNING d.notification_id, d.subscription_id, d.ids, d.attempts`,
      [leaseMs],
    ).catch((e: unknown) => {
      throw toClairError('claim of a subscription delivery', e);
    });
    const r = res.rows[0];
    return r ? { notificationId: r.notification_id, subscriptionId: r.subscription_id, ids: JSON.parse(r.ids) as string[], attempts: r.attempts } : undefined;
  }

  async markSubscriptionDelivered(notificationId: string, subscriptionId: string): Promise<void> {
    await this.#session.rows(
      `record of the delivery of notifications ${notificationId} to subscription ${subscriptionId}`,
      "UPDATE subscription_delivery SET status = 'delivered', claimed_until = NULL WHERE notification_id = $1 AND subscription_id = $2",
      [notificationId, subscriptionId],
    );
  }

  async markSubscriptionDeliveryFailed(notificationId: string, subscriptionId: string, retryInMs: number): Promise<void> {
    await this.#session.rows(
      `record of a failed delivery of notifications ${notificationId} to subscription ${subscriptionId}`,
      `UPDATE subscription_delivery SET next_attempt = clock_timestamp() + $3 * interval '1 millisecond', claimed_until = NULL
       WHERE notification_id = $1 AND subscription_id = $2 AND status = 'pending'`,
      [notificationId, subscriptionId, retryInMs],
    );
  }

  async subscriptionBacklog(): Promise<Map<string, number>> {
    const rows = await this.#session.rows<{ subscription_id: string; n: string }>(
      'read of the subscription backlog',
      "SELECT subscription_id, count(*) AS n FROM subscription_delivery WHERE status = 'pending' GROUP BY subscription_id",
    );
    return new Map(rows.map((r) => [r.subscription_id, Number(r.n)]));
  }

  async notificationBacklog(): Promise<number> {
    const rows = await this.#session.rows<{ n: string }>('read of the notification backlog', "SELECT count(*) AS n FROM notification_receipt WHERE status = 'pending'");
    return Number(rows[0]?.n ?? 0);
  }
}
