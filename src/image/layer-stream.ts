// Turns a layer blob (as stored: gzip, zstd or plain tar) into the uncompressed tar bytes: decompressBlob pushes them
// into a synchronous consumer (the indexer's tar reader), decompressLayer makes a stream of them (layer workers,
// image checks). The format is sniffed from the first bytes, never taken from the media type (see compression.ts).
// Memory stays at one sniff buffer plus the decompressor's window and a few chunks, whatever the layer size.

import { PassThrough, Readable, type Transform } from 'node:stream';
import { ClairError, isClairError } from '../model/errors.ts';
import type { BlobChunks } from './blob-chunks.ts';
import { createDecompressor, detectCompression, hasTarMagic, SNIFF_BYTES, STREAM_BUFFER, type Compression } from './compression.ts';

/**
 * Decompressed bytes waiting for the consumer before the decompressor is paused. Output is handed over in a
 * microtask, not inside zlib's callback: zlib starts the next chunk's work in the thread pool as soon as its callback
 * returns, so that work overlaps the consumer's (the tar walk and scanners on the main thread). Four MiB (four of the
 * decompressor's chunks) absorb a consumer that is busy with another layer for a moment; memory stays bounded.
 */
const MAX_QUEUED_BYTES = 4 << 20;

export interface DecompressBlobOptions {
  /**
   * The chunks are lent to `push`: valid while it runs, not after (a consumer that keeps bytes copies them, as the
   * tar reader does for the files scanners want: TarEntriesOptions.lentChunks). Then the blob's own chunks of an
   * uncompressed layer are pushed without a copy, and each decompressed chunk that fills its buffer is released as
   * soon as push returned (ArrayBuffer.prototype.transfer(0) frees its memory) instead of waiting for a collection.
   */
  lend?: boolean;
}

/**
 * Runs a layer blob's uncompressed tar bytes into `push`, which takes each chunk synchronously and may keep it (the
 * chunks are the consumer's), unless `options.lend`. Resolves once the blob ended, digest check included, and every
 * byte was pushed. Rejects with the blob's own ClairErrors (digest-mismatch, …) unchanged; with 'bad-layer' for
 * corrupt or truncated gzip/zstd data, unreadable bytes or a head that is neither gzip, zstd nor tar; with
 * 'unsupported' for xz and bzip2; and with whatever `push` throws, unchanged (the caller knows what its errors mean).
 * The blob is closed on any failure.
 */
export async function decompressBlob(
  blob: BlobChunks, layerDigest: string, push: (chunk: Buffer) => void, options: DecompressBlobOptions = {},
): Promise<void> {
  const lend = options.lend === true;
  // Errors of the blob become layer errors here; errors of `push` pass as they are.
  const read = (): Promise<Buffer | undefined> => blob.read().catch((e: unknown) => {
    throw asLayerError(e, layerDigest);
  });
  try {
    // The head is copied (chunks are lent); it is then the first bytes of the layer.
    const parts: Buffer[] = [];
    let length = 0;
    let ended = false;
    while (length < SNIFF_BYTES) {
      const c = await read();
      if (c === undefined) {
        ended = true;
        break;
      }
      parts.push(Buffer.from(c));
      length += c.length;
    }
    const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const compression = refuseUnreadable(head, layerDigest);
    const decompressor = createDecompressor(compression);
    if (!decompressor) {
      if (head.length > 0) push(head);
      if (ended) return;
      // Copied unless lent on: the blob lends its chunks only until the read after next.
      for (let c = await read(); c !== undefined; c = await read()) push(lend ? c : Buffer.from(c));
      return;
    }
    await inflate(read, head, ended, decompressor, compression, layerDigest, lend ? lendAndRelease(push) : push);
  } catch (e) {
    blob.close();
    throw e;
  }
}

/**
 * `push` for decompressed chunks that are lent: a chunk that ends its ArrayBuffer is zlib's last use of that buffer
 * (zlib writes each output buffer from its start to its end, handing out each part as a chunk, then allocates the
 * next; a pushed chunk is the consumer's, so no byte of a buffer whose end was pushed is zlib's any more), and once
 * push returned nothing else views it, so its memory is freed at once. Without that, each 1 MiB output buffer is
 * external memory that V8 collects only in full garbage collections of the main heap: 40-50 of them for the big image,
 * a fifth of its CPU (issue 17). Buffers of Buffer's shared pool (small allocations) are left alone. Should a Node
 * release ever write into a buffer it pushed, zlib would refuse the detached buffer (RangeError 'output buffer is out
 * of bounds', checked on Node 24 by detaching a partly filled one), not write into freed memory.
 */
function lendAndRelease(push: (chunk: Buffer) => void): (chunk: Buffer) => void {
  return (chunk) => {
    push(chunk);
    const buffer = chunk.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength > Buffer.poolSize && chunk.byteOffset + chunk.length === buffer.byteLength) {
      buffer.transfer(0);
    }
  };
}

/** The compression of a layer whose head is `head`; throws for a layer that is not one clair-ts reads. */
function refuseUnreadable(head: Buffer, layerDigest: string): Compression {
  const compression = detectCompression(head);
  if (compression === 'xz' || compression === 'bzip2') {
    throw new ClairError('unsupported', `layer ${layerDigest} is ${compression}-compressed; only gzip, zstd and uncompressed tar layers are supported`);
  }
  if (compression === 'none' && hasTarMagic(head) === false && !isZeroBlock(head)) {
    // Every tool that writes image layers writes ustar/PAX/GNU headers, all carrying the magic; a
    // head without it is some other file (HTML error page, unknown compressor), not an old v7 tar.
    throw new ClairError('bad-layer', `layer ${layerDigest} is not gzip, zstd or tar (no ustar magic at offset 257; starts with ${head.subarray(0, 8).toString('hex')})`);
  }
  return compression;
}

function inflate(
  read: () => Promise<Buffer | undefined>, head: Buffer, headIsAll: boolean, decompressor: Transform, compression: Compression,
  layerDigest: string, push: (chunk: Buffer) => void,
): Promise<void> {
  const corrupt = (err: Error): ClairError =>
    new ClairError('bad-layer', `layer ${layerDigest}: ${compression} data is corrupt or truncated: ${err.message}`, { cause: err });
  return new Promise((resolve, reject) => {
    const queue: Buffer[] = [];
    let queued = 0;
    let scheduled = false;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      decompressor.destroy();
      reject(err);
    };
    const drain = (): void => {
      scheduled = false;
      if (settled) return;
      try {
        for (let i = 0; i < queue.length; i++) push(queue[i]!);
      } catch (e) {
        fail(e);
        return;
      } finally {
        queue.length = 0;
        queued = 0;
      }
      if (decompressor.isPaused()) decompressor.resume();
    };
    decompressor.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      queued += chunk.length;
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(drain);
      }
      if (queued >= MAX_QUEUED_BYTES) decompressor.pause();
    });
    decompressor.on('end', () => {
      drain();
      if (settled) return;
      settled = true;
      resolve();
    });
    decompressor.on('error', (err) => fail(corrupt(err)));
    // The write's callback comes once the decompressor took every byte of the chunk: the loan may end then.
    const write = (chunk: Buffer): Promise<void> =>
      new Promise((done, failed) => decompressor.write(chunk, (err) => (err ? failed(corrupt(err)) : done())));
    const feed = async (): Promise<void> => {
      await write(head);
      if (!headIsAll) {
        // One chunk read ahead while the previous one decompresses (the loan allows exactly that). The read's
        // failure is handled when it is awaited, on the next turn, or is moot once the layer failed: marked handled
        // at once, so that it is not an unhandled rejection while the write is awaited.
        const readAhead = (): Promise<Buffer | undefined> => {
          const p = read();
          p.catch(() => {});
          return p;
        };
        let next = readAhead();
        for (;;) {
          const chunk = await next;
          if (chunk === undefined || settled) break;
          next = readAhead();
          await write(chunk);
        }
      }
      if (!settled) decompressor.end();
    };
    feed().catch(fail);
  });
}

/**
 * Returns the uncompressed tar bytes of a layer. Errors surface on the returned stream:
 * - errors of `src` itself (digest-mismatch, not-found, …) pass through unchanged;
 * - corrupt or truncated gzip/zstd data become ClairError('bad-layer', `layer <digest>: …`);
 * - xz and bzip2 layers (legal in old Docker images, never produced by current tools) are refused as 'unsupported'.
 * - uncompressed bytes whose first 512-byte block is present but has no ustar magic are refused as
 *   'bad-layer'; a stream too short to hold the magic is passed on and the tar parser decides.
 * Destroying the returned stream destroys `src`.
 */
export function decompressLayer(src: Readable, layerDigest: string): Readable {
  const out = new PassThrough({ highWaterMark: STREAM_BUFFER });
  // A consumer that gives up while the head is still being read must not leave `src` open.
  out.once('close', () => src.destroy());
  readHead(src, SNIFF_BYTES, (err, head, ended) => {
    if (err) {
      src.destroy();
      out.destroy(asLayerError(err, layerDigest));
      return;
    }
    if (out.destroyed) {
      src.destroy();
      return;
    }
    let compression: Compression;
    try {
      compression = refuseUnreadable(head, layerDigest);
    } catch (e) {
      src.destroy();
      out.destroy(e as Error);
      return;
    }
    let body: Readable;
    if (ended) {
      body = Readable.from(head.length > 0 ? [head] : [], { objectMode: false });
    } else {
      src.unshift(head);
      body = src;
    }
    connect(body, compression, out, layerDigest);
  });
  return out;
}

/** An all-zero first block is a tar end-of-archive marker: an empty layer, which is valid. */
function isZeroBlock(head: Buffer): boolean {
  return head.subarray(0, 512).every((b) => b === 0);
}

function connect(body: Readable, compression: Compression, out: PassThrough, layerDigest: string): void {
  const decompressor = createDecompressor(compression);
  const stop = (err: Error): void => {
    out.destroy(err);
    body.destroy();
    decompressor?.destroy();
  };
  body.on('error', (err) => stop(asLayerError(err, layerDigest)));
  // A consumer that stops early (destroys `out`) must release the file descriptor / socket behind `body`.
  out.on('close', () => {
    body.destroy();
    decompressor?.destroy();
  });
  if (decompressor) {
    decompressor.on('error', (err) =>
      stop(new ClairError('bad-layer', `layer ${layerDigest}: ${compression} data is corrupt or truncated: ${err.message}`, { cause: err })),
    );
    body.pipe(decompressor).pipe(out);
  } else {
    body.pipe(out);
  }
}

function asLayerError(err: unknown, layerDigest: string): Error {
  if (isClairError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ClairError('bad-layer', `layer ${layerDigest}: reading failed: ${message}`, { cause: err });
}

/**
 * Reads at least `n` bytes (or everything, when the stream is shorter) in paused mode, so that the
 * bytes can be unshifted back and the stream piped on without losing or copying the rest. The callback
 * runs synchronously inside the 'readable' handler: a read() that drained the stream has already
 * scheduled 'end' for the next tick, and the unshift must happen before that tick to cancel it.
 */
function readHead(src: Readable, n: number, done: (err: Error | undefined, head: Buffer, ended: boolean) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  const finish = (err: Error | undefined, ended: boolean): void => {
    src.off('readable', onReadable);
    src.off('end', onEnd);
    src.off('error', onError);
    src.off('close', onClose);
    done(err, Buffer.concat(chunks), ended);
  };
  const onReadable = (): void => {
    let chunk: Buffer | string | null;
    while (length < n && (chunk = src.read() as Buffer | string | null) !== null) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buf);
      length += buf.length;
    }
    if (length >= n) finish(undefined, false);
  };
  const onEnd = (): void => finish(undefined, true);
  const onError = (err: Error): void => finish(err, false);
  // Destroyed without an error and without 'end': the data is cut short.
  const onClose = (): void => finish(new Error('stream closed before its end'), false);
  src.on('readable', onReadable);
  src.on('end', onEnd);
  src.on('error', onError);
  src.on('close', onClose);
}
