// Content digests as OCI writes them: "<algorithm>:<hex>" (OCI image spec, descriptor.md#digests).
// Only the registered algorithms sha256 and sha512 are accepted; anything else is refused rather than
// trusted, because a digest we cannot compute is a digest we cannot verify.

import { nodeCrypto } from '../model/lazy-crypto.ts';
import { ClairError } from '../model/errors.ts';
import { sha256Hex } from './sha256.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Splits and validates a digest. Throws 'unsupported' for an unknown algorithm, 'bad-input' when malformed. */
export function parseDigest(digest: string): ParsedDigest {
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!m) throw new ClairError('bad-input', `digest ${JSON.stringify(digest)} is not of the form <algorithm>:<hex>`);
  const algorithm = m[1]!;
  const hex = m[2]!;
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new ClairError('unsupported', `digest ${digest}: algorithm ${algorithm} is not supported (sha256, sha512 are)`);
  }
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw new ClairError('bad-input', `digest ${digest}: expected ${HEX_LENGTH[algorithm]} lowercase hex digits after ${algorithm}:`);
  }
  return { algorithm, hex };
}

/** Documents up to this size are hashed by sha256.ts, without loading node:crypto (its start-up cost is ~8 ms). */
const SMALL_DOCUMENT = 1 << 16;

/** The digest of bytes already in memory (manifests, configs: small documents only). */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  if (algorithm === 'sha256' && bytes.length <= SMALL_DOCUMENT) return `sha256:${sha256Hex(bytes)}`;
  return `${algorithm}:${nodeCrypto().createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Fails with 'digest-mismatch' when in-memory bytes do not hash to `expected`. */
export function verifyBytes(bytes: Uint8Array, expected: string, what: string): void {
  const { algorithm } = parseDigest(expected);
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) {
    throw new ClairError('digest-mismatch', `${what} ${expected}: expected ${expected}, got ${actual}`);
  }
}

/** A short form for messages: "sha256:ab12cd34ef56". */
export function shortDigest(digest: string): string {
  const i = digest.indexOf(':');
  return i < 0 ? digest : digest.slice(0, i + 13);
}
