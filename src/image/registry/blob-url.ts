// Blobs named by URL, as the HTTP API's `POST /indexer/api/v1/index_report` hands them over (Clair's
// Layer: {hash, uri, headers}): `https://registry/v2/<name>/blobs/sha256:…` plus the headers the caller
// obtained (usually Authorization). The headers are sent as given to the URL's own origin and dropped on
// a redirect elsewhere; the bytes are verified against the digest, resumed when cut, retried like any
// registry request. No challenge handling: the caller's headers are the authorization.

import type { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import { printable } from '../../model/printable.ts';
import { parseDigest } from '../digest.ts';
import { verifiedBlobStream, type BlobProgress } from './blob-download.ts';
import { displayUrl } from './http-transport.ts';
import { makeTransport, type RegistryOptions } from './registry-image.ts';

export interface BlobUrlOptions extends Pick<RegistryOptions, 'fetch' | 'caFile' | 'retry' | 'idleTimeoutMs'> {
  /** Header name → value, or values as Clair's API carries them ({"Authorization": ["Bearer …"]}). */
  headers?: Record<string, string | readonly string[]>;
  /** The blob's digest; default: the last path segment of the URL. */
  digest?: string;
  size?: number;
  onProgress?: (e: BlobProgress) => void;
}

/** RFC 9110 field-value: visible characters, spaces and tabs; no CR, LF, NUL or other controls. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export async function openBlobUrl(url: string, opts: BlobUrlOptions = {}): Promise<Readable> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ClairError('bad-input', `layer URI ${JSON.stringify(displayUrl(url))} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ClairError('bad-input', `layer URI ${displayUrl(parsed)}: scheme ${parsed.protocol} is not supported (http, https)`);
  const digest = opts.digest ?? decodeURIComponent(parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1));
  try {
    parseDigest(digest);
  } catch (err) {
    throw new ClairError((err as ClairError).code ?? 'bad-input', `layer URI ${displayUrl(parsed)}: ${(err as Error).message}; pass the digest explicitly when the URL does not end in it`, { cause: err });
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    const value = typeof v === 'string' ? v : v.join(', ');
    // A value fetch would refuse: said without the value, which is likely a credential (and is never logged).
    if (!HEADER_VALUE.test(value)) throw new ClairError('bad-input', `layer URI ${displayUrl(parsed)}: header ${JSON.stringify(printable(k))} has a value with control characters; refused (value not shown)`);
    headers[k.toLowerCase()] = value;
  }

  const { transport } = await makeTransport(opts);
  const what = `layer ${digest} at ${displayUrl(parsed)}`;
  const open = (offset: number): Promise<Response> => transport.request(parsed.toString(), { headers: offset > 0 ? { ...headers, range: `bytes=${offset}-` } : headers }, what);
  const first = await open(0);
  if (first.status !== 200) {
    await first.body?.cancel().catch(() => {});
    if (first.status === 404) throw new ClairError('not-found', `${what}: not found (HTTP 404)`);
    if (first.status === 401 || first.status === 403) throw new ClairError('unauthorized', `${what}: HTTP ${first.status}; the headers given with the layer were not accepted`);
    throw new ClairError('unavailable', `${what}: HTTP ${first.status}`);
  }
  return verifiedBlobStream({ digest, ...(opts.size !== undefined ? { size: opts.size } : {}), what: 'layer', open, first, transport, onProgress: opts.onProgress });
}
