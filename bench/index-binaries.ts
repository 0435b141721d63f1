import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { allScanners } from '../src/ecosystems/registry.ts';
import { scanJavaArchive } from '../src/ecosystems/java/archive.ts';
import { openImage } from '../src/image/image-source.ts';
import { buildLayer, OciLayoutWriter } from '../src/image/testdata/image-builder.ts';
import { Indexer } from '../src/indexer/indexer.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { buildGoBinaries } from '../test/support/go-binaries.ts';
import { buildJavaFixtures } from '../test/support/java-archives.ts';
import { buildAuditableBinary, makeRustWorkspace } from '../test/support/rust-project.ts';
import { sharedDataPath } from '../test/support/shared-data.ts';
import { run } from '../test/support/system-tool.ts';
import { makeTar, type TarEntry } from '../test/support/tar-layer.ts';
import { round, timeRuns, timeShell } from './measure.ts';

// Go, Rust and Java scanners under load.
// 1. The largest jar this machine can build: every jar on it (Debian's /usr/share/java, and the Google Cloud SDK's
//    when installed) nested, stored, in one Spring-Boot-style fat jar; read by the Java archive reader against
//    Python's zipfile listing the outer jar and every nested one (the least a nested reader does), and
//    indexed as an image layer against `zcat | tar -t` of that layer.
// 2. An image of binaries: the Go programs installed here (Terraform, kubectl, kpt from the Cloud SDK, when
//    present), Go and Rust programs built here, Kata's Cargo.lock files and a WAR/EAR; indexed cold against
//    `zcat | tar -t` of its layer.

function jarsUnder(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) jarsUnder(p, out);
    else if (e.isFile() && e.name.endsWith('.jar')) out.push(p);
  }
  return out;
}

async function indexCold(ref: string, dbPath: string): Promise<{ packages: number; err: string }> {
  const store = SqliteStore.open(dbPath);
  try {
    const img = await openImage(ref);
    const { report } = await new Indexer(store, allScanners()).index(img);
    await img.close();
    return { packages: Object.keys(report.packages).length, err: report.err };
  } finally {
    await store.close();
  }
}

async function imageOf(dir: string, entries: TarEntry[]): Promise<{ ref: string; blob: string; bytes: number }> {
  const layer = buildLayer(await makeTar(entries), 'gzip');
  const w = await new OciLayoutWriter(join(dir, 'oci')).init();
  const img = await w.addImage([layer]);
  await w.writeIndex([{ descriptor: img.manifest, tag: 'bench' }]);
  return { ref: `oci:${join(dir, 'oci')}:bench`, blob: w.blobPath(layer.digest), bytes: layer.blob.length };
}

export async function benchBinaries(runs = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-binaries-'));
  try {
    // --- 1. the largest jar -------------------------------------------------------------------------------------
    const jars = [...jarsUnder('/usr/share/java'), ...jarsUnder('/usr/lib/google-cloud-sdk')];
    const lib = join(dir, 'fat', 'BOOT-INF', 'lib');
    mkdirSync(lib, { recursive: true });
    jars.forEach((j, i) => symlinkSync(realpathSync(j), join(lib, `${String(i).padStart(4, '0')}-${basename(j)}`)));
    const fat = join(dir, 'fat.jar');
    // zip follows the links and stores each jar (-0), as Spring Boot's repackager does for BOOT-INF/lib.
    run('zip', ['-q', '-0', '-r', fat, 'BOOT-INF'], { cwd: join(dir, 'fat') });
    const fatBytes = statSync(fat).size;
    // The least a nested-archive reader does, in one process: Python's zipfile reading the outer directory, then
    // each nested jar's bytes and directory.
    const lister = 'import io, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor i in z.infolist():\n    if i.filename.endswith(".jar"):\n        zipfile.ZipFile(io.BytesIO(z.read(i))).infolist()';
    const bound = await timeRuns(runs, () => void timeShell(`python3 -c '${lister}' ${fat}`));
    let artifacts = 0;
    let warnings = 0;
    const read = await timeRuns(runs, () => {
      const scan = scanJavaArchive(readFileSync(fat), 'app/fat.jar');
      artifacts = scan.artifacts.length;
      warnings = scan.warnings.length;
    });
    const fatImage = await imageOf(join(dir, 'fat-image'), [{ path: 'app/fat.jar', content: readFileSync(fat), mode: 0o644 }]);
    const fatZcat = await timeRuns(runs, () => void timeShell(`zcat ${fatImage.blob} | tar -t > /dev/null`));
    let fatIndexed = { packages: 0, err: '' };
    const fatIndex = await timeRuns(runs, async (i) => {
      fatIndexed = await indexCold(fatImage.ref, join(dir, `fat-${i}.db`));
    });

    // --- 2. an image of binaries, lockfiles and archives --------------------------------------------------------
    const go = buildGoBinaries();
    const rs = makeRustWorkspace();
    const rustBinary = buildAuditableBinary(rs).binary;
    const java = buildJavaFixtures();
    const entries: TarEntry[] = [];
    const add = (path: string, file: string, mode = 0o755) => entries.push({ path, content: readFileSync(file), mode });
    for (const f of ['/usr/local/bin/terraform', '/usr/bin/kubectl', '/usr/bin/kpt', '/usr/bin/age', '/usr/bin/go']) {
      if (existsSync(f)) add(`usr/local/bin/${basename(f)}`, realpathSync(f));
    }
    add('usr/bin/app', go.plain);
    add('usr/bin/app-stripped', go.stripped);
    add('usr/bin/rust-app', rustBinary);
    for (const f of readdirSync('/usr/bin').slice(0, 400)) {
      const p = join('/usr/bin', f);
      try {
        const st = statSync(p);
        if (st.isFile() && st.mode & 0o111 && st.size < 64e6 && !entries.some((e) => e.path === `usr/bin/${f}`)) add(`usr/bin/${f}`, p);
      } catch {
        // unreadable: not part of the sample
      }
    }
    const kata = sharedDataPath('fixtures', 'kata-containers');
    for (const rel of ['Cargo.lock', ...['agent', 'dragonball', 'libs', 'runtime-rs'].map((c) => `history-3.18.0/src/${c}/Cargo.lock`)]) {
      if (existsSync(join(kata, rel))) add(`opt/kata/${rel}`, join(kata, rel), 0o644);
    }
    add('opt/shop.ear', java.ear, 0o644);
    const binImage = await imageOf(join(dir, 'bin-image'), entries);
    const binZcat = await timeRuns(runs, () => void timeShell(`zcat ${binImage.blob} | tar -t > /dev/null`));
    let binIndexed = { packages: 0, err: '' };
    const binIndex = await timeRuns(runs, async (i) => {
      binIndexed = await indexCold(binImage.ref, join(dir, `bin-${i}.db`));
    });
    for (const d of [go.dir, rs.dir, java.dir]) rmSync(d, { recursive: true, force: true });

    return {
      fatJar: {
        nestedJars: jars.length,
        mb: round(fatBytes / 1e6, 1),
        artifacts,
        warnings,
        bound: { what: "Python's zipfile listing the jar and every nested jar (one process)", medianSeconds: round(bound.median) },
        read: { medianSeconds: round(read.median), ratioToBound: round(read.median / bound.median, 2) },
        layer: {
          compressedMB: round(fatImage.bytes / 1e6, 1),
          zcatSeconds: round(fatZcat.median),
          indexSeconds: round(fatIndex.median),
          ratioToBound: round(fatIndex.median / fatZcat.median, 2),
          packages: fatIndexed.packages,
        },
      },
      binaries: {
        files: entries.length,
        uncompressedMB: round(entries.reduce((n, e) => n + ('content' in e ? e.content.length : 0), 0) / 1e6, 1),
        compressedMB: round(binImage.bytes / 1e6, 1),
        packages: binIndexed.packages,
        zcatSeconds: round(binZcat.median),
        indexSeconds: round(binIndex.median),
        ratioToBound: round(binIndex.median / binZcat.median, 2),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
