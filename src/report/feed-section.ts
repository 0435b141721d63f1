import type { FeedFreshness } from './scan-report.ts';

// The table report's last section, FEEDS: each feed's update operation and how long ago it was stored. In a module
// of its own because a stored table (cli/stored-scan.ts) writes it anew at each reuse, the age being relative to
// the time of the scan, without loading the report writers.

export type FeedLine = Pick<FeedFreshness, 'feed' | 'role' | 'operation' | 'updated'>;

function age(updated: string, now: Date): string {
  const ms = now.getTime() - Date.parse(updated);
  const h = ms / 3_600_000;
  return h < 1 ? `${Math.max(0, Math.round(ms / 60_000))}m ago` : h < 48 ? `${Math.round(h)}h ago` : `${Math.round(h / 24)}d ago`;
}

/** The section's lines ("FEEDS" and one per feed); none without feeds. */
export function feedSection(feeds: readonly FeedLine[], now: Date): string[] {
  if (feeds.length === 0) return [];
  return ['FEEDS', ...feeds.map((f) => `  ${f.feed}${f.role === 'enrichment' ? ' (enrichment)' : ''}: ${f.operation ? `updated ${f.updated} (${age(f.updated!, now)}), update operation ${f.operation}` : 'no data in the database'}`)];
}
