import type { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { openFeedArchive, readFeedDocuments } from '../../updater/feed-archive.ts';
import type { Updater } from '../../updater/updater.ts';
import { parseJsonDocument } from '../apk/secdb.ts';
import { ubuntuOsvRecords, UBUNTU_UPDATER } from './osv.ts';

// Canonical's OSV feed. A location is the canonical/ubuntu-security-notices repository as a .tar.gz (the default:
// GitHub's archive of main, read as it streams), a .zip of it, a local clone or a folder laid out like it, or one
// record. The UBUNTU-CVE-*.json records under osv/cve/ are read; the USN records under osv/usn/ restate, per notice,
// fixes the CVE records already hold (each CVE record lists its USNs in "related", which become links), so reading
// both would report every fixed issue twice: USN files are skipped.

export const UBUNTU_OSV_URL = 'https://github.com/canonical/ubuntu-security-notices/archive/refs/heads/main.tar.gz';

const CVE_RECORD = /(?:^|\/)UBUNTU-CVE-[^/]+\.json$/;
const wanted = (path: string): boolean => CVE_RECORD.test(path);

export async function* ubuntuRecords(feed: Readable, location: string): AsyncGenerator<Vulnerability> {
  let documents = 0;
  for await (const doc of readFeedDocuments(feed, location, wanted)) {
    const where = doc.path ? `${location} ${doc.path}` : location;
    const json = parseJsonDocument(doc.data, where);
    // A single document given as the location may be a USN record: skipped like the USN files of a tree.
    if (!doc.path && typeof json === 'object' && json !== null && !Array.isArray(json) && typeof json['id'] === 'string' && json['id'].startsWith('USN-')) {
      documents++;
      continue;
    }
    documents++;
    yield* ubuntuOsvRecords(json, where);
  }
  if (documents === 0) throw new ClairError('bad-feed', `${location}: no UBUNTU-CVE-*.json records (expected the osv/cve/<year>/ layout of canonical/ubuntu-security-notices)`);
}

export const ubuntuUpdater: Updater = {
  name: UBUNTU_UPDATER,
  version: '1',
  defaultLocation: UBUNTU_OSV_URL,
  open: (location, opts) => openFeedArchive(location, { ...opts, wanted }),
  parse: (feed, opts) => ubuntuRecords(feed, opts.location),
};
