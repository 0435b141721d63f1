import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianTestImage } from '../test/support/test-image.ts';
import { openImage } from '../src/image/image-source.ts';
import { Indexer } from '../src/indexer/indexer.ts';
import { allMatchers, allScanners } from '../src/ecosystems/registry.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { processUpdateOperation } from '../src/notifier/processor.ts';
import { newVulnerability, type Vulnerability } from '../src/model/vulnerability.ts';
import { round } from './measure.ts';

// The notifier at scale: IMAGES indexed images (the Debian test image's index report stored under IMAGES manifest
// digests: 111 packages each, the same source packages, so every changed record of those packages is a candidate
// for every image) and an update operation that changes CHANGED records (new fixed versions) of a feed of RECORDS.
// Measured: processUpdateOperation, which diffs the operation with the previous one, finds the affected manifests
// and stores the notifications. CLAIR_TS_BENCH_SCALE scales the image count.

const SCALE = Number(process.env.CLAIR_TS_BENCH_SCALE ?? '1');

export async function benchNotifier() {
  const images = Math.max(1, Math.round(10_000 * SCALE));
  const image = await debianTestImage();
  if (!image) throw new Error('the Debian test image is not built: run scripts/build-test-image.sh');
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-notifier-'));
  try {
    const store = SqliteStore.open(join(dir, 'notifier.db'));
    const img = await openImage(image.ociRef);
    const { report } = await new Indexer(store, allScanners()).index(img);
    await img.close();
    const t0 = performance.now();
    for (let i = 0; i < images; i++) {
      await store.putIndexReport({ ...report, manifestHash: `sha256:${i.toString(16).padStart(64, '0')}` }, 'bench');
    }
    const storeSeconds = (performance.now() - t0) / 1000;

    // The image's source packages, each with records in bookworm; one record in five among them names a version the
    // image has (affected), the rest fixed long ago. Filler packages make up the rest of the feed.
    const sources = [...new Set(image.expected.packages.map((p) => p.sourceName))];
    const RECORDS = 40_000;
    const CHANGED = 5_000;
    const record = (i: number, generation: number): Vulnerability => {
      const onImage = i < CHANGED * 2;
      return newVulnerability({
        updater: 'debian', name: `CVE-2099-${String(i).padStart(6, '0')}`, description: `Synthetic ${i}`,
        severity: 'medium', normalizedSeverity: 'Medium',
        package: { name: onImage ? sources[i % sources.length]! : `filler-${i % 3000}`, kind: 'source', module: '', arch: '' },
        dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: 'Debian GNU/Linux', version: '12 (bookworm)', prettyName: 'Debian GNU/Linux 12 (bookworm)', arch: '' },
        // Changed records (the first CHANGED) get a new fixed version in the second operation: half of them then
        // affect every image (a fix in a far-future version), half not.
        fixedInVersion: generation === 1 || i >= CHANGED ? '0.1-1' : i % 2 === 0 ? '999:1.0-1' : '0.2-1',
        versionScheme: 'dpkg',
      });
    };
    const write = async (generation: number) => {
      const w = await store.beginUpdateOperation('debian');
      for (let i = 0; i < RECORDS; i += 1000) await w.add(Array.from({ length: Math.min(1000, RECORDS - i) }, (_, k) => record(i + k, generation)));
      return w.commit(`generation-${generation}`);
    };
    const matchers = allMatchers();
    const op1 = await write(1);
    await processUpdateOperation(store, matchers, op1);
    const op2 = await write(2);
    const t1 = performance.now();
    const result = await processUpdateOperation(store, matchers, op2);
    const seconds = (performance.now() - t1) / 1000;
    if (result.kind !== 'created') throw new Error(`expected notifications, got ${result.kind}`);
    await store.close();
    return {
      images, packagesPerImage: Object.keys(report.packages).length, records: RECORDS, changedRecords: CHANGED,
      storeSeconds: round(storeSeconds), seconds: round(seconds), notifications: result.count,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
