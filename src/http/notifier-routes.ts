import type { Store } from '../store/store.ts';
import { HttpError } from './errors.ts';
import { clairType } from './media-type.ts';
import type { ApiRoute } from './route.ts';
import { isUuid } from '../model/uuid.ts';
import type { HostCheck } from '../notifier/subscription-input.ts';

// /notifier/api/v1/notification/{id}: pages of a notification set (src/notifier creates them) and its deletion.
// As Clair: page_size defaults to 500, `next` is the id of the last notification of the previous page and is
// present only when more follow. A set that does not exist, or was deleted, is a 404 (the spec: "after this delete
// clients will no longer be able to retrieve notifications").

const NOTIFIER_PREFIX = '/notifier/api/v1';
const DEFAULT_PAGE_SIZE = 500;
/** Larger requests are served this many at a time (the page says how many it holds). */
const MAX_PAGE_SIZE = 5000;

export interface NotifierDeps {
  store: Store;
  /** Where subscriptions may deliver (service/delivery-host-check.ts); the subscription routes need it. */
  checkHost?: HostCheck;
}

function checkId(id: string | undefined, what: string): string {
  if (id === undefined || !isUuid(id.toLowerCase())) throw new HttpError(400, `${what} must be a notification id (a UUID), got ${JSON.stringify(id ?? '')}`);
  return id.toLowerCase();
}

export function notifierRoutes(d: NotifierDeps): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: `${NOTIFIER_PREFIX}/notification/:id`,
      produces: clairType('notification_page'),
      async handler(req) {
        const id = checkId(req.params.id, 'path id');
        const sizeText = req.query.page_size;
        if (sizeText !== undefined && !/^\d+$/.test(sizeText)) throw new HttpError(400, `page_size must be a non-negative integer, got ${JSON.stringify(sizeText)}`);
        // 0 (or absent) means the default, as Clair treats a zero page size.
        const asked = sizeText === undefined ? 0 : Number(sizeText);
        const size = Math.min(asked === 0 ? DEFAULT_PAGE_SIZE : asked, MAX_PAGE_SIZE);
        const after = req.query.next ? checkId(req.query.next, 'query parameter next') : undefined;
        const page = await d.store.getNotificationPage(id, size, after);
        if (!page) throw new HttpError(404, `notification ${id} not found (never created, or deleted)`);
        return {
          status: 200,
          body: { page: { size: page.notifications.length, ...(page.next ? { next: page.next } : {}) }, notifications: page.notifications },
        };
      },
    },
    {
      method: 'DELETE',
      url: `${NOTIFIER_PREFIX}/notification/:id`,
      async handler(req) {
        const id = checkId(req.params.id, 'path id');
        if (!(await d.store.deleteNotificationSet(id))) throw new HttpError(404, `notification ${id} not found`);
        return { status: 200 };
      },
    },
  ];
}
