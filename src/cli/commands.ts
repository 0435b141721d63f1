import { printable } from '../model/printable.ts';
import { ClairError } from '../model/errors.ts';
import { indexReportJson } from '../model/clair-json.ts';
import { allFeeds, allMatchers, allScanners, buildEcosystems, scannerRecipe } from '../ecosystems/registry.ts';
import { Indexer, type IndexProgress, type IndexResult } from '../indexer/indexer.ts';
import { buildVulnerabilityReport } from '../matcher/vulnerability-report.ts';
import type { Store } from '../store/store.ts';
import { versionSchemes } from '../versions/registry.ts';
import { compareLines } from '../versions/compare-stdin.ts';
import { EXIT_ERROR, EXIT_FOUND, EXIT_OK, EXIT_STALE } from './cli-error.ts';
import { planOutputs, writeOutputs } from './report-outputs.ts';
import { buildScanReport, parseSeverityList, staleFeeds, type ScanReport } from '../report/scan-report.ts';
import { jsonReport } from '../report/json-report.ts';
import { textSections } from '../report/text-sections.ts';
import { loadIgnoreFile } from '../report/ignore-file.ts';
import type { VexStatement } from '../report/vex.ts';
import type { Decisions } from '../report/decisions.ts';
import { packagePurl } from '../model/purl.ts';
import { indexedPackages } from '../matcher/matcher.ts';
import { parseDuration } from '../config/duration.ts';
import type { IndexReport } from '../model/index-report.ts';
import { loadEcosystemOptions } from '../config/ecosystem-options.ts';
import type { CliIo } from './io.ts';
import { withStore } from './with-store.ts';
import { openAnyImage } from './open-image.ts';
import { renderIndexTable, renderScanTable, shortDigest } from './render-table.ts';
import { parseFailOn, tripping } from './fail-on.ts';
import { isEnrichmentUpdater } from '../updater/updater.ts';

// The command bodies. main.ts parses arguments; these do the work and return the exit code.

/** Image options shared by index and scan. */
export interface ImageFlags {
  db?: string;
  platform?: string;
  username?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  insecureRegistry?: string[];
  caFile?: string;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const c of stream) s += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
  return s;
}

async function indexImage(store: Store, ref: string, opts: ImageFlags, io: CliIo): Promise<IndexResult> {
  if (opts.passwordStdin && opts.username === undefined) throw new ClairError('bad-input', '--password-stdin needs --username');
  const password = opts.passwordStdin ? (await readAll(io.stdin)).replace(/\r?\n$/, '') : undefined;
  let lastReport = 0;
  const image = await openAnyImage(ref, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(password !== undefined ? { password } : {}),
    // Registries allowed over plain HTTP: --insecure (this image's), --insecure-registry, CLAIR_TS_INSECURE_REGISTRIES.
    ...(opts.insecure ? { insecure: true } : {}),
    insecureRegistry: [...(opts.insecureRegistry ?? []), ...(io.env.CLAIR_TS_INSECURE_REGISTRIES ?? '').split(',').map((h) => h.trim()).filter(Boolean)],
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
    env: io.env,
    onProgress: (e) => {
      if (!io.isTTY || e.type !== 'blob-bytes' || performance.now() - lastReport < 500) return;
      lastReport = performance.now();
      io.stderr(`  ${shortDigest(e.digest)} ${(e.bytes / 1e6).toFixed(1)}${e.total ? `/${(e.total / 1e6).toFixed(1)}` : ''} MB\n`);
    },
  });
  try {
    // No config file here: the scanners' options come from the environment (config/ecosystem-options.ts).
    const options = loadEcosystemOptions({}, io.env);
    const indexer = new Indexer(store, allScanners(buildEcosystems(options)), { workers: scannerRecipe(options) });
    const progress: IndexProgress = (e) => {
      if (!io.isTTY) return;
      const what = e.kind === 'layer-reused' ? 'cached' : e.kind === 'layer-start' ? 'scanning' : 'scanned';
      io.stderr(`layer ${e.index + 1}/${e.total} ${shortDigest(e.digest)} ${what}\n`);
    };
    // An image indexed before by the same scanners is not put together again from its layers' reports (reading
    // and coalescing them, then writing the same report back): the stored report is the answer, and every layer
    // counts as reused, as it would have been.
    const stored = await indexer.storedReport(image.manifestDigest);
    const total = image.layers.length;
    if (stored) image.layers.forEach((l, index) => progress({ kind: 'layer-reused', digest: l.digest, index, total }));
    const result = stored
      ? { report: stored, layersScanned: 0, layersReused: total, bytesFetched: 0 }
      : await indexer.index(image, { progress });
    io.stderr(
      `indexed ${image.manifestDigest}: ${result.layersScanned} layer(s) scanned, ${result.layersReused} reused from the cache, ` +
        `${result.bytesFetched} bytes read\n`,
    );
    return result;
  } finally {
    await image.close();
  }
}

/** `sbom:FILE` is read, not indexed: its packages are the report. */
async function indexOrRead(store: Store, ref: string, opts: ImageFlags, io: CliIo): Promise<IndexReport> {
  if (ref.startsWith('sbom:')) {
    const { readSbom } = await import('../report/sbom-input.ts');
    const report = await readSbom(ref.slice('sbom:'.length));
    io.stderr(`read ${ref}: ${Object.keys(report.packages).length} packages${report.err ? ` (${report.err})` : ''}\n`);
    return report;
  }
  return (await indexImage(store, ref, opts, io)).report;
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

export interface ScanFlags extends ImageFlags {
  format?: string | string[];
  output?: string[];
  failOn?: string | string[];
  sort?: string;
  onlyFixed?: boolean;
  severity?: string[];
  ignoreFile?: string;
  vex?: string[];
  maxFeedAge?: string;
  baseLayers?: string;
}

/** "7d", "36h", "1h30m": days on top of Go's duration units. */
function parseMaxAge(s: string): number {
  try {
    const m = /^(\d+(?:\.\d+)?)d(.*)$/.exec(s.trim());
    if (m) return Number(m[1]) * 86_400_000 + (m[2] ? parseDuration(m[2], '--max-feed-age') : 0);
    return parseDuration(s, '--max-feed-age');
  } catch {
    throw new ClairError('bad-input', `--max-feed-age: ${JSON.stringify(s)} is not a duration (e.g. 7d, 36h, 1h30m, 90m)`);
  }
}

async function loadDecisions(o: ScanFlags, io: CliIo): Promise<Decisions> {
  const ignoreFile = o.ignoreFile ?? '.clair-ts-ignore.yaml';
  const ignore = (await loadIgnoreFile(ignoreFile, o.ignoreFile !== undefined)) ?? [];
  if (ignore.length > 0) io.stderr(`${ignoreFile}: ${ignore.length} ignore entries\n`);
  const vex: VexStatement[] = [];
  if (o.vex?.length) {
    const { loadVexFile } = await import('../report/vex.ts');
    for (const f of o.vex) vex.push(...(await loadVexFile(f)));
  }
  return { ignore, ignoreFile, vex };
}

export async function scanCommand(ref: string, o: ScanFlags, io: CliIo): Promise<number> {
  const plans = planOutputs(o.format, o.output, ['table', 'json', 'sarif', 'cyclonedx', 'spdx-json'], 'table');
  const conditions = (o.failOn === undefined ? [] : Array.isArray(o.failOn) ? o.failOn : [o.failOn]).map(parseFailOn);
  const sort = o.sort ?? 'severity';
  if (sort !== 'severity' && sort !== 'risk') throw new ClairError('bad-input', `--sort must be severity or risk, not "${sort}"`);
  const severities = o.severity ? parseSeverityList(o.severity) : undefined;
  const maxAge = o.maxFeedAge !== undefined ? parseMaxAge(o.maxFeedAge) : undefined;
  const baseLayers = Number(o.baseLayers ?? '1');
  if (!Number.isInteger(baseLayers) || baseLayers < 0) throw new ClairError('bad-input', `--base-layers must be a whole number ≥ 0, not "${o.baseLayers}"`);
  const decisions = await loadDecisions(o, io);
  return withStore(o.db, io, async (store) => {
    const operations = await store.listUpdateOperations();
    if (operations.length === 0) {
      io.stderr('warning: no vulnerability data in the database yet; run `clair-ts update` first\n');
    }
    const report = await indexOrRead(store, ref, o, io);
    const vr = await buildVulnerabilityReport(store, allMatchers(), report, allFeeds().filter(isEnrichmentUpdater));
    for (const w of vr.warnings) io.stderr(`warning: ${printable(w)}\n`);
    const r: ScanReport = buildScanReport(vr, operations, allMatchers(), {
      reference: ref, decisions, baseLayers,
      ...(o.onlyFixed ? { onlyFixed: true } : {}),
      ...(severities ? { severities } : {}),
    });
    const uncovered = r.notChecked.filter((n) => n.uncovered !== undefined);
    if (uncovered.length > 0) {
      // Language packages name their source instead (crates from a git or path dependency are in no advisory database).
      const dists = [...new Set(uncovered.map((n) => n.uncovered!))];
      io.stderr(`warning: ${uncovered.length} of ${Object.keys(report.packages).length} packages are not covered by any vulnerability feed (${printable(dists.join(', '))}); they were not checked\n`);
    }
    const noData = r.notChecked.filter((n) => n.uncovered === undefined);
    if (noData.length > 0 && operations.length > 0) {
      io.stderr(`warning: ${noData.length} packages were not checked: ${printable([...new Set(noData.map((n) => n.reason))].join('; '))}\n`);
    }
    for (const n of r.notices) io.stderr(`notice: ${printable(n)}\n`);
    await writeOutputs(plans, (f) => renderScan(f, r, sort), io.stdout);
    if (tripping(r.findings, conditions).length > 0) return EXIT_FOUND;
    if (maxAge !== undefined) {
      const stale = staleFeeds(r, maxAge);
      if (stale.length > 0) {
        io.stderr(`clair-ts: stale vulnerability data: ${stale.map((f) => `${f.feed} ${f.updated ? `updated ${f.updated}` : 'has no data'}`).join(', ')} (--max-feed-age ${o.maxFeedAge})\n`);
        return EXIT_STALE;
      }
    }
    return EXIT_OK;
  });
}

// A format's module is loaded when it is asked for: the CycloneDX library alone (with its JSON schema validator) took
// longer to load than the rest of a warm scan.
async function renderScan(format: string, r: ScanReport, sort: 'severity' | 'risk'): Promise<string> {
  switch (format) {
    case 'json':
      return jsonReport(r);
    case 'sarif':
      return (await import('../report/sarif.ts')).sarifReport(r);
    case 'cyclonedx':
      return (await import('../report/cyclonedx.ts')).cycloneDxReport(r);
    case 'spdx-json':
      return (await import('../report/spdx.ts')).spdxReport(r);
    default:
      return renderScanTable(r.manifest, r.findings, { sort }) + textSections(r);
  }
}

export async function compareVersionsCommand(a: string | undefined, b: string | undefined, o: { scheme: string; stdin?: boolean }, io: CliIo): Promise<number> {
  const scheme = versionSchemes.get(o.scheme);
  if (!scheme) throw new ClairError('bad-input', `unknown version scheme "${o.scheme}"; known: ${[...versionSchemes.keys()].join(', ')}`);
  if (o.stdin) {
    if (a !== undefined) throw new ClairError('bad-input', 'give either two versions or --stdin, not both');
    const readline = await import('node:readline');
    const lines = readline.createInterface({ input: io.stdin, crlfDelay: Infinity });
    let out = '';
    const flush = (): void => {
      io.stdout(out);
      out = '';
    };
    const result = await compareLines(
      scheme,
      lines,
      (line) => {
        out += line + '\n';
        if (out.length > 65536) flush();
      },
      // Keep stdout and stderr in order for a reader of both: flush the answers before each message.
      (message) => {
        flush();
        io.stderr(`clair-ts: ${message}\n`);
      },
    );
    flush();
    // Every good line was answered; the exit code still tells a script that some were not.
    return result.errors > 0 ? EXIT_ERROR : EXIT_OK;
  }
  if (a === undefined || b === undefined) throw new ClairError('bad-input', 'compare-versions needs two versions A B, or --stdin');
  io.stdout(`${scheme.compare(a, b)}\n`);
  return EXIT_OK;
}

export { EXIT_ERROR };
