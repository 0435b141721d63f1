import { ClairError } from '../model/errors.ts';
import { indexReportJson } from '../model/clair-json.ts';
import { allScanners, buildEcosystems, scannerRecipe } from '../ecosystems/registry.ts';
import { Indexer, type IndexProgress, type IndexResult } from '../indexer/indexer.ts';
import type { Store } from '../store/store.ts';
import { EXIT_OK } from './cli-error.ts';
import { planOutputs, writeOutputs } from './report-outputs.ts';
import { packagePurl } from '../model/purl.ts';
import { indexedPackages } from '../matcher/matcher.ts';
import type { IndexReport } from '../model/index-report.ts';
import { loadEcosystemOptions } from '../config/ecosystem-options.ts';
import type { CliIo } from './io.ts';
import { withStore } from './with-store.ts';
import { openCommandImage, type ImageFlags } from './open-image.ts';
import type { ResolvedImage } from '../image/resolved-image.ts';
import { renderIndexTable } from './render-table.ts';
import { layerProgress, reportAllReused, reportIndexed } from './index-progress.ts';

// `index`, and the indexing a computed scan starts with (commands.ts). Apart from commands.ts so that `index` loads
// neither the matching and report building nor the scan's report writers (as scan-command.ts keeps a warm scan from
// loading them): a smaller heap for the collector to mark while the layers are read.

/** Indexes an opened image, or answers with its stored report when the same scanners made it. */
export async function indexResolved(store: Store, image: ResolvedImage, io: CliIo): Promise<IndexResult> {
  // No config file here: the scanners' options come from the environment (config/ecosystem-options.ts).
  const options = loadEcosystemOptions({}, io.env);
  const indexer = new Indexer(store, allScanners(buildEcosystems(options)), { workers: scannerRecipe(options) });
  // An image indexed before by the same scanners is not put together again from its layers' reports (reading
  // and coalescing them, then writing the same report back): the stored report is the answer, and every layer
  // counts as reused, as it would have been.
  const stored = await indexer.storedReport(image.manifestDigest);
  if (stored) {
    reportAllReused(io, image.manifestDigest, image.layers);
    return { report: stored, layersScanned: 0, layersReused: image.layers.length, bytesFetched: 0 };
  }
  const progress: IndexProgress = (e) =>
    layerProgress(io, e.index, e.total, e.digest, e.kind === 'layer-reused' ? 'cached' : e.kind === 'layer-start' ? 'scanning' : 'scanned');
  const result = await indexer.index(image, { progress });
  reportIndexed(io, image.manifestDigest, result);
  return result;
}

export async function readSbomReport(ref: string, io: CliIo): Promise<IndexReport> {
  const { readSbom } = await import('../report/sbom-input.ts');
  const report = await readSbom(ref.slice('sbom:'.length));
  io.stderr(`read ${ref}: ${Object.keys(report.packages).length} packages${report.err ? ` (${report.err})` : ''}\n`);
  return report;
}

/** `sbom:FILE` is read, not indexed: its packages are the report. */
async function indexOrRead(store: Store, ref: string, opts: ImageFlags, io: CliIo): Promise<IndexReport> {
  if (ref.startsWith('sbom:')) return readSbomReport(ref, io);
  const image = await openCommandImage(ref, opts, io);
  try {
    return (await indexResolved(store, image, io)).report;
  } finally {
    await image.close();
  }
}

/** Clair's IndexReport JSON, each package with its purl. */
function indexJson(report: IndexReport): string {
  const out = indexReportJson(report);
  for (const p of indexedPackages(report)) {
    const purl = packagePurl(p.package, p.distribution);
    if (purl) (out.packages as Record<string, Record<string, unknown>>)[p.id]!.purl = purl;
  }
  return JSON.stringify(out, null, 2) + '\n';
}

export async function indexCommand(ref: string, o: ImageFlags & { format?: string | string[]; output?: string[]; repository?: string }, io: CliIo): Promise<number> {
  const plans = planOutputs(o.format, o.output, ['table', 'json', 'cyclonedx', 'spdx-json'], 'table');
  if (o.repository !== undefined && (o.repository === '' || o.repository.length > 1024)) throw new ClairError('bad-input', '--repository must be a repository name of 1 to 1024 characters');
  return withStore(o.db, io, async (store) => {
    const report = await indexOrRead(store, ref, o, io);
    // Recorded for subscriptions that select manifests by repository pattern.
    if (o.repository !== undefined) await store.putManifestRepository(report.manifestHash, o.repository);
    const generated = new Date().toISOString();
    await writeOutputs(plans, async (f) =>
      f === 'json' ? indexJson(report)
      : f === 'cyclonedx' ? (await import('../report/cyclonedx.ts')).cycloneDxInventory(report, ref, generated)
      : f === 'spdx-json' ? (await import('../report/spdx.ts')).spdxInventory(report, ref, generated)
      : renderIndexTable(report),
    io.stdout);
    return EXIT_OK;
  });
}
