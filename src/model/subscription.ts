import type { NormalizedSeverity } from './severity.ts';

// A subscription (an addition to Clair's notifier): who is told about new notification sets, about which manifests,
// and from what threshold on. Stored by the store, managed by /notifier/api/v1/subscriptions and
// `clair-ts subscriptions`, filtered and delivered by src/notifier/subscriptions.ts.

export type SubscriptionChannel =
  | { type: 'webhook'; url: string }
  /** Published to `exchange` ("" = the default exchange) with `routingKey`, on the broker at uri. */
  | { type: 'amqp'; uri: string; exchange: string; routingKey: string }
  /** Sent to `destination` on the broker at uri (stomp://host:port or host:port), with optional login. */
  | { type: 'stomp'; uri: string; destination: string; login?: string; passcode?: string };

export interface Subscription {
  id: string;
  name: string;
  channel: SubscriptionChannel;
  /** Only these manifests (digests); absent = every manifest. */
  manifests?: string[];
  /** Only manifests indexed under a repository matching this pattern (`*` matches any run of characters). */
  repository?: string;
  /** Only vulnerabilities at least this severe (normalized severity). */
  minSeverity?: NormalizedSeverity;
  /** Only vulnerabilities with a fixed-in version. */
  fixableOnly?: boolean;
  /** Only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog (the kev enrichment feed). */
  kevOnly?: boolean;
  /** ISO 8601. */
  created: string;
}

/** One subscription's share of a notification set: which notifications of it pass the subscription's filter. */
export interface SubscriptionDelivery {
  notificationId: string;
  subscriptionId: string;
  /** Notification ids (within the set) that passed. */
  ids: string[];
  attempts: number;
}
