import type { IndexReport } from '../model/index-report.ts';
import type { UpdateOperation } from '../model/update-operation.ts';
import { packagePurl } from '../model/purl.ts';
import { isInformational } from '../model/vulnerability.ts';
import type { NormalizedSeverity } from '../model/severity.ts';
import type { Finding, VulnerabilityReport } from '../matcher/vulnerability-report.ts';
import { findings as allFindings } from '../matcher/vulnerability-report.ts';
import { indexedPackages } from '../matcher/matcher.ts';
import type { Matcher } from '../matcher/matcher.ts';
import { decide, type Decisions, type Suppression } from './decisions.ts';
import { packageAdvice, layerSummary, type LayerSummary, type PackageAdvice } from './advice.ts';

// Everything a scan report says, whatever its format: the findings that stand, the ones suppressed (and why), the
// packages nothing checked, the feeds used and how old they are, and the upgrade advice. Every renderer
// (table, JSON, SARIF, CycloneDX, SPDX) reads this one object, so the formats cannot disagree.

/** A feed used for this image: its newest update operation. */
export interface FeedFreshness {
  feed: string;
  /** vulnerabilities: it decides findings (and --max-feed-age applies); enrichment: NVD, EPSS, KEV facts. */
  role: 'vulnerabilities' | 'enrichment';
  /** The update operation read (undefined: no data for a feed that covers packages of the image). */
  operation?: string;
  /** When that operation was stored (ISO 8601). */
  updated?: string;
  records?: number;
  /** Packages of the image this feed covers (vulnerability feeds). */
  packages: number;
}

/** A package no vulnerability data checked: never counted as clean. */
export interface NotChecked {
  packageId: string;
  name: string;
  version: string;
  purl?: string;
  reason: string;
  /** Set when no feed covers the package at all: what it is (a distribution, a repository's packages). */
  uncovered?: string;
}

export interface ScanReport {
  /** The reference as given (`oci:…`, `sbom:…`, a registry reference). */
  reference: string;
  manifest: string;
  /** When the report was made (ISO 8601). */
  generated: string;
  index: IndexReport;
  vulnerabilityReport: VulnerabilityReport;
  /** Findings that stand after filters and decisions. */
  findings: Finding[];
  /** Findings an ignore entry or a VEX statement suppressed, each with its reason. */
  suppressed: Suppression[];
  /** Findings left out by --only-fixed or --severity (counted, not listed). */
  filteredOut: number;
  /** Things the reader must know about the decisions (an ignore entry that expired, a VEX statement that matched nothing). */
  notices: string[];
  notChecked: NotChecked[];
  feeds: FeedFreshness[];
  /** Package id → purl. */
  purls: Record<string, string>;
  advice: PackageAdvice[];
  layers: LayerSummary[];
}

export interface ReportOptions {
  reference: string;
  onlyFixed?: boolean;
  /** Severities kept (undefined: all). */
  severities?: NormalizedSeverity[];
  decisions?: Decisions;
  /** How many of the image's first layers are its base image (default 1). */
  baseLayers?: number;
  now?: Date;
}

/**
 * The language repositories a language feed covers. OS feeds are found through the matchers' queries (their updater
 * prefix); language matchers query by package name alone, so their feeds are named here.
 */
const LANGUAGE_FEEDS: Readonly<Record<string, readonly string[]>> = {
  pypi: ['osv'], npm: ['osv'], maven: ['osv'], rubygems: ['osv'], go: ['osv', 'go'], 'crates.io': ['osv', 'rustsec'],
};

const ENRICHMENT_FEEDS = ['nvd', 'epss', 'kev'];

/** The newest operation of each updater (operations are listed newest first). */
function newestByUpdater(ops: readonly UpdateOperation[]): Map<string, UpdateOperation> {
  const out = new Map<string, UpdateOperation>();
  for (const op of ops) if (!out.has(op.updater)) out.set(op.updater, op);
  return out;
}

/** Feeds covering each package: OS packages by the matcher's updater prefix, language packages by repository. */
function coveringFeeds(index: IndexReport, matchers: readonly Matcher[]): { feeds: Map<string, Set<string>>; uncovered: Set<string> } {
  const feeds = new Map<string, Set<string>>();
  const uncovered = new Set<string>();
  for (const p of indexedPackages(index)) {
    if (p.package.ownedBy) continue;
    const names = new Set<string>();
    for (const m of matchers) {
      let claimed = false;
      try {
        claimed = m.filter(p);
        if (!claimed) continue;
        const q = m.query(p);
        if (q.updaterPrefix) names.add(q.updaterPrefix.split('/')[0]!);
      } catch {
        continue;
      }
      for (const r of p.repositories) for (const f of LANGUAGE_FEEDS[r.name] ?? []) names.add(f);
    }
    if (names.size === 0) uncovered.add(p.id);
    for (const n of names) {
      let s = feeds.get(n);
      if (!s) feeds.set(n, (s = new Set()));
      s.add(p.id);
    }
  }
  return { feeds, uncovered };
}

/** Updater names of a feed: "debian" holds "debian", or "debian/…" per release. */
function feedOperation(feed: string, newest: Map<string, UpdateOperation>): UpdateOperation | undefined {
  let best: UpdateOperation | undefined;
  for (const [name, op] of newest) {
    if (name !== feed && !name.startsWith(feed + '/')) continue;
    // The oldest of a feed's parts is how fresh the feed is.
    if (!best || op.date < best.date) best = op;
  }
  return best;
}

/** The feeds covering an image's packages with their newest operation: the API's Clair-Ts-Feed-Freshness header. */
export function feedFreshness(index: IndexReport, operations: readonly UpdateOperation[], matchers: readonly Matcher[]): FeedFreshness[] {
  const newest = newestByUpdater(operations);
  const out: FeedFreshness[] = [];
  for (const [feed, ids] of [...coveringFeeds(index, matchers).feeds].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const op = feedOperation(feed, newest);
    out.push({ feed, role: 'vulnerabilities', packages: ids.size, ...(op ? { operation: op.ref, updated: op.date, records: op.count } : {}) });
  }
  return out;
}

/** `debian; operation="…"; updated="2026-12-01T23:40:00Z", osv; none`: one header value for all feeds. */
export function freshnessHeader(feeds: readonly FeedFreshness[]): string {
  return feeds.map((f) => (f.operation ? `${f.feed}; operation="${f.operation}"; updated="${f.updated}"` : `${f.feed}; none`)).join(', ');
}

export function buildScanReport(
  vr: VulnerabilityReport,
  operations: readonly UpdateOperation[],
  matchers: readonly Matcher[],
  o: ReportOptions,
): ScanReport {
  const index = vr.index;
  const now = o.now ?? new Date();
  const purls: Record<string, string> = {};
  for (const p of indexedPackages(index)) {
    const purl = packagePurl(p.package, p.distribution);
    if (purl) purls[p.id] = purl;
  }
  const newest = newestByUpdater(operations);
  const { feeds: covering, uncovered } = coveringFeeds(index, matchers);
  const feeds: FeedFreshness[] = [];
  const notChecked: NotChecked[] = [];
  const noData = new Map<string, string[]>();
  for (const [feed, ids] of [...covering].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const op = feedOperation(feed, newest);
    feeds.push({ feed, role: 'vulnerabilities', packages: ids.size, ...(op ? { operation: op.ref, updated: op.date, records: op.count } : {}) });
    if (!op) for (const id of ids) noData.set(id, [...(noData.get(id) ?? []), feed]);
  }
  for (const feed of ENRICHMENT_FEEDS) {
    const op = feedOperation(feed, newest);
    if (op) feeds.push({ feed, role: 'enrichment', packages: 0, operation: op.ref, updated: op.date, records: op.count });
  }
  const pkgLine = (id: string, reason: string, uncoveredAs?: string): NotChecked => {
    const p = index.packages[id]!;
    return { packageId: id, name: p.name, version: p.version, ...(purls[id] ? { purl: purls[id] } : {}), reason, ...(uncoveredAs ? { uncovered: uncoveredAs } : {}) };
  };
  for (const id of uncovered) {
    const p = indexedPackages({ ...index, packages: { [id]: index.packages[id]! } })[0]!;
    const what = p.distribution?.prettyName || p.distribution?.did || (p.repositories[0] ? `${p.repositories[0].name} packages` : 'no distribution detected');
    notChecked.push(pkgLine(id, `no vulnerability feed covers it (${what})`, what));
  }
  for (const [id, fs] of noData) {
    // Covered by a feed that has no data in the database: checked by nothing.
    if (covering.size > 0 && [...covering].every(([f, ids]) => !ids.has(id) || fs.includes(f))) {
      notChecked.push(pkgLine(id, `no data from feed ${fs.join(', ')} in the database (run clair-ts update)`));
    }
  }
  notChecked.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  let found = allFindings(vr);
  let filteredOut = 0;
  if (o.onlyFixed) {
    const kept = found.filter((f) => f.vulnerability.fixedInVersion !== '');
    filteredOut += found.length - kept.length;
    found = kept;
  }
  if (o.severities && o.severities.length > 0) {
    const keep = new Set(o.severities);
    const kept = found.filter((f) => keep.has(f.vulnerability.normalizedSeverity) || isInformational(f.vulnerability));
    filteredOut += found.length - kept.length;
    found = kept;
  }
  const decided = decide(found, purls, { reference: o.reference, manifest: index.manifestHash }, o.decisions, now);
  return {
    reference: o.reference,
    manifest: index.manifestHash,
    generated: now.toISOString(),
    index,
    vulnerabilityReport: vr,
    findings: decided.kept,
    suppressed: decided.suppressed,
    filteredOut,
    notices: decided.notices,
    notChecked,
    feeds,
    purls,
    advice: packageAdvice(decided.kept),
    layers: layerSummary(index, decided.kept, o.baseLayers ?? 1),
  };
}
