import type { Logger } from 'pino';
import { errorMessage } from '../model/errors.ts';
import type { Store, StoredNotification } from '../store/store.ts';
import { sendToChannel, type ChannelOptions } from './channel-sender.ts';
import { filterFacts, shareOut } from './subscription-filter.ts';

// Subscriptions on top of the notifier: each new notification set is shared out among the subscriptions once
// (the store's fan-out record: once across instances), then each (set, subscription) share is claimed under a
// lease, sent as one message and marked delivered, or retried after a backoff, as the sets themselves are.

export interface SubscriptionObserver {
  subscriptionDelivered(subscriptionId: string, notifications: number): void;
  subscriptionFailed(subscriptionId: string): void;
}

const FANOUT_BATCH = 50;
const PAGE = 1000;

async function wholeSet(store: Store, notificationId: string): Promise<StoredNotification[] | undefined> {
  const out: StoredNotification[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.getNotificationPage(notificationId, PAGE, after);
    if (!page) return undefined;
    out.push(...page.notifications);
    if (!page.next) return out;
    after = page.next;
  }
}

/** Shares out every set that awaits it; returns how many sets were shared out by this call. */
export async function fanOut(store: Store, log: Pick<Logger, 'info' | 'debug'>): Promise<number> {
  let done = 0;
  for (;;) {
    const sets = await store.setsAwaitingFanOut(FANOUT_BATCH);
    if (sets.length === 0) return done;
    const subs = await store.listSubscriptions();
    for (const nid of sets) {
      // A set deleted meanwhile is shared out as nothing: it still must not come back.
      const notifications = subs.length > 0 ? ((await wholeSet(store, nid)) ?? []) : [];
      const shares = notifications.length > 0 ? shareOut(subs, notifications, await filterFacts(store, subs, notifications)) : [];
      if (await store.putSubscriptionDeliveries(nid, shares)) {
        done++;
        if (shares.length > 0) log.info({ notificationId: nid, shares: shares.map((s) => ({ subscription: s.subscriptionId, notifications: s.ids.length })) }, 'notifications shared out to subscriptions');
      }
    }
  }
}

/**
 * Delivers every due share (one pass). Failed shares keep their claim until the pass ends, so that it does not take
 * them again, then are due after retryDelay(attempts). Returns the shares delivered.
 */
export async function deliverShares(
  store: Store,
  o: { leaseMs: number; retryDelay: (attempts: number) => number; channel: ChannelOptions; log: Pick<Logger, 'info' | 'warn'>; observer?: SubscriptionObserver; stopped: () => boolean },
): Promise<{ notificationId: string; subscriptionId: string }[]> {
  const delivered: { notificationId: string; subscriptionId: string }[] = [];
  const failed: { nid: string; sid: string; retryMs: number }[] = [];
  const subs = new Map((await store.listSubscriptions()).map((s) => [s.id, s]));
  try {
    while (!o.stopped()) {
      const claim = await store.claimSubscriptionDelivery(o.leaseMs);
      if (!claim) break;
      const sub = subs.get(claim.subscriptionId) ?? (await store.listSubscriptions()).find((s) => s.id === claim.subscriptionId);
      const wanted = new Set(claim.ids);
      const all = await wholeSet(store, claim.notificationId);
      const notifications = (all ?? []).filter((n) => wanted.has(n.id));
      try {
        // A subscription deleted, or a set deleted through the API, meanwhile: nothing left to send.
        if (sub && notifications.length > 0) {
          subs.set(sub.id, sub);
          await sendToChannel(sub.channel, { notification_id: claim.notificationId, subscription_id: sub.id, subscription: sub.name, notifications }, o.channel);
        }
      } catch (e) {
        const retryMs = o.retryDelay(claim.attempts);
        failed.push({ nid: claim.notificationId, sid: claim.subscriptionId, retryMs });
        o.observer?.subscriptionFailed(claim.subscriptionId);
        o.log.warn({ notificationId: claim.notificationId, subscription: claim.subscriptionId, attempts: claim.attempts, retryInSeconds: Math.round(retryMs / 1000), err: errorMessage(e) }, 'subscription delivery failed; will retry');
        continue;
      }
      await store.markSubscriptionDelivered(claim.notificationId, claim.subscriptionId);
      delivered.push({ notificationId: claim.notificationId, subscriptionId: claim.subscriptionId });
      o.observer?.subscriptionDelivered(claim.subscriptionId, notifications.length);
      o.log.info({ notificationId: claim.notificationId, subscription: claim.subscriptionId, notifications: notifications.length, attempts: claim.attempts }, 'subscription delivered');
    }
  } finally {
    // If recording fails, the claims expire with their lease and the shares are retried then.
    for (const f of failed) await store.markSubscriptionDeliveryFailed(f.nid, f.sid, f.retryMs);
  }
  return delivered;
}
