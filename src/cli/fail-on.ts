import { ClairError } from '../model/errors.ts';
import { NORMALIZED_SEVERITIES, parseSeverity, severityRank, type NormalizedSeverity } from '../model/severity.ts';
import type { Finding } from '../matcher/vulnerability-report.ts';
import type { FeedFreshness } from '../report/scan-report.ts';
import type { CliIo } from './io.ts';
import { EXIT_FOUND, EXIT_OK, EXIT_STALE } from './cli-error.ts';
import { isInformational } from '../model/vulnerability.ts';

// `scan`'s gates and filters. --fail-on, repeatable: the gate trips when any finding meets any condition.
//   High            a normalized severity: that one or worse
//   kev             listed in CISA's Known Exploited Vulnerabilities catalog
//   epss>=0.5       EPSS probability at least 0.5 (also epss>0.5); the EPSS percentile with epss-percentile>=0.95
//   cvss>=7         CVSS base score at least 7

export type FailCondition =
  | { kind: 'severity'; severity: NormalizedSeverity }
  | { kind: 'kev' }
  | { kind: 'threshold'; field: 'epss' | 'epss-percentile' | 'cvss'; op: '>=' | '>'; value: number };

export function parseFailOn(s: string): FailCondition {
  const t = s.trim();
  const severity = parseSeverity(t);
  if (severity) return { kind: 'severity', severity };
  if (t.toLowerCase() === 'kev') return { kind: 'kev' };
  const m = /^(epss-percentile|epss|cvss)\s*(>=|>)\s*([0-9]*\.?[0-9]+)$/i.exec(t);
  if (m) {
    const field = m[1]!.toLowerCase() as 'epss' | 'epss-percentile' | 'cvss';
    const value = Number(m[3]);
    const max = field === 'cvss' ? 10 : 1;
    if (value > max) throw new ClairError('bad-input', `--fail-on ${s}: ${field} is at most ${max}`);
    return { kind: 'threshold', field, op: m[2] as '>=' | '>', value };
  }
  throw new ClairError(
    'bad-input',
    `--fail-on must be a severity (${NORMALIZED_SEVERITIES.join(', ')}), kev, epss>=P, epss-percentile>=P or cvss>=S, not ${JSON.stringify(s)}`,
  );
}

export function meets(f: Finding, c: FailCondition): boolean {
  switch (c.kind) {
    case 'severity':
      return severityRank(f.vulnerability.normalizedSeverity) >= severityRank(c.severity);
    case 'kev':
      return f.risk.kev !== undefined;
    case 'threshold': {
      const v = c.field === 'cvss' ? f.risk.cvss?.score : c.field === 'epss' ? f.risk.epss?.score : f.risk.epss?.percentile;
      if (v === undefined) return false;
      return c.op === '>=' ? v >= c.value : v > c.value;
    }
  }
}

/** Findings that trip the gate; informational advisories (RustSec's unmaintained, unsound, notice) never do. */
export function tripping(found: readonly Finding[], conditions: readonly FailCondition[]): Finding[] {
  return found.filter((f) => !isInformational(f.vulnerability) && conditions.some((c) => meets(f, c)));
}

/** "High,Critical" → the severities (--severity); throws naming the bad one. */
export function parseSeverityList(list: string[]): NormalizedSeverity[] {
  const out: NormalizedSeverity[] = [];
  for (const item of list.flatMap((s) => s.split(','))) {
    const t = item.trim();
    if (!t) continue;
    const s = parseSeverity(t);
    if (!s) throw new ClairError('bad-input', `--severity: ${JSON.stringify(t)} is not a severity (Unknown, Negligible, Low, Medium, High, Critical)`);
    out.push(s);
  }
  return out;
}

/** Vulnerability feeds that cover the image and are older than maxAgeMs (or have no data at all): --max-feed-age. */
export function staleFeeds<F extends Pick<FeedFreshness, 'feed' | 'role' | 'updated'>>(feeds: readonly F[], maxAgeMs: number, now = new Date()): F[] {
  return feeds.filter((f) => f.role === 'vulnerabilities' && (f.updated === undefined || now.getTime() - Date.parse(f.updated) > maxAgeMs));
}

/** The exit code: 1 when --fail-on tripped, else 3 when a feed is older than --max-feed-age, else 0. */
export function scanVerdict(tripped: boolean, feeds: readonly Pick<FeedFreshness, 'feed' | 'role' | 'updated'>[], s: { maxAgeMs?: number; maxFeedAge?: string }, io: CliIo): number {
  if (tripped) return EXIT_FOUND;
  if (s.maxAgeMs !== undefined) {
    const stale = staleFeeds(feeds, s.maxAgeMs);
    if (stale.length > 0) {
      io.stderr(`clair-ts: stale vulnerability data: ${stale.map((f) => `${f.feed} ${f.updated ? `updated ${f.updated}` : 'has no data'}`).join(', ')} (--max-feed-age ${s.maxFeedAge})\n`);
      return EXIT_STALE;
    }
  }
  return EXIT_OK;
}
