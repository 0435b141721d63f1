import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from './measure.ts';
import { benchIndex, writeJson } from './index-image.ts';
import { benchApi } from './api.ts';
import { benchRegistryPull } from './registry-pull.ts';
import { benchPostgres } from './postgres.ts';
import { benchPolyglot } from './index-polyglot.ts';
import { benchStoreSize, type StoreSizeRow } from './store-size.ts';
import { benchNotifier } from './notifier.ts';
import { benchBinaries } from './index-binaries.ts';
import { benchIngest } from './ingest.ts';
import { benchBig } from './index-big.ts';

// `npm run bench [section…]`: runs the benchmark sections (all by default), writes each one's figures to
// bench/results/<section>.json and regenerates BENCHMARKS.md from every result file present.

const RESULTS = join(import.meta.dirname, 'results');

type Section = { title: string; run: () => Promise<unknown>; render: (r: any) => string };

const sections: Record<string, Section> = {
  'store-size': {
    title: 'Database size per feed (SQLite and PostgreSQL)',
    run: () => benchStoreSize(),
    render: (r) => `Each feed built at the size of the real one${r.scale !== 1 ? ` (scaled by ${r.scale})` : ''} (bench/store-size.ts: Debian's tracker by the synthetic generator; NVD, KEV, OSV, Ubuntu and Alpine by repeating the real records of ../shared under new ids — OSV and Ubuntu copies each with a text and, round by round through the pool, package names of their own, as the real feeds' records have; EPSS rows generated), loaded by its updater into an empty database, and the database measured after the load: the SQLite file (with its WAL), and PostgreSQL's \`pg_total_relation_size\` of every table, indexes included. RustSec and the Go vulnerability database are the real, complete feeds from ../shared. Red Hat's VEX is not measured: its documents are large (the 19 real ones in ../shared average ~1 MB uncompressed), so an archive of tens of thousands of them does not fit this machine's bench run.${r.totalMeasured ? ` The last row (every feed in one database) is from the full run of ${r.totalMeasured.slice(0, 16).replace('T', ' ')} UTC: the rows above it were measured again since, one feed at a time (\`CLAIR_TS_BENCH_FEEDS\`), so it predates their changes.` : ''}${r.empty ? ` An empty database (the schema alone, before any feed) takes ${r.empty.sqliteMB} MB in SQLite and ${r.empty.postgresMB ?? '-'} MB in PostgreSQL, counted in every row's size; the last two columns leave it out (what the feed added ÷ the feed), which matters for the smallest feeds.` : ''}

| feed | the real feed | feed MB | records | SQLite MB | PostgreSQL MB | SQLite bytes/record | PostgreSQL bytes/record | SQLite ÷ feed | PostgreSQL ÷ feed | SQLite added ÷ feed | PostgreSQL added ÷ feed |
|---|---|---|---|---|---|---|---|---|---|---|---|
${[...r.rows, r.total].map((x: StoreSizeRow) => `| ${x.feed} | ${x.real} | ${x.feedMB} | ${x.records} | ${x.sqliteMB} | ${x.postgresMB ?? '-'} | ${x.sqliteBytesPerRecord} | ${x.postgresBytesPerRecord ?? '-'} | **${x.sqliteToFeed}** | **${x.postgresToFeed ?? '-'}** | ${x.sqliteAddedToFeed ?? '-'} | ${x.postgresAddedToFeed ?? '-'} |`).join('\n')}
`,
  },
  ingest: {
    title: 'Feed ingest beside the bulk-import bound (SQLite and PostgreSQL)',
    run: () => benchIngest(3),
    render: (r) => `Each feed ingested by its updater into an empty store (\`runUpdater\`, what \`clair-ts update\` runs), median of ${r.runs}. The bound, same run, same rows: the updater parsing the feed with the records thrown away, plus a bulk import of the rows the store ended up with into an empty database of the same schema (SQLite: \`sqlite3 new.db < dump.sql\` of the store's \`.dump\`, one transaction of INSERTs with the indexes built after the load; PostgreSQL: \`psql -f\` of the schema's \`pg_dump\`, COPY of every table, indexes and constraints after). Ratio = bound ÷ ingest (bench/ingest.ts): Debian is the synthetic tracker, EPSS generated rows in FIRST's CSV format. The rows a store ends up with are deflated packs and texts (what keeps the database a fraction of the feed's size: store-size above), which import fast; building them (grouping records by bucket, looking texts up, deflating ~40,000 new texts and ~9,000 packs on the deflate worker) is work the bound does not count, and it takes several times the parse's CPU (a first SQLite load of the Debian feed: 2.5-3.5 CPU s of the process in all, the parse ~0.55 s of them).

| feed | records | parse | store | ingest | records/s | bulk import | bound (parse + import) | speed ÷ bound (bound time ÷ ingest time) |
|---|---|---|---|---|---|---|---|---|
${r.feeds.flatMap((f: any) => [['SQLite', f.sqlite], ['PostgreSQL', f.postgres]].filter(([, x]) => x).map(([name, x]: any) => `| ${f.feed} (${f.feedMB} MB) | ${x.records} | ${f.parseSeconds} s | ${name} | ${x.ingest.medianSeconds} s | ${x.ingest.recordsPerSecond} | ${x.bulkImportSeconds} s | ${x.boundSeconds} s | **${x.ratio}** |`)).join('\n')}

The daily case: the same feed again into the store that holds it (a trailing newline makes it new to \`runUpdater\`; every text is stored and every pack is found and linked again). Bound: the parse alone (the rows it adds, one operation and its pack links, are left out).

| feed | store | reload | bound (parse) | speed ÷ bound |
|---|---|---|---|---|
${r.feeds.flatMap((f: any) => [['SQLite', f.sqlite], ['PostgreSQL', f.postgres]].filter(([, x]) => x?.reload).map(([name, x]: any) => `| ${f.feed} | ${name} | ${x.reload.medianSeconds} s | ${x.reload.boundSeconds} s | **${x.reload.ratio}** |`)).join('\n')}
`,
  },
  notifier: {
    title: 'Notifier: affected manifests at scale (SQLite and PostgreSQL)',
    run: () => benchNotifier(),
    render: (r) => `${r.images} different indexed images built from real package lists (bench/notifier-images.ts): half on the Debian test image's report, the others on ${r.bases.length - 1} other bases (${r.bases.slice(1).join('; ')}); each image leaves out about one package in ten and has about one in five at another build. A Debian feed of ${r.records} records (half of the changing ones name the Debian image's source packages, half those of the other bases), and update operations that change 500, then 5,000 records (each change removes a record and adds its new version). Measured with a tenth of the images stored, then with all of them, on each store (bench/notifier.ts). Timed: the notifier's whole processing of the operation (\`processUpdateOperation\`: diff, affected manifests through the package index, one decision per distinct package, the summary per manifest, notifications stored; the goal is under 10 s at ${r.images} images and 5,000 records); \`affectedManifests\` alone (every affected manifest's full list, what the internal affected_manifest endpoint answers); and the approach before the package index, every candidate manifest's index report read and walked, which must give the same lists ("not run": measured with \`CLAIR_TS_BENCH_PREVIOUS=0\`, which skips it; on a shared, loaded machine it took 374 s on SQLite and 279 s on PostgreSQL for 10,000 images and 5,000 records where the package index took 25 s and 13 s).

| store | images | distinct packages indexed | storing the images | changed records | records in the diff | affected manifests | notifier processing | affectedManifests (full lists) | previous approach |
|---|---|---|---|---|---|---|---|---|---|
${(['sqlite', 'postgres'] as const).filter((k) => r[k]).flatMap((k) => r[k].flatMap((ph: any) => ph.updates.map((u: any) => `| ${k === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${ph.images} | ${ph.distinctPackages} | ${ph.storeSeconds} s | ${u.changedRecords} | ${u.diffRecords} | ${u.affectedManifests} | **${u.processSeconds} s** (${u.notifications} notifications) | ${u.affectedSeconds} s | ${u.previousSeconds !== undefined ? `${u.previousSeconds} s` : 'not run'} |`))).join('\n')}
`,
  },
  index: {
    title: 'Indexing the Debian test image, feed ingest and vulnerability report (SQLite)',
    run: () => benchIndex(3),
    render: (r) => `The real Debian bookworm test image (\`scripts/build-test-image.sh\`): ${r.image.layers} layers, ${r.image.compressedMB} MB compressed, ${r.image.packages} packages.
The physical bound is \`zcat LAYER | tar -t > /dev/null\` over the same layer blobs, measured in the same run.

| what | median | throughput | vs bound |
|---|---|---|---|
| bound: ${r.baseline.what} | ${r.baseline.medianSeconds} s | ${r.baseline.mbPerSecond} MB/s | 1 |
| index, cold (empty database) | ${r.cold.medianSeconds} s | ${r.cold.mbPerSecond} MB/s | **${r.cold.ratioToBaseline}×** |
| index, warm (all layers cached) | ${r.warm.medianSeconds} s | | |
| ingest of a synthetic ${r.feedIngest.feedMB} MB tracker feed | ${r.feedIngest.seconds} s | ${r.feedIngest.recordsPerSecond} records/s (${r.feedIngest.records} records) | |
| vulnerability report (${r.vulnerabilityReport.packages} packages, ${r.vulnerabilityReport.findings} findings) | ${r.vulnerabilityReport.medianMs} ms | | |
`,
  },
  big: {
    title: 'The big Debian image: cold index, memory, full-size feed, warm scan and report serving',
    run: () => benchBig(3),
    render: (r) => {
      const pg = r.get.postgres;
      const w = r.warmScan;
      const scan = w['clair-ts scan --format json'];
      const computed = w['clair-ts scan --format json, computed'];
      const node = w['node -e 0'];
      const sql = w['sqlite3 candidate rows'];
      return `A real Debian bookworm image built from Debian's packages (\`scripts/build-big-image.sh\`, ${r.image.buildSeconds} s to build): ${r.image.layers} layers of ${r.image.layerMB.join(' + ')} MB (${r.image.uncompressedMB} MB uncompressed; ${r.image.gzipMB} MB gzip, ${r.image.zstdMB} MB zstd), ${r.image.packages} packages from ${r.image.sourcePackages} source packages. Every clair-ts figure is a run of \`bin/clair-ts\` (start-up included) on an empty SQLite database, median of ${r.coldGzip.runs}, interleaved with its bound; memory is the RSS high-water mark (\`/usr/bin/time\`). The bound for a 2-core machine: the layers decompressed two at a time, each through \`DECOMPRESS | tar -t\`.

| what | clair-ts | bound, same run | bound ÷ clair-ts |
|---|---|---|---|
| cold index, gzip | ${r.coldGzip.medianSeconds} s, ${r.coldGzip.cpuSeconds} CPU s (${r.coldGzip.cores} cores busy) | ${r.coldGzip.bound.what}: ${r.coldGzip.bound.medianSeconds} s, ${r.coldGzip.bound.cpuSeconds} CPU s (${r.coldGzip.singleStream.what}: ${r.coldGzip.singleStream.medianSeconds} s) | **${r.coldGzip.ratioToBound}** (CPU: ${r.coldGzip.cpuRatioToBound}) |
| … the same layers read as the indexer reads them (1 MiB reads, SHA-256 digest check, Node's own gunzip, 2 at a time) with no tar walk or scanner, output discarded (\`bench/node-decompress.ts\`) | the index above | ${r.coldGzip.nodeDecompress?.medianSeconds ?? '–'} s, ${r.coldGzip.nodeDecompress?.cpuSeconds ?? '–'} CPU s | **${r.coldGzip.nodeDecompress?.ratio ?? '–'}** |
| cold index, zstd | ${r.coldZstd.medianSeconds} s, ${r.coldZstd.cpuSeconds} CPU s (${r.coldZstd.cores} cores busy) | ${r.coldZstd.bound.what}: ${r.coldZstd.bound.medianSeconds} s, ${r.coldZstd.bound.cpuSeconds} CPU s (${r.coldZstd.singleStream.what}: ${r.coldZstd.singleStream.medianSeconds} s) | **${r.coldZstd.ratioToBound}** (CPU: ${r.coldZstd.cpuRatioToBound}) |
| … the same layers read as the indexer reads them (1 MiB reads, SHA-256 digest check, Node's own zstd, 2 at a time) with no tar walk or scanner, output discarded (\`bench/node-decompress.ts\`) | the index above | ${r.coldZstd.nodeDecompress?.medianSeconds ?? '–'} s, ${r.coldZstd.nodeDecompress?.cpuSeconds ?? '–'} CPU s | **${r.coldZstd.nodeDecompress?.ratio ?? '–'}** |
| peak memory of the index process | gzip ${r.memory.gzipMaxRssMiB} MiB, zstd ${r.memory.zstdMaxRssMiB} MiB (largest layer ${r.memory.largestLayerMB} MB) | ${r.memory.smallImageMaxRssMiB !== undefined ? `the small test image: ${r.memory.smallImageMaxRssMiB} MiB` : '-'} | |
| \`clair-ts update\` of a synthetic tracker feed (${r.feed.mb} MB, ${r.feed.sourcePackages} source packages, ${r.feed.records} records) | ${r.ingest.seconds} s, ${r.ingest.recordsPerSecond} records/s, ${r.ingest.maxRssMiB} MiB | | |
| vulnerability report (${r.vulnerabilityReport.findings} findings, ${(r.vulnerabilityReport.reportBytes / 1e6).toFixed(1)} MB of JSON), in-process build | ${r.vulnerabilityReport.medianMs} ms | | |
| findings checked against \`dpkg --compare-versions\` (${r.correctness.pairsCompared} distinct version pairs) | ${r.correctness.missing === 0 && r.correctness.extra === 0 ? `**all ${r.correctness.expected} agree**` : `**${r.correctness.missing} missing, ${r.correctness.extra} extra** of ${r.correctness.expected}`} | | |
| warm \`bin/clair-ts scan --format json\` (layers indexed, feed loaded, the stored result of the previous scan current), median of ${w.runs} (hyperfine) | ${scan.medianMs} ms (± ${scan.stddevMs}) | \`node -e 0\`: ${node.medianMs} ms; the ${w.candidateRows} candidate rows by one \`sqlite3\` query: ${sql.medianMs} ms | **${(sql.medianMs / scan.medianMs).toFixed(2)}** (SQL) |${computed ? `
| the same scan computed (stored result deleted before each run: matched, rendered and stored again) | ${computed.medianMs} ms (± ${computed.stddevMs}) | | **${(sql.medianMs / computed.medianMs).toFixed(2)}** (SQL) |` : ''}
| GET cached vulnerability report (${(r.get.sqlite.reportBytes / 1e6).toFixed(1)} MB), \`clair-ts serve\` on SQLite, 16 connections | ${r.get.sqlite.served.requestsPerSecond} req/s, p50 ${r.get.sqlite.served.p50Ms} ms, p99 ${r.get.sqlite.served.p99Ms} ms | plain \`node:http\` sending the same bytes: ${r.get.sqlite.plainNode.requestsPerSecond} req/s, p99 ${r.get.sqlite.plainNode.p99Ms} ms | **${r.get.sqlite.ratioToPlainNode}** |
${pg.skipped ? `| the same on PostgreSQL | ${pg.skipped} | | |` : `| the same on PostgreSQL (index ${pg.coldIndexSeconds} s, ingest ${pg.ingestSeconds} s = ${pg.recordsPerSecond} records/s) | ${pg.served.requestsPerSecond} req/s, p50 ${pg.served.p50Ms} ms, p99 ${pg.served.p99Ms} ms | ${pg.plainNode.requestsPerSecond} req/s, p99 ${pg.plainNode.p99Ms} ms | **${pg.ratioToPlainNode}** |`}

CPU seconds are user + system time of every process of a run: on a shared machine they change much less than wall time. The goals of issue 17: cold index ≥ 0.9 of the bound for both compressions with memory flat in layer size (~200 MiB); a warm scan ≤ 100 ms; report GETs ≥ 0.9 of the plain server on both stores.
`;
    },
  },
  polyglot: {
    title: 'Indexing the polyglot image (OS and language packages) and a dir: source tree',
    run: () => benchPolyglot(3),
    render: (r) => `The polyglot test image (\`scripts/build-polyglot-image.sh\`): ${r.image.layers} layers, ${r.image.compressedMB} MB compressed; packages found: ${Object.entries(r.image.packages).map(([k, v]) => `${v} ${k}`).join(', ')}.
The bound is \`zcat LAYER | tar -t > /dev/null\` over the same blobs, measured in the same run; for the source trees (lockfiles of every format, a pnpm node_modules) it is \`find -type f\`, the walk alone. \`dir:\` walks a tree twice (once to fingerprint it for the cache key, once to read what the scanners want) and the figure includes creating the database, which dominates on a tree this small.

| what | median | throughput | vs bound |
|---|---|---|---|
| bound: \`zcat \\| tar -t\` of the layers | ${r.baseline.medianSeconds} s | ${r.baseline.mbPerSecond} MB/s | 1 |
| index, cold (empty database) | ${r.cold.medianSeconds} s | ${r.cold.mbPerSecond} MB/s | **${r.cold.ratioToBaseline}×** |
| bound: \`find -type f\` over the source trees | ${r.tree.findSeconds} s | | 1 |
| index dir: of the source trees (${r.tree.packages} packages) | ${r.tree.medianSeconds} s | | **${r.tree.ratioToFind}×** |
`,
  },
  registry: {
    title: 'Pull and index from a registry on loopback',
    run: () => benchRegistryPull(3),
    render: (r) => `The Debian test image (${r.image.layers} layers, ${r.image.compressedMB} MB) pushed to Debian's \`docker-registry\` on 127.0.0.1.
The bound is \`curl URL \\| zcat \\| tar -t\` over the same blobs from the same registry, in the same run: transfer plus
decompression, the least a pull-and-index must do. Bare transfer is shown for scale.

| what | median | throughput | vs bound |
|---|---|---|---|
| transfer only: \`curl -o /dev/null\` | ${r.curl.medianSeconds} s | ${r.curl.mbPerSecond} MB/s | |
| bound: \`curl \\| zcat \\| tar -t\` | ${r.curlZcat.medianSeconds} s | ${r.curlZcat.mbPerSecond} MB/s | 1 |
| pull + index, cold | ${r.cold.medianSeconds} s | ${r.cold.mbPerSecond} MB/s | **${r.cold.ratioToBound}×** |
| pull + index, warm (layers cached; manifest only) | ${r.warm.medianSeconds} s | | |
`,
  },
  api: {
    title: 'HTTP API (combo mode, SQLite)',
    run: () => benchApi(),
    render: (r) => `Image: ${r.image.name} (${r.image.layers} layers, ${r.image.packages} packages, ${r.image.findings} findings in its report).
Load comes from a separate process (\`bench/api-load.ts\`) over loopback, ${r.vulnerabilityReport.concurrency} concurrent connections, closed loop, asking for the identity coding (reports are gzip/br coded only for clients that ask).
The feed does not change during the run, so after the first request the report is served from the matcher's report cache (keyed by its ETag); building it is the \"vulnerability report\" figure of the other sections.

| what | figure |
|---|---|
| POST index_report, cold (layers fetched over HTTP and scanned) | ${r.coldIndexMs} ms |
| POST index_report, already indexed: median / worst of 30 | ${r.postIndexedMedianMs} ms / ${r.postIndexedP99Ms} ms |
| GET vulnerability_report: throughput | **${r.vulnerabilityReport.requestsPerSecond} req/s** (${r.vulnerabilityReport.requests} requests, ${r.vulnerabilityReport.errors} errors, ${r.vulnerabilityReport.meanBodyBytes} bytes each) |
| GET vulnerability_report: p50 / p99 latency | ${r.vulnerabilityReport.p50Ms} ms / ${r.vulnerabilityReport.p99Ms} ms |
${r.plainNode ? `| bound: a plain \`node:http\` server sending the same bytes, same load, same run | ${r.plainNode.requestsPerSecond} req/s, p50 ${r.plainNode.p50Ms} ms, p99 ${r.plainNode.p99Ms} ms |
| GET vulnerability_report ÷ bound | **${r.ratioToPlainNode}** |
` : ''}`,
  },
  binaries: {
    title: 'Go, Rust and Java: the largest jar built here, and an image of binaries',
    run: () => benchBinaries(3),
    render: (r) => `**The largest jar this machine can build**: every jar on it (${r.fatJar.nestedJars}: Debian's \`/usr/share/java\` and the Google Cloud SDK's) stored in one Spring-Boot-style fat jar, ${r.fatJar.mb} MB; ${r.fatJar.artifacts} Maven artifacts found (${r.fatJar.warnings} warnings); the index counts ${r.fatJar.layer.packages} distinct packages (the same artifact in two nested jars is one package of the archive).

| what | median | vs bound |
|---|---|---|
| bound: ${r.fatJar.bound.what} | ${r.fatJar.bound.medianSeconds} s | 1 |
| Java archive reader: outer and every nested jar, pom.properties and manifests read | ${r.fatJar.read.medianSeconds} s | **${r.fatJar.read.ratioToBound}×** |
| bound: \`zcat \\| tar -t\` of the jar as a layer (${r.fatJar.layer.compressedMB} MB gzip) | ${r.fatJar.layer.zcatSeconds} s | 1 |
| index that layer, cold (every scanner; ${r.fatJar.layer.packages} packages) | ${r.fatJar.layer.indexSeconds} s | **${r.fatJar.layer.ratioToBound}×** |

**An image of binaries**: ${r.binaries.files} files, ${r.binaries.uncompressedMB} MB (${r.binaries.compressedMB} MB gzip): the Go programs installed here (Terraform, kubectl, kpt, when present), Go and cargo-auditable Rust programs built here, executables of \`/usr/bin\`, Kata Containers' Cargo.lock files and an EAR; ${r.binaries.packages} packages.

| what | median | vs bound |
|---|---|---|
| bound: \`zcat \\| tar -t\` of the layer | ${r.binaries.zcatSeconds} s | 1 |
| index, cold | ${r.binaries.indexSeconds} s | **${r.binaries.ratioToBound}×** |

A ratio under 1 means the bound has overheads of its own (Python's zipfile copies each nested jar before reading its directory, where clair-ts reads stored jars in place; \`tar -t\` reads through a pipe from a separate \`zcat\`); the 2-core machine was shared with other work while measuring.
`,
  },
  postgres: {
    title: 'SQLite and PostgreSQL side by side',
    run: () => benchPostgres(3),
    render: (r) => {
      const a = r.stores.sqlite;
      const b = r.stores.postgres;
      const served = (x: any) => `${x.served.requestsPerSecond} req/s, p99 ${x.served.p99Ms} ms; bound ${x.plainNode.requestsPerSecond} req/s: **${x.ratio}**`;
      const cpu = (x: any) => `${x.served.serverCpuMsPerRequest ?? '-'} ms${x.served.databaseCpuMsPerRequest !== undefined ? ` + ${x.served.databaseCpuMsPerRequest} ms PostgreSQL` : ''} (bound ${x.plainNode.serverCpuMsPerRequest ?? '-'} ms)`;
      // Results from before the bound was measured hold one load figure per store.
      const rows = a.api.requestsPerSecond !== undefined ? [`| GET vulnerability_report (no bound measured) | ${a.api.requestsPerSecond} req/s | ${b.api.requestsPerSecond} req/s |`] : Object.keys(a.api).map((k) => {
        const x = a.api[k];
        const what = k.startsWith('image') ? `the image's report (${x.findings} findings, ${(x.bytes / 1e6).toFixed(2)} MB)` : `large synthetic report (${x.findings} findings, ${(x.bytes / 1e6).toFixed(2)} MB)`;
        return `| GET vulnerability_report, ${what}, ${x.concurrency} connections: throughput ÷ plain node:http bound | ${served(x)} | ${served(b.api[k])} |
| … CPU per request, server process | ${cpu(x)} | ${cpu(b.api[k])} |`;
      });
      return `The same work on each store: the Debian test image (${r.image.layers} layers, ${r.image.compressedMB} MB, ${r.image.packages} packages), a synthetic tracker feed of ${r.feed.cves} CVEs (${r.feed.feedMB} MB), a large synthetic index report (500 Debian packages of the feed: bench/report-serving.ts), and the API under load: GET vulnerability_report from a separate process (\`bench/api-load.ts\`, identity coding), the report built once and then served from the report cache while the data is unchanged, beside a plain \`node:http\` server sending the same bytes and headers in alternating rounds of the same run. CPU per request is the server process's (and the service's PostgreSQL sessions'), which the machine's other work does not share the way it shares throughput. PostgreSQL ${r.postgresVersion} on the same machine.

| what | SQLite | PostgreSQL |
|---|---|---|
| index, cold (median) | ${a.coldIndex.medianSeconds} s (${a.coldIndex.mbPerSecond} MB/s) | ${b.coldIndex.medianSeconds} s (${b.coldIndex.mbPerSecond} MB/s) |
| feed ingest | ${a.feedIngest.recordsPerSecond} records/s (${a.feedIngest.records} in ${a.feedIngest.seconds} s) | ${b.feedIngest.recordsPerSecond} records/s (${b.feedIngest.records} in ${b.feedIngest.seconds} s) |
| vulnerability report (${a.vulnerabilityReport.findings} findings), median | ${a.vulnerabilityReport.medianMs} ms | ${b.vulnerabilityReport.medianMs} ms |
${a.largeVulnerabilityReport ? `| vulnerability report, large (${a.largeVulnerabilityReport.findings} findings), median | ${a.largeVulnerabilityReport.medianMs} ms | ${b.largeVulnerabilityReport.medianMs} ms |\n` : ''}${rows.join('\n')}
`;
    },
  },
};

async function main() {
  const args = process.argv.slice(2);
  // --render: rewrite BENCHMARKS.md from the stored results without measuring anything.
  const wanted = args.includes('--render') ? [] : args;
  if (args.includes('--render')) {
    writeFileSync(join(import.meta.dirname, '..', 'BENCHMARKS.md'), render());
    return;
  }
  for (const name of wanted) if (!sections[name]) throw new Error(`unknown section ${name}; known: ${Object.keys(sections).join(', ')}`);
  for (const name of wanted.length > 0 ? wanted : Object.keys(sections)) {
    process.stderr.write(`bench: ${name}…\n`);
    const result = await sections[name]!.run();
    writeJson(join(RESULTS, `${name}.json`), { section: name, date: new Date().toISOString(), machine: machine(), result });
    process.stderr.write(`bench: ${name} done\n`);
  }
  writeFileSync(join(import.meta.dirname, '..', 'BENCHMARKS.md'), render());
}

function render(): string {
  const parts = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` from `bench/results/*.json`; each figure is set beside the physical bound measured in the same run where one exists. Do not edit by hand.',
  ];
  for (const [name, s] of Object.entries(sections)) {
    const file = join(RESULTS, `${name}.json`);
    if (!existsSync(file)) continue;
    const data = JSON.parse(readFileSync(file, 'utf8'));
    parts.push('', `## ${s.title}`, '', `Run ${data.date.slice(0, 16).replace('T', ' ')} UTC on ${data.machine.cpus}× ${data.machine.cpu}, Node ${data.machine.node}.`, '', s.render(data.result));
  }
  const unknown = readdirSync(RESULTS).filter((f) => f.endsWith('.json') && !sections[f.slice(0, -5)]);
  if (unknown.length > 0) parts.push('', `(Results without a renderer: ${unknown.join(', ')})`);
  return parts.join('\n') + '\n';
}

await main();
