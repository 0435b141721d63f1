import type { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { openFeedArchive, readFeedDocuments } from '../../updater/feed-archive.ts';
import type { Updater } from '../../updater/updater.ts';
import { parseJsonDocument, secdbRecords } from '../apk/secdb.ts';
import { CHAINGUARD, issueLink, rollingDist, WOLFI, WOLFI_SCHEME, type RollingApkDistro } from './releases.ts';

// Wolfi's and Chainguard's security.json: Alpine's secdb format (src/ecosystems/apk/secdb.ts) for one rolling
// repository ("os", "chainguard"), "0" meaning never affected as in Alpine. A location is the document's URL or
// path, or a folder / .tar.gz / .zip holding it.

const wanted = (path: string): boolean => path.endsWith('.json');

async function* records(d: RollingApkDistro, feed: Readable, location: string): AsyncGenerator<Vulnerability> {
  let documents = 0;
  for await (const doc of readFeedDocuments(feed, location, wanted)) {
    const where = doc.path ? `${location} ${doc.path}` : location;
    documents++;
    yield* secdbRecords(parseJsonDocument(doc.data, where), { updater: d.id, dist: rollingDist(d), versionScheme: WOLFI_SCHEME.id, link: issueLink }, where);
  }
  if (documents === 0) throw new ClairError('bad-feed', `${location}: no security.json document`);
}

function rollingUpdater(d: RollingApkDistro): Updater {
  return {
    name: d.id,
    version: '1',
    defaultLocation: d.defaultLocation,
    open: (location, opts) => openFeedArchive(location, { ...opts, wanted }),
    parse: (feed, opts) => records(d, feed, opts.location),
  };
}

export const wolfiUpdater = rollingUpdater(WOLFI);
export const chainguardUpdater = rollingUpdater(CHAINGUARD);
