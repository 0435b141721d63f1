// Checking a blob against the digest (and size) it was fetched by, as its bytes go by: DigestCheck is the hash state
// and the byte count, fed chunk by chunk; DigestVerifier wraps it in a pass-through stream for stream consumers, and
// blob-chunks.ts calls it in its read loop. Either way the check runs at the end, before the consumer is told the
// blob is over: an image whose blobs were tampered with or truncated is never scanned as if it were fine. Memory is
// one hash state, whatever the blob size.

import type { Hash } from 'node:crypto';
import { nodeCrypto } from '../model/lazy-crypto.ts';
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

export class DigestCheck {
  readonly expected: string;
  readonly #hash: Hash;
  readonly #what: string;
  readonly #expectedSize: number | undefined;
  #seen = 0;

  /** Throws 'unsupported' for an algorithm other than sha256/sha512 and 'bad-input' for a malformed digest. */
  constructor(expected: string, options: DigestVerifierOptions = {}) {
    const { algorithm } = parseDigest(expected);
    this.expected = expected;
    this.#hash = nodeCrypto().createHash(algorithm);
    this.#what = options.what ?? 'layer';
    this.#expectedSize = options.expectedSize;
  }

  /** Bytes seen so far. */
  get seen(): number {
    return this.#seen;
  }

  /** Hashes the next bytes; throws 'digest-mismatch' once they exceed the expected size. */
  update(chunk: Uint8Array): void {
    this.#seen += chunk.length;
    if (this.#expectedSize !== undefined && this.#seen > this.#expectedSize) {
      throw new ClairError('digest-mismatch', `${this.#what} ${this.expected}: expected ${this.#expectedSize} bytes, got more`);
    }
    this.#hash.update(chunk);
  }

  /** The blob is over: throws 'digest-mismatch' when its size or digest is not the expected one. */
  finish(): void {
    if (this.#expectedSize !== undefined && this.#seen !== this.#expectedSize) {
      throw new ClairError('digest-mismatch', `${this.#what} ${this.expected}: expected ${this.#expectedSize} bytes, got ${this.#seen}`);
    }
    const actual = `${this.expected.slice(0, this.expected.indexOf(':'))}:${this.#hash.digest('hex')}`;
    if (actual !== this.expected) {
      throw new ClairError('digest-mismatch', `${this.#what} ${this.expected}: expected ${this.expected}, got ${actual}`);
    }
  }
}

/** A pass-through stream that refuses to finish (errors instead of 'end') when the bytes do not match. */
export class DigestVerifier extends Transform {
  readonly expected: string;
  readonly #check: DigestCheck;

  /** Throws 'unsupported' for an algorithm other than sha256/sha512 and 'bad-input' for a malformed digest. */
  constructor(expected: string, options: DigestVerifierOptions = {}) {
    // Room for a few read chunks, so reading runs ahead of the decompressor (see STREAM_BUFFER).
    super({ highWaterMark: STREAM_BUFFER });
    this.#check = new DigestCheck(expected, options);
    this.expected = expected;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#check.update(chunk);
    } catch (e) {
      cb(e as Error);
      return;
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.#check.finish();
    } catch (e) {
      cb(e as Error);
      return;
    }
    cb();
  }
}
