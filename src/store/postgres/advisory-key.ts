import { createHash } from 'node:crypto';

// PostgreSQL advisory locks are keyed by one bigint per database. clair-ts derives the key from what is locked
// (kind + name) and the schema the store lives in, so two deployments sharing a database in different schemas (and
// concurrent test runs, each in its own schema) never wait on each other's locks.

export type AdvisoryLockKind = 'migrate' | 'updater' | 'manifest' | 'layer' | 'package-index';

/** A signed 64-bit key as a decimal string (pg sends it as a bigint parameter without loss). */
export function advisoryKey(scope: string, kind: AdvisoryLockKind, name: string): string {
  const digest = createHash('sha256').update(`clair-ts\0${scope}\0${kind}\0${name}`).digest();
  return digest.readBigInt64BE(0).toString();
}
