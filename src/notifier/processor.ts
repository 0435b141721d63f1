import { randomUUID } from 'node:crypto';
import type { Matcher } from '../matcher/matcher.ts';
import { vulnerabilitySummaryJson } from '../model/clair-json.ts';
import { severityRank } from '../model/severity.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import { findEnrichmentUpdater } from '../enrichment/registry.ts';
import { affectedManifests } from '../matcher/affected-manifests.ts';
import type { Store, StoredNotification, StoredVulnerability } from '../store/store.ts';

// From a new update operation to notifications, as Clair's notifier processor: diff the operation against the
// previous one of its updater, find the manifests the added and the removed records affect (the same decision a
// vulnerability report makes: matcher/affected-manifests.ts), and store one notification set for the operation.
// Skipped, as in Clair: an operation that is not its updater's newest (a newer one will be diffed instead) and the
// first operation of an updater (everything would be "added"). The store's receipt makes processing happen once.

export type ProcessResult =
  | { kind: 'created'; notificationId: string; count: number }
  | { kind: 'nothing-affected' }
  | { kind: 'first-operation' }
  | { kind: 'not-newest'; newest: string }
  | { kind: 'already-processed' }
  | { kind: 'enrichment' };

export interface ProcessOptions {
  /** One notification per (manifest, reason, vulnerability) instead of Clair's summary. */
  disableSummary?: boolean;
}

/** Most severe first; then by name, so that the summary's pick does not depend on store order. */
function bySeverity(a: Vulnerability, b: Vulnerability): number {
  return severityRank(b.normalizedSeverity) - severityRank(a.normalizedSeverity) || a.name.localeCompare(b.name);
}

async function notificationsFor(store: Store, matchers: readonly Matcher[], diff: { added: StoredVulnerability[]; removed: StoredVulnerability[] }, opts: ProcessOptions): Promise<StoredNotification[]> {
  if (diff.added.length === 0 && diff.removed.length === 0) return [];
  // One pass over the candidate manifests for both reasons (a record is never both added and removed).
  const r = await affectedManifests(store, matchers, [...diff.added, ...diff.removed].map((v) => ({ id: v.id, vulnerability: v })));
  const out: StoredNotification[] = [];
  const manifests = Object.entries(r.vulnerableManifests).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [reason, records] of [['added', diff.added], ['removed', diff.removed]] as const) {
    const mine = new Set(records.map((v) => v.id));
    // Manifests with the same hits share one array (affected-manifests.ts): sorted once.
    const sorted = new Map<string[], Vulnerability[]>();
    for (const [manifest, all] of manifests) {
      let vulns = sorted.get(all);
      if (!vulns) sorted.set(all, (vulns = all.filter((id) => mine.has(id)).map((id) => r.vulnerabilities.get(id)!).sort(bySeverity)));
      if (vulns.length === 0) continue;
      // Clair's summary: the most severe vulnerability stands for the manifest's change.
      for (const v of opts.disableSummary ? vulns : vulns.slice(0, 1)) {
        out.push({ id: randomUUID(), manifest, reason, vulnerability: vulnerabilitySummaryJson(v) });
      }
    }
  }
  return out;
}

export async function processUpdateOperation(store: Store, matchers: readonly Matcher[], op: Pick<UpdateOperation, 'ref' | 'updater'>, opts: ProcessOptions = {}): Promise<ProcessResult> {
  if (await store.getNotificationReceipt({ operationRef: op.ref })) return { kind: 'already-processed' };
  if (findEnrichmentUpdater(op.updater)) {
    // CVSS, EPSS and KEV data changes no finding's presence: recorded as processed, nothing to notify.
    const stored = await store.putNotifications({ operationRef: op.ref, updater: op.updater, notifications: [] });
    return stored ? { kind: 'enrichment' } : { kind: 'already-processed' };
  }
  const ops = await store.listUpdateOperations(op.updater);
  if (ops[0] && ops[0].ref !== op.ref) return { kind: 'not-newest', newest: ops[0].ref };
  const prev = ops[1];
  if (!prev) {
    // Recorded, so the next poll does not look at it again; no notifications, as in Clair.
    const stored = await store.putNotifications({ operationRef: op.ref, updater: op.updater, notifications: [] });
    return stored ? { kind: 'first-operation' } : { kind: 'already-processed' };
  }
  const diff = await store.diffUpdateOperations(prev.ref, op.ref);
  const notifications = await notificationsFor(store, matchers, diff, opts);
  const notificationId = notifications.length > 0 ? randomUUID() : undefined;
  const stored = await store.putNotifications({ operationRef: op.ref, updater: op.updater, ...(notificationId ? { notificationId } : {}), notifications });
  if (!stored) return { kind: 'already-processed' };
  return notificationId ? { kind: 'created', notificationId, count: notifications.length } : { kind: 'nothing-affected' };
}

/** Processes the newest operation of every updater that has not been processed yet (the poll loop's work). */
export async function processNewOperations(store: Store, matchers: readonly Matcher[], opts: ProcessOptions = {}): Promise<{ op: UpdateOperation; result: ProcessResult }[]> {
  const newest = new Map<string, UpdateOperation>();
  for (const op of await store.listUpdateOperations()) if (!newest.has(op.updater)) newest.set(op.updater, op);
  const out: { op: UpdateOperation; result: ProcessResult }[] = [];
  for (const op of newest.values()) {
    if (await store.getNotificationReceipt({ operationRef: op.ref })) continue;
    out.push({ op, result: await processUpdateOperation(store, matchers, op, opts) });
  }
  return out;
}
