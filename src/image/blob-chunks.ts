// A blob's bytes pulled one chunk at a time, the form the layer pipeline reads (layer-stream.ts, decompressBlob).
//
// Why not a Readable: a file ReadStream allocates a fresh 1 MiB buffer for every read, and each one is memory outside
// V8's heap that V8 answers with garbage collections (external memory pressure): for a 1.4 GB image, hundreds of
// them, a fifth of the main thread's time plus as much again in the collector's threads (issue 17). A file read here
// goes into one of two buffers allocated once per blob, is hashed in the same step (DigestCheck), and is handed out
// as a loan; no stream stage sits between the file and the decompressor.

import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { DigestCheck } from './digest-verifier.ts';

/**
 * read() resolves to the next chunk, or undefined at the end, once the blob's digest (and size) matched; it rejects
 * with 'digest-mismatch' when they do not. A chunk is lent: it stays valid until the second read() after the one
 * that returned it (so one chunk can be in use while the next is read), and must be copied to be kept longer.
 * Call read() again only after the previous read() settled.
 */
export interface BlobChunks {
  read(): Promise<Buffer | undefined>;
  /** Bytes returned so far. */
  readonly bytesRead: number;
  /** Gives up early: closes the file or destroys the stream. Idempotent; a read() after it rejects. */
  close(): void;
  /** Called once, when the blob is closed (by close(), at its end, or on a read error). */
  onClose?: () => void;
}

/** Read size of files: one thread-pool round trip per MiB (64 KiB, Node's default, is 16 times as many). */
const FILE_CHUNK = 1 << 20;

/**
 * The bytes [start, start + length) of a file (to its end when length is undefined), checked by `check` as they are
 * read: the last read() fails with 'digest-mismatch' instead of ending when they differ. Rejects when the file
 * cannot be opened.
 */
export async function fileChunks(path: string, check: DigestCheck, range: { start: number; length?: number } = { start: 0 }): Promise<BlobChunks> {
  return new FileChunks(await open(path, 'r'), check, range.start, range.length);
}

class FileChunks implements BlobChunks {
  readonly #file: FileHandle;
  readonly #check: DigestCheck;
  // Two buffers taken in turn: a chunk stays valid while the next one is read into the other buffer.
  readonly #buffers: Buffer[] = [];
  #turn = 0;
  #position: number;
  #remaining: number | undefined;
  #closed = false;
  bytesRead = 0;
  onClose?: () => void;

  constructor(file: FileHandle, check: DigestCheck, start: number, length: number | undefined) {
    this.#file = file;
    this.#check = check;
    this.#position = start;
    this.#remaining = length;
  }

  async read(): Promise<Buffer | undefined> {
    if (this.#closed) throw new Error('the blob was closed');
    try {
      const want = this.#remaining === undefined ? FILE_CHUNK : Math.min(FILE_CHUNK, this.#remaining);
      let n = 0;
      let buf: Buffer | undefined;
      if (want > 0) {
        buf = this.#buffers[this.#turn] ??= Buffer.allocUnsafeSlow(FILE_CHUNK);
        this.#turn ^= 1;
        ({ bytesRead: n } = await this.#file.read(buf, 0, want, this.#position));
        if (this.#closed) throw new Error('the blob was closed');
      }
      if (n === 0) {
        this.#check.finish(); // a file shorter than its range fails here, on its size
        this.close();
        return undefined;
      }
      this.#position += n;
      if (this.#remaining !== undefined) this.#remaining -= n;
      const chunk = buf!.subarray(0, n);
      this.#check.update(chunk);
      this.bytesRead += n;
      return chunk;
    } catch (e) {
      this.close();
      throw e;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // FileHandle.close waits for a read still in flight before it closes the descriptor.
    this.#file.close().catch(() => {});
    this.onClose?.();
  }
}

/**
 * A stream's chunks as BlobChunks (registry downloads and other sources without a file): whatever checks the stream
 * makes (DigestVerifier) stay in it. Its chunks are its own, so the loan is never shorter than required.
 */
export function streamChunks(stream: Readable): BlobChunks {
  const it = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let closed = false;
  let bytes = 0;
  const chunks: BlobChunks = {
    get bytesRead() {
      return bytes;
    },
    async read() {
      if (closed) throw new Error('the blob was closed');
      const r = await it.next();
      if (r.done) {
        chunks.close();
        return undefined;
      }
      const c = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      bytes += c.length;
      return c;
    },
    close() {
      if (closed) return;
      closed = true;
      stream.destroy();
      chunks.onClose?.();
    },
  };
  // An error after the consumer stopped reading must not go unhandled.
  stream.on('error', () => {});
  return chunks;
}
