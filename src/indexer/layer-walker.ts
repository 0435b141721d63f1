import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobChunks } from '../image/blob-chunks.ts';
import { STREAM_BUFFER } from '../image/compression.ts';
import { decompressBlob } from '../image/layer-stream.ts';
import { ClairError, errorMessage } from '../model/errors.ts';
import { printable } from '../model/printable.ts';
import type { LayerReport } from '../model/layer-report.ts';
import { normalizeLayerPath } from './layer-path.ts';
import { LayerScan, type HardLink, type WalkOptions, type WalkResult } from './layer-scan.ts';
import type { ScanFindings, Scanner } from './scanner.ts';
import { TarEntries, type TarEntryBody, type TarEntryHeader } from './tar-entries.ts';

// Reads one layer's tar exactly once, as it streams: each regular file goes only to the scanners that asked for it,
// everything else is skipped without buffering. The limits on what scanners may hold are LayerScan's.

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';

export type { HardLink, WalkResult };
export { DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_LAYER_BUFFERED } from './layer-scan.ts';

/**
 * Where a layer's uncompressed tar bytes come from: runs them into `push` (synchronous; the chunks become the
 * reader's) and resolves at their end, after whatever checks the source makes (the digest check).
 */
export type TarSource = (push: (chunk: Buffer) => void) => Promise<void>;

/**
 * A TarSource whose chunks are lent: each is valid while push() runs, its memory freed or reused afterwards. The tar
 * reader copies the bytes of the files scanners want (TarEntriesOptions.lentChunks).
 */
export interface LendingTarSource {
  lend: TarSource;
}

/**
 * A layer blob as stored (gzip, zstd or plain tar), decompressed as it is read (decompressBlob), its chunks lent: the
 * decompressor's buffers are freed as soon as the tar reader is done with them, the blob's own reused.
 */
export function tarOfBlob(blob: BlobChunks, layerDigest: string): LendingTarSource {
  return { lend: (push) => decompressBlob(blob, layerDigest, push, { lend: true }) };
}

/**
 * An uncompressed tar stream: `streams` is a chain (piped in order) whose end must be reached, so that checks at its
 * end (digest verification) run.
 */
export function tarOfStreams(streams: Readable[]): TarSource {
  return async (push) => {
    const sink = new Writable({
      highWaterMark: STREAM_BUFFER,
      write(chunk: Buffer, _enc, cb) {
        try {
          push(chunk);
        } catch (e) {
          cb(e as Error);
          return;
        }
        cb();
      },
    });
    await pipeline([...streams, sink] as unknown as [Readable, NodeJS.WritableStream]);
  };
}

/**
 * Walks a layer's tar; an array of streams is an uncompressed tar stream chain (tarOfStreams). The scanners' sinks
 * get chunks valid until their end() (FileSink).
 */
export async function walkLayer(
  source: TarSource | LendingTarSource | Readable[], layerDigest: string, scanners: readonly Scanner[], opts: WalkOptions = {},
): Promise<WalkResult & { hardLinks: HardLink[] }> {
  const scan = new LayerScan(scanners, 'layer', opts);
  await readEntries(source, layerDigest, (header) => {
    const path = normalizeLayerPath(header.name);
    const slash = path.lastIndexOf('/');
    const base = slash < 0 ? path : path.slice(slash + 1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const dir = slash < 0 ? '' : path.slice(0, slash);
      if (base === OPAQUE_WHITEOUT) scan.opaqueDirs.push(dir);
      else scan.whiteouts.push(dir === '' ? base.slice(WHITEOUT_PREFIX.length) : `${dir}/${base.slice(WHITEOUT_PREFIX.length)}`);
      return undefined;
    }
    const mode = header.mode;
    if (header.type === 'link' && header.linkname) {
      // Hard links point at an earlier entry of this same layer; a wanted one is read in a second pass, unless the
      // scanners that want it already found nothing in the target's bytes (Scanner.readsAlike).
      const target = normalizeLayerPath(header.linkname);
      if (scan.hardLinkNeeded(path, target, mode)) scan.hardLinks.push({ path, target, mode });
      return undefined;
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file') return undefined;
    const takers = scan.takers(path, header.size, mode);
    return takers.length > 0 ? scan.open(path, header.size, mode, takers) : undefined;
  });
  const r = await scan.finish();
  return { ...r, hardLinks: r.hardLinks ?? [] };
}

/**
 * The second pass for hard links: reads the layer again and hands each link's target entry to the scanners that
 * wanted the link's path, under that path. Returns what they found, and the links whose target is not in the layer.
 */
export async function walkHardLinkTargets(
  source: TarSource | LendingTarSource | Readable[], layerDigest: string, scanners: readonly Scanner[], links: readonly HardLink[], opts: WalkOptions = {},
): Promise<{ findings: ScanFindings[]; errors: string[] }> {
  const scan = new LayerScan(scanners, 'layer', opts);
  const byTarget = new Map<string, HardLink[]>();
  for (const l of links) {
    let list = byTarget.get(l.target);
    if (!list) byTarget.set(l.target, (list = []));
    list.push(l);
  }
  const found = new Set<string>();
  await readEntries(source, layerDigest, (header) => {
    const path = normalizeLayerPath(header.name);
    const list = byTarget.get(path);
    if (!list || found.has(path) || (header.type !== 'file' && header.type !== 'contiguous-file')) return undefined;
    found.add(path);
    const receivers: TarEntryBody[] = [];
    for (const l of list) {
      const takers = scan.takers(l.path, header.size, l.mode);
      const r = takers.length > 0 ? scan.open(l.path, header.size, l.mode, takers) : undefined;
      if (r) receivers.push(r);
    }
    if (receivers.length === 0) return undefined;
    if (receivers.length === 1) return receivers[0];
    return {
      write: (c) => { for (const r of receivers) r.write(c); },
      end: () => { for (const r of receivers) r.end(); },
    };
  });
  const r = await scan.finish();
  for (const [target, list] of byTarget) {
    if (!found.has(target)) for (const l of list) r.errors.push(`${l.path} is a hard link to ${target}, which the layer does not hold as a file; not read`);
  }
  return { findings: r.findings, errors: r.errors };
}

/**
 * Runs the layer's tar into a TarEntries reader. `onEntry` says where each entry's body goes (undefined: skipped).
 * The source's own ClairErrors (digest mismatch, corrupt compression) pass through; anything else means the bytes are
 * not a tar.
 */
async function readEntries(
  source: TarSource | LendingTarSource | Readable[], layerDigest: string, onEntry: (header: TarEntryHeader) => TarEntryBody | undefined,
): Promise<void> {
  const lending = !Array.isArray(source) && typeof source !== 'function';
  const run: TarSource = Array.isArray(source) ? tarOfStreams(source) : typeof source === 'function' ? source : source.lend;
  const entries = new TarEntries(onEntry, { lentChunks: lending });
  try {
    await run((chunk) => entries.push(chunk));
    entries.end();
  } catch (e) {
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-layer', `layer ${layerDigest} is not a readable tar: ${printable(errorMessage(e))}`, { cause: e });
  }
}

/** Folds the scanners' findings into the layer's stored report. */
export function toLayerReport(digest: string, scannerSet: string, size: number, walk: WalkResult): LayerReport {
  const report: LayerReport = {
    digest, scannerSet, packageDbs: [], distributions: [], repositories: [],
    whiteouts: walk.whiteouts, opaqueDirs: walk.opaqueDirs, errors: walk.errors.slice(), size,
  };
  // Loops, not push(...spread): a layer of distroless status.d files can hold 100k databases, over the stack's
  // limit for spread arguments.
  for (const f of walk.findings) {
    for (const x of f.packageDbs ?? []) report.packageDbs.push(x);
    for (const x of f.distributions ?? []) report.distributions.push(x);
    for (const x of f.repositories ?? []) report.repositories.push(x);
    for (const x of f.errors ?? []) report.errors.push(x);
    if (f.fileOwners?.length) {
      const owners = (report.fileOwners ??= []);
      for (const x of f.fileOwners) owners.push(x);
    }
  }
  return report;
}
