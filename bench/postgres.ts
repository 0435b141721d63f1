import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { debianUpdater } from '../src/ecosystems/debian/updater.ts';
import { allMatchers, allScanners } from '../src/ecosystems/registry.ts';
import { openImage } from '../src/image/image-source.ts';
import { Indexer } from '../src/indexer/indexer.ts';
import type { IndexReport } from '../src/model/index-report.ts';
import { buildVulnerabilityReport } from '../src/matcher/vulnerability-report.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { runUpdater } from '../src/updater/run-updater.ts';
import { openTestPostgres } from '../test/support/postgres.ts';
import { debianTestImage } from '../test/support/test-image.ts';
import { round, timeRuns } from './measure.ts';
import { syntheticTracker } from './synthetic-tracker.ts';
import { LARGE_REPORT_HASH, loadReports, putLargeReport, reportBuildMs } from './report-serving.ts';

// The same work on the embedded SQLite store and on PostgreSQL (CLAIR_TS_POSTGRES_URL, default the local test
// server; fresh schemas, dropped after), side by side:
// - cold index of the real Debian test image (empty store each run);
// - ingest of a synthetic Debian tracker feed (~40000 CVEs, bench/synthetic-tracker.ts);
// - building the image's vulnerability report against it;
// - a large synthetic report (bench/report-serving.ts: 500 packages, ~5,000 findings) built against the same feed;
// - GET vulnerability_report throughput of a combo-mode service on that store, for both reports, loaded by
//   bench/api-load.ts from a separate process, beside a plain node:http server sending the same bytes.
// PostgreSQL runs on the same 2-core machine as everything else: its figures include its own CPU use.

const CVES = 40_000;

interface Backend {
  name: 'sqlite' | 'postgres';
  /** An empty store named `tag`, and the location a service opens it by. */
  open(tag: string): Promise<{ store: Store; location: string }>;
}

async function benchBackend(b: Backend, ociRef: string, mb: number, feed: string, runs: number) {
  const cold = await timeRuns(runs, async (i) => {
    const { store } = await b.open(`cold${i}`);
    try {
      const img = await openImage(ociRef);
      await new Indexer(store, allScanners()).index(img);
      await img.close();
    } finally {
      await store.close();
    }
  });

  const { store, location } = await b.open('main');
  let report: IndexReport;
  let records = 0;
  let findings = 0;
  let ingest;
  let vr;
  let largeVr;
  try {
    const img = await openImage(ociRef);
    report = (await new Indexer(store, allScanners()).index(img)).report;
    await img.close();
    ingest = await timeRuns(1, async () => {
      const r = await runUpdater(store, debianUpdater, feed);
      if (r.unchanged) throw new Error('ingest saw an unchanged feed');
      records = r.records;
    });
    vr = await timeRuns(Math.max(runs, 5), async () => {
      const v = await buildVulnerabilityReport(store, allMatchers(), report);
      findings = Object.values(v.packageVulnerabilities).reduce((n, l) => n + l.length, 0);
    });
    await putLargeReport(store);
    largeVr = await reportBuildMs(store, LARGE_REPORT_HASH, Math.max(runs, 5));
  } finally {
    await store.close();
  }

  // The service opens the same store by its location, as `clair-ts serve --db` would: the image's report and a
  // large synthetic one (bench/report-serving.ts), each beside a plain node:http server sending the same bytes.
  const api = await loadReports(location, { image: report.manifestHash, large: LARGE_REPORT_HASH }, 'large');

  return {
    coldIndex: { runs, medianSeconds: round(cold.median), mbPerSecond: round(mb / cold.median, 1) },
    feedIngest: { records, seconds: round(ingest.median, 2), recordsPerSecond: Math.round(records / ingest.median) },
    vulnerabilityReport: { findings, medianMs: round(vr.median * 1000, 1), minMs: round(vr.min * 1000, 1) },
    largeVulnerabilityReport: largeVr,
    api,
  };
}

export async function benchPostgres(runs = 3): Promise<object> {
  const image = await debianTestImage();
  if (!image) throw new Error('the Debian test image is not built: run scripts/build-test-image.sh');
  const pgt = await openTestPostgres();
  if (!pgt) throw new Error('PostgreSQL is not reachable: set CLAIR_TS_POSTGRES_URL');
  const dir = await mkdtemp(join(tmpdir(), 'clair-ts-bench-pg-'));
  const schemas: string[] = [];
  const admin = new pg.Client({ connectionString: pgt.url });
  await admin.connect();
  try {
    const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const sources = [...new Set(image.expected.packages.map((p) => p.sourceName))];
    const feed = join(dir, 'tracker.json');
    const stats = syntheticTracker(feed, sources, CVES);
    const mb = image.expected.layers.reduce((n, l) => n + l.size, 0) / 1e6;

    const backends: Backend[] = [
      {
        name: 'sqlite',
        open: async (tag) => {
          const location = join(dir, `${tag}.db`);
          return { store: SqliteStore.open(location), location };
        },
      },
      {
        name: 'postgres',
        open: async (tag) => {
          const schema = `${pgt.schema}_${tag}`;
          schemas.push(schema);
          const u = new URL(pgt.url);
          u.searchParams.set('options', `-c search_path=${schema}`);
          return { store: await PostgresStore.open(pgt.url, { schema }), location: u.toString() };
        },
      },
    ];
    const out: Record<string, unknown> = {};
    for (const b of backends) {
      process.stderr.write(`bench postgres: ${b.name}…\n`);
      out[b.name] = await benchBackend(b, image.ociRef, mb, feed, runs);
    }
    return {
      image: { layers: image.expected.layers.length, compressedMB: round(mb, 1), packages: image.expected.packages.length },
      feed: { cves: CVES, feedMB: round(stats.bytes / 1e6, 1) },
      postgresVersion: version,
      stores: out,
    };
  } finally {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
    await pgt.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(await benchPostgres(), null, 2) + '\n');
}
