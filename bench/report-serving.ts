import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load-config.ts';
import { startService } from '../src/composition/start-service.ts';
import { debianUpdater } from '../src/ecosystems/debian/updater.ts';
import { allMatchers } from '../src/ecosystems/registry.ts';
import { buildVulnerabilityReport } from '../src/matcher/vulnerability-report.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { runUpdater } from '../src/updater/run-updater.ts';
import { openTestPostgres } from '../test/support/postgres.ts';
import { loadBesidePlainNode, type LoadFigures } from './load-bound.ts';
import { pgBackendCpu } from './pg-backend-cpu.ts';
import { round, timeRuns } from './measure.ts';
import { syntheticDebianIndexReport } from './synthetic-index-report.ts';
import { syntheticTracker } from './synthetic-tracker.ts';

// Cached vulnerability report GETs beside their bound (a plain node:http server sending the same bytes), on a
// combo-mode service over a given store: for each report asked for, 16 connections from a separate process, and
// 32 for the large one. Used by bench/postgres.ts on both stores; run alone (`node bench/report-serving.ts`), it
// builds its own stores with the synthetic tracker feed and the large synthetic report only.

/** Source packages of the large synthetic report: with the synthetic tracker, ~5,000 findings, ~4-5 MB of JSON. */
export const LARGE_REPORT_SOURCES = 500;
export const LARGE_REPORT_HASH = 'sha256:' + 'e'.repeat(64);

/** Stores the large synthetic report (the tracker's filler packages must be in the store's feed). */
export async function putLargeReport(store: Store): Promise<void> {
  const sources = Array.from({ length: LARGE_REPORT_SOURCES }, (_, i) => `filler-package-${i}`);
  await store.putIndexReport(syntheticDebianIndexReport(LARGE_REPORT_HASH, sources), 'bench');
}

export interface ServedReport {
  findings: number;
  bytes: number;
  concurrency: number;
  served: LoadFigures;
  plainNode: LoadFigures;
  ratio: number;
}

const DURATION_MS = 8_000;
const MAX_REQUESTS = 50_000;

/** A combo service on the store at `location`, loaded per report: name → manifest hash; `large` also at 32. */
export async function loadReports(location: string, reports: Record<string, string>, large: string): Promise<Record<string, ServedReport>> {
  const config = parseConfig('http_listen_addr: "127.0.0.1:0"\nintrospection_addr: "127.0.0.1:0"\nlog_level: warn\nmatcher:\n  disable_updaters: true\n', 'bench config');
  // On PostgreSQL, the service's sessions get a name of their own, so that their CPU can be told from other work.
  let db = location;
  let dbCpu: Awaited<ReturnType<typeof pgBackendCpu>>;
  if (/^postgres(ql)?:/.test(location)) {
    const u = new URL(location);
    const app = `clair-ts-bench-${process.pid}`;
    u.searchParams.set('application_name', app);
    db = u.toString();
    dbCpu = await pgBackendCpu(location, app);
  }
  const s = await startService(config, { mode: 'combo', db, env: {}, logger: pino({ level: 'warn' }) });
  const out: Record<string, ServedReport> = {};
  try {
    for (const [name, hash] of Object.entries(reports)) {
      const url = `${s.apiUrl}/matcher/api/v1/vulnerability_report/${hash}`;
      const first = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
      const text = await first.text();
      if (first.status !== 200) throw new Error(`${name}: vulnerability_report answered HTTP ${first.status}: ${text.slice(0, 200)}`);
      const vr = JSON.parse(text) as { package_vulnerabilities: Record<string, string[]> };
      const findings = Object.values(vr.package_vulnerabilities).reduce((n, l) => n + l.length, 0);
      for (const concurrency of name === large ? [16, 32] : [16]) {
        const r = await loadBesidePlainNode(url, { concurrency, durationMs: DURATION_MS, maxRequests: MAX_REQUESTS }, dbCpu?.read);
        out[concurrency === 16 ? name : `${name}@${concurrency}`] = { findings, bytes: Buffer.byteLength(text), concurrency, ...r };
      }
    }
  } finally {
    await s.close();
    await dbCpu?.close();
  }
  return out;
}

/** Median time to build the report of `hash` from the store (matching, enrichment; no serialization). */
export async function reportBuildMs(store: Store, hash: string, runs = 5): Promise<{ findings: number; medianMs: number; minMs: number }> {
  const index = (await store.getIndexReport(hash))!.report;
  let findings = 0;
  const t = await timeRuns(runs, async () => {
    const v = await buildVulnerabilityReport(store, allMatchers(), index);
    findings = Object.values(v.packageVulnerabilities).reduce((n, l) => n + l.length, 0);
  });
  return { findings, medianMs: round(t.median * 1000, 1), minMs: round(t.min * 1000, 1) };
}

if (import.meta.main) {
  const which = process.argv.slice(2);
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-bench-serving-'));
  const feed = join(dir, 'tracker.json');
  syntheticTracker(feed, [], 40_000);
  const result: Record<string, unknown> = {};
  try {
    if (which.length === 0 || which.includes('sqlite')) {
      const location = join(dir, 'serving.db');
      const store = SqliteStore.open(location);
      await runUpdater(store, debianUpdater, feed);
      await putLargeReport(store);
      const build = await reportBuildMs(store, LARGE_REPORT_HASH);
      await store.close();
      result.sqlite = { build, ...(await loadReports(location, { large: LARGE_REPORT_HASH }, 'large')) };
    }
    if (which.length === 0 || which.includes('postgres')) {
      const pgt = await openTestPostgres();
      if (!pgt) throw new Error('PostgreSQL is not reachable');
      try {
        const store = await PostgresStore.open(pgt.url, { schema: pgt.schema });
        await runUpdater(store, debianUpdater, feed);
        await putLargeReport(store);
        const build = await reportBuildMs(store, LARGE_REPORT_HASH);
        await store.close();
        const u = new URL(pgt.url);
        u.searchParams.set('options', `-c search_path=${pgt.schema}`);
        result.postgres = { build, ...(await loadReports(u.toString(), { large: LARGE_REPORT_HASH }, 'large')) };
      } finally {
        await pgt.drop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
