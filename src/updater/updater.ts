import type { Readable } from 'node:stream';
import type { FeedOpenOptions, FeedOpenResult } from './feed-location.ts';
import type { Vulnerability } from '../model/vulnerability.ts';
import type { EnrichmentRecord, RiskFacts } from '../model/enrichment.ts';

// An updater turns one feed into vulnerability records. The engine (src/updater/run-updater.ts) opens the feed location
// (URL, file path or file:// URL), fingerprints the bytes, and stores the records as one update operation.
export interface Updater {
  /** Source name used on the CLI and in config: `clair-ts update --source NAME=LOCATION`. */
  readonly name: string;
  /** Stored with each record; bump when parsing changes so the same feed bytes produce a new operation. */
  readonly version: string;
  /** Default feed location (URL). */
  readonly defaultLocation: string;
  /**
   * Optional: how this feed's location becomes one byte stream, for feeds that may be a folder or an archive
   * (src/updater/feed-archive.ts). Without it the engine opens the location as one file or URL.
   */
  open?(location: string, opts: FeedOpenOptions): Promise<FeedOpenResult>;
  /** Parses the feed bytes as they arrive. Throws ClairError('bad-feed') on malformed input. */
  parse(feed: Readable, opts: UpdaterOptions): AsyncIterable<Vulnerability>;
  /**
   * Optional incremental shape, for feeds published as many documents plus a change list (Red Hat VEX). When set,
   * the engine does not open the location itself: the updater fetches what changed since the previous operation,
   * and the engine writes previous records it keeps plus the new ones, so each operation still holds the full set.
   */
  readonly delta?: DeltaSource;
  /**
   * Option keys this updater reads from a `#key=value&key=value` suffix of its location (osv: `#ecosystems=PyPI,npm`).
   * Updaters without it get the location as written, `#` included.
   */
  readonly locationOptions?: readonly string[];
  /**
   * The update-operation name for these location options (default: the updater's name). Two sources of one updater
   * with different options (OSV's PyPI and npm zips) are then separate feeds, each replaced only by its own next run.
   */
  operationName?(options: Readonly<Record<string, string>>): string;
}

/**
 * An updater of enrichment data (claircore's EnrichmentUpdater): same engine, same update operations, but its records
 * describe vulnerabilities (CVSS, EPSS, KEV) instead of being them, and reports attach them under `type`.
 */
export interface EnrichmentUpdater {
  readonly kind: 'enrichment';
  readonly name: string;
  readonly version: string;
  readonly defaultLocation: string;
  /** The key of the report's `enrichments` object, Clair's media type for this enricher. */
  readonly type: string;
  parse(feed: Readable, opts: UpdaterOptions): AsyncIterable<EnrichmentRecord>;
  /** The facts one of its records states, for tables, sorting and gates. */
  facts(enrichment: Record<string, unknown>): RiskFacts;
  readonly open?: (location: string, opts: FeedOpenOptions) => Promise<FeedOpenResult>;
}

/** Anything the update engine runs. */
export type AnyUpdater = Updater | EnrichmentUpdater;

export function isEnrichmentUpdater(u: AnyUpdater): u is EnrichmentUpdater {
  return 'kind' in u && u.kind === 'enrichment';
}

export interface DeltaSource {
  fetch(ctx: DeltaFetchContext): Promise<DeltaFetchResult>;
}

export interface DeltaFetchContext {
  /** URL, file:// URL or local path, as given on the CLI or in config. */
  location: string;
  /** The newest operation of this updater, when there is one. */
  previous?: { ref: string; fingerprint: string };
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export type DeltaFetchResult =
  | { unchanged: true }
  | {
      unchanged?: false;
      /** Stored with the new operation and handed back as previous.fingerprint next time. */
      fingerprint: string;
      /** Carry over the previous operation's records this accepts; absent: the new operation holds only `records`. */
      keepPrevious?: (v: Vulnerability) => boolean;
      records: AsyncIterable<Vulnerability>;
    };

export interface UpdaterOptions {
  /** Where the bytes came from, for error messages. */
  location: string;
  /** The location's `#key=value` options (only keys the updater declares in locationOptions). */
  options?: Readonly<Record<string, string>>;
  /**
   * A record that cannot be used (bad JSON in one file of a thousand) is skipped with a warning rather than failing
   * the whole feed; what makes the feed as a whole unreadable is still a bad-feed error.
   */
  warn?(message: string): void;
}
