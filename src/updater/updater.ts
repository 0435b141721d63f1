import type { Readable } from 'node:stream';
import type { Vulnerability } from '../model/vulnerability.ts';

// An updater turns one feed into vulnerability records. The engine (src/updater/run.ts) opens the feed location
// (URL, file path or file:// URL), fingerprints the bytes, and stores the records as one update operation.
export interface Updater {
  /** Source name used on the CLI and in config: `clair-ts update --source NAME=LOCATION`. */
  readonly name: string;
  /** Stored with each record; bump when parsing changes so the same feed bytes produce a new operation. */
  readonly version: string;
  /** Default feed location (URL). */
  readonly defaultLocation: string;
  /** Parses the feed bytes as they arrive. Throws ClairError('bad-feed') on malformed input. */
  parse(feed: Readable, opts: UpdaterOptions): AsyncIterable<Vulnerability>;
}

export interface UpdaterOptions {
  /** Where the bytes came from, for error messages. */
  location: string;
}
