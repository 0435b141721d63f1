import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { ClairError } from '../model/errors.ts';
import type { LayerReport } from '../model/layer-report.ts';
import type { LayerFile, ScanFindings, Scanner } from './scanner.ts';

// Reads one layer's tar exactly once, as it streams: each regular file goes only to the scanners that asked for it,
// everything else is skipped without buffering. Memory is bounded by the largest wanted file, not by the layer.

const DEFAULT_MAX_FILE = 256 * 1024 * 1024;
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

export interface WalkResult {
  findings: ScanFindings[];
  whiteouts: string[];
  opaqueDirs: string[];
  errors: string[];
}

/**
 * Walks a decompressed layer tar. `raw` is the full (possibly compressed) stream chain whose end must be reached so
 * digest verification runs; pass the decompressed stream as `tarStream` when it differs.
 */
export async function walkLayer(streams: Readable[], layerDigest: string, scanners: readonly Scanner[]): Promise<WalkResult> {
  const wanted = new Map<Scanner, LayerFile[]>();
  const whiteouts: string[] = [];
  const opaqueDirs: string[] = [];
  const errors: string[] = [];
  const extract = tar.extract();

  extract.on('entry', (header, entry, next) => {
    // A truncated archive errors the entry too; the extract's own error already fails the pipeline.
    entry.on('error', () => {});
    const path = normalizeLayerPath(header.name);
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const base = slash < 0 ? path : path.slice(slash + 1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (base === OPAQUE_WHITEOUT) opaqueDirs.push(dir);
      else whiteouts.push(dir === '' ? base.slice(WHITEOUT_PREFIX.length) : `${dir}/${base.slice(WHITEOUT_PREFIX.length)}`);
      entry.resume();
      entry.on('end', next);
      return;
    }
    const isFile = header.type === 'file' || header.type === 'contiguous-file';
    const size = header.size ?? 0;
    const mode = header.mode ?? 0;
    const takers = isFile ? scanners.filter((s) => s.wants({ path, size, mode })) : [];
    if (takers.length === 0) {
      entry.resume();
      entry.on('end', next);
      return;
    }
    const fits = takers.filter((s) => {
      if (size <= (s.maxFileSize ?? DEFAULT_MAX_FILE)) return true;
      errors.push(`${s.name}: ${path} is ${size} bytes, over the ${s.maxFileSize ?? DEFAULT_MAX_FILE} byte limit; not read`);
      return false;
    });
    if (fits.length === 0) {
      entry.resume();
      entry.on('end', next);
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (c) => chunks.push(c as Buffer));
    entry.on('end', () => {
      const file: LayerFile = { path, data: Buffer.concat(chunks), mode };
      for (const s of fits) {
        let list = wanted.get(s);
        if (!list) wanted.set(s, (list = []));
        list.push(file);
      }
      next();
    });
  });

  try {
    await pipeline([...streams, extract] as unknown as [Readable, NodeJS.WritableStream]);
  } catch (e) {
    if (e instanceof ClairError) throw e;
    throw new ClairError('bad-layer', `layer ${layerDigest} is not a readable tar: ${(e as Error).message}`, { cause: e });
  }

  const findings: ScanFindings[] = [];
  for (const [scanner, files] of wanted) {
    try {
      findings.push(await scanner.scan(files));
    } catch (e) {
      // A scanner that cannot read a file says so in the report; it does not make the layer look empty.
      errors.push(`${scanner.name}: ${(e as Error).message}`);
    }
  }
  return { findings, whiteouts, opaqueDirs, errors };
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
  }
  return report;
}
