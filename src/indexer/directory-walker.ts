import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { walkTree } from '../image/directory-tree.ts';
import { LayerScan, type WalkResult } from './layer-scan.ts';
import type { Scanner } from './scanner.ts';

// The `dir:` counterpart of layer-walker.ts: the same scanners over a directory tree, entries coming from the file
// system instead of a tar. Only files some scanner wants are opened; links are never followed (O_NOFOLLOW also
// guards against a file swapped for a link between listing and reading). A tree has no whiteouts.

export async function walkDirectory(root: string, scanners: readonly Scanner[]): Promise<WalkResult & { bytesRead: number }> {
  const scan = new LayerScan(scanners, 'directory');
  let bytesRead = 0;
  const onError = (path: string, e: Error) => scan.errors.push(`${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? e.message})`);
  for await (const e of walkTree(root, onError)) {
    if (e.kind !== 'file') continue;
    const takers = scan.takers(e.path, e.size, e.mode);
    if (takers.length === 0) continue;
    // Opened before reading: the per-layer memory limit may refuse the file, then it is not read at all.
    const receiver = scan.open(e.path, e.size, e.mode, takers);
    if (!receiver) continue;
    let data: Buffer;
    try {
      data = await readAtMost(e.abs, e.size);
    } catch (err) {
      onError(e.path, err as Error); // the receiver is dropped unended: an unreadable file is not an empty one
      continue;
    }
    bytesRead += data.length;
    receiver.write(data);
    receiver.end();
  }
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
