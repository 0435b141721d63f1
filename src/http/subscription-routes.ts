import { ClairError } from '../model/errors.ts';
import { isUuid } from '../model/uuid.ts';
import { parseSubscription, subscriptionJson, type HostCheck } from '../notifier/subscription-input.ts';
import type { Store } from '../store/store.ts';
import { HttpError } from './errors.ts';
const NOTIFIER_PREFIX = '/notifier/api/v1';
import type { ApiRoute } from './route.ts';

// Additions to Clair's notifier API (PSK-protected like the rest):
//   POST   /notifier/api/v1/subscriptions        create (body: subscription-input.ts) → 201 and the subscription
//   GET    /notifier/api/v1/subscriptions        list → {"subscriptions": [...]}
//   GET    /notifier/api/v1/subscriptions/{id}   one → 200, or 404
//   DELETE /notifier/api/v1/subscriptions/{id}   remove → 204, or 404
//   GET    /notifier/api/v1/notifications        notification sets, newest first (?limit=, default 50)

export interface SubscriptionDeps {
  store: Store;
  checkHost: HostCheck;
}

function checkId(id: string | undefined): string {
  if (id === undefined || !isUuid(id.toLowerCase())) throw new HttpError(400, `path id must be a subscription id (a UUID), got ${JSON.stringify(id ?? '')}`);
  return id.toLowerCase();
}

export function subscriptionRoutes(d: SubscriptionDeps): ApiRoute[] {
  const base = `${NOTIFIER_PREFIX}/subscriptions`;
  return [
    {
      method: 'POST',
      url: base,
      async handler(req) {
        let sub;
        try {
          sub = await parseSubscription(req.body, d.checkHost);
        } catch (e) {
          if (e instanceof ClairError && e.code === 'bad-input') throw new HttpError(400, e.message);
          throw e;
        }
        await d.store.putSubscription(sub);
        return { status: 201, headers: { location: `${base}/${sub.id}` }, body: subscriptionJson(sub) };
      },
    },
    {
      method: 'GET',
      url: base,
      async handler() {
        return { status: 200, body: { subscriptions: (await d.store.listSubscriptions()).map(subscriptionJson) } };
      },
    },
    {
      method: 'GET',
      url: `${base}/:id`,
      async handler(req) {
        const id = checkId(req.params.id);
        const sub = (await d.store.listSubscriptions()).find((s) => s.id === id);
        if (!sub) throw new HttpError(404, `subscription ${id} not found`);
        return { status: 200, body: subscriptionJson(sub) };
      },
    },
    {
      method: 'DELETE',
      url: `${base}/:id`,
      async handler(req) {
        const id = checkId(req.params.id);
        if (!(await d.store.deleteSubscription(id))) throw new HttpError(404, `subscription ${id} not found`);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      url: `${NOTIFIER_PREFIX}/notifications`,
      async handler(req) {
        const text = req.query.limit;
        if (text !== undefined && !/^[1-9]\d{0,4}$/.test(text)) throw new HttpError(400, `limit must be an integer from 1 to 99999, got ${JSON.stringify(text)}`);
        const sets = await d.store.listNotificationSets(text === undefined ? 50 : Number(text));
        return {
          status: 200,
          body: { notifications: sets.map((s) => ({ id: s.notificationId, updater: s.updater, update_operation: s.operationRef, status: s.status, count: s.count, attempts: s.attempts, created: s.created })) },
        };
      },
    },
  ];
}
