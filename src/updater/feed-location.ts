import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ClairError } from '../model/errors.ts';
import { printable } from '../model/printable.ts';
import { withIdleTimeout } from '../model/idle-timeout-fetch.ts';

// A feed location is a URL; a file path or file:// URL works the same, so air-gapped sites and tests use local copies.

export interface OpenedFeed {
  stream: Readable;
  /** The server's ETag, when it sent one: the next run asks If-None-Match. */
  etag?: string;
}

export type FeedOpenResult = OpenedFeed | { notModified: true };

export interface FeedOpenOptions {
  etag?: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * Splits `LOCATION#key=value&key=value` for an updater that declares option keys; unknown keys are a bad-input error
 * naming the known ones. Without declared keys the location is returned as written.
 */
export function splitLocationOptions(location: string, keys: readonly string[] | undefined): { location: string; options: Record<string, string> } {
  const hash = location.lastIndexOf('#');
  if (!keys || keys.length === 0 || hash < 0) return { location, options: {} };
  const options: Record<string, string> = {};
  for (const part of location.slice(hash + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!keys.includes(key)) {
      throw new ClairError('bad-input', `feed location ${location}: unknown option "${key}" (known: ${keys.join(', ')})`);
    }
    const value = decodeURIComponent(eq < 0 ? '' : part.slice(eq + 1)).trim();
    if (value === '') throw new ClairError('bad-input', `feed location ${location}: option "${key}" needs a value`);
    options[key] = value;
  }
  return { location: location.slice(0, hash), options };
}

/** True when the location is a folder on this machine (a path or file:// URL). */
export async function isLocalDirectory(location: string): Promise<boolean> {
  if (isHttpLocation(location)) return false;
  try {
    return (await stat(feedPath(location))).isDirectory();
  } catch {
    return false;
  }
}

export function isHttpLocation(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

export function feedPath(location: string): string {
  return /^file:/i.test(location) ? fileURLToPath(location) : location;
}

export async function openFeed(location: string, opts: FeedOpenOptions = {}): Promise<FeedOpenResult> {
  if (isHttpLocation(location)) return openHttp(location, opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:/i.test(location)) {
    throw new ClairError('bad-input', `feed location ${location}: only http, https and file URLs or paths are supported`);
  }
  const path = feedPath(location);
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ClairError('bad-input', `feed location ${location} is not a file`);
  } catch (e) {
    if (e instanceof ClairError) throw e;
    throw new ClairError('not-found', `feed location ${location} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { stream: createReadStream(path) };
}

async function openHttp(url: string, opts: FeedOpenOptions): Promise<FeedOpenResult> {
  const headers: Record<string, string> = { 'user-agent': 'clair-ts' };
  if (opts.etag) headers['if-none-match'] = opts.etag;
  let res: Response;
  try {
    res = await withIdleTimeout(opts.fetch ?? fetch)(url, { headers, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    throw new ClairError('unavailable', `feed ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (res.status === 304) return { notModified: true };
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ClairError(res.status === 404 ? 'not-found' : 'unavailable', `feed ${url}: HTTP ${res.status} ${res.statusText}`);
  }
  const etag = res.headers.get('etag') ?? undefined;
  return { stream: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), ...(etag ? { etag } : {}) };
}

// ---- paths a feed names inside itself (a mirror's changes.csv, an index of documents)
//
// A feed is data from elsewhere: a path it names is confined to the feed's base, whatever it says. Only plain
// relative paths of ordinary names are taken (letters, digits, `._~+-`, segments joined by `/`): no absolute path,
// no `..`, no URL of its own (`https://other/`, `//other/`, `file:`), no percent-escapes (a URL parser reads `%2e%2e`
// as `..`), no backslashes or control characters. Checked again after resolving: a local file must still be under
// the base once symlinks are followed, a URL must keep the base's origin and path prefix.

const SEGMENT = /^[A-Za-z0-9_~+-][A-Za-z0-9._~+-]*$/;

/** The path if it is a plain relative path inside a feed; throws ClairError('bad-feed') naming `source` otherwise. */
export function confinedFeedPath(rel: string, source: string): string {
  const p = rel.startsWith('./') ? rel.slice(2) : rel;
  const ok = p.length > 0 && p.length <= 1024 && p.split('/').every((seg) => SEGMENT.test(seg));
  if (!ok) throw new ClairError('bad-feed', `${source}: ${JSON.stringify(printable(rel.slice(0, 120)))} is not a path inside the feed; refused`);
  return p;
}

/** A file under a local feed folder: confined by name, and by its real path once symlinks are followed. */
export async function fileUnderFeedDir(dir: string, rel: string, source: string): Promise<string> {
  const path = join(dir, confinedFeedPath(rel, source));
  let real: string;
  let realDir: string;
  try {
    [real, realDir] = await Promise.all([realpath(path), realpath(dir)]);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ClairError('not-found', `${source}: ${rel} cannot be read: ${code ?? 'error'}`, { cause: e });
  }
  if (!real.startsWith(realDir.endsWith(sep) ? realDir : realDir + sep)) {
    throw new ClairError('bad-feed', `${source}: ${rel} leads outside the feed folder (a symbolic link); refused`);
  }
  return real;
}

/** A URL under a feed's base URL: same origin, under the base's path. */
export function urlUnderFeedBase(base: string, rel: string, source: string): string {
  const b = new URL(base.endsWith('/') ? base : base + '/');
  const u = new URL(confinedFeedPath(rel, source), b);
  if (u.origin !== b.origin || !u.pathname.startsWith(b.pathname) || u.search !== '' || u.hash !== '') {
    throw new ClairError('bad-feed', `${source}: ${rel} leads outside ${b.href}; refused`);
  }
  return u.toString();
}

/**
 * JSON.parse, with an error that does not quote the text: V8's message shows the bytes it choked on, and a feed
 * error must never become a way to print a file the feed had no business naming.
 */
export function parseFeedJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = (e as Error).message.replace(/"(?:[^"\\]|\\.)*"(?:\.\.\.)?/g, '…').replace(/'[^']*'/g, '…');
    throw new ClairError('bad-feed', `${source}: not JSON (${printable(why.slice(0, 120))})`);
  }
}
