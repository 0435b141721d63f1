import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lazyRequire } from '../model/lazy-require.ts';
import type { Header as TarHeader } from 'tar-stream';
import { ClairError, errorMessage } from '../model/errors.ts';
import { printable } from '../model/printable.ts';
import type { LayerReport } from '../model/layer-report.ts';
import { normalizeLayerPath } from './layer-path.ts';
import { LayerScan, type HardLink, type WalkOptions, type WalkResult } from './layer-scan.ts';
import type { ScanFindings, Scanner } from './scanner.ts';

const tar = lazyRequire<typeof import('tar-stream')>('tar-stream');

// Reads one layer's tar exactly once, as it streams: each regular file goes only to the scanners that asked for it,
// everything else is skipped without buffering. The limits on what scanners may hold are LayerScan's.

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';

export type { HardLink, WalkResult };
export { DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_LAYER_BUFFERED } from './layer-scan.ts';

/**
 * Walks a decompressed layer tar. `streams` is the full (possibly compressed) stream chain whose end must be
 * reached so digest verification runs.
 */
export async function walkLayer(streams: Readable[], layerDigest: string, scanners: readonly Scanner[], opts: WalkOptions = {}): Promise<WalkResult & { hardLinks: HardLink[] }> {
  const scan = new LayerScan(scanners, 'layer', opts);
  await extractEach(streams, layerDigest, (header, entry, next) => {
    const path = normalizeLayerPath(header.name);
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const base = slash < 0 ? path : path.slice(slash + 1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (base === OPAQUE_WHITEOUT) scan.opaqueDirs.push(dir);
      else scan.whiteouts.push(dir === '' ? base.slice(WHITEOUT_PREFIX.length) : `${dir}/${base.slice(WHITEOUT_PREFIX.length)}`);
      return skip(entry, next);
    }
    const mode = header.mode ?? 0;
    if (header.type === 'link' && header.linkname) {
      // Hard links point at an earlier entry of this same layer; a wanted one is read in a second pass.
      if (scan.wanted(path, mode)) scan.hardLinks.push({ path, target: normalizeLayerPath(header.linkname), mode });
      return skip(entry, next);
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file') return skip(entry, next);
    const size = header.size ?? 0;
    const takers = scan.takers(path, size, mode);
    const receiver = takers.length > 0 ? scan.open(path, size, mode, takers) : undefined;
    if (!receiver) return skip(entry, next);
    feed(entry, [receiver], next);
  });
  const r = await scan.finish();
  return { ...r, hardLinks: r.hardLinks ?? [] };
}

/**
 * The second pass for hard links: reads the layer again and hands each link's target entry to the scanners that
 * wanted the link's path, under that path. Returns what they found, and the links whose target is not in the layer.
 */
export async function walkHardLinkTargets(
  streams: Readable[], layerDigest: string, scanners: readonly Scanner[], links: readonly HardLink[], opts: WalkOptions = {},
): Promise<{ findings: ScanFindings[]; errors: string[] }> {
  const scan = new LayerScan(scanners, 'layer', opts);
  const byTarget = new Map<string, HardLink[]>();
  for (const l of links) {
    let list = byTarget.get(l.target);
    if (!list) byTarget.set(l.target, (list = []));
    list.push(l);
  }
  const found = new Set<string>();
  await extractEach(streams, layerDigest, (header, entry, next) => {
    const path = normalizeLayerPath(header.name);
    const list = byTarget.get(path);
    if (!list || found.has(path) || (header.type !== 'file' && header.type !== 'contiguous-file')) return skip(entry, next);
    found.add(path);
    const size = header.size ?? 0;
    const receivers = [];
    for (const l of list) {
      const takers = scan.takers(l.path, size, l.mode);
      const r = takers.length > 0 ? scan.open(l.path, size, l.mode, takers) : undefined;
      if (r) receivers.push(r);
    }
    if (receivers.length === 0) return skip(entry, next);
    feed(entry, receivers, next);
  });
  const r = await scan.finish();
  for (const [target, list] of byTarget) {
    if (!found.has(target)) for (const l of list) r.errors.push(`${l.path} is a hard link to ${target}, which the layer does not hold as a file; not read`);
  }
  return { findings: r.findings, errors: r.errors };
}

function skip(entry: Readable, next: () => void): void {
  entry.resume();
  entry.on('end', next);
}

function feed(entry: Readable, receivers: { write(c: Buffer): void; end(): void }[], next: () => void): void {
  entry.on('data', (c: Buffer) => {
    for (const r of receivers) r.write(c);
  });
  entry.on('end', () => {
    for (const r of receivers) r.end();
    next();
  });
}

async function extractEach(
  streams: Readable[], layerDigest: string,
  onEntry: (header: TarHeader, entry: Readable, next: () => void) => void,
): Promise<void> {
  const extract = tar().extract();
  extract.on('entry', (header, entry, next) => {
    // A truncated archive errors the entry too; the extract's own error already fails the pipeline.
    entry.on('error', () => {});
    onEntry(header, entry as unknown as Readable, next);
  });
  try {
    await pipeline([...streams, extract] as unknown as [Readable, NodeJS.WritableStream]);
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
