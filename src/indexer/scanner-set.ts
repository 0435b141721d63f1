import { createHash } from 'node:crypto';
import type { Scanner } from './scanner.ts';

/** "name@version" of every scanner, sorted: the cache key of layer reports. */
export function scannerSetKey(scanners: readonly Scanner[]): string {
  return scanners.map((s) => `${s.kind}:${s.name}@${s.version}`).sort().join(',');
}

/**
 * Clair's index_state: an opaque token that changes whenever the indexer would produce a different report for the
 * same manifest (new or changed scanners, or a changed coalescing rule), telling clients to re-index.
 */
// 2: language packages (a registry, no distribution) and OS ownership (Package.ownedBy).
export const COALESCE_VERSION = '2';
export function indexState(scanners: readonly Scanner[]): string {
  return createHash('sha256').update(scannerSetKey(scanners) + '|' + COALESCE_VERSION).digest('hex').slice(0, 32);
}
