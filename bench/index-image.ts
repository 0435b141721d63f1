import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianTestImage } from '../test/support/test-image.ts';
import { openImage } from '../src/image/image-source.ts';
import { Indexer } from '../src/indexer/indexer.ts';
import { allMatchers, allScanners } from '../src/ecosystems/registry.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { buildVulnerabilityReport } from '../src/matcher/vulnerability-report.ts';
import { runUpdater } from '../src/updater/run-updater.ts';
import { debianUpdater } from '../src/ecosystems/debian/updater.ts';
import { round, timeRuns, timeShell } from './measure.ts';
import { syntheticTracker } from './synthetic-tracker.ts';

// Indexing the real Debian test image, cold (empty database) and warm (every layer cached), against the physical
// bound measured in the same run: decompressing and listing the same layer blobs with `zcat | tar -t`.
// Then: ingest of a large synthetic tracker feed, and the time to build the vulnerability report.

export async function benchIndex(runs = 3) {
  const image = await debianTestImage();
  if (!image) throw new Error('the Debian test image is not built: run scripts/build-test-image.sh');
  const layers = image.expected.layers;
  const compressedBytes = layers.reduce((n, l) => n + l.size, 0);
  const blobDir = join(image.dir, 'oci', 'blobs', 'sha256');
  const blobPaths = layers.map((l) => join(blobDir, l.digest.slice('sha256:'.length)));

  const baseline = await timeRuns(runs, () => {
    timeShell(blobPaths.map((p) => `zcat ${p} | tar -t > /dev/null`).join(' && '));
  });

  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-'));
  try {
    const cold = await timeRuns(runs, async (i) => {
      const store = SqliteStore.open(join(dir, `cold-${i}.db`));
      const img = await openImage(image.ociRef);
      await new Indexer(store, allScanners()).index(img);
      await img.close();
      await store.close();
    });
    const store = SqliteStore.open(join(dir, 'cold-0.db'));
    const warm = await timeRuns(runs, async () => {
      const img = await openImage(image.ociRef);
      const r = await new Indexer(store, allScanners()).index(img);
      if (r.layersScanned !== 0) throw new Error('warm run scanned layers');
      await img.close();
    });

    // Feed ingest: a synthetic tracker file shaped like the real one, naming the image's source packages.
    const sources = [...new Set(image.expected.packages.map((p) => p.sourceName))];
    const feed = join(dir, 'tracker.json');
    const stats = syntheticTracker(feed, sources, 40000);
    const ingest = await timeRuns(1, async () => {
      const r = await runUpdater(store, debianUpdater, feed);
      if (r.unchanged) throw new Error('ingest saw an unchanged feed');
    });
    const records = (await store.listUpdateOperations('debian'))[0]!.count;

    const img = await openImage(image.ociRef);
    const indexed = await new Indexer(store, allScanners()).index(img);
    await img.close();
    let findings = 0;
    const report = await timeRuns(Math.max(runs, 5), async () => {
      const vr = await buildVulnerabilityReport(store, allMatchers(), indexed.report);
      findings = Object.values(vr.packageVulnerabilities).reduce((n, l) => n + l.length, 0);
    });
    await store.close();

    const mb = compressedBytes / 1e6;
    return {
      image: { layers: layers.length, compressedMB: round(mb, 1), packages: image.expected.packages.length },
      baseline: { what: '`zcat \\| tar -t` of the same layer blobs', medianSeconds: round(baseline.median), mbPerSecond: round(mb / baseline.median, 1) },
      cold: { medianSeconds: round(cold.median), mbPerSecond: round(mb / cold.median, 1), ratioToBaseline: round(cold.median / baseline.median, 2) },
      warm: { medianSeconds: round(warm.median, 4) },
      feedIngest: { feedMB: round(stats.bytes / 1e6, 1), records, seconds: round(ingest.median, 2), recordsPerSecond: Math.round(records / ingest.median) },
      vulnerabilityReport: { packages: image.expected.packages.length, findings, medianMs: round(report.median * 1000, 1) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function writeJson(path: string, data: unknown): void {
  writeFileSync(path, JSON.stringify(data, null, 2) + '\n');
}
