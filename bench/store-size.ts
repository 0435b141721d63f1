import { closeSync, existsSync, mkdtempSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import type { Store } from '../src/store/store.ts';
import { runUpdater } from '../src/updater/run-updater.ts';
import { findUpdater } from '../src/ecosystems/registry.ts';
import { openTestPostgres } from '../test/support/postgres.ts';
import { sharedDataPath } from '../test/support/shared-data.ts';
import { syntheticTracker } from './synthetic-tracker.ts';
import { machine } from './measure.ts';

// How large the database grows per feed, beside the feed itself: each feed is built at the record count of the real
// feed (Debian's tracker by the synthetic generator; NVD, KEV, OSV and Alpine by repeating real records from
// ../shared under new ids, so records keep their real size and shape — OSV and Ubuntu copies with texts and package
// names of their own, osvCopy; EPSS rows generated), loaded with the real
// updater into an empty SQLite file and an empty PostgreSQL schema, and the database measured after the load.
// `npm run bench store-size`; CLAIR_TS_BENCH_SCALE=0.1 builds every feed at a tenth of its size, and
// CLAIR_TS_BENCH_FEEDS=debian,nvd measures only those and merges their rows into bench/results/store-size.json (the
// other feeds' rows and the "all of them" row are kept from the earlier run at the same scale).

const SCALE = Number(process.env.CLAIR_TS_BENCH_SCALE ?? '1');
/** CLAIR_TS_BENCH_FEEDS=debian,nvd measures only those feeds. */
const ONLY = process.env.CLAIR_TS_BENCH_FEEDS?.split(',').map((f) => f.trim());

interface BuiltFeed {
  location: string;
  bytes: number;
}

interface FeedSpec {
  name: string;
  /** What the real feed holds, and where that figure comes from. */
  real: string;
  build(dir: string): BuiltFeed;
}

function treeBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + treeBytes(join(path, f)), 0);
}

/**
 * A secdb document (Alpine's, Wolfi's, Chainguard's: packages with secfixes) grown to about `fixes` fixes by repeating
 * its packages under new names, with new CVE ids (other ids, such as GHSA, kept).
 */
function secdbClone(doc: { packages: { pkg: { name: string; secfixes: Record<string, string[]> } }[] }, fixes: number, path: string): BuiltFeed {
  const pool = doc.packages;
  const perPackage = pool.reduce((n, p) => n + Object.values(p.pkg.secfixes).flat().length, 0) / pool.length;
  const packages = Array.from({ length: Math.round(fixes / perPackage) }, (_, i) => {
    const p = pool[i % pool.length]!.pkg;
    let c = 0;
    const secfixes = Object.fromEntries(Object.entries(p.secfixes).map(([v, cves]) => [v, cves.map((cve) => (cve.startsWith('CVE-') ? `CVE-${2000 + (i % 26)}-${100000 + i * 10 + c++}` : cve))]));
    return { pkg: { name: `${p.name}-${i}`, secfixes } };
  });
  const text = JSON.stringify({ ...doc, packages });
  writeFileSync(path, text);
  return { location: path, bytes: Buffer.byteLength(text) };
}

/** Writes `count` items produced by `make(i)` as JSON array chunks of 1,000 into files of a folder. */
function jsonArrayFolder(dir: string, name: string, count: number, make: (i: number) => unknown): BuiltFeed {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  let bytes = 0;
  for (let start = 0, file = 0; start < count; start += 1000, file++) {
    const items = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) items.push(make(i));
    const text = JSON.stringify(items);
    writeFileSync(join(out, `part-${String(file).padStart(5, '0')}.json`), text);
    bytes += Buffer.byteLength(text);
  }
  return { location: out, bytes };
}

/**
 * Copy `i` of a real OSV record from a pool, made as different from the other copies as the real feed's records are
 * from each other. Copies that kept the pool's texts and package names verbatim let the store share one text among
 * all copies of a record and pack all copies of a package's records into a few nearly identical lines, which no real
 * feed allows: OSV's ~60,000 records have their own descriptions over ~20,000 packages. So each copy's details end
 * with its own number (a distinct text of the real one's size and make-up), and each round through the pool renames
 * the packages (`-b1` … `-b{rounds-1}`, round 0 keeps the real names), giving pool packages × rounds names.
 */
function osvCopy(src: Record<string, unknown>, i: number, poolSize: number, rounds: number, fields: Record<string, unknown>): Record<string, unknown> {
  const round = Math.floor(i / poolSize) % rounds;
  const affected = (src.affected as { package?: { name?: string } }[] | undefined)?.map((a) =>
    round === 0 || a.package?.name === undefined ? a : { ...a, package: { ...a.package, name: `${a.package.name}-b${round}` } });
  const details = typeof src.details === 'string' ? `${src.details}\n\n(copy ${i})` : `(copy ${i})`;
  return { ...src, ...fields, details, ...(affected ? { affected } : {}) };
}

function jsonOf(...parts: string[]): any {
  const p = sharedDataPath(...parts);
  const raw = readFileSync(p);
  return JSON.parse((p.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
}

const feeds: FeedSpec[] = [
  {
    name: 'debian',
    real: 'the tracker JSON: ~58.5 MB, ~255,000 (source package, CVE, release) records',
    build(dir) {
      const path = join(dir, 'tracker.json');
      const { bytes } = syntheticTracker(path, [], Math.round(85_000 * SCALE));
      return { location: path, bytes };
    },
  },
  {
    name: 'nvd',
    real: 'NVD CVE API 2.0: ~310,000 CVEs (2026), ~1.9 GB of page JSON',
    build(dir) {
      const pool = [
        ...jsonOf('feeds', 'nvd', 'vunnel', 'full-page.json').vulnerabilities,
        ...(jsonOf('feeds', 'enrichment', 'claircore', 'cvss', 'feed.json').vulnerabilities as unknown[]),
      ] as { cve: Record<string, unknown> }[];
      const count = Math.round(310_000 * SCALE);
      const path = join(dir, 'nvd.json');
      const fd = openSync(path, 'w');
      let bytes = 0;
      for (let start = 0; start < count; start += 2000) {
        const n = Math.min(2000, count - start);
        const vulns = Array.from({ length: n }, (_, k) => {
          const i = start + k;
          const src = pool[i % pool.length]!;
          return { cve: { ...src.cve, id: `CVE-${2000 + (i % 26)}-${String(100000 + i)}` } };
        });
        bytes += writeSync(fd, JSON.stringify({ resultsPerPage: n, startIndex: start, totalResults: count, format: 'NVD_CVE', version: '2.0', vulnerabilities: vulns }) + '\n');
      }
      closeSync(fd);
      return { location: path, bytes };
    },
  },
  {
    name: 'epss',
    real: "FIRST's daily CSV: ~300,000 rows, ~9 MB uncompressed",
    build(dir) {
      const path = join(dir, 'epss.csv');
      const fd = openSync(path, 'w');
      let bytes = writeSync(fd, '#model_version:v2025.03.14,score_date:2026-11-30T12:55:00Z\ncve,epss,percentile\n');
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const count = Math.round(300_000 * SCALE);
      for (let i = 0; i < count; i++) bytes += writeSync(fd, `CVE-${2000 + (i % 26)}-${100000 + i},${rnd().toFixed(5)},${rnd().toFixed(5)}\n`);
      closeSync(fd);
      return { location: path, bytes };
    },
  },
  {
    name: 'kev',
    real: "CISA's catalog: ~1,450 entries, ~1.3 MB",
    build(dir) {
      const catalog = jsonOf('feeds', 'enrichment', 'claircore', 'kev', 'known_exploited_vulnerabilities.json');
      const pool = catalog.vulnerabilities as Record<string, unknown>[];
      const count = Math.max(1, Math.round(1_450 * SCALE));
      const vulnerabilities = Array.from({ length: count }, (_, i) => ({ ...pool[i % pool.length], cveID: `CVE-${2000 + (i % 26)}-${100000 + i}` }));
      const text = JSON.stringify({ ...catalog, count, vulnerabilities }, null, 2);
      const path = join(dir, 'kev.json');
      writeFileSync(path, text);
      return { location: path, bytes: Buffer.byteLength(text) };
    },
  },
  {
    name: 'osv',
    real: "OSV's language ecosystems (PyPI, npm, Go, Maven, RubyGems, crates.io): ~60,000 records",
    build(dir) {
      const pool = [
        ...(jsonOf('feeds', 'osv', 'ghsa-vulnfeed', 'pypi.json') as Record<string, unknown>[]),
        ...(jsonOf('feeds', 'osv', 'ghsa-vulnfeed', 'npm.json') as Record<string, unknown>[]),
        ...(jsonOf('feeds', 'osv', 'ghsa-vulnfeed', 'maven.json.gz') as Record<string, unknown>[]),
        ...(jsonOf('feeds', 'osv', 'ghsa-vulnfeed', 'rubygems.json.gz') as Record<string, unknown>[]),
        ...(jsonOf('feeds', 'osv', 'ghsa-vulnfeed', 'crates-io.json.gz') as Record<string, unknown>[]),
        ...(jsonOf('feeds', 'osv', 'ghsa-vulnfeed', 'go.json.gz') as Record<string, unknown>[]),
      ];
      return jsonArrayFolder(dir, 'osv', Math.round(60_000 * SCALE), (i) =>
        osvCopy(pool[i % pool.length]!, i, pool.length, 30, { id: `GHSA-bench-${i}`, aliases: [`CVE-${2000 + (i % 26)}-${100000 + i}`] }));
    },
  },
  {
    name: 'alpine',
    real: 'secdb of every branch, main and community: ~45,000 (branch, package, CVE) fixes',
    build(dir) {
      return secdbClone(jsonOf('feeds', 'alpine', 'claircore', 'fetch', 'v3.10', 'community.json'), 45_000 * SCALE, join(dir, 'alpine.json'));
    },
  },
  {
    name: 'ubuntu',
    real: "Canonical's OSV (osv/cve): ~45,000 UBUNTU-CVE records",
    build(dir) {
      const pool = jsonOf('feeds', 'ubuntu', 'osv-vulnfeed', 'ubuntu.json.gz') as Record<string, unknown>[];
      const root = join(dir, 'ubuntu');
      const count = Math.round(45_000 * SCALE);
      let bytes = 0;
      for (let i = 0; i < count; i++) {
        const year = 2000 + (i % 26);
        const id = `UBUNTU-CVE-${year}-${100000 + i}`;
        const folder = join(root, 'osv', 'cve', String(year));
        if (i < 26) mkdirSync(folder, { recursive: true });
        const text = JSON.stringify(osvCopy(pool[i % pool.length]!, i, pool.length, 50, { id, upstream: [`CVE-${year}-${100000 + i}`] }));
        writeFileSync(join(folder, `${id}.json`), text);
        bytes += Buffer.byteLength(text);
      }
      return { location: root, bytes };
    },
  },
  ...(['wolfi', 'chainguard'] as const).map((name) => ({
    name,
    real: `${name === 'wolfi' ? "Wolfi's" : "Chainguard's"} security.json: ~25,000 (package, CVE) fixes (order of magnitude)`,
    build(dir: string): BuiltFeed {
      return secdbClone(jsonOf('feeds', 'wolfi-chainguard', 'vunnel', 'wolfi', 'input', 'secdb', 'security.json'), 25_000 * SCALE, join(dir, `${name}.json`));
    },
  })),
  {
    name: 'rustsec',
    real: 'the RustSec advisory-db itself (../shared holds all of it: ~1,200 advisories)',
    build() {
      const root = sharedDataPath('feeds', 'osv', 'rustsec');
      return { location: root, bytes: treeBytes(join(root, 'crates')) };
    },
  },
  {
    name: 'go',
    real: 'the Go vulnerability database itself (../shared holds all of it: ~4,300 records)',
    build() {
      const root = sharedDataPath('feeds', 'osv', 'go-vulndb', 'data', 'osv');
      return { location: root, bytes: treeBytes(root) };
    },
  },
];

async function sqliteBytes(path: string): Promise<number> {
  let n = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      n += statSync(path + suffix).size;
    } catch {
      // absent
    }
  }
  return n;
}

async function postgresBytes(url: string, schema: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(
      `SELECT coalesce(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename))), 0) AS n FROM pg_tables WHERE schemaname = $1`,
      [schema],
    );
    return Number(r.rows[0]!.n);
  } finally {
    await c.end();
  }
}

async function load(store: Store, name: string, location: string): Promise<number> {
  const r = await runUpdater(store, findUpdater(name)!, location, { retention: 0 });
  return r.records;
}

export interface StoreSizeRow {
  feed: string;
  real: string;
  feedMB: number;
  records: number;
  sqliteMB: number;
  postgresMB: number | null;
  sqliteBytesPerRecord: number;
  postgresBytesPerRecord: number | null;
  sqliteToFeed: number;
  postgresToFeed: number | null;
  /** What the load added to an empty database (the schema alone: EmptySizes), divided by the feed's size. */
  sqliteAddedToFeed?: number;
  postgresAddedToFeed?: number | null;
}

/** An empty database of each store: the schema's tables and indexes, before any feed (a fixed cost, whatever the feeds). */
export interface EmptySizes {
  sqliteMB: number;
  postgresMB: number | null;
}

export async function benchStoreSize(): Promise<{ machine: ReturnType<typeof machine>; scale: number; empty: EmptySizes; rows: StoreSizeRow[]; total: StoreSizeRow }> {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-store-size-'));
  const mb = (b: number) => Math.round((b / 1e6) * 10) / 10;
  const ratio = (b: number, feed: number) => Math.round((b / feed) * 100) / 100;
  const rows: StoreSizeRow[] = [];
  try {
    const emptyPath = join(dir, 'empty.db');
    await SqliteStore.open(emptyPath).close();
    const emptySqlite = await sqliteBytes(emptyPath);
    let emptyPostgres: number | null = null;
    const emptyPg = await openTestPostgres();
    if (emptyPg) {
      await (await PostgresStore.open(emptyPg.url, { schema: emptyPg.schema })).close();
      emptyPostgres = await postgresBytes(emptyPg.url, emptyPg.schema);
      await emptyPg.drop();
    }
    const empty: EmptySizes = { sqliteMB: mb(emptySqlite), postgresMB: emptyPostgres === null ? null : mb(emptyPostgres) };
    const all = SqliteStore.open(join(dir, 'all.db'));
    const allPg = await openTestPostgres();
    const allPgStore = allPg ? await PostgresStore.open(allPg.url, { schema: allPg.schema }) : undefined;
    let totalFeed = 0;
    let totalRecords = 0;
    for (const f of feeds.filter((x) => !ONLY || ONLY.includes(x.name))) {
      const built = f.build(dir);
      totalFeed += built.bytes;
      const dbPath = join(dir, `${f.name}.db`);
      const s = SqliteStore.open(dbPath);
      const records = await load(s, f.name, built.location);
      await s.close();
      totalRecords += records;
      await load(all, f.name, built.location);
      const sqlite = await sqliteBytes(dbPath);
      let postgres: number | null = null;
      const pgt = await openTestPostgres();
      if (pgt) {
        const ps = await PostgresStore.open(pgt.url, { schema: pgt.schema });
        await load(ps, f.name, built.location);
        await ps.close();
        postgres = await postgresBytes(pgt.url, pgt.schema);
        await pgt.drop();
      }
      if (allPgStore) await load(allPgStore, f.name, built.location);
      rows.push({
        feed: f.name, real: f.real, feedMB: mb(built.bytes), records, sqliteMB: mb(sqlite), postgresMB: postgres === null ? null : mb(postgres),
        sqliteBytesPerRecord: Math.round(sqlite / records), postgresBytesPerRecord: postgres === null ? null : Math.round(postgres / records),
        sqliteToFeed: ratio(sqlite, built.bytes), postgresToFeed: postgres === null ? null : ratio(postgres, built.bytes),
        sqliteAddedToFeed: ratio(sqlite - emptySqlite, built.bytes),
        postgresAddedToFeed: postgres === null || emptyPostgres === null ? null : ratio(postgres - emptyPostgres, built.bytes),
      });
      if (built.location.startsWith(dir)) rmSync(built.location, { recursive: true, force: true });
      rmSync(dbPath, { force: true });
      console.error(`store-size: ${f.name}: ${records} records, feed ${mb(built.bytes)} MB, SQLite ${mb(sqlite)} MB, PostgreSQL ${postgres === null ? '-' : mb(postgres)} MB`);
    }
    await all.close();
    const sqliteAll = await sqliteBytes(join(dir, 'all.db'));
    let pgAll: number | null = null;
    if (allPg && allPgStore) {
      await allPgStore.close();
      pgAll = await postgresBytes(allPg.url, allPg.schema);
      await allPg.drop();
    }
    const total: StoreSizeRow = {
      feed: 'all of them, one database', real: '', feedMB: mb(totalFeed), records: totalRecords, sqliteMB: mb(sqliteAll), postgresMB: pgAll === null ? null : mb(pgAll),
      sqliteBytesPerRecord: Math.round(sqliteAll / totalRecords), postgresBytesPerRecord: pgAll === null ? null : Math.round(pgAll / totalRecords),
      sqliteToFeed: ratio(sqliteAll, totalFeed), postgresToFeed: pgAll === null ? null : ratio(pgAll, totalFeed),
      sqliteAddedToFeed: ratio(sqliteAll - emptySqlite, totalFeed),
      postgresAddedToFeed: pgAll === null || emptyPostgres === null ? null : ratio(pgAll - emptyPostgres, totalFeed),
    };
    if (ONLY) return merged(rows, total, empty);
    return { machine: machine(), scale: SCALE, empty, rows, total };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows just measured in place of the same feeds' rows of the earlier full run (same scale); its total kept. */
function merged(rows: StoreSizeRow[], total: StoreSizeRow, empty: EmptySizes) {
  const file = join(import.meta.dirname, 'results', 'store-size.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { date: string; result: { scale: number; rows: StoreSizeRow[]; total: StoreSizeRow; totalMeasured?: string } }) : undefined;
  const prev = stored?.result;
  if (!prev || prev.scale !== SCALE) return { machine: machine(), scale: SCALE, empty, rows, total };
  const fresh = new Map(rows.map((r) => [r.feed, r]));
  const order = feeds.map((f) => f.name);
  const all = [...prev.rows.filter((r) => !fresh.has(r.feed)), ...rows].sort((a, b) => order.indexOf(a.feed) - order.indexOf(b.feed));
  // The one-database row needs every feed loaded together: it stays the last full run's, dated as such.
  return { machine: machine(), scale: SCALE, empty, rows: all, total: prev.total, totalMeasured: prev.totalMeasured ?? stored.date };
}
