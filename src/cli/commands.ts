import { printable } from '../model/printable.ts';
import { ClairError } from '../model/errors.ts';
import { allFeeds, allMatchers } from '../ecosystems/registry.ts';
import { buildVulnerabilityReport } from '../matcher/vulnerability-report.ts';
import type { Store } from '../store/store.ts';
import { versionSchemes } from '../versions/registry.ts';
import { compareLines } from '../versions/compare-stdin.ts';
import { EXIT_ERROR, EXIT_OK } from './cli-error.ts';
import { writeOutputs } from './report-outputs.ts';
import { indexResolved, readSbomReport } from './index-command.ts';
import { buildScanReport, type ScanReport } from '../report/scan-report.ts';
import { jsonReport } from '../report/json-report.ts';
import { textSections } from '../report/text-sections.ts';
import type { CliIo } from './io.ts';
import type { ResolvedImage } from '../image/resolved-image.ts';
import { storeOutputs, toStore, type OutputToStore, type ScanSettings } from './stored-scan.ts';
import { renderScanTable } from './render-table.ts';
import { scanVerdict, tripping } from './fail-on.ts';
import { isEnrichmentUpdater } from '../updater/updater.ts';

// The command bodies. main.ts parses arguments; these do the work and return the exit code.

/**
 * A scan computed: the image indexed (or its stored report reused), matched, the report built and written. With
 * `variants` (stored-scan.ts), the outputs are stored with the stamps read before matching.
 */
export async function computeScan(
  store: Store, source: { image: ResolvedImage; variants: Map<string, string> | undefined } | { sbom: string }, s: ScanSettings, io: CliIo,
): Promise<number> {
  const before: string[] = [];
  const after: string[] = [];
  const say = (to: string[], line: string) => {
    to.push(line);
    io.stderr(line);
  };
  let operations = await store.listUpdateOperations();
  if (operations.length === 0) say(before, 'warning: no vulnerability data in the database yet; run `clair-ts update` first\n');
  const report = 'sbom' in source ? await readSbomReport(source.sbom, io) : (await indexResolved(store, source.image, io)).report;
  const variants = 'image' in source ? source.variants : undefined;
  // Read after indexing and before matching: a result stored under these stamps was computed from this state or a
  // newer one, and an update operation committed from now on makes it stale.
  const stamps = variants ? await store.getReportStamps([report.manifestHash]) : undefined;
  if (stamps) {
    operations = await store.listUpdateOperations();
    before.length = 0;
    if (operations.length === 0) before.push('warning: no vulnerability data in the database yet; run `clair-ts update` first\n');
  }
  const vr = await buildVulnerabilityReport(store, allMatchers(), report, allFeeds().filter(isEnrichmentUpdater));
  for (const w of vr.warnings) say(after, `warning: ${printable(w)}\n`);
  const r: ScanReport = buildScanReport(vr, operations, allMatchers(), {
    reference: s.reference, decisions: s.decisions, baseLayers: s.baseLayers,
    ...(s.onlyFixed ? { onlyFixed: true } : {}),
    ...(s.severities ? { severities: s.severities } : {}),
  });
  const uncovered = r.notChecked.filter((n) => n.uncovered !== undefined);
  if (uncovered.length > 0) {
    // Language packages name their source instead (crates from a git or path dependency are in no advisory database).
    const dists = [...new Set(uncovered.map((n) => n.uncovered!))];
    say(after, `warning: ${uncovered.length} of ${Object.keys(report.packages).length} packages are not covered by any vulnerability feed (${printable(dists.join(', '))}); they were not checked\n`);
  }
  const noData = r.notChecked.filter((n) => n.uncovered === undefined);
  if (noData.length > 0 && operations.length > 0) {
    say(after, `warning: ${noData.length} packages were not checked: ${printable([...new Set(noData.map((n) => n.reason))].join('; '))}\n`);
  }
  for (const n of r.notices) say(after, `notice: ${printable(n)}\n`);
  // An output to be stored is encoded once, for stdout and for the store (9.5 MB of JSON for the big image), and
  // deflated while it is written.
  const outputs = new Map<string, OutputToStore>();
  await writeOutputs(s.plans, async (f) => {
    const text = await renderScan(f, r, s.sort);
    if (!variants?.has(f)) return text;
    const stored = toStore(Buffer.from(text));
    outputs.set(f, stored);
    return stored.bytes;
  }, io.stdout);
  const tripped = tripping(r.findings, s.conditions).length > 0;
  const indexStamp = stamps?.indexReports[0];
  if (variants && stamps && indexStamp !== undefined) {
    await storeOutputs(store, report.manifestHash, variants, { operations: stamps.operations, indexReport: indexStamp },
      { before, after, tripped, feeds: r.feeds }, outputs, r.generated);
  }
  return scanVerdict(tripped, r.feeds, s, io);
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
