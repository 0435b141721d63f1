import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { allMatchers } from '../src/ecosystems/registry.ts';
import { buildVulnerabilityReport } from '../src/matcher/vulnerability-report.ts';
import { BIG_IMAGE_BUILD_SCRIPT, debianBigImage, type DebianBigImage } from '../test/support/big-image.ts';
import { debianTestImage } from '../test/support/test-image.ts';
import { freePort } from '../test/support/free-port.ts';
import { openTestPostgres } from '../test/support/postgres.ts';
import { median, round, timeRuns, timeShell } from './measure.ts';
import { loadBesidePlainNode } from './load-bound.ts';
import { syntheticTracker } from './synthetic-tracker.ts';
import { packBucket } from '../src/store/vulnerability-pack.ts';

// The big real Debian image (scripts/build-big-image.sh: 4 layers, ~900 packages, ~1.4 GB uncompressed), measured
// at the scale issue 17 describes, each figure beside its bound from the same run:
// - cold index, gzip tag: `bin/clair-ts index` on an empty SQLite database vs the 2-core bound, the layers
//   decompressed two at a time through `pigz -dc | tar -t` (single-stream `zcat | tar -t` shown for scale);
// - cold index, zstd tag: vs `zstd -dc | tar -t`, two layers at a time;
// - peak memory (RSS high-water mark, /usr/bin/time) of those index processes, beside the small test image's;
// - a synthetic tracker feed at the real one's size (~5000 source packages, ~255k records) naming the image's
//   source packages: ingest time (`clair-ts update`), vulnerability report build time, and every finding checked
//   against `dpkg --compare-versions`;
// - warm `bin/clair-ts scan --format json` (layers indexed, feed loaded; its stored result current, and computed with
//   the stored result deleted before each run) vs `node -e 0` and vs the sqlite3 CLI
//   selecting the same candidate rows (hyperfine);
// - GET of the cached vulnerability report from `clair-ts serve` (combo; SQLite, and PostgreSQL when reachable) vs
//   a plain node:http server sending the same bytes, 16 connections, in alternating rounds (bench/load-bound.ts).

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'bin', 'clair-ts');
const NODE = join(REPO, 'node_modules', '.bin', 'node');
/** The real tracker: ~58.5 MB, ~5000 source packages, ~255k (source, CVE, release) records. */
const TRACKER_SOURCES = 5000;
const TRACKER_CVES = 80_000;
const API_CONCURRENCY = 16;
const API_DURATION_MS = 10_000;
const API_MAX_REQUESTS = 100_000;
const SCAN_RUNS = 10;

const TOOLS: [string, string][] = [
  ['pigz', 'pigz'], ['zstd', 'zstd'], ['zcat', 'gzip'], ['tar', 'tar'], ['xargs', 'findutils'], ['sqlite3', 'sqlite3'],
  ['dpkg', 'dpkg'], ['hyperfine', 'hyperfine'], ['/usr/bin/time', 'time'],
];

function requireTools(): void {
  const missing = TOOLS.filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) {
    throw new Error(`bench big: missing tools: ${missing.map(([c, p]) => `${c} (apt-get install ${p})`).join(', ')}`);
  }
}

/** The cached image, building it first (minutes; root and Debian's mirror) when it is missing. */
async function ensureImage(): Promise<DebianBigImage> {
  const have = await debianBigImage();
  if (have) return have;
  process.stderr.write(`bench big: building the big image (${BIG_IMAGE_BUILD_SCRIPT}; several minutes)\n`);
  const r = spawnSync('bash', [BIG_IMAGE_BUILD_SCRIPT], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${BIG_IMAGE_BUILD_SCRIPT} failed (${r.signal ?? `exit ${r.status}`}); its log is above`);
  const built = await debianBigImage();
  if (!built) throw new Error(`${BIG_IMAGE_BUILD_SCRIPT} succeeded but the image is not complete`);
  return built;
}

interface ProcessRun {
  seconds: number;
  /** user + system CPU seconds: what the work costs, whatever else the machine is running. */
  cpuSeconds: number;
  maxRssMiB: number;
  /** user + system CPU seconds ÷ wall seconds: how many cores the process kept busy on average. */
  cores: number;
}

/** Runs `bin/clair-ts ARGS` under /usr/bin/time: wall time, RSS high-water mark, cores used. Stdout is discarded. */
function timeCli(args: string[], env: NodeJS.ProcessEnv = process.env): ProcessRun {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-time-'));
  try {
    const out = join(dir, 'time');
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-o', out, '-f', '%M %U %S', CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env, maxBuffer: 64 << 20 });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`clair-ts ${args.join(' ')} failed (${r.signal ?? `exit ${r.status}`}):\n${r.stderr.toString().slice(-2000)}`);
    const [kb, user, sys] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
    return { seconds, cpuSeconds: user + sys, maxRssMiB: round(kb / 1024, 1), cores: round((user + sys) / seconds, 2) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A shell pipeline under /usr/bin/time: wall seconds, and the CPU seconds of all its processes. */
function timeShellCpu(script: string): { seconds: number; cpuSeconds: number } {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-time-'));
  try {
    const out = join(dir, 'time');
    const t0 = performance.now();
    execFileSync('/usr/bin/time', ['-o', out, '-f', '%U %S', 'bash', '-c', `set -o pipefail; ${script}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const seconds = (performance.now() - t0) / 1000;
    const [user, sys] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number];
    return { seconds, cpuSeconds: user + sys };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** `2 at a time` bound: each blob through `DECOMPRESS | tar -t`, at most `parallel` pipelines running. */
function listingScript(blobs: string[], decompress: string, parallel: number): string {
  return `printf '%s\\0' ${blobs.map(quote).join(' ')} | xargs -0 -P${parallel} -n1 sh -c '${decompress} "$1" | tar -t > /dev/null' _`;
}

interface ColdResult {
  runs: number;
  medianSeconds: number;
  samples: number[];
  cpuSeconds: number;
  maxRssMiB: number;
  cores: number;
  bound: { what: string; medianSeconds: number; samples: number[]; cpuSeconds: number };
  singleStream: { what: string; medianSeconds: number };
  /** The indexer's read path alone (reads, digest check, Node's zlib/zstd), 2 layers at a time, output discarded: the floor set by the platform's decompressor. */
  nodeDecompress: { medianSeconds: number; cpuSeconds: number; ratio: number };
  ratioToBound: number;
  /** Bound's CPU seconds ÷ ours: the work's cost, which the machine's other load changes much less than wall time. */
  cpuRatioToBound: number;
  dbOfLastRun: string;
}

/** Interleaved runs (bound, clair-ts, single stream) so drift in the machine's load hits all three alike. */
function coldIndex(ref: string, blobs: string[], decompress: string, dir: string, tag: string, runs: number): ColdResult {
  const bound: { seconds: number; cpuSeconds: number }[] = [];
  const single: number[] = [];
  const ours: ProcessRun[] = [];
  const platform: { seconds: number; cpuSeconds: number }[] = [];
  let db = '';
  for (let i = 0; i < runs; i++) {
    bound.push(timeShellCpu(listingScript(blobs, decompress, 2)));
    platform.push(timeShellCpu(`${quote(NODE)} ${quote(join(REPO, 'bench', 'node-decompress.ts'))} 2 ${blobs.map(quote).join(' ')}`));
    db = join(dir, `cold-${tag}-${i}.db`);
    ours.push(timeCli(['index', '--db', db, ref]));
    single.push(timeShell(listingScript(blobs, decompress === 'pigz -dc' ? 'zcat' : decompress, 1)));
    process.stderr.write(`bench big: cold ${tag} ${i + 1}/${runs}: clair-ts ${ours.at(-1)!.seconds.toFixed(2)} s, bound ${bound.at(-1)!.seconds.toFixed(2)} s\n`);
    if (i < runs - 1) rmSync(db, { force: true });
  }
  const s = ours.map((o) => o.seconds);
  const medianSeconds = median(s);
  const boundSeconds = median(bound.map((b) => b.seconds));
  const cpu = median(ours.map((o) => o.cpuSeconds));
  const boundCpu = median(bound.map((b) => b.cpuSeconds));
  return {
    runs,
    medianSeconds: round(medianSeconds),
    samples: s.map((x) => round(x)),
    cpuSeconds: round(cpu, 2),
    maxRssMiB: Math.max(...ours.map((o) => o.maxRssMiB)),
    cores: median(ours.map((o) => o.cores)),
    bound: { what: `\`${decompress} \\| tar -t\`, 2 layers at a time`, medianSeconds: round(boundSeconds), samples: bound.map((x) => round(x.seconds)), cpuSeconds: round(boundCpu, 2) },
    singleStream: { what: `\`${decompress === 'pigz -dc' ? 'zcat' : decompress} \\| tar -t\`, one layer at a time`, medianSeconds: round(median(single)) },
    nodeDecompress: {
      medianSeconds: round(median(platform.map((p) => p.seconds))),
      cpuSeconds: round(median(platform.map((p) => p.cpuSeconds)), 2),
      ratio: round(median(platform.map((p) => p.seconds)) / medianSeconds, 2),
    },
    ratioToBound: round(boundSeconds / medianSeconds, 2),
    cpuRatioToBound: round(boundCpu / cpu, 2),
    dbOfLastRun: db,
  };
}

function blobPaths(image: DebianBigImage, layers: { digest: string }[]): string[] {
  return layers.map((l) => join(image.dir, 'oci', 'blobs', 'sha256', l.digest.slice('sha256:'.length)));
}

function manifestDigest(image: DebianBigImage, tag: string): string {
  const index = JSON.parse(readFileSync(join(image.dir, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const m = index.manifests.find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!m) throw new Error(`${image.dir}/oci/index.json has no manifest tagged ${tag}`);
  return m.digest;
}

type Tracker = Record<string, Record<string, { releases: Record<string, { status: string; fixed_version?: string }> }>>;

/**
 * The findings the feed implies for the image, decided by dpkg itself: for each installed package, each bookworm
 * record of its source package; open → affected, resolved with a fix → affected when `dpkg --compare-versions
 * installed-source-version lt fixed` says so. Each distinct version pair is asked once, in one shell loop.
 */
function expectedFindings(image: DebianBigImage, feedPath: string, dir: string): { findings: Set<string>; pairsCompared: number } {
  const tracker = JSON.parse(readFileSync(feedPath, 'utf8')) as Tracker;
  const pending: { key: string; pair: string }[] = [];
  const findings = new Set<string>();
  for (const p of image.expected.packages) {
    for (const [cve, entry] of Object.entries(tracker[p.sourceName] ?? {})) {
      const r = entry.releases['bookworm'];
      if (!r) continue;
      const key = `${p.name} ${p.version} ${cve}`;
      if (r.status === 'open') findings.add(key);
      else if (r.status === 'resolved' && r.fixed_version && r.fixed_version !== '0') pending.push({ key, pair: `${p.sourceVersion}\t${r.fixed_version}` });
    }
  }
  const pairs = [...new Set(pending.map((x) => x.pair))];
  const file = join(dir, 'pairs.tsv');
  writeFileSync(file, pairs.join('\n') + '\n');
  const out = execFileSync('bash', ['-c', `while IFS=$'\\t' read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo 1; else echo 0; fi; done < ${quote(file)}`], { maxBuffer: 64 << 20 })
    .toString().trim().split('\n');
  if (out.length !== pairs.length) throw new Error(`dpkg --compare-versions answered ${out.length} of ${pairs.length} pairs`);
  const lower = new Map(pairs.map((pair, i) => [pair, out[i] === '1']));
  for (const x of pending) if (lower.get(x.pair)) findings.add(x.key);
  return { findings, pairsCompared: pairs.length };
}

function reportFindings(json: string): Set<string> {
  const vr = JSON.parse(json) as { packages: Record<string, { name: string; version: string }>; vulnerabilities: Record<string, { name: string }>; package_vulnerabilities: Record<string, string[]> };
  const got = new Set<string>();
  for (const [pid, vids] of Object.entries(vr.package_vulnerabilities)) {
    const p = vr.packages[pid]!;
    for (const vid of vids) got.add(`${p.name} ${p.version} ${vr.vulnerabilities[vid]!.name}`);
  }
  return got;
}

interface Hyperfine {
  results: { command: string; mean: number; stddev: number; median: number; min: number; max: number }[];
}

/** `prepare`: a command run before each run of the named command (hyperfine's --prepare), `true` for the others. */
function hyperfine(commands: Record<string, string>, dir: string, prepare: Record<string, string> = {}): Record<string, { medianMs: number; meanMs: number; stddevMs: number; minMs: number }> {
  const file = join(dir, 'hyperfine.json');
  const names = Object.keys(commands);
  const args = ['--style', 'none', '--warmup', '2', '--runs', String(SCAN_RUNS), '--export-json', file];
  if (Object.keys(prepare).length > 0) for (const n of names) args.push('--prepare', prepare[n] ?? 'true');
  for (const n of names) args.push('--command-name', n, commands[n]!);
  execFileSync('hyperfine', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const r = JSON.parse(readFileSync(file, 'utf8')) as Hyperfine;
  const ms = (s: number) => round(s * 1000, 1);
  return Object.fromEntries(r.results.map((x) => [x.command, { medianMs: ms(x.median), meanMs: ms(x.mean), stddevMs: ms(x.stddev), minMs: ms(x.min) }]));
}

/**
 * The candidate rows of the warm scan in one SQL statement, as the store selects them: the packs of the buckets of
 * the image's source package names (each cut by its context's count), Debian's updater, bookworm, the newest
 * operation of each updater (one line a pack, its data in hex so that a line is a pack).
 */
function candidateSql(image: DebianBigImage): string {
  const buckets = [...new Set(image.expected.packages.map((p) => packBucket(p.sourceName)))];
  return `WITH k AS MATERIALIZED (
  SELECT DISTINCT c.id AS context_id, c.data AS context, b.value % c.buckets AS bucket FROM vuln_context c, json_each('[${buckets.join(',')}]') b
  WHERE (c.updater = 'debian' OR substr(c.updater, 1, 7) = 'debian/')
    AND (c.dist_did = 'debian' OR c.dist_did = '') AND (c.dist_version_code_name = 'bookworm' OR c.dist_version_code_name = ''))
SELECT p.id, p.bucket, k.context, hex(p.data) FROM k CROSS JOIN vuln_pack p ON p.bucket = k.bucket AND p.context_id = k.context_id
WHERE EXISTS (SELECT 1 FROM uo_pack u WHERE u.uo_id IN (SELECT max(id) FROM update_operation GROUP BY updater) AND u.pack_id = p.id)
ORDER BY p.id;
`;
}

/** `clair-ts serve` as its own process on `db`, until stopped; resolves once the API answers. */
async function startServe(db: string, dir: string, tag: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const [api, intro] = [await freePort(), await freePort()];
  const config = join(dir, `serve-${tag}.yaml`);
  writeFileSync(config, `http_listen_addr: "127.0.0.1:${api}"\nintrospection_addr: "127.0.0.1:${intro}"\nlog_level: warn\nmatcher:\n  disable_updaters: true\n`);
  const child: ChildProcess = spawn(CLI, ['serve', '--mode', 'combo', '--db', db, '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`clair-ts serve exited ${child.exitCode} before answering`);
    try {
      const r = await fetch(`http://127.0.0.1:${intro}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error('clair-ts serve did not become ready within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${api}`, stop };
}

/** GET the cached report under load from `serve` on `db`, beside a plain node:http server sending the same bytes. */
async function getReportVsPlain(db: string, manifest: string, dir: string, tag: string) {
  const s = await startServe(db, dir, tag);
  try {
    const url = `${s.url}/matcher/api/v1/vulnerability_report/${manifest}`;
    const first = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
    const bytes = Buffer.from(await first.arrayBuffer());
    if (first.status !== 200) throw new Error(`${tag}: vulnerability_report answered HTTP ${first.status}: ${bytes.toString().slice(0, 500)}`);
    const load = await loadBesidePlainNode(url, { concurrency: API_CONCURRENCY, durationMs: API_DURATION_MS, maxRequests: API_MAX_REQUESTS, serverOutOfProcess: true });
    return { reportBytes: bytes.length, served: load.served, plainNode: load.plainNode, ratioToPlainNode: load.ratio };
  } finally {
    await s.stop();
  }
}

export async function benchBig(runs = 3) {
  requireTools();
  const image = await ensureImage();
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-big-'));
  try {
    const gzBlobs = blobPaths(image, image.expected.layers);
    const zsBlobs = blobPaths(image, image.expected.zstdLayers);
    const layerTarBytes = (image.build.layerTarBytes as number[] | undefined) ?? [];
    const sources = [...new Set(image.expected.packages.map((p) => p.sourceName))];
    const mb = (b: number) => round(b / 1e6, 1);
    const imageFacts = {
      layers: image.expected.layers.length,
      packages: image.expected.packages.length,
      sourcePackages: sources.length,
      uncompressedMB: mb(layerTarBytes.reduce((a, b) => a + b, 0)),
      layerMB: layerTarBytes.map(mb),
      gzipMB: mb(image.expected.layers.reduce((a, l) => a + l.size, 0)),
      zstdMB: mb(image.expected.zstdLayers.reduce((a, l) => a + l.size, 0)),
      buildSeconds: image.build.buildSeconds,
    };
    // Compile cache and page cache warm before anything is timed (the blobs are read by every run alike).
    timeCli(['--help']);
    timeShell(`cat ${[...gzBlobs, ...zsBlobs].map(quote).join(' ')} > /dev/null`);

    process.stderr.write('bench big: cold index, gzip\n');
    const gzip = coldIndex(image.ociRef, gzBlobs, 'pigz -dc', dir, 'gzip', runs);
    process.stderr.write('bench big: cold index, zstd\n');
    const zstd = coldIndex(image.ociZstdRef, zsBlobs, 'zstd -dc', dir, 'zstd', runs);
    // Peak memory beside a small image's: flat in layer size means the two are close.
    const small = await debianTestImage().catch(() => undefined);
    const smallRss = small ? timeCli(['index', '--db', join(dir, 'small.db'), small.ociRef]).maxRssMiB : undefined;

    // The feed, at the real tracker's size, naming the image's source packages among ~5000.
    const db = gzip.dbOfLastRun;
    const feed = join(dir, 'tracker.json');
    const feedStats = syntheticTracker(feed, sources, TRACKER_CVES, Math.max(0, TRACKER_SOURCES - sources.length));
    process.stderr.write(`bench big: ingest of a ${mb(feedStats.bytes)} MB tracker feed\n`);
    const ingest = timeCli(['update', '--db', db, '--source', `debian=${feed}`]);
    const store = SqliteStore.open(db);
    const manifest = manifestDigest(image, 'gzip');
    let records = 0;
    let reportMs: number;
    try {
      records = (await store.listUpdateOperations('debian'))[0]?.count ?? 0;
      const indexed = await store.getIndexReport(manifest);
      if (!indexed) throw new Error(`the index report of ${manifest} is not in ${db}`);
      const t = await timeRuns(5, async () => void (await buildVulnerabilityReport(store, allMatchers(), indexed.report)));
      reportMs = round(t.median * 1000, 1);
    } finally {
      await store.close();
    }

    // Warm scan: the user-facing command, the same process `node -e 0` starts, and the SQL bound.
    process.stderr.write('bench big: warm scan\n');
    const scanArgs = ['scan', '--format', 'json', '--db', db, image.ociRef];
    const scan = spawnSync(CLI, scanArgs, { maxBuffer: 1 << 30 });
    if (scan.status !== 0) throw new Error(`clair-ts scan failed (exit ${scan.status}): ${scan.stderr.toString().slice(-2000)}`);
    const got = reportFindings(scan.stdout.toString());
    // The second scan writes the stored result (src/cli/stored-scan.ts): the same bytes but the generation time.
    const again = spawnSync(CLI, scanArgs, { maxBuffer: 1 << 30 });
    const timeless = (b: Buffer) => b.toString().replace(/\n {4}"generated": "[^"]{24}"/, '');
    if (again.status !== 0 || timeless(again.stdout) !== timeless(scan.stdout)) throw new Error('the stored scan result differs from the computed one');
    const want = expectedFindings(image, feed, dir);
    const missing = [...want.findings].filter((f) => !got.has(f));
    const extra = [...got].filter((f) => !want.findings.has(f));
    const sqlFile = join(dir, 'candidates.sql');
    writeFileSync(sqlFile, candidateSql(image));
    const candidateRows = Number(execFileSync('bash', ['-c', `sqlite3 ${quote(db)} < ${quote(sqlFile)} | wc -l`]).toString().trim());
    const scanCommand = `${quote(CLI)} ${scanArgs.map(quote).join(' ')}`;
    const warm = hyperfine({
      'clair-ts scan --format json': scanCommand,
      'node -e 0': `${quote(NODE)} -e 0`,
      'sqlite3 candidate rows': `sqlite3 ${quote(db)} < ${quote(sqlFile)}`,
    }, dir);
    // The same scan computed: its stored result deleted before each run (it matches, renders and stores again).
    const computed = hyperfine({ 'clair-ts scan --format json, computed': scanCommand }, dir, {
      'clair-ts scan --format json, computed': `sqlite3 ${quote(db)} 'DELETE FROM scan_result'`,
    });

    process.stderr.write('bench big: GET vulnerability_report, SQLite\n');
    const getSqlite = await getReportVsPlain(db, manifest, dir, 'sqlite');

    let postgres: Record<string, unknown> | { skipped: string };
    const pgt = await openTestPostgres().catch(() => undefined);
    if (!pgt) {
      postgres = { skipped: 'PostgreSQL not reachable (CLAIR_TS_POSTGRES_URL)' };
    } else {
      try {
        process.stderr.write('bench big: PostgreSQL: index, ingest, GET vulnerability_report\n');
        const u = new URL(pgt.url);
        u.searchParams.set('options', `-c search_path=${pgt.schema}`);
        const pgDb = u.toString();
        const pgIndex = timeCli(['index', '--db', pgDb, image.ociRef]);
        const pgIngest = timeCli(['update', '--db', pgDb, '--source', `debian=${feed}`]);
        postgres = {
          coldIndexSeconds: round(pgIndex.seconds, 2),
          ingestSeconds: round(pgIngest.seconds, 2),
          recordsPerSecond: Math.round(records / pgIngest.seconds),
          ...(await getReportVsPlain(pgDb, manifest, dir, 'postgres')),
        };
      } finally {
        await pgt.drop();
      }
    }

    return {
      image: imageFacts,
      coldGzip: gzip,
      coldZstd: zstd,
      memory: { gzipMaxRssMiB: gzip.maxRssMiB, zstdMaxRssMiB: zstd.maxRssMiB, smallImageMaxRssMiB: smallRss, largestLayerMB: Math.max(...imageFacts.layerMB) },
      feed: { mb: mb(feedStats.bytes), sourcePackages: Math.max(TRACKER_SOURCES, sources.length), cves: TRACKER_CVES, records },
      ingest: { seconds: round(ingest.seconds, 2), recordsPerSecond: Math.round(records / ingest.seconds), maxRssMiB: ingest.maxRssMiB },
      vulnerabilityReport: { findings: got.size, medianMs: reportMs, reportBytes: scan.stdout.length },
      correctness: { expected: want.findings.size, found: got.size, missing: missing.length, extra: extra.length, pairsCompared: want.pairsCompared, sampleMissing: missing.slice(0, 5), sampleExtra: extra.slice(0, 5) },
      warmScan: { runs: SCAN_RUNS, candidateRows, ...warm, ...computed },
      get: { sqlite: getSqlite, postgres },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(await benchBig(Number(process.argv[2] ?? 3)), null, 2) + '\n');
}
