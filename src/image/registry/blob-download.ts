// A blob body that survives a cut connection. When the bytes stop early, the download asks again with
// `Range: bytes=<received>-`; a 206 from that offset continues the same stream, a 200 is read from the
// start with the bytes already delivered skipped. Either way the consumer sees one uninterrupted byte
// sequence, so the digest check downstream (DigestVerifier) hashes exactly the blob, resumed or not.

import { Readable, pipeline, Transform, type TransformCallback } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import { DigestVerifier } from '../digest-verifier.ts';
import { describeNetworkError, type HttpTransport } from './http-transport.ts';

export interface BlobProgress {
  type: 'blob-bytes' | 'blob-done';
  digest: string;
  /** Bytes received so far (for 'blob-done': all of them). */
  bytes: number;
  total?: number;
}

export interface BlobDownload {
  digest: string;
  size?: number;
  /** "layer", "config": the noun for messages. */
  what: string;
  /** Makes the request, from `offset` when > 0 (with its Range header); resolves to the response. */
  open(offset: number): Promise<Response>;
  /** The answer to open(0), already checked to be 200. */
  first: Response;
  transport: HttpTransport;
  onProgress?: ((e: BlobProgress) => void) | undefined;
}

/** A digest-verified stream of the blob; fails with 'digest-mismatch' at its end when the bytes differ. */
export function verifiedBlobStream(d: BlobDownload): Readable {
  const verifier = new DigestVerifier(d.digest, d.size !== undefined ? { what: d.what, expectedSize: d.size } : { what: d.what });
  const progress = progressCounter(d);
  // Progress sits after the verifier, so 'blob-done' means the digest matched.
  return pipeline(Readable.from(resumingChunks(d)), verifier, progress, () => {});
}

async function* resumingChunks(d: BlobDownload): AsyncGenerator<Uint8Array> {
  let res = d.first;
  let offset = 0;
  let resumes = 0;
  while (true) {
    let skip = 0;
    if (offset > 0) {
      if (res.status === 206) {
        const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        if (!start || Number(start[1]) !== offset) {
          await res.body?.cancel().catch(() => {});
          throw new ClairError('unavailable', `${d.what} ${d.digest}: resumed download answered range ${res.headers.get('content-range') ?? '(none)'}, expected from byte ${offset}`);
        }
      } else if (res.status === 200) {
        skip = offset; // the server ignored Range: read again, deliver only what is new
      } else {
        await res.body?.cancel().catch(() => {});
        throw new ClairError('unavailable', `${d.what} ${d.digest}: resuming at byte ${offset} answered HTTP ${res.status}`);
      }
    }
    if (res.body === null) return;
    try {
      for await (const chunk of res.body) {
        let c = chunk;
        if (skip > 0) {
          if (c.length <= skip) {
            skip -= c.length;
            continue;
          }
          c = c.subarray(skip);
          skip = 0;
        }
        offset += c.length;
        yield c;
      }
      return;
    } catch (err) {
      if (err instanceof ClairError) throw err;
      resumes++;
      if (resumes >= d.transport.retryPolicy.attempts) {
        throw new ClairError('unavailable', `${d.what} ${d.digest}: download cut at byte ${offset}${d.size !== undefined ? ` of ${d.size}` : ''} ${resumes} times; last: ${describeNetworkError(err)}`, { cause: err });
      }
    }
    res = await d.open(offset);
  }
}

function progressCounter(d: BlobDownload): Transform {
  let bytes = 0;
  const emit = (type: BlobProgress['type']): void => {
    if (!d.onProgress) return;
    const e: BlobProgress = { type, digest: d.digest, bytes };
    if (d.size !== undefined) e.total = d.size;
    d.onProgress(e);
  };
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      bytes += chunk.length;
      emit('blob-bytes');
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      emit('blob-done');
      cb();
    },
  });
}
