import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { walkTree } from '../image/directory-tree.ts';
import { LayerScan, type WalkResult } from './layer-scan.ts';
import type { Scanner } from './scanner.ts';

// The `dir:` counterpart of layer-walker.ts: the same scanners over a directory tree, entries coming from the file
// system instead of a tar. Only files some scanner wants are opened; links are never followed (O_NOFOLLOW also
// guards against a file swapped for a link between listing and reading). A tree has no whiteouts.

/** Wanted files read at the same time: file reads are thread-pool round trips, mostly waiting. */
const READS_IN_FLIGHT = 16;

export async function walkDirectory(root: string, scanners: readonly Scanner[]): Promise<WalkResult & { bytesRead: number }> {
  const scan = new LayerScan(scanners, 'directory');
  let bytesRead = 0;
  const onError = (path: string, e: Error) => scan.errors.push(`${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? e.message})`);
  // Reads run ahead while the walk goes on; they are handed to the scanners in walk order, so results do not
  // depend on which read finished first.
  const pending: { path: string; mode: number; takers: Scanner[]; data: Promise<Buffer | Error> }[] = [];
  const settleOldest = async () => {
    const p = pending.shift()!;
    const data = await p.data;
    if (data instanceof Error) return onError(p.path, data);
    bytesRead += data.length;
    scan.add({ path: p.path, data, mode: p.mode }, p.takers);
  };
  for await (const e of walkTree(root, onError)) {
    if (e.kind !== 'file') continue;
    const takers = scan.takers(e.path, e.size, e.mode);
    if (takers.length === 0) continue;
    pending.push({ path: e.path, mode: e.mode, takers, data: readAtMost(e.abs, e.size).catch((err: Error) => err) });
    if (pending.length >= READS_IN_FLIGHT) await settleOldest();
  }
  while (pending.length > 0) await settleOldest();
  return { ...(await scan.finish()), bytesRead };
}

/** The file's bytes, never more than `limit` (the size it had when listed: a growing file cannot blow the bound). */
async function readAtMost(abs: string, limit: number): Promise<Buffer> {
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(limit);
    let n = 0;
    while (n < limit) {
      const { bytesRead } = await fh.read(buf, n, limit - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}
