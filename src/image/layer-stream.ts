// Turns a layer blob stream (as stored: gzip, zstd or plain tar) into the uncompressed tar stream.
// The format is sniffed from the first bytes, never taken from the media type (see compression.ts).
// Memory stays at one sniff buffer plus the decompressor's window, whatever the layer size.

import { PassThrough, Readable } from 'node:stream';
import { ClairError, isClairError } from '../model/errors.ts';
import { createDecompressor, detectCompression, hasTarMagic, SNIFF_BYTES, STREAM_BUFFER, type Compression } from './compression.ts';

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
    const compression = detectCompression(head);
    if (compression === 'xz' || compression === 'bzip2') {
      src.destroy();
      out.destroy(new ClairError('unsupported', `layer ${layerDigest} is ${compression}-compressed; only gzip, zstd and uncompressed tar layers are supported`));
      return;
    }
    if (compression === 'none' && hasTarMagic(head) === false && !isZeroBlock(head)) {
      // Every tool that writes image layers writes ustar/PAX/GNU headers, all carrying the magic; a
      // head without it is some other file (HTML error page, unknown compressor), not an old v7 tar.
      src.destroy();
      out.destroy(new ClairError('bad-layer', `layer ${layerDigest} is not gzip, zstd or tar (no ustar magic at offset 257; starts with ${head.subarray(0, 8).toString('hex')})`));
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
