// Which compression a byte stream uses, decided by its first bytes rather than by a media type or a
// file name: registries and `docker save` both mislabel layers often enough (a "tar" media type over
// gzip bytes, a .tar that is zstd) that content is the only thing worth trusting.
// Magic numbers: gzip RFC 1952 §2.3.1, zstd RFC 8878 §3.1.1, xz file-format 1.0.4 §2.1.1.1, bzip2 "BZh".

import zlib from 'node:zlib';
import type { Transform } from 'node:stream';

export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

/** Bytes to look at before deciding: the ustar magic sits at offset 257 of the first tar header. */
export const SNIFF_BYTES = 512;

export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return 'xz';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  return 'none';
}

/**
 * True / false when the head is long enough to hold a ustar/GNU magic ("ustar" at offset 257, POSIX
 * 1003.1-1988 and GNU tar both), undefined when it is too short to tell (tiny or empty tars).
 * Pre-POSIX v7 tars have no magic at all, so false is a hint, not a verdict.
 */
export function hasTarMagic(head: Uint8Array): boolean | undefined {
  if (head.length < 262) return undefined;
  return Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar';
}

/**
 * Output chunk of the decompressors. zlib's default, 16 KiB, costs one thread-pool round trip per 16 KiB: ~84,000 of
 * them for a 1.4 GB image, measured as a quarter of cold-index time (issue 17). 1 MiB chunks keep memory flat (one
 * chunk in flight per layer) and cut the round trips 64-fold.
 */
const DECOMPRESS_CHUNK = 1 << 20;

/**
 * Bytes a stage of a streamed layer pipeline (read, digest check, decompression, tar walk: registry downloads, docker
 * archives, layer workers; decompressBlob in layer-stream.ts has no stages between them) may hold before it stops its
 * producer. Node's 16 KiB default is under one 1 MiB chunk, so every chunk stopped the decompressor until the tar walk
 * on the main thread had taken it: thread pool and main thread took turns instead of working at the same time.
 * Two chunks let the next chunk decompress while the previous one is walked; memory stays a few MiB per layer.
 */
export const STREAM_BUFFER = 2 << 20;
// zlib streams take Transform options too (lib/zlib.js passes them on); @types/node's ZlibOptions does not list them.
const BUFFERED = { readableHighWaterMark: STREAM_BUFFER, writableHighWaterMark: STREAM_BUFFER } as object;

/** A decompressor for the formats Node's zlib handles (zstd since Node 23.8/22.15), or undefined. */
export function createDecompressor(c: Compression): Transform | undefined {
  switch (c) {
    case 'gzip':
      return zlib.createGunzip({ chunkSize: DECOMPRESS_CHUNK, ...BUFFERED });
    case 'zstd':
      return zlib.createZstdDecompress({ chunkSize: DECOMPRESS_CHUNK, ...BUFFERED });
    default:
      return undefined;
  }
}
