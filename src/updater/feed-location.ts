import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ClairError } from '../model/errors.ts';

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
    res = await (opts.fetch ?? fetch)(url, { headers, ...(opts.signal ? { signal: opts.signal } : {}) });
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
