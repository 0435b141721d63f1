import type { Readable } from 'node:stream';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { openFeedArchive, readFeedDocuments } from '../../updater/feed-archive.ts';
import type { Updater, UpdaterOptions } from '../../updater/updater.ts';
import { BadAdvisoryError, parseRustsecAdvisory } from './advisory.ts';

// The RustSec advisory database in its own layout: a checkout of rustsec/advisory-db (a folder), or GitHub's tar.gz
// or zip of it. Only crates/<crate>/RUSTSEC-*.md is read: rust/ holds advisories for the toolchain itself (std,
// cargo, rustdoc), which no Cargo.lock lists. The same advisories also reach OSV (crates.io ecosystem) under the
// same RUSTSEC ids, so loading both is harmless: reports merge records that share an id.

export const RUSTSEC_URL = 'https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz';

const ADVISORY_PATH = /(?:^|\/)crates\/[^/]+\/RUSTSEC-\d{4}-\d{4,}\.md$/;

export function isRustsecAdvisoryPath(path: string): boolean {
  return ADVISORY_PATH.test(path);
}

export async function* rustsecRecords(feed: Readable, location: string, warn: (m: string) => void = () => {}): AsyncGenerator<Vulnerability> {
  for await (const entry of readFeedDocuments(feed, location, isRustsecAdvisoryPath)) {
    let parsed;
    try {
      parsed = parseRustsecAdvisory(entry.data.toString('utf8'), 'rustsec');
    } catch (e) {
      if (!(e instanceof BadAdvisoryError)) throw e;
      warn(`${location}: ${entry.path}: ${e.message}`);
      continue;
    }
    yield* parsed.records;
  }
}

export const rustsecUpdater: Updater = {
  name: 'rustsec',
  version: '1',
  defaultLocation: RUSTSEC_URL,
  open: (location, o) => openFeedArchive(location, { ...o, wanted: isRustsecAdvisoryPath }),
  parse(feed: Readable, opts: UpdaterOptions) {
    return rustsecRecords(feed, opts.location, opts.warn);
  },
};
