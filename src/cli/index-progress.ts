import type { CliIo } from './io.ts';
import { shortDigest } from './render-table.ts';

// What `index` and `scan` say on stderr about an image's layers: a line per layer on a terminal, then the summary
// line. A scan answered from its stored result says what the computed one says (every layer reused), so both come
// from here; this module stays light, since a warm scan loads it without the indexer.

export type LayerState = 'cached' | 'scanning' | 'scanned';

/** `layer 2/4 1a2b3c4d5e6f scanned`, on a terminal only. */
export function layerProgress(io: CliIo, index: number, total: number, digest: string, state: LayerState): void {
  if (io.isTTY) io.stderr(`layer ${index + 1}/${total} ${shortDigest(digest)} ${state}\n`);
}

/** The summary line of an index: how many layers were scanned, reused, and the bytes read. */
export function reportIndexed(io: CliIo, manifestDigest: string, r: { layersScanned: number; layersReused: number; bytesFetched: number }): void {
  io.stderr(`indexed ${manifestDigest}: ${r.layersScanned} layer(s) scanned, ${r.layersReused} reused from the cache, ${r.bytesFetched} bytes read\n`);
}

/** Both, for an image whose stored report answered: every layer counts as reused. */
export function reportAllReused(io: CliIo, manifestDigest: string, layers: readonly { digest: string }[]): void {
  const total = layers.length;
  layers.forEach((l, i) => layerProgress(io, i, total, l.digest, 'cached'));
  reportIndexed(io, manifestDigest, { layersScanned: 0, layersReused: total, bytesFetched: 0 });
}
