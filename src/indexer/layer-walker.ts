import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { ClairError } from '../model/errors.ts';
import type { LayerReport } from '../model/layer-report.ts';
import { LayerScan, type WalkResult } from './layer-scan.ts';
import type { Scanner } from './scanner.ts';

// Reads one layer's tar exactly once, as it streams: each regular file goes only to the scanners that asked for it,
// everything else is skipped without buffering. Memory is bounded by the largest wanted file, not by the layer.

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** "./etc/os-release", "/etc/os-release/" and "etc//os-release" all become "etc/os-release". */
export function normalizeLayerPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

export type { WalkResult };

/**
 * Walks a decompressed layer tar. `raw` is the full (possibly compressed) stream chain whose end must be reached so
 * digest verification runs; pass the decompressed stream as `tarStream` when it differs.
 */
export async function walkLayer(streams: Readable[], layerDigest: string, scanners: readonly Scanner[]): Promise<WalkResult> {
  const scan = new LayerScan(scanners, 'layer');
  const extract = tar.extract();

  extract.on('entry', (header, entry, next) => {
    // A truncated archive errors the entry too; the extract's own error already fails the pipeline.
    entry.on('error', () => {});
    const path = normalizeLayerPath(header.name);
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const base = slash < 0 ? path : path.slice(slash + 1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (base === OPAQUE_WHITEOUT) scan.opaqueDirs.push(dir);
      else scan.whiteouts.push(dir === '' ? base.slice(WHITEOUT_PREFIX.length) : `${dir}/${base.slice(WHITEOUT_PREFIX.length)}`);
      entry.resume();
      entry.on('end', next);
      return;
    }
    const isFile = header.type === 'file' || header.type === 'contiguous-file';
    const mode = header.mode ?? 0;
    const takers = isFile ? scan.takers(path, header.size ?? 0, mode) : [];
    if (takers.length === 0) {
      entry.resume();
      entry.on('end', next);
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (c) => chunks.push(c as Buffer));
    entry.on('end', () => {
      scan.add({ path, data: Buffer.concat(chunks), mode }, takers);
      next();
    });
  });

  try {
    await pipeline([...streams, extract] as unknown as [Readable, NodeJS.WritableStream]);
  } catch (e) {
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-layer', `layer ${layerDigest} is not a readable tar: ${(e as Error).message}`, { cause: e });
  }
  return scan.finish();
}

/** Folds the scanners' findings into the layer's stored report. */
export function toLayerReport(digest: string, scannerSet: string, size: number, walk: WalkResult): LayerReport {
  const report: LayerReport = {
    digest, scannerSet, packageDbs: [], distributions: [], repositories: [],
    whiteouts: walk.whiteouts, opaqueDirs: walk.opaqueDirs, errors: [...walk.errors], size,
  };
  for (const f of walk.findings) {
    report.packageDbs.push(...(f.packageDbs ?? []));
    report.distributions.push(...(f.distributions ?? []));
    report.repositories.push(...(f.repositories ?? []));
    report.errors.push(...(f.errors ?? []));
    if (f.fileOwners?.length) (report.fileOwners ??= []).push(...f.fileOwners);
  }
  return report;
}
