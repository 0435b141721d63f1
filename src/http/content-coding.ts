import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyRequest } from 'fastify';

// Content coding of large cached answers (vulnerability reports run to megabytes): gzip or br as the request's
// Accept-Encoding allows, compressed once per answer and kept beside it, so a repeated GET costs a lookup and a
// send. Go's HTTP client (Quay, clairctl) asks for gzip and decompresses transparently.

export type Coding = 'br' | 'gzip';

/** The coding to answer with: br, then gzip, among those the request accepts with q > 0; undefined = identity. */
export function chooseCoding(headers: FastifyRequest['headers']): Coding | undefined {
  const h = headers['accept-encoding'];
  if (typeof h !== 'string' || h === '') return undefined;
  const q = new Map<string, number>();
  for (const part of h.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    if (name) q.set(name, Number.isFinite(value) ? value : 0);
  }
  const ok = (c: string) => (q.get(c) ?? q.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return undefined;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** The coded form, made on the thread pool: a report of megabytes takes tens of ms to compress, off the event loop. */
export function encode(raw: Buffer, coding: Coding): Promise<Buffer> {
  // br at quality 5: within a few percent of gzip's speed, a third smaller on report JSON; the answer is cached.
  return coding === 'br'
    ? brotliAsync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } })
    : gzipAsync(raw, { level: 6 });
}

/** A strong validator per representation: the coded body is other bytes than the identity one. */
export function codedValidator(etag: string, coding: Coding | undefined): string {
  return coding ? `${etag.slice(0, -1)}-${coding}"` : etag;
}
