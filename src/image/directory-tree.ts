// `dir:PATH`: a directory tree (a source checkout, an unpacked root file system) indexed as an image of one layer.
// Nothing is copied or packed into a tar: the indexer walks the tree itself (src/indexer/directory-walker.ts) and
// reads only the files its scanners want. Symbolic links are never followed, as a layer tar stores them as links:
// nothing outside the tree is read, and a package reachable through a link (pnpm's node_modules) counts once.
//
// The layer's "digest" is a fingerprint of the tree's metadata (every path, type, size, mode, nanosecond mtime and
// link target), so indexing an unchanged tree again reuses the cached layer report, and any edit makes a new one.

import { createHash } from 'node:crypto';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { ClairError } from '../model/errors.ts';
import type { LayerDescriptor, ResolvedImage } from './resolved-image.ts';

export const DIRECTORY_LAYER_MEDIA_TYPE = 'application/vnd.clair-ts.directory.layer.v1';

/** Directories never descended into: version-control internals hold no installed software. */
const SKIPPED_DIRS = new Set(['.git', '.hg', '.svn']);

export interface TreeEntry {
  /** Relative to the root, "/"-separated, no leading "/". */
  path: string;
  abs: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtimeNs: bigint;
  /** Symbolic links: the target, as stored (never followed). */
  target?: string;
}

/**
 * Every entry below `root` (not the root itself), depth first, names in byte order, without following links.
 * Folders that cannot be read are reported through `onError` and skipped.
 */
export async function* walkTree(root: string, onError: (path: string, e: Error) => void): AsyncGenerator<TreeEntry> {
  const stack: string[] = [''];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = (await readdir(dir === '' ? root : join(root, dir))).sort();
    } catch (e) {
      onError(dir || '.', e as Error);
      continue;
    }
    // One folder's entries are stat'ed together: one round trip to the thread pool per folder, not per entry.
    const paths = names.map((name) => (dir === '' ? name : `${dir}/${name}`));
    const stats = await Promise.all(
      paths.map(async (path) => {
        try {
          const st = await lstat(join(root, path), { bigint: true });
          return { st, target: st.isSymbolicLink() ? await readlink(join(root, path)) : undefined };
        } catch (e) {
          return e as Error;
        }
      }),
    );
    const subdirs: string[] = [];
    for (const [i, path] of paths.entries()) {
      const r = stats[i]!;
      if (r instanceof Error) {
        onError(path, r);
        continue;
      }
      const { st, target } = r;
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      if (kind === 'dir' && SKIPPED_DIRS.has(names[i]!)) continue;
      yield { path, abs: join(root, path), kind, size: Number(st.size), mode: Number(st.mode), mtimeNs: st.mtimeNs, ...(target !== undefined ? { target } : {}) };
      if (kind === 'dir') subdirs.push(path);
    }
    // Pushed in reverse so that they are visited in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}

async function fingerprint(root: string): Promise<string> {
  const h = createHash('sha256');
  for await (const e of walkTree(root, (path, err) => h.update(`!${path}\0${(err as NodeJS.ErrnoException).code ?? ''}\n`))) {
    h.update(`${e.path}\0${e.kind}\0${e.size}\0${e.mode}\0${e.mtimeNs}\0${e.target ?? ''}\n`);
  }
  return 'sha256:' + h.digest('hex');
}

export async function openDirectoryImage(ref: string, path: string): Promise<ResolvedImage> {
  let root: string;
  try {
    root = await realpath(path);
  } catch (e) {
    throw new ClairError('not-found', `${ref}: ${path} does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  const st = await lstat(root);
  if (!st.isDirectory()) throw new ClairError('bad-input', `${ref}: ${path} is not a directory`);
  const digest = await fingerprint(root);
  const layer: LayerDescriptor = { digest, mediaType: DIRECTORY_LAYER_MEDIA_TYPE, directory: root };
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.clair-ts.directory.v1+json', layers: [digest] });
  return {
    reference: ref,
    manifestDigest: 'sha256:' + createHash('sha256').update(manifest).digest('hex'),
    layers: [layer],
    openLayer: async () => {
      throw new ClairError('unsupported', `${ref}: a directory is walked by the indexer, it has no layer blob`);
    },
    close: async () => {},
  };
}
