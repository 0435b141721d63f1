import type pg from 'pg';
import { ClairError } from '../../model/errors.ts';
import { isUuid } from '../../model/uuid.ts';
import type { NewNotificationSet, NotificationReceipt, NotificationStatus, StoredNotification } from '../store.ts';
import { toClairError } from './pg-errors.ts';
import type { PgSession } from './pg-session.ts';

// The notifier's tables of the PostgreSQL store: notification sets, their receipts, and delivery claimed under a
// lease so that one instance delivers each set. Times are the database's clock: instances' clocks never have to agree.

export class PostgresNotifications {
  readonly #session: PgSession;

  constructor(session: PgSession) {
    this.#session = session;
  }

  get #pool(): pg.Pool {
    return this.#session.pool;
  }

  async #rows<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return this.#session.rows<R>(what, sql, params);
  }

  async #transaction<T>(what: string, idempotent: boolean, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#session.transaction(what, idempotent, fn);
  }

  async putNotifications(set: NewNotificationSet): Promise<boolean> {
    if (!isUuid(set.operationRef)) throw new ClairError('bad-input', `update operation ref ${JSON.stringify(set.operationRef)} is not a UUID`);
    // Retried whole when the connection drops before COMMIT; a repeat after an unknown COMMIT finds the receipt.
    return this.#transaction(`write of notifications for update operation ${set.operationRef}`, true, async (c) => {
      const res = await c.query(
        `INSERT INTO notification_receipt (operation_ref, updater, notification_id, status) VALUES ($1, $2, $3, $4)
         ON CONFLICT (operation_ref) DO NOTHING`,
        [set.operationRef, set.updater, set.notificationId ?? null, set.notificationId ? 'pending' : 'none'],
      );
      if (res.rowCount === 0) return false;
      if (set.notificationId && set.notifications.length > 0) {
        await c.query(
          'INSERT INTO notification (notification_id, id, body) SELECT $1, unnest($2::uuid[]), unnest($3::text[])',
          [set.notificationId, set.notifications.map((n) => n.id), set.notifications.map((n) => JSON.stringify(n))],
        );
      }
      return true;
    });
  }

  async getNotificationReceipt(key: { operationRef: string } | { notificationId: string }): Promise<NotificationReceipt | undefined> {
    const [col, val] = 'operationRef' in key ? ['operation_ref', key.operationRef] : ['notification_id', key.notificationId];
    if (!isUuid(val)) return undefined;
    const rows = await this.#rows<ReceiptRow>(
      `read of notification receipt ${val}`,
      `SELECT operation_ref, updater, notification_id, status, attempts, created FROM notification_receipt WHERE ${col} = $1`, [val],
    );
    return rows[0] ? toReceipt(rows[0]) : undefined;
  }

  async getNotificationPage(notificationId: string, pageSize: number, after?: string): Promise<{ notifications: StoredNotification[]; next?: string } | undefined> {
    if (!isUuid(notificationId) || (after !== undefined && !isUuid(after))) return undefined;
    const what = `read of notifications ${notificationId}`;
    const receipt = await this.#rows<{ status: string }>(what, 'SELECT status FROM notification_receipt WHERE notification_id = $1', [notificationId]);
    if (!receipt[0] || receipt[0].status === 'deleted') return undefined;
    // uuid order is byte order, the same as the SQLite store's order of lower-case text.
    const rows = await this.#rows<{ id: string; body: string }>(
      what, 'SELECT id, body FROM notification WHERE notification_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [notificationId, after ?? '00000000-0000-0000-0000-000000000000', pageSize + 1],
    );
    const notifications = rows.slice(0, pageSize).map((r) => JSON.parse(r.body) as StoredNotification);
    return rows.length > pageSize && pageSize > 0 ? { notifications, next: notifications[notifications.length - 1]!.id } : { notifications };
  }

  async deleteNotificationSet(notificationId: string): Promise<boolean> {
    if (!isUuid(notificationId)) return false;
    return this.#transaction(`delete of notifications ${notificationId}`, true, async (c) => {
      const res = await c.query("UPDATE notification_receipt SET status = 'deleted', claimed_until = NULL WHERE notification_id = $1", [notificationId]);
      await c.query('DELETE FROM notification WHERE notification_id = $1', [notificationId]);
      return (res.rowCount ?? 0) > 0;
    });
  }

  async claimNotificationDelivery(leaseMs: number): Promise<{ notificationId: string; attempts: number } | undefined> {
    // Not retried: a claim whose answer was lost is simply not used, and its lease expires.
    const res = await this.#pool.query<{ notification_id: string; attempts: number }>(
      `UPDATE notification_receipt SET claimed_until = clock_timestamp() + $1 * interval '1 millisecond', attempts = attempts + 1
       WHERE operation_ref = (
         SELECT operation_ref FROM notification_receipt
         WHERE status = 'pending' AND next_attempt <= clock_timestamp() AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
         ORDER BY next_attempt, created LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING notification_id, attempts`,
      [leaseMs],
    ).catch((e: unknown) => {
      throw toClairError('claim of a notification delivery', e);
    });
    const r = res.rows[0];
    return r ? { notificationId: r.notification_id, attempts: r.attempts } : undefined;
  }

  async markNotificationDelivered(notificationId: string): Promise<void> {
    await this.#rows(
      `record of the delivery of notifications ${notificationId}`,
      "UPDATE notification_receipt SET status = 'delivered', claimed_until = NULL WHERE notification_id = $1 AND status = 'pending'", [notificationId],
    );
  }

  async markNotificationDeliveryFailed(notificationId: string, retryInMs: number): Promise<void> {
    await this.#rows(
      `record of a failed delivery of notifications ${notificationId}`,
      `UPDATE notification_receipt SET next_attempt = clock_timestamp() + $2 * interval '1 millisecond', claimed_until = NULL
       WHERE notification_id = $1 AND status = 'pending'`,
      [notificationId, retryInMs],
    );
  }
}

interface ReceiptRow {
  operation_ref: string;
  updater: string;
  notification_id: string | null;
  status: string;
  attempts: number;
  created: Date;
}

function toReceipt(r: ReceiptRow): NotificationReceipt {
  return {
    operationRef: r.operation_ref,
    updater: r.updater,
    ...(r.notification_id ? { notificationId: r.notification_id } : {}),
    status: r.status as NotificationStatus,
    attempts: r.attempts,
    created: r.created.toISOString(),
  };
}
