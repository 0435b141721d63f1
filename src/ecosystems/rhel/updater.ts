import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { lazyRequire } from '../../model/lazy-require.ts';
import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { feedPath, parseFeedJson } from '../../updater/feed-location.ts';
import type { DeltaFetchContext, DeltaFetchResult, Updater } from '../../updater/updater.ts';
import { parseVexDocument, RHEL_VEX_UPDATER } from './csaf-vex.ts';
import { documentNameOfPath, isLocalFile, openVexMirror, parseChangesCsv, type ChangeEntry, type VexMirror } from './vex-mirror.ts';

const tar = lazyRequire<typeof import('tar-stream')>('tar-stream');

// The rhel-vex updater. Against a mirror (Red Hat's URL or a local folder of the same layout, see vex-mirror.ts):
// the first run reads the newest archive plus the documents changed since it; later runs read only changes.csv
// and deletions.csv, and the documents changed since the previous run. Each run is stored as a full operation:
// the previous operation's records, minus those of changed or deleted CVEs, plus the records of the changed
// documents. A location that is a single file (one CSAF document, JSON lines of documents, or a .tar.zst archive)
// is read whole each time.
//
// Documents are read one at a time as the archive streams past; a document is parsed whole (they are single CVEs,
// a few KiB to a few MiB), so memory stays bounded by the largest document, not the archive.

const VERSION = '1';
const PARSER = `${RHEL_VEX_UPDATER}@${VERSION}`;
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

interface MirrorFingerprint {
  parser: string;
  mode: 'mirror';
  archive: string;
  /** The newest change or deletion time already applied (ISO 8601). */
  since: string;
}

interface FileFingerprint {
  parser: string;
  mode: 'file';
  sha256: string;
}

function parseFingerprint(s: string | undefined): MirrorFingerprint | FileFingerprint | undefined {
  if (!s) return undefined;
  try {
    const fp = JSON.parse(s) as MirrorFingerprint | FileFingerprint;
    return fp.parser === PARSER ? fp : undefined;
  } catch {
    return undefined;
  }
}

/** Records of every document in a byte stream: a CSAF JSON document, JSON lines of them, or a .tar.zst archive. */
export async function* parseVexStream(feed: Readable, source: string, skip?: (path: string) => boolean): AsyncGenerator<Vulnerability> {
  // Look at the first bytes to tell an archive from JSON, then go on with the same iterator (breaking out of a
  // for-await would destroy the stream).
  const it = feed[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < 4) {
    const n = await it.next();
    if (n.done) break;
    chunks.push(n.value);
    size += n.value.length;
  }
  const sniffed = Buffer.concat(chunks);
  const rest = Readable.from((async function* () {
    yield sniffed;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  })());
  if (sniffed.subarray(0, 4).equals(ZSTD_MAGIC)) {
    yield* parseVexArchive(rest, source, skip);
    return;
  }
  let text = '';
  for await (const c of rest) text += (c as Buffer).toString('utf8');
  const trimmed = text.trim();
  if (trimmed === '') return;
  // One pretty-printed document, or one compact document per line (claircore's spool format).
  const docs = trimmed.startsWith('{') && !/\}\s*\n\s*\{/.test(trimmed) ? [trimmed] : trimmed.split('\n').filter((l) => l.trim() !== '');
  for (const [i, d] of docs.entries()) {
    const where = docs.length > 1 ? `${source} line ${i + 1}` : source;
    yield* parseVexDocument(jsonOf(d, where), where).records;
  }
}

function jsonOf(text: string, source: string): unknown {
  return parseFeedJson(text, source);
}

/** The documents of a csaf_vex_*.tar.zst archive, one tar entry at a time. */
async function* parseVexArchive(bytes: Readable, source: string, skip?: (path: string) => boolean): AsyncGenerator<Vulnerability> {
  const extract = tar().extract();
  const feeding = pipeline(bytes, zlib.createZstdDecompress(), extract).catch((e: Error) => {
    extract.destroy(e);
  });
  try {
    for await (const entry of extract) {
      const path = entry.header.name.replace(/^\.?\//, '');
      if (entry.header.type !== 'file' || !path.endsWith('.json') || skip?.(path)) {
        entry.resume();
        continue;
      }
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      yield* parseVexDocument(jsonOf(Buffer.concat(parts).toString('utf8'), `${source}: ${path}`), `${source}: ${path}`).records;
    }
  } catch (e) {
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-feed', `${source}: not a readable zstd tar archive: ${(e as Error).message}`, { cause: e });
  }
  await feeding;
}

async function fetchMirror(ctx: DeltaFetchContext): Promise<DeltaFetchResult> {
  const mirror = openVexMirror(ctx.location, { ...(ctx.signal ? { signal: ctx.signal } : {}), ...(ctx.fetch ? { fetch: ctx.fetch } : {}) });
  const prev = parseFingerprint(ctx.previous?.fingerprint);
  const changes = parseChangesCsv((await mirror.text('changes.csv'))!, `${mirror.location} changes.csv`);
  const deletions = parseChangesCsv((await mirror.text('deletions.csv', true)) ?? '', `${mirror.location} deletions.csv`);
  const newest = (entries: ChangeEntry[], floor: Date) => entries.reduce((m, e) => (e.time > m ? e.time : m), floor);

  if (prev?.mode === 'mirror') {
    const since = new Date(prev.since);
    const changed = latestPerPath(changes.filter((e) => e.time > since));
    const deleted = deletions.filter((e) => e.time > since).map((e) => e.path);
    if (changed.length === 0 && deleted.length === 0) return { unchanged: true };
    const drop = new Set([...changed, ...deleted].map(documentNameOfPath));
    const fp: MirrorFingerprint = { parser: PARSER, mode: 'mirror', archive: prev.archive, since: newest([...changes, ...deletions], since).toISOString() };
    return {
      fingerprint: JSON.stringify(fp),
      keepPrevious: (v) => !drop.has(v.name),
      records: documentsRecords(mirror, changed.filter((p) => !deleted.includes(p))),
    };
  }

  // First run (or the parser changed): the archive, minus documents changed or deleted after it was made, which
  // are read individually from their current paths.
  const archive = ((await mirror.text('archive_latest.txt')) ?? '').trim();
  if (!/^[\w.-]+\.tar\.zst$/.test(archive)) throw new ClairError('bad-feed', `${mirror.location} archive_latest.txt: expected an archive file name, got ${JSON.stringify(archive.slice(0, 80))}`);
  const dated = /(\d{4}-\d{2}-\d{2})/.exec(archive);
  // The archive is made during its day: anything changed that day or later may be newer than its copy inside.
  const archiveTime = dated ? new Date(`${dated[1]}T00:00:00Z`) : new Date(0);
  const changed = latestPerPath(changes.filter((e) => e.time >= archiveTime));
  const deleted = new Set(deletions.filter((e) => e.time >= archiveTime).map((e) => e.path));
  const override = new Set([...changed, ...deleted]);
  const fp: MirrorFingerprint = { parser: PARSER, mode: 'mirror', archive, since: newest([...changes, ...deletions], archiveTime).toISOString() };
  return {
    fingerprint: JSON.stringify(fp),
    records: (async function* () {
      yield* parseVexStream(await mirror.open(archive), `${mirror.location} ${archive}`, (p) => override.has(p));
      yield* documentsRecords(mirror, changed.filter((p) => !deleted.has(p)));
    })(),
  };
}

function latestPerPath(entries: ChangeEntry[]): string[] {
  return [...new Set(entries.map((e) => e.path))].sort();
}

async function* documentsRecords(mirror: VexMirror, paths: string[]): AsyncGenerator<Vulnerability> {
  for (const p of paths) {
    const text = await mirror.text(p, true);
    // Listed as changed but gone: withdrawn between the listing and now; its old records were dropped already.
    if (text === undefined) continue;
    yield* parseVexDocument(jsonOf(text, `${mirror.location} ${p}`), `${mirror.location} ${p}`).records;
  }
}

async function fetchFile(ctx: DeltaFetchContext): Promise<DeltaFetchResult> {
  const path = feedPath(ctx.location);
  const hash = createHash('sha256');
  for await (const c of createReadStream(path)) hash.update(c as Buffer);
  const fp: FileFingerprint = { parser: PARSER, mode: 'file', sha256: hash.digest('hex') };
  const prev = parseFingerprint(ctx.previous?.fingerprint);
  if (prev?.mode === 'file' && prev.sha256 === fp.sha256) return { unchanged: true };
  return { fingerprint: JSON.stringify(fp), records: parseVexStream(createReadStream(path), ctx.location) };
}

export const rhelVexUpdater: Updater = {
  name: RHEL_VEX_UPDATER,
  version: VERSION,
  defaultLocation: 'https://security.access.redhat.com/data/csaf/v2/vex/',
  parse: (feed, opts) => parseVexStream(feed, opts.location),
  delta: {
    fetch: async (ctx) => ((await isLocalFile(ctx.location)) ? fetchFile(ctx) : fetchMirror(ctx)),
  },
};
