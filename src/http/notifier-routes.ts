import { HttpError } from './errors.ts';
import { clairType } from './media-type.ts';
import type { ApiRoute } from './route.ts';

// /notifier/api/v1/notification/{id}: the routes, their validation and Clair's page shape. The notifier itself
// (computing notifications from update diffs, delivering webhooks) is not implemented yet, so every notification
// set is empty: GET answers an empty page, DELETE succeeds.

export const NOTIFIER_PREFIX = '/notifier/api/v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkId(id: string | undefined, what: string): string {
  if (id === undefined || !UUID.test(id)) throw new HttpError(400, `${what} must be a notification id (a UUID), got ${JSON.stringify(id ?? '')}`);
  return id;
}

export function notifierRoutes(): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: `${NOTIFIER_PREFIX}/notification/:id`,
      produces: clairType('notification_page'),
      async handler(req) {
        checkId(req.params.id, 'path id');
        if (req.query.page_size !== undefined && !/^\d+$/.test(req.query.page_size)) throw new HttpError(400, `page_size must be a non-negative integer, got ${JSON.stringify(req.query.page_size)}`);
        if (req.query.next) checkId(req.query.next, 'query parameter next');
        return { status: 200, body: { page: { size: 0 }, notifications: [] } };
      },
    },
    {
      method: 'DELETE',
      url: `${NOTIFIER_PREFIX}/notification/:id`,
      async handler(req) {
        checkId(req.params.id, 'path id');
        return { status: 200 };
      },
    },
  ];
}
