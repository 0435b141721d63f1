// A pass-through stream that hashes every byte and, at the end, refuses to finish when the bytes do not
// hash to the digest they were fetched by. The check runs in flush, so a consumer sees the error
// instead of 'end': an image whose blobs were tampered with or truncated is never scanned as if it
// were fine. Memory is one hash state, whatever the blob size.

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ClairError } from '../model/errors.ts';
import { STREAM_BUFFER } from './compression.ts';
import { parseDigest } from './digest.ts';

export interface DigestVerifierOptions {
  /** Noun for messages, e.g. 'layer' (default) or 'config'. */
  what?: string;
  /** When known, the exact byte count; more bytes fail as soon as they arrive, fewer fail at the end. */
  expectedSize?: number;
}

export class DigestVerifier extends Transform {
  readonly expected: string;
  readonly #hash: Hash;
  readonly #what: string;
  readonly #expectedSize: number | undefined;
  #seen = 0;

  /** Throws 'unsupported' for an algorithm other than sha256/sha512 and 'bad-input' for a malformed digest. */
  constructor(expected: string, options: DigestVerifierOptions = {}) {
    // Room for a few read chunks, so reading runs ahead of the decompressor (see STREAM_BUFFER).
    super({ highWaterMark: STREAM_BUFFER });
    const { algorithm } = parseDigest(expected);
    this.expected = expected;
    this.#hash = createHash(algorithm);
    this.#what = options.what ?? 'layer';
    this.#expectedSize = options.expectedSize;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#expectedSize !== undefined && this.#seen > this.#expectedSize) {
      cb(new ClairError('digest-mismatch', `${this.#what} ${this.expected}: expected ${this.#expectedSize} bytes, got more`));
      return;
    }
    this.#hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.#expectedSize !== undefined && this.#seen !== this.#expectedSize) {
      cb(new ClairError('digest-mismatch', `${this.#what} ${this.expected}: expected ${this.#expectedSize} bytes, got ${this.#seen}`));
      return;
    }
    const actual = `${this.expected.slice(0, this.expected.indexOf(':'))}:${this.#hash.digest('hex')}`;
    if (actual !== this.expected) {
      cb(new ClairError('digest-mismatch', `${this.#what} ${this.expected}: expected ${this.expected}, got ${actual}`));
      return;
    }
    cb();
  }
}
