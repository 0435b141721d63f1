// A table of the entries of a tar file, built in one sequential pass with tar-stream, so that entries
// can then be read by byte range without unpacking anything. Tar stores each entry as a 512-byte
// header followed by its data, contiguously; tar-stream reports where each header starts (Source.offset)
// and the data begins 512 bytes later (for PAX/GNU long names, the offset is that of the last, real
// header, so the rule holds there too).
//
// A compressed tar (`docker save | gzip`) has no byte ranges to seek to. It is still supported, by a
// sequential fallback: offsets are recorded in the decompressed stream, and reading an entry
// decompresses from the start and skips to it. Memory stays flat, but every layer read costs a
// decompression of the archive up to that layer; unpack with gunzip first for speed.

import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline as pipelineCallback, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lazyRequire } from '../model/lazy-require.ts';
import { ClairError } from '../model/errors.ts';
import { createDecompressor, detectCompression, SNIFF_BYTES, type Compression } from './compression.ts';

const tar = lazyRequire<typeof import('tar-stream')>('tar-stream');

export interface TarEntry {
  /** Normalized: no leading "./" or "/". */
  name: string;
  type: string;
  size: number;
  /** Where the entry's data starts, in the (decompressed) tar stream. */
  dataOffset: number;
  linkname?: string;
}

export interface TarTable {
  path: string;
  compression: Compression;
  entries: Map<string, TarEntry>;
  /** Contents of the entries `keep` asked for during the pass (small metadata files). */
  kept: Map<string, Buffer>;
}

export interface IndexOptions {
  /** For messages: "docker archive /tmp/x.tar". */
  description: string;
  /** Whether to keep an entry's content in memory (only small files: the pass enforces maxKeptBytes). */
  keep?: (entry: TarEntry) => boolean;
  maxKeptBytes: number;
}

function normalizeEntryName(name: string): string {
  let n = posix.normalize(name.replace(/^\/+/, ''));
  if (n === '.') n = '';
  return n.replace(/\/+$/, '');
}

export async function indexTarFile(path: string, options: IndexOptions): Promise<TarTable> {
  const { description } = options;
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ClairError('not-found', `${description} does not exist`);
    throw new ClairError('bad-input', `${description} cannot be read: ${err.message}`, { cause: err });
  });
  if (info.isDirectory()) throw new ClairError('bad-input', `${description} is a directory, not a tar file`);

  const head = await readFileHead(path, SNIFF_BYTES);
  const compression = detectCompression(head);
  if (compression === 'xz' || compression === 'bzip2') {
    throw new ClairError('unsupported', `${description} is ${compression}-compressed; decompress it first (gzip and zstd are read directly)`);
  }
  if (compression === 'none' && head.length < 512) {
    throw new ClairError('bad-image', `${description} is not a tar archive (${info.size} bytes, shorter than one tar header)`);
  }

  const entries = new Map<string, TarEntry>();
  const kept = new Map<string, Buffer>();
  const extract = tar().extract();
  const decompressor = createDecompressor(compression);
  const file = createReadStream(path);
  const done = (decompressor ? pipeline(file, decompressor, extract) : pipeline(file, extract)).then(
    () => undefined,
    (err: unknown) => err,
  );
  try {
    for await (const source of extract) {
      const h = source.header;
      const entry: TarEntry = { name: normalizeEntryName(h.name), type: h.type, size: h.size, dataOffset: source.offset + 512 };
      if (h.linkname) entry.linkname = h.linkname;
      entries.set(entry.name, entry);
      if (entry.type === 'file' && options.keep?.(entry)) {
        if (entry.size > options.maxKeptBytes) {
          source.resume();
          throw new ClairError('bad-image', `${description}: ${entry.name} is ${entry.size} bytes, too large for a metadata file`);
        }
        const chunks: Buffer[] = [];
        for await (const chunk of source) chunks.push(chunk as Buffer);
        kept.set(entry.name, Buffer.concat(chunks));
      } else {
        source.resume();
      }
    }
  } catch (err) {
    if (err instanceof ClairError) throw err;
    throw readError(err, description, compression);
  }
  const err = await done;
  if (err !== undefined) throw readError(err, description, compression);
  return { path, compression, entries, kept };
}

function readError(err: unknown, description: string, compression: Compression): ClairError {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (compression !== 'none' && typeof code === 'string' && code.startsWith('Z_')) {
    return new ClairError('bad-image', `${description}: ${compression} data is corrupt or truncated: ${message}`, { cause: err });
  }
  return new ClairError('bad-image', `${description} is not a readable tar archive: ${message}`, { cause: err });
}

async function readFileHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Follows symbolic and hard links inside the archive (classic `docker save` stores a layer shared by
 * two images once and links the second `<id>/layer.tar` to it). undefined when absent.
 */
export function resolveEntry(table: TarTable, name: string, description: string): TarEntry | undefined {
  let entry = table.entries.get(normalizeEntryName(name));
  for (let hops = 0; entry && (entry.type === 'symlink' || entry.type === 'link'); hops++) {
    if (hops >= 16) throw new ClairError('bad-image', `${description}: too many links resolving ${name}`);
    const target = entry.linkname ?? '';
    // Symlink targets are relative to the link's folder; hard link targets are archive paths.
    const next = entry.type === 'symlink' && !target.startsWith('/') ? posix.join(posix.dirname(entry.name), target) : target;
    entry = table.entries.get(normalizeEntryName(next));
  }
  return entry;
}

/** The raw bytes of a regular file entry, by byte range (or by the sequential fallback). */
export function openTarEntry(table: TarTable, entry: TarEntry): Readable {
  if (entry.size === 0) return Readable.from([], { objectMode: false });
  if (table.compression === 'none') {
    return createReadStream(table.path, { start: entry.dataOffset, end: entry.dataOffset + entry.size - 1 });
  }
  const decompressor = createDecompressor(table.compression)!;
  // pipeline hands a file error to the decompressor and closes the file when the slice stops early.
  const decompressed = pipelineCallback(createReadStream(table.path), decompressor, () => {});
  return Readable.from(sliceStream(decompressed, entry, table), { objectMode: false });
}

async function* sliceStream(src: Readable, entry: TarEntry, table: TarTable): AsyncGenerator<Buffer> {
  const start = entry.dataOffset;
  let position = 0;
  let remaining = entry.size;
  try {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      let c = chunk;
      if (position + c.length <= start) {
        position += c.length;
        continue;
      }
      if (position < start) c = c.subarray(start - position);
      position = start;
      if (c.length >= remaining) {
        yield c.subarray(0, remaining);
        remaining = 0;
        return;
      }
      remaining -= c.length;
      yield c;
    }
  } catch (err) {
    throw readError(err, `archive ${table.path}`, table.compression);
  } finally {
    src.destroy();
  }
  if (remaining > 0) throw new ClairError('bad-image', `archive ${table.path}: ${entry.name} is cut short (${remaining} bytes missing)`);
}
