import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { walkTree } from '../image/directory-tree.ts';
import { LayerScan, type WalkResult } from './layer-scan.ts';
import type { Scanner } from './scanner.ts';

// The `dir:` counterpart of layer-walker.ts: the same scanners over a directory tree, entries coming from the file
// system instead of a tar. Only files some scanner wants are opened; links are never followed (O_NOFOLLOW also
// guards against a file swapped for a link between listing and reading). A tree has no whiteouts.

/** Small wanted files (package.json, METADATA, gemspecs) are read ahead, this many at a time, up to this size each. */
const READS_IN_FLIGHT = 16;
const READ_AHEAD_MAX = 1024 * 1024;
const CHUNK = 256 * 1024;

/**
 * Walks the tree; each wanted file goes through LayerScan.open like a tar entry (streaming scanners get chunks, the
 * others a buffer within the layer's memory budget). Small files are read ahead while the walk goes on — the reads are
 * thread-pool round trips, mostly waiting — and handed over in walk order, so results do not depend on which read
 * finished first; bigger ones are streamed in place, so memory stays bounded by the read-ahead window.
 */
export async function walkDirectory(root: string, scanners: readonly Scanner[]): Promise<WalkResult & { bytesRead: number }> {
  const scan = new LayerScan(scanners, 'directory');
  let bytesRead = 0;
  const onError = (path: string, e: Error) => scan.errors.push(`${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? e.message})`);
  type Pending = { path: string; abs: string; size: number; mode: number; takers: Scanner[]; data?: Promise<Buffer | Error> };
  const pending: Pending[] = [];
  const settleOldest = async () => {
    const p = pending.shift()!;
    if (p.data) {
      const data = await p.data;
      if (data instanceof Error) return onError(p.path, data);
      const receiver = scan.open(p.path, data.length, p.mode, p.takers);
      if (!receiver) return;
      bytesRead += data.length;
      receiver.write(data);
      receiver.end();
      return;
    }
    let fh;
    try {
      fh = await open(p.abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      return onError(p.path, e as Error);
    }
    try {
      const receiver = scan.open(p.path, p.size, p.mode, p.takers);
      if (!receiver) return;
      // Never more than the size it had when listed: a growing file cannot blow the bound it was admitted under.
      for (let n = 0; n < p.size; ) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, p.size - n));
        const { bytesRead: got } = await fh.read(buf, 0, buf.length, n);
        if (got === 0) break;
        receiver.write(buf.subarray(0, got));
        n += got;
        bytesRead += got;
      }
      receiver.end();
    } catch (e) {
      onError(p.path, e as Error);
    } finally {
      await fh.close();
    }
  };
  for await (const e of walkTree(root, onError)) {
    if (e.kind !== 'file') continue;
    const takers = scan.takers(e.path, e.size, e.mode);
    if (takers.length === 0) continue;
    const p: Pending = { path: e.path, abs: e.abs, size: e.size, mode: e.mode, takers };
    if (e.size <= READ_AHEAD_MAX) p.data = readAtMost(e.abs, e.size).catch((err: Error) => err);
    pending.push(p);
    if (pending.length >= READS_IN_FLIGHT) await settleOldest();
  }
  while (pending.length > 0) await settleOldest();
  return { ...(await scan.finish()), bytesRead };
}

/** The file's bytes, never more than `limit` (the size it had when listed). */
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
