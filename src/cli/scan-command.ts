import { ClairError } from '../model/errors.ts';
import { parseDuration } from '../config/duration.ts';
import { loadIgnoreFile } from '../report/ignore-file.ts';
import type { VexStatement } from '../report/vex.ts';
import type { Decisions } from '../report/decisions.ts';
import type { CliIo } from './io.ts';
import { planOutputs, writeOutputs } from './report-outputs.ts';
import { parseFailOn, parseSeverityList, scanVerdict } from './fail-on.ts';
import { withStore } from './with-store.ts';
import { openCommandImage, type ImageFlags } from './open-image.ts';
import { reportAllReused } from './index-progress.ts';
import { storedOutputs, storedVariants, type ScanSettings } from './stored-scan.ts';

// `scan`. What a warm scan needs is here and loaded first: the options, the store, the image's manifest and, when
// the scan's output is stored and current (stored-scan.ts), that output. Matching and rendering (commands.ts, with
// every ecosystem's matchers and the report writers) are loaded only when the scan is computed.

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
  const maxAgeMs = o.maxFeedAge !== undefined ? parseMaxAge(o.maxFeedAge) : undefined;
  const baseLayers = Number(o.baseLayers ?? '1');
  if (!Number.isInteger(baseLayers) || baseLayers < 0) throw new ClairError('bad-input', `--base-layers must be a whole number ≥ 0, not "${o.baseLayers}"`);
  const decisions = await loadDecisions(o, io);
  const settings: ScanSettings = {
    reference: ref, plans, conditions, sort, baseLayers, decisions,
    ...(severities ? { severities } : {}), ...(o.onlyFixed ? { onlyFixed: true } : {}),
    ...(maxAgeMs !== undefined ? { maxAgeMs, maxFeedAge: o.maxFeedAge! } : {}),
  };
  return withStore(o.db, io, async (store) => {
    // An SBOM is read, not indexed: there is no manifest to key a stored result by.
    if (ref.startsWith('sbom:')) return (await import('./commands.ts')).computeScan(store, { sbom: ref }, settings, io);
    const image = await openCommandImage(ref, o, io);
    try {
      const variants = storedVariants(settings, io.env);
      if (variants) {
        const stored = await storedOutputs(store, image.manifestDigest, variants, new Date());
        if (stored) {
          // What the computed scan says on stderr, in the same order: the stored report was reused, so every
          // layer counts as reused, as it does there.
          for (const l of stored.meta.before) io.stderr(l);
          reportAllReused(io, image.manifestDigest, image.layers);
          for (const l of stored.meta.after) io.stderr(l);
          await writeOutputs(plans, (f) => stored.outputs.get(f)!, io.stdout);
          return scanVerdict(stored.meta.tripped, stored.meta.feeds, settings, io);
        }
      }
      return await (await import('./commands.ts')).computeScan(store, { image, variants }, settings, io);
    } finally {
      await image.close();
    }
  });
}
