import { cveIds } from '../matcher/enrich.ts';
import { KEV_UPDATER } from '../enrichment/kev/updater.ts';
import { parseSeverity, severityRank } from '../model/severity.ts';
import type { Subscription } from '../model/subscription.ts';
import type { Store, StoredNotification } from '../store/store.ts';

// Which notifications of a set a subscription receives: those about its manifests (a digest list, or a repository
// pattern matched against the repositories the manifests were indexed under), whose vulnerability is at least
// min_severity, has a fixed-in version when fixable_only, and names a CVE in the KEV catalog when kev_only.
// A notification carries Clair's vulnerability_summary: in summary mode (Clair's default) that is the most severe
// vulnerability per manifest and reason, so the filter sees that one; notifier.disable_summary gives it every one.

export interface FilterFacts {
  /** Repositories each manifest was indexed under. */
  repositories: Map<string, string[]>;
  /** CVE ids of the set that are in the KEV catalog (the kev enrichment feed's newest operation). */
  kev: Set<string>;
}

/** `*` matches any run of characters (slashes included); everything else literally. */
export function repositoryPattern(pattern: string): RegExp {
  return new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
}

function summaryText(n: StoredNotification, key: string): string {
  const v = n.vulnerability[key];
  return typeof v === 'string' ? v : '';
}

export function notificationCves(n: StoredNotification): string[] {
  return cveIds({ name: summaryText(n, 'name'), description: summaryText(n, 'description'), links: summaryText(n, 'links') });
}

/** The facts the filters of these subscriptions need about these notifications (queried only when needed). */
export async function filterFacts(store: Store, subs: readonly Subscription[], notifications: readonly StoredNotification[]): Promise<FilterFacts> {
  const repositories = subs.some((s) => s.repository) ? await store.manifestRepositories(notifications.map((n) => n.manifest)) : new Map<string, string[]>();
  let kev = new Set<string>();
  if (subs.some((s) => s.kevOnly)) {
    const ids = [...new Set(notifications.flatMap(notificationCves))];
    if (ids.length > 0) kev = new Set((await store.queryEnrichments(KEV_UPDATER, ids)).map((r) => r.tag));
  }
  return { repositories, kev };
}

/** Does this notification pass the subscription's filter and threshold? */
export function passes(sub: Subscription, n: StoredNotification, facts: FilterFacts, repoPattern?: RegExp): boolean {
  if (sub.manifests && !sub.manifests.includes(n.manifest)) return false;
  if (sub.repository) {
    const re = repoPattern ?? repositoryPattern(sub.repository);
    if (!(facts.repositories.get(n.manifest) ?? []).some((r) => re.test(r))) return false;
  }
  if (sub.minSeverity) {
    const sev = parseSeverity(summaryText(n, 'normalized_severity')) ?? 'Unknown';
    if (severityRank(sev) < severityRank(sub.minSeverity)) return false;
  }
  if (sub.fixableOnly && summaryText(n, 'fixed_in_version') === '') return false;
  if (sub.kevOnly && !notificationCves(n).some((id) => facts.kev.has(id))) return false;
  return true;
}

/** The ids of the notifications each subscription receives (subscriptions that receive none are left out). */
export function shareOut(subs: readonly Subscription[], notifications: readonly StoredNotification[], facts: FilterFacts): { subscriptionId: string; ids: string[] }[] {
  return subs
    .map((s) => {
      const re = s.repository ? repositoryPattern(s.repository) : undefined;
      return { subscriptionId: s.id, ids: notifications.filter((n) => passes(s, n, facts, re)).map((n) => n.id) };
    })
    .filter((d) => d.ids.length > 0);
}
