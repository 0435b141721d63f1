import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianUpdater } from '../src/ecosystems/debian/updater.ts';
import { epssUpdater } from '../src/enrichment/epss/updater.ts';
import type { AnyUpdater } from '../src/updater/updater.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { runUpdater } from '../src/updater/run-updater.ts';
import { openTestPostgres } from '../test/support/postgres.ts';
import { median, round, timeOnce, timeRuns, timeShell } from './measure.ts';
import { syntheticTracker } from './synthetic-tracker.ts';

// Feed ingest beside its bulk-import bound, per store, in the same run (`npm run bench ingest`):
// - ingest: runUpdater of the feed into an empty store, what `clair-ts update` does (parse, hash, write, commit);
// - bound: the same feed parsed by the same updater with the records thrown away, plus a bulk import of the rows
//   the store holds after that ingest into an empty database of the same schema: for SQLite, `sqlite3 new.db <
//   dump.sql` of the store's `.dump` (CREATE TABLEs, one transaction of INSERTs, then the indexes built after the
//   load); for PostgreSQL, `psql -f` of the schema's `pg_dump` (CREATE TABLEs, COPY of every table, then indexes and
//   constraints). The dump is taken after the timed ingest and is not timed.
// Ratio = bound ÷ ingest: 1 means ingest is as fast as parsing plus loading the finished rows.
// - reload: the same feed again into the store that holds it (the daily case: every text stored, every pack found
//   and linked again), made new to runUpdater by a trailing newline (the records are the same). Its bound is the
//   parse alone: the rows it adds (the operation and its pack links) are left out.
// CLAIR_TS_BENCH_INGEST_CVES sets the tracker's size (default 40000 CVEs, ~120k records, ~25 MB);
// CLAIR_TS_BENCH_INGEST_FEEDS=epss (or debian) runs only the feeds named (comma-separated; default all).

const CVES = Number(process.env.CLAIR_TS_BENCH_INGEST_CVES ?? '40000');
const ONLY = process.env.CLAIR_TS_BENCH_INGEST_FEEDS?.split(',').map((s) => s.trim()).filter(Boolean);

interface Feed {
  name: string;
  updater: AnyUpdater;
  path: string;
  /** The same feed with a trailing newline: the same records under another fingerprint. */
  again: string;
  mb: number;
}

async function parseOnly(f: Feed): Promise<number> {
  let n = 0;
  const stream = createReadStream(f.path);
  for await (const _ of f.updater.parse(stream, { location: f.path, options: {}, warn: () => {} }) as AsyncIterable<unknown>) n++;
  return n;
}

interface StoreResult {
  records: number;
  ingest: { medianSeconds: number; samples: number[]; recordsPerSecond: number };
  bulkImportSeconds: number;
  boundSeconds: number;
  ratio: number;
  reload: { medianSeconds: number; samples: number[]; boundSeconds: number; ratio: number };
}

function summary(records: number, ingest: number[], parseSeconds: number, importSeconds: number, reload: number[]): StoreResult {
  const bound = parseSeconds + importSeconds;
  const med = median(ingest);
  const reloadMed = median(reload);
  return {
    records,
    ingest: { medianSeconds: round(med), samples: ingest.map((s) => round(s)), recordsPerSecond: Math.round(records / med) },
    bulkImportSeconds: round(importSeconds),
    boundSeconds: round(bound),
    ratio: round(bound / med, 2),
    reload: { medianSeconds: round(reloadMed), samples: reload.map((s) => round(s)), boundSeconds: round(parseSeconds), ratio: round(parseSeconds / reloadMed, 2) },
  };
}

async function ingestInto(store: Store, f: Feed, path = f.path): Promise<number> {
  const r = await runUpdater(store, f.updater, path, { retention: 0 });
  if (r.unchanged) throw new Error(`${f.name}: ingest saw an unchanged feed`);
  return r.records;
}


async function benchSqlite(f: Feed, dir: string, runs: number, parseSeconds: number): Promise<StoreResult> {
  let records = 0;
  const db = (i: number) => join(dir, `${f.name}-${i}.db`);
  const ingest: number[] = [];
  const reload: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = SqliteStore.open(db(i));
    try {
      ingest.push(await timeOnce(async () => (records = await ingestInto(s, f))));
    } finally {
      await s.close();
    }
  }
  const dump = join(dir, `${f.name}.sql`);
  execFileSync('bash', ['-c', `sqlite3 ${db(runs - 1)} .dump > ${dump}`]);
  const imports: number[] = [];
  for (let i = 0; i < runs; i++) {
    const target = join(dir, `${f.name}-import-${i}.db`);
    imports.push(timeShell(`sqlite3 ${target} < ${dump}`));
    rmSync(target, { force: true });
  }
  // Reloaded after the dump is taken (it holds the rows of one ingest).
  for (let i = 0; i < runs; i++) {
    const s = SqliteStore.open(db(i));
    try {
      reload.push(await timeOnce(() => ingestInto(s, f, f.again)));
    } finally {
      await s.close();
    }
  }
  for (let i = 0; i < runs; i++) for (const s of ['', '-wal', '-shm']) rmSync(db(i) + s, { force: true });
  rmSync(dump, { force: true });
  return summary(records, ingest, parseSeconds, median(imports), reload);
}

async function benchPostgres(f: Feed, dir: string, runs: number, parseSeconds: number): Promise<StoreResult | null> {
  let records = 0;
  const imports: number[] = [];
  const samples: number[] = [];
  const reload: number[] = [];
  for (let i = 0; i < runs; i++) {
    const pgt = await openTestPostgres();
    if (!pgt) return null;
    try {
      const store = await PostgresStore.open(pgt.url, { schema: pgt.schema });
      const t0 = performance.now();
      try {
        records = await ingestInto(store, f);
        samples.push((performance.now() - t0) / 1000);
      } finally {
        await store.close();
      }
      const dump = join(dir, `${f.name}-pg.sql`);
      execFileSync('bash', ['-c', `pg_dump --no-owner --no-privileges -n ${pgt.schema} '${pgt.url}' > ${dump}`]);
      // Reloaded after the dump is taken (it holds the rows of one ingest).
      const again = await PostgresStore.open(pgt.url, { schema: pgt.schema });
      try {
        reload.push(await timeOnce(() => ingestInto(again, f, f.again)));
      } finally {
        await again.close();
      }
      await pgt.drop();
      // Restored under the same schema name; the drop in `finally` removes it again.
      imports.push(timeShell(`psql -q -X -v ON_ERROR_STOP=1 '${pgt.url}' -f ${dump} > /dev/null`));
      rmSync(dump, { force: true });
    } finally {
      await pgt.drop();
    }
  }
  return summary(records, samples, parseSeconds, median(imports), reload);
}

/** A copy of the feed with a trailing newline (the same records, another fingerprint). */
function again(path: string): string {
  const out = `${path}.again`;
  execFileSync('bash', ['-c', `cat '${path}' > '${out}' && echo >> '${out}'`]);
  return out;
}

function epssFeed(path: string, rows: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, '#model_version:v2025.03.14,score_date:2026-11-30T12:55:00Z\ncve,epss,percentile\n');
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += `CVE-${2000 + (i % 26)}-${100000 + i},${rnd().toFixed(5)},${rnd().toFixed(5)}\n`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
}

export async function benchIngest(runs = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-ingest-'));
  try {
    const want = (name: string) => !ONLY || ONLY.includes(name);
    const feeds: Feed[] = [];
    if (want('debian')) {
      const tracker = join(dir, 'tracker.json');
      syntheticTracker(tracker, [], CVES);
      feeds.push({ name: 'debian', updater: debianUpdater, path: tracker, again: again(tracker), mb: round(statSync(tracker).size / 1e6, 1) });
    }
    if (want('epss')) {
      const epss = join(dir, 'epss.csv');
      epssFeed(epss, Math.round(CVES * 7.5));
      feeds.push({ name: 'epss', updater: epssUpdater, path: epss, again: again(epss), mb: round(statSync(epss).size / 1e6, 1) });
    }
    const out = [];
    for (const f of feeds) {
      let parsed = 0;
      const parse = await timeRuns(runs, async () => {
        parsed = await parseOnly(f);
      });
      const sqlite = await benchSqlite(f, dir, runs, parse.median);
      const postgres = await benchPostgres(f, dir, runs, parse.median);
      out.push({ feed: f.name, feedMB: f.mb, records: parsed, parseSeconds: round(parse.median), sqlite, postgres });
      process.stderr.write(`ingest: ${f.name}: sqlite ${sqlite.ratio}, postgres ${postgres?.ratio ?? '-'}\n`);
    }
    return { runs, feeds: out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
