import { randomUUID } from 'node:crypto';
import type { Matcher } from '../matcher/matcher.ts';
import { vulnerabilitySummaryJson } from '../model/clair-json.ts';
import { severityRank } from '../model/severity.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import { findEnrichmentUpdater } from '../enrichment/registry.ts';
import { affectedPackages, manifestHitPositions } from '../matcher/affected-manifests.ts';
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
  // One pass over the packages for both reasons (a record is never both added and removed): positions below
  // diff.added.length are added records.
  const records = [...diff.added, ...diff.removed];
  const affected = await affectedPackages(store, matchers, records.map((v) => ({ id: v.id, vulnerability: v })));
  const out: StoredNotification[] = [];
  // Most severe first, then by name, then input order: what a stable severity sort of a manifest's list puts first.
  const before = (p: number, q: number) => {
    const c = bySeverity(records[p]!, records[q]!);
    return c < 0 || (c === 0 && p < q);
  };
  const summaries = new Map<number, Record<string, unknown>>();
  const summary = (p: number) => {
    let s = summaries.get(p);
    if (!s) summaries.set(p, (s = vulnerabilitySummaryJson(records[p]!)));
    return s;
  };
  const lists = opts.disableSummary ? manifestHitPositions(affected) : undefined;
  for (const [reason, mine] of [['added', (p: number) => p < diff.added.length], ['removed', (p: number) => p >= diff.added.length]] as const) {
    if (lists) {
      // Every vulnerability of the manifest's change, most severe first. Manifests with the same hits share one
      // array (manifestHitPositions): sorted once.
      const sorted = new Map<Int32Array, number[]>();
      for (const [manifest, positions] of lists) {
        let ps = sorted.get(positions);
        if (!ps) sorted.set(positions, (ps = [...positions].filter(mine).sort((p, q) => bySeverity(records[p]!, records[q]!))));
        for (const p of ps) out.push({ id: randomUUID(), manifest, reason, vulnerability: summary(p) });
      }
      continue;
    }
    // Clair's summary: the most severe vulnerability stands for the manifest's change. The most severe record of
    // each package hit first, then of each manifest's packages: the work per manifest is one step per package hit,
    // not one per vulnerability.
    const best = affected.hits.map((hits) => {
      let b = -1;
      for (const p of hits) if (mine(p) && (b < 0 || before(p, b))) b = p;
      return b;
    });
    for (const [manifest, numbers] of affected.manifests) {
      let b = -1;
      for (const n of numbers) {
        const c = best[n]!;
        if (c >= 0 && (b < 0 || before(c, b))) b = c;
      }
      if (b >= 0) out.push({ id: randomUUID(), manifest, reason, vulnerability: summary(b) });
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
