import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { pipeline as pipelineCb, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { lazyRequire } from '../model/lazy-require.ts';
import type { Entry as ZipEntry, ZipFile } from 'yauzl';
import { ClairError } from '../model/errors.ts';
import { feedPath, isHttpLocation, openFeed, type FeedOpenOptions, type FeedOpenResult } from './feed-location.ts';

const tar = lazyRequire<typeof import('tar-stream')>('tar-stream');
const yauzl = lazyRequire<typeof import('yauzl')>('yauzl');

// Feeds published as many small JSON documents (Canonical's OSV tree, Alpine's secdb per branch) come as a folder,
// a .tar.gz or .zip of one, a single document, or a URL of any of these. The engine fingerprints one byte stream
// per run, so every form is turned into one stream here: a folder or a zip becomes a tar of the documents the feed
// wants (sorted, fixed mtimes: the same documents always make the same bytes, so an unchanged feed stores nothing
// new); a tar, tar.gz or single document is passed through as it is. `readFeedDocuments` then yields the documents
// of any of these streams one at a time.

/** A document of a feed: its path inside the folder or archive ("" for a single document) and its bytes. */
export interface FeedDocument {
  path: string;
  data: Buffer;
}

/** Largest single document read into memory (the biggest Alpine secdb file is a few MB, OSV records are KBs). */
const MAX_DOCUMENT = 64 * 1024 * 1024;

function packSorted(docs: AsyncIterable<FeedDocument>): Readable {
  const pack = tar().pack();
  (async () => {
    for await (const d of docs) {
      await new Promise<void>((resolve, reject) =>
        pack.entry({ name: d.path, mode: 0o644, mtime: new Date(0) }, d.data, (err) => (err ? reject(err) : resolve())),
      );
    }
    pack.finalize();
  })().catch((e: unknown) => pack.destroy(e instanceof Error ? e : new Error(String(e))));
  return pack as unknown as Readable;
}

async function* walk(root: string, dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* walk(root, full);
    else if (e.isFile()) yield relative(root, full).split(sep).join('/');
  }
}

async function* folderDocuments(root: string, wanted: (path: string) => boolean): AsyncGenerator<FeedDocument> {
  for await (const path of walk(root, root)) {
    if (!wanted(path)) continue;
    yield { path, data: await readFile(join(root, path)) };
  }
}

function zipError(location: string, e: unknown): ClairError {
  return new ClairError('bad-feed', `${location}: not a readable zip archive: ${(e as Error).message}`, { cause: e });
}

/** The wanted documents of a zip file, in the zip's order (paths sorted when written to the tar). */
async function* zipDocuments(file: string, location: string, wanted: (path: string) => boolean): AsyncGenerator<FeedDocument> {
  let zip: ZipFile;
  try {
    zip = await yauzl().openPromise(file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true });
  } catch (e) {
    throw zipError(location, e);
  }
  try {
    const names: ZipEntry[] = [];
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: ZipEntry) => {
        if (!entry.fileName.endsWith('/') && wanted(entry.fileName)) names.push(entry);
        zip.readEntry();
      });
      zip.on('end', () => resolve());
      zip.on('error', reject);
      zip.readEntry();
    }).catch((e: unknown) => {
      throw zipError(location, e);
    });
    names.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
    for (const entry of names) {
      if (entry.uncompressedSize > MAX_DOCUMENT) throw new ClairError('bad-feed', `${location}: ${entry.fileName} is larger than ${MAX_DOCUMENT} bytes`);
      let data: Buffer;
      try {
        const stream = await zip.openReadStreamPromise(entry);
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        data = Buffer.concat(chunks);
      } catch (e) {
        throw zipError(location, e);
      }
      yield { path: entry.fileName, data };
    }
  } finally {
    zip.close();
  }
}

async function isZipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b.readUInt32LE(0) === 0x04034b50;
  } finally {
    await fh.close();
  }
}

/** A zip as a tar stream of its wanted documents; `cleanup` runs when the stream ends or fails. */
function zipAsTar(file: string, location: string, wanted: (path: string) => boolean, cleanup?: () => Promise<void>): Readable {
  const out = packSorted(zipDocuments(file, location, wanted));
  if (cleanup) {
    let done = false;
    const once = (): void => {
      if (!done) {
        done = true;
        void cleanup();
      }
    };
    out.once('end', once);
    out.once('error', once);
    out.once('close', once);
  }
  return out;
}

export interface FeedArchiveOptions extends FeedOpenOptions {
  /** Which document paths (inside a folder or zip) the feed reads. Tar streams are filtered when read. */
  wanted: (path: string) => boolean;
}

/**
 * Opens a feed location as one byte stream: a folder or zip (local or URL ending in .zip) becomes a tar of the
 * wanted documents; anything else (tar, tar.gz, a JSON document, or such a URL) is the bytes as they are.
 */
export async function openFeedArchive(location: string, opts: FeedArchiveOptions): Promise<FeedOpenResult> {
  if (isHttpLocation(location)) {
    if (!/\.zip(\?|#|$)/i.test(location)) return openFeed(location, opts);
    // A zip cannot be read as it streams (its directory is at the end): download it to a private temp folder first.
    const opened = await openFeed(location, opts);
    if ('notModified' in opened) return opened;
    const dir = await mkdtemp(join(tmpdir(), 'clair-ts-feed-'));
    const file = join(dir, 'feed.zip');
    const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
    try {
      const fh = await open(file, 'w', 0o600);
      await pipeline(opened.stream, fh.createWriteStream());
    } catch (e) {
      await remove();
      throw new ClairError('unavailable', `feed ${location}: download failed: ${(e as Error).message}`, { cause: e });
    }
    return { stream: zipAsTar(file, location, opts.wanted, remove), ...(opened.etag ? { etag: opened.etag } : {}) };
  }
  const path = feedPath(location);
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new ClairError('not-found', `feed location ${location} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (st.isDirectory()) return { stream: packSorted(folderDocuments(path, opts.wanted)) };
  if (st.isFile() && (await isZipFile(path))) return { stream: zipAsTar(path, location, opts.wanted) };
  return openFeed(location, opts);
}

function bad(location: string, message: string, cause?: unknown): ClairError {
  return new ClairError('bad-feed', `${location}: ${message}`, cause === undefined ? undefined : { cause });
}

/**
 * The documents in a feed stream, one at a time: a tar (optionally gzip-compressed) yields its wanted regular
 * files; anything else is one document (path ""). A truncated or corrupt archive throws ClairError('bad-feed').
 */
export async function* readFeedDocuments(
  feed: Readable,
  location: string,
  wanted: (path: string) => boolean,
): AsyncGenerator<FeedDocument> {
  // Look at the first bytes to tell gzip and tar from a plain document.
  const head: Buffer[] = [];
  let headLen = 0;
  const it = feed[Symbol.asyncIterator]();
  let ended = false;
  while (headLen < 512) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    head.push(b);
    headLen += b.length;
  }
  const first = Buffer.concat(head);
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield first;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    }
  };
  const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  const isTar = first.length >= 262 && first.toString('latin1', 257, 262) === 'ustar';
  if (first.length >= 4 && first.readUInt32LE(0) === 0x04034b50) {
    throw bad(location, 'a zip archive can only be read from a file or a URL ending in .zip');
  }
  if (gzip) {
    // A .tar.gz, or one gzip-compressed document (a .json.gz): the decompressed bytes are read the same way.
    const gunzip = createGunzip();
    pipelineCb(Readable.from(rest()), gunzip, () => {});
    try {
      yield* readFeedDocuments(gunzip, location, wanted);
    } catch (e) {
      if (e instanceof ClairError) throw e;
      throw bad(location, `not a readable gzip stream: ${(e as Error).message}`, e);
    }
    return;
  }
  if (!isTar) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of rest()) {
      size += c.length;
      if (size > MAX_DOCUMENT) throw bad(location, `document larger than ${MAX_DOCUMENT} bytes`);
      chunks.push(c);
    }
    yield { path: '', data: Buffer.concat(chunks) };
    return;
  }
  const extract = tar().extract();
  const source = Readable.from(rest());
  let failure: unknown;
  // pipeline() destroys every stage on an error, so the loop below ends with it instead of waiting forever.
  pipelineCb(source, extract as unknown as NodeJS.WritableStream, (e) => {
    if (e) failure ??= e;
  });
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\.\//, '');
      if (entry.header.type !== 'file' || !wanted(name)) {
        entry.resume();
        continue;
      }
      if ((entry.header.size ?? 0) > MAX_DOCUMENT) throw bad(location, `${name} is larger than ${MAX_DOCUMENT} bytes`);
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      yield { path: name, data: Buffer.concat(chunks) };
    }
  } catch (e) {
    if (e instanceof ClairError) throw e;
    const cause = failure ?? e;
    if (cause instanceof ClairError) throw cause;
    throw bad(location, `not a readable tar archive: ${(cause as Error).message}`, cause);
  }
  if (failure) throw failure instanceof ClairError ? failure : bad(location, `archive: ${(failure as Error).message}`, failure);
}
