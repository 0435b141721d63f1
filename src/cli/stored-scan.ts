import { deflateRaw, inflateRaw, type ZlibOptions } from 'node:zlib';
import type { Store } from '../store/store.ts';
import type { NormalizedSeverity } from '../model/severity.ts';
import type { Decisions } from '../report/decisions.ts';
import type { FailCondition } from './fail-on.ts';
import type { OutputPlan } from './report-outputs.ts';
import { codeFiles, codeStamp } from './code-stamp.ts';
import { feedSection, type FeedLine } from '../report/feed-section.ts';

// Stored scan results. A warm scan (layers indexed, feeds loaded) spent most of its time matching again what it
// matched last time and rendering the same report: for the big Debian image, ~1 s to write 9.5 MB of JSON that was
// byte for byte the one before, but for the time of generation. So `scan` stores what it wrote, per manifest and
// variant (format and the options that change the output), with the stamps of what it was computed from
// (Store.getReportStamps: the set of update operations and the manifest's index report) and of the code
// (code-stamp.ts), and the next scan of the same image with the same options writes it again, generation time
// renewed, without matching. Any update operation (added or deleted, by this process or another instance sharing
// the database) or a new index report of the manifest makes the stored result stale: the store returns only
// results whose stamps are current (Store.getScanResult), so a stale one is never used.
//
// Stored: `--format json` and the table, and only without an ignore file or VEX documents (their decisions depend
// on the day: an ignore entry expires). What depends on the time of the scan is made anew: the JSON's
// clair_ts.generated, written in place, and the table's last section, FEEDS (how long ago each feed was updated,
// report/feed-section.ts). SARIF, CycloneDX and SPDX carry times and document ids in several places: computed.

// Promised by hand, not with node:util's promisify: importing node:util as an ES module evaluates its lazy exports,
// which loads worker_threads, parseArgs and the assert diff (14 internal modules, ~13M instructions of a warm scan's
// ~250M, callgrind), none of which a warm scan uses.
function inflateAsync(input: Uint8Array, opts: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => inflateRaw(input, opts, (e, out) => (e ? reject(e) : resolve(out))));
}
function deflateAsync(input: Uint8Array, opts: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => deflateRaw(input, opts, (e, out) => (e ? reject(e) : resolve(out))));
}

/** An output to be stored: its bytes, and their deflated form, made in zlib's thread pool while the output is written. */
export interface OutputToStore {
  bytes: Buffer;
  deflated: Promise<Buffer>;
}

/**
 * Starts deflating an output to store (level 1: ~17 ms for the big image's 9.5 MB, 21x smaller; reading a 9.5 MB
 * value from SQLite took 20-60 ms, its 450 KB deflated form ~1 ms, and inflating it ~8 ms).
 */
export function toStore(bytes: Buffer): OutputToStore {
  // One output chunk that holds it all: zlib's pool goes on to the next chunk only when this thread, busy writing the
  // output, gets to it.
  const deflated = deflateAsync(bytes, { level: 1, chunkSize: bytes.length + (64 << 10) });
  deflated.catch(() => undefined); // awaited by storeOutputs, or not at all when the scan fails first
  return { bytes, deflated };
}

/** Formats whose output is stored. */
const STORED_FORMATS: readonly string[] = ['json', 'table'];

/** What a scan's output depends on besides the image, the data and the code. */
export interface ScanSettings {
  reference: string;
  plans: OutputPlan[];
  conditions: FailCondition[];
  sort: 'severity' | 'risk';
  severities?: NormalizedSeverity[];
  onlyFixed?: boolean;
  baseLayers: number;
  decisions: Decisions;
  maxAgeMs?: number;
  maxFeedAge?: string;
}

/** What the command writes besides the output, as it was when the output was made. */
export interface StoredScanMeta {
  /** stderr lines before the `indexed …` line. */
  before: string[];
  /** stderr lines after it (warnings, packages not checked). */
  after: string[];
  /** --fail-on tripped (the conditions are part of the variant). */
  tripped: boolean;
  /** For --max-feed-age, judged at each scan, and the table's FEEDS section. */
  feeds: FeedLine[];
  /** Byte offset of the generation time (an ISO 8601 string of 24 characters) in the output, renewed on reuse. */
  generatedAt: number;
  /** The table's: the byte offset of its FEEDS section, the end of the output, written anew on reuse; -1 for none. */
  feedsAt: number;
  /** The entries of the code stamp (code-stamp.ts). */
  code: string[];
  /** Bytes of the output; it is stored deflated. */
  size: number;
}

/** The variant of each format asked for, or undefined when this scan's output is not stored. */
export function storedVariants(s: ScanSettings, env: NodeJS.ProcessEnv): Map<string, string> | undefined {
  if (s.decisions.ignore.length > 0 || s.decisions.vex.length > 0) return undefined;
  if (!s.plans.every((p) => STORED_FORMATS.includes(p.format))) return undefined;
  const out = new Map<string, string>();
  for (const p of s.plans) {
    const key = JSON.stringify({
      format: p.format, reference: s.reference, conditions: s.conditions, onlyFixed: s.onlyFixed ?? false,
      ...(p.format === 'table' ? { sort: s.sort } : {}),
      severities: s.severities ?? null, baseLayers: s.baseLayers,
      // The one environment variable the scanners read (config/ecosystem-options.ts); the stored index report's
      // index_state, which depends on the scanners, is part of its stamp.
      repo2cpe: env.CLAIR_TS_RHEL_REPO2CPE ?? '',
    });
    out.set(p.format, key);
  }
  return out;
}

/**
 * The stored outputs of every format asked for, when all are current; undefined otherwise (the scan is computed).
 * The generation time is renewed in place.
 */
export async function storedOutputs(
  store: Store, manifestHash: string, variants: Map<string, string>, now: Date,
): Promise<{ meta: StoredScanMeta; outputs: Map<string, Buffer> } | undefined> {
  const outputs = new Map<string, Buffer>();
  let meta: StoredScanMeta | undefined;
  const stamps = new Map<string, string>();
  for (const [format, variant] of variants) {
    const got = await store.getScanResult(manifestHash, variant);
    if (!got) return undefined;
    meta = JSON.parse(got.meta) as StoredScanMeta;
    // Inflated in zlib's thread pool while this thread checks the code stamp (~8 and ~4 ms for the big image's
    // report), into one buffer of the known size: 16 KB chunks joined took half again as long.
    const inflating = inflateAsync(got.output, { chunkSize: Math.max(64, meta.size) });
    inflating.catch(() => undefined);
    const listed = meta.code.join('\n');
    if (!stamps.has(listed)) stamps.set(listed, codeStamp(meta.code));
    if (stamps.get(listed) !== got.codeStamp) return undefined;
    let out = await inflating;
    if (meta.generatedAt >= 0) out.write(now.toISOString(), meta.generatedAt, 'latin1');
    if (meta.feedsAt >= 0) out = Buffer.concat([out.subarray(0, meta.feedsAt), Buffer.from(feedsTail(meta.feeds, now))]);
    outputs.set(format, out);
  }
  return meta ? { meta, outputs } : undefined;
}

/** The end of a table report made at `now`: its FEEDS section (text-sections.ts puts it last). */
function feedsTail(feeds: readonly FeedLine[], now: Date): string {
  const lines = feedSection(feeds, now);
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

/** Where `clair_ts.generated` is in a JSON scan report (json-report.ts: the last top-level key's second key), or -1. */
function generatedOffset(format: string, output: Buffer, generated: string): number {
  if (format !== 'json' || generated.length !== 24) return -1;
  // Strings in JSON hold no raw newline, and only top-level keys are indented by two spaces.
  const section = output.lastIndexOf('\n  "clair_ts": {\n');
  if (section < 0) return -1;
  const key = output.indexOf('"generated": "', section);
  if (key < 0) return -1;
  const at = key + '"generated": "'.length;
  return output.toString('latin1', at, at + 24) === generated ? at : -1;
}

/**
 * Stores the outputs of a scan computed from the state `stamps` describe (read before matching). A result whose
 * generation time cannot be found is not stored.
 */
export async function storeOutputs(
  store: Store, manifestHash: string, variants: Map<string, string>, stamps: { operations: string; indexReport: string },
  meta: Omit<StoredScanMeta, 'generatedAt' | 'feedsAt' | 'code' | 'size'>, outputs: Map<string, OutputToStore>, generated: string,
): Promise<void> {
  const code = codeFiles();
  const stamp = codeStamp(code);
  for (const [format, variant] of variants) {
    const toStore = outputs.get(format);
    if (toStore === undefined) continue;
    const output = toStore.bytes;
    const feeds = meta.feeds.map((f) => ({ feed: f.feed, role: f.role, ...(f.operation ? { operation: f.operation } : {}), ...(f.updated ? { updated: f.updated } : {}) }));
    const generatedAt = generatedOffset(format, output, generated);
    if (format === 'json' && generatedAt < 0) continue;
    // The table's time-dependent end must be the section feedsTail makes, or the table is not stored.
    let feedsAt = -1;
    if (format === 'table' && feeds.length > 0) {
      const tail = Buffer.from(feedsTail(feeds, new Date(generated)));
      if (tail.length > output.length || !output.subarray(output.length - tail.length).equals(tail)) continue;
      feedsAt = output.length - tail.length;
    }
    const full: StoredScanMeta = { ...meta, feeds, generatedAt, feedsAt, code, size: output.length };
    await store.putScanResult(manifestHash, variant, stamps, stamp, { meta: JSON.stringify(full), output: await toStore.deflated });
  }
}
