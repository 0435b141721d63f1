import type { IndexReport } from '../model/index-report.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import type { EnrichmentRecord } from '../model/enrichment.ts';
import type { VulnerabilityQuery } from '../matcher/vulnerability-query.ts';
import type { IndexedPackage } from '../matcher/matcher.ts';
import type { LayerReport } from '../model/layer-report.ts';
import type { Subscription, SubscriptionDelivery } from '../model/subscription.ts';

// Everything clair-ts keeps. Two implementations satisfy it: store/sqlite (embedded, default) and store/postgres
// (several instances sharing one database). The same test suite (store/store.suite.ts) runs against both.

/** A stored vulnerability with its store-wide id (stable across operations that contain the same record). */
export interface StoredVulnerability extends Vulnerability {
  id: string;
}

export interface Store {
  // ---- layers: the indexer's cache, keyed by layer digest and the set of scanners that produced the report
  getLayerReport(digest: string, scannerSet: string): Promise<LayerReport | undefined>;
  putLayerReport(report: LayerReport): Promise<void>;
  /** Forgets layer reports (those of an index run that failed). */
  deleteLayerReports(digests: string[], scannerSet: string): Promise<void>;

  // ---- index reports, by manifest digest
  getIndexReport(manifestHash: string): Promise<{ report: IndexReport; indexState: string } | undefined>;
  /**
   * Stores (replaces) the report and, in the same transaction, its entries in the notifier's package index
   * (store/indexed-package-rows.ts): each distinct package with its distribution and repositories, filed under its
   * lookup names (packageLookupNames) and shared by every manifest that holds it.
   */
  putIndexReport(report: IndexReport, indexState: string): Promise<void>;
  /**
   * What a cached vulnerability report depends on, read in one round trip without the reports themselves: for each
   * manifest a value that changes whenever its stored index report does (when it was written, state and size;
   * undefined when there is none), and one that changes whenever the set of committed update operations does (a
   * version the database bumps in the transaction that commits or deletes one: reading it costs the same however many
   * operations are kept). Lets a server check per request, cheaply, that a cached report is current.
   */
  getReportStamps(manifestHashes: string[]): Promise<ReportStamps>;
  /**
   * A stored scan result (src/cli/stored-scan.ts): what `scan` wrote for this manifest and variant (format and
   * options), returned only while it is current: the store's set of update operations and the manifest's index
   * report are what they were when it was put (the stamps of getReportStamps, compared in the statement that reads
   * it). Undefined otherwise. Whether the same code made it is the caller's to check (codeStamp, as put).
   */
  getScanResult(manifestHash: string, variant: string): Promise<(StoredScanResult & { codeStamp: string }) | undefined>;
  /**
   * Stores (replaces) a scan result computed from the state `stamps` describe (read before the matching). Nothing is
   * stored, and false returned, when that state is no longer current (an update operation committed or the manifest
   * was indexed again meanwhile) or the manifest has no index report. Results no longer current are deleted here; a
   * manifest keeps at most MAX_SCAN_RESULTS_PER_MANIFEST and the store at most MAX_SCAN_RESULT_BYTES of output, the
   * oldest going first. Deleted with their manifest's index report, and all of them with any update operation.
   */
  putScanResult(manifestHash: string, variant: string, stamps: { operations: string; indexReport: string }, codeStamp: string, result: StoredScanResult): Promise<boolean>;
  /** Deletes the reports that exist; returns the hashes actually deleted. */
  deleteIndexReports(manifestHashes: string[]): Promise<string[]>;
  /** Manifests that hold a package found under one of these names (packageLookupNames: binary, source, ...); sorted. */
  manifestsWithPackages(names: string[]): Promise<string[]>;
  /**
   * The distinct packages of the stored manifests (package, distribution and repositories: what matchers decide on)
   * found under one of these names, each once whatever the number of manifests holding it; `id` is the package's id
   * in the index, for manifestsWithIndexedPackages.
   */
  indexedPackagesNamed(names: string[]): Promise<IndexedPackage[]>;
  /** The manifests holding each of these indexed packages (ids from indexedPackagesNamed); packages held by none are absent. */
  manifestsWithIndexedPackages(ids: string[]): Promise<Map<string, string[]>>;

  // ---- update operations
  /**
   * Starts writing a new operation. Nothing is visible until commit; abort (or a crash) leaves no operation.
   * `identity` gives the operation a ref and date of its own (an imported feed bundle keeps its operations' refs);
   * a ref that already exists fails at commit.
   */
  beginUpdateOperation(updater: string, identity?: OperationIdentity): Promise<UpdateOperationWriter>;
  /** Newest first; all updaters when none is given. */
  listUpdateOperations(updater?: string): Promise<UpdateOperation[]>;
  getUpdateOperation(ref: string): Promise<UpdateOperation | undefined>;
  /** Deletes operations and the records only they held; returns the refs deleted. */
  deleteUpdateOperations(refs: string[]): Promise<string[]>;
  /** Records in `cur` and not in `prev` (added), and in `prev` and not in `cur` (removed). prev may be undefined. */
  diffUpdateOperations(prev: string | undefined, cur: string): Promise<{ added: StoredVulnerability[]; removed: StoredVulnerability[] }>;

  /** The stored JSON of every record of an operation, in record id order, in batches (export of feed bundles). */
  readUpdateOperation(ref: string, batchSize?: number): AsyncIterable<string[]>;

  // ---- matching: records of the newest operation of each updater
  queryVulnerabilities(queries: VulnerabilityQuery[]): Promise<StoredVulnerability[][]>;
  /** Enrichment records of the updater's newest operation whose tag (CVE id) is one of these. */
  queryEnrichments(updater: string, tags: string[]): Promise<EnrichmentRecord[]>;

  // ---- notifications (src/notifier): one receipt per processed update operation, one notification set per receipt
  /**
   * Records that an update operation was processed, with the notifications it created (set.notificationId and
   * notifications; none when the operation affected no manifest), all or nothing. Returns false, storing nothing,
   * when the operation already has a receipt: a second processing (another instance, a retry) creates nothing.
   */
  putNotifications(set: NewNotificationSet): Promise<boolean>;
  /** The receipt of an update operation, or of a notification set. */
  getNotificationReceipt(key: { operationRef: string } | { notificationId: string }): Promise<NotificationReceipt | undefined>;
  /**
   * Up to pageSize notifications of a set, in id order, after the notification id `after`; next is the last id of
   * the page when more follow. Undefined when the set does not exist or was deleted.
   */
  getNotificationPage(notificationId: string, pageSize: number, after?: string): Promise<{ notifications: StoredNotification[]; next?: string } | undefined>;
  /** Marks a set deleted (its notifications are dropped); false when no such set exists. Deleting twice is fine. */
  deleteNotificationSet(notificationId: string): Promise<boolean>;
  /**
   * Claims one set that is due for delivery (pending, next attempt reached, no live claim) for leaseMs, counting an
   * attempt. Concurrent claimers (other instances on a shared store) never get the same set while the lease lasts.
   */
  claimNotificationDelivery(leaseMs: number): Promise<{ notificationId: string; attempts: number } | undefined>;
  /** Delivered: never claimed again. */
  markNotificationDelivered(notificationId: string): Promise<void>;
  /** Not delivered: the claim ends and the set is due again after retryInMs. */
  markNotificationDeliveryFailed(notificationId: string, retryInMs: number): Promise<void>;

  /** Notification sets with notifications, newest first (the notifications CLI). */
  listNotificationSets(limit: number): Promise<(NotificationReceipt & { notificationId: string; count: number })[]>;

  // ---- subscriptions (src/notifier/subscriptions.ts): one delivery state per (notification set, subscription)
  putSubscription(s: Subscription): Promise<void>;
  listSubscriptions(): Promise<Subscription[]>;
  /** Deletes the subscription and its pending deliveries; false when no such subscription exists. */
  deleteSubscription(id: string): Promise<boolean>;
  /** Records that a manifest was indexed under a repository name (the index request's `repository` hint). */
  putManifestRepository(manifestHash: string, repository: string): Promise<void>;
  /** The repository names recorded for each of these manifests (manifests without one are absent). */
  manifestRepositories(manifestHashes: string[]): Promise<Map<string, string[]>>;
  /** Notification sets not yet shared out among subscriptions, oldest first (deleted sets excluded). */
  setsAwaitingFanOut(limit: number): Promise<string[]>;
  /**
   * Records, once and all or nothing, the subscriptions' shares of a set (only non-empty ones need be given).
   * False, storing nothing, when the set was shared out already (another instance did it).
   */
  putSubscriptionDeliveries(notificationId: string, deliveries: { subscriptionId: string; ids: string[] }[]): Promise<boolean>;
  /** As claimNotificationDelivery, for one (set, subscription) pair. */
  claimSubscriptionDelivery(leaseMs: number): Promise<SubscriptionDelivery | undefined>;
  markSubscriptionDelivered(notificationId: string, subscriptionId: string): Promise<void>;
  markSubscriptionDeliveryFailed(notificationId: string, subscriptionId: string, retryInMs: number): Promise<void>;
  /** Undelivered shares per subscription (the retry backlog metric); subscriptions with none are absent. */
  subscriptionBacklog(): Promise<Map<string, number>>;
  /** Sets still pending for the configured deliverers (the implicit subscription's backlog). */
  notificationBacklog(): Promise<number>;

  /**
   * Present when several processes may share this store (PostgreSQL): locks that every instance sees. Absent for
   * SQLite, which one process owns; there the service's in-process sharing of runs is all the coordination needed.
   */
  readonly coordination?: StoreCoordination;

  close(): Promise<void>;
}

/**
 * Cluster-wide locks and the record of updater runs, for instances sharing one store. Each lock is held while fn
 * runs and released when it settles. A lock ends early if the connection holding it dies (the database releases a
 * dead session's locks): the work under it is then possibly done twice, never lost, because every write it guards
 * is idempotent or whole (a layer report, an index report, an update operation compared by fingerprint).
 */
export interface StoreCoordination {
  /** Runs fn holding the updater's lock; undefined, without running fn, when another instance holds it. */
  tryWithUpdaterLock<T>(updater: string, fn: () => Promise<T>): Promise<T | undefined>;
  /** Runs fn holding the updater's lock, waiting for it (a CLI `update` beside running services). */
  withUpdaterLock<T>(updater: string, fn: () => Promise<T>): Promise<T>;
  /** Runs fn holding the manifest's lock, waiting for it: index requests for one manifest take turns. */
  withManifestLock<T>(manifestHash: string, fn: () => Promise<T>): Promise<T>;
  /** Runs fn holding the layer's lock (by digest), waiting for it: one instance scans a layer, the others reuse it. */
  withLayerLock<T>(digest: string, fn: () => Promise<T>): Promise<T>;
  /** Milliseconds since any instance last finished a run of the updater, by the database's clock; undefined if never. */
  msSinceUpdaterRun(updater: string): Promise<number | undefined>;
  /** Records that a run of the updater finished now (updated or unchanged). */
  recordUpdaterRun(updater: string): Promise<void>;
}

/** A scan's rendered output and what the command needs besides it (its meaning is stored-scan.ts's). */
export interface StoredScanResult {
  meta: string;
  output: Uint8Array;
}

/** Scan results kept per manifest (formats and option sets), and output bytes kept in all: the oldest go first. */
export const MAX_SCAN_RESULTS_PER_MANIFEST = 8;
export const MAX_SCAN_RESULT_BYTES = 256 * 1024 * 1024;

export interface ReportStamps {
  operations: string;
  /** One per manifest asked for, in order. */
  indexReports: (string | undefined)[];
}

/** A notification as the API serves it (notification.schema.json); vulnerability is a vulnerability_summary. */
export interface StoredNotification {
  id: string;
  manifest: string;
  reason: 'added' | 'removed';
  vulnerability: Record<string, unknown>;
}

export interface NewNotificationSet {
  operationRef: string;
  updater: string;
  /** Absent when the operation created no notifications (the receipt still records that it was processed). */
  notificationId?: string;
  notifications: StoredNotification[];
}

/**
 * none: processed, nothing to notify. pending: waiting for (another) delivery attempt. delivered: a deliverer
 * confirmed it. deleted: the client deleted the set through the API.
 */
export type NotificationStatus = 'none' | 'pending' | 'delivered' | 'deleted';

export interface NotificationReceipt {
  operationRef: string;
  updater: string;
  notificationId?: string;
  status: NotificationStatus;
  /** Delivery attempts so far (claims). */
  attempts: number;
  /** ISO 8601. */
  created: string;
}

export interface OperationIdentity {
  ref: string;
  /** ISO 8601. */
  date: string;
}

export interface UpdateOperationWriter {
  /** Adds records (deduplicated by content). */
  add(batch: Vulnerability[]): Promise<void>;
  /** Adds enrichment records (deduplicated by content), for enrichment updaters' operations. */
  addEnrichments(batch: EnrichmentRecord[]): Promise<void>;
  /**
   * Adds the records of an earlier operation (by ref) that `keep` accepts, without re-sending them: how an
   * incremental update (rhel-vex) builds a full operation from the previous one. Returns how many were kept.
   * Throws ClairError('not-found') when the operation does not exist.
   */
  carryOver(ref: string, keep: (v: Vulnerability) => boolean): Promise<number>;
  /** Makes the operation visible, whole. */
  commit(fingerprint: string): Promise<UpdateOperation>;
  /** Discards everything added. */
  abort(): Promise<void>;
}
