import { mkdtempSync, rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianTestImage } from '../test/support/test-image.ts';
import { openTestPostgres } from '../test/support/postgres.ts';
import { openImage } from '../src/image/image-source.ts';
import { Indexer } from '../src/indexer/indexer.ts';
import { allMatchers, allScanners } from '../src/ecosystems/registry.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import type { Store } from '../src/store/store.ts';
import type { IndexReport } from '../src/model/index-report.ts';
import type { UpdateOperation } from '../src/model/update-operation.ts';
import { processUpdateOperation } from '../src/notifier/processor.ts';
import { affectedManifests } from '../src/matcher/affected-manifests.ts';
import { newVulnerability, type Vulnerability } from '../src/model/vulnerability.ts';
import { benchBases, benchImage, sourceNames, type Base } from './notifier-images.ts';
import { previousAffectedManifests } from './previous-affected-manifests.ts';
import { round } from './measure.ts';

// The notifier at scale, on SQLite and on PostgreSQL: IMAGES different indexed images (bench/notifier-images.ts:
// Debian, Ubuntu, Alpine and RHEL bases, packages left out and at other builds per image), a Debian feed of RECORDS
// records, and update operations that change 500 and 5,000 of them (each change a new fixed version: the old record
// is removed, the new one added). Measured first with a tenth of the images stored, then with all of them:
// - processUpdateOperation (diff with the previous operation, affected manifests, notifications stored): the
//   notifier's whole work for an operation;
// - affectedManifests alone, and beside it the approach before the package index (bench/previous-affected-
//   manifests.ts: every candidate manifest's index report read and walked), whose result must be the same.
// CLAIR_TS_BENCH_SCALE scales the image count; CLAIR_TS_BENCH_PREVIOUS=0 skips the previous approach.

const SCALE = Number(process.env.CLAIR_TS_BENCH_SCALE ?? '1');
const PREVIOUS = process.env.CLAIR_TS_BENCH_PREVIOUS !== '0';
const RECORDS = 40_000;
const UPDATES = [500, 5_000];

interface UpdateFigures {
  changedRecords: number;
  /** Records in the diff: the changed records' old versions (removed) and new ones (added). */
  diffRecords: number;
  affectedSeconds: number;
  previousSeconds?: number;
  affectedManifests: number;
  processSeconds: number;
  notifications: number;
}

interface PhaseFigures {
  images: number;
  storeSeconds: number;
  distinctPackages: number;
  updates: UpdateFigures[];
}

/** The feed: records named after the bases' source packages (half after the Debian image's), the rest fillers. */
function feed(bases: Base[]) {
  const names = sourceNames(bases);
  const debianNames = [...new Set(bases[0]!.packages.map((p) => p.source?.name || p.name))];
  const otherNames = names.filter((n) => !debianNames.includes(n));
  const debianVersion = new Map(bases[0]!.packages.map((p) => [p.source?.name || p.name, p.source?.version || p.version]));
  const onImages = 2 * UPDATES.reduce((a, b) => a + b, 0);
  return (i: number, generation: number): Vulnerability => {
    const name = i >= onImages ? `filler-${i % 3000}` : i % 4 < 2 ? debianNames[(i >> 1) % debianNames.length]! : otherNames[(i >> 1) % otherNames.length]!;
    // Generation 1: fixed long ago (affects nothing). Later generations alternate which half affects every image
    // holding the package; one record in three is fixed in a rebuild of the Debian base's version (+b1 in generation
    // 2, +b2 in 3), which affects the images at older builds of it and not those at that build or later ones.
    const base = debianVersion.get(name);
    const fixed = generation === 1 ? '0.1-1'
      : i % 3 === 2 && base ? `${base}+b${generation - 1}`
      : i % 2 === generation % 2 ? '999:1.0-1' : `0.${generation}-1`;
    return newVulnerability({
      updater: 'debian', name: `CVE-2099-${String(i).padStart(6, '0')}`, description: `Synthetic ${i}`,
      severity: 'medium', normalizedSeverity: 'Medium',
      package: { name, kind: 'source', module: '', arch: '' },
      dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: 'Debian GNU/Linux', version: '12 (bookworm)', prettyName: 'Debian GNU/Linux 12 (bookworm)', arch: '' },
      fixedInVersion: fixed, versionScheme: 'dpkg',
    });
  };
}

async function benchStore(store: Store, debian: IndexReport, images: number): Promise<{ phases: PhaseFigures[]; bases: string[] }> {
  const bases = benchBases(debian);
  const matchers = allMatchers();
  const record = feed(bases);
  const generation = new Int32Array(RECORDS).fill(1);
  let nth = 0;
  const write = async (): Promise<UpdateOperation> => {
    const w = await store.beginUpdateOperation('debian');
    for (let i = 0; i < RECORDS; i += 1000) await w.add(Array.from({ length: Math.min(1000, RECORDS - i) }, (_, k) => record(i + k, generation[i + k]!)));
    return w.commit(`operation-${nth++}`);
  };
  let prev = await write();
  await processUpdateOperation(store, matchers, prev); // the first operation notifies nothing
  const phases: PhaseFigures[] = [];
  let stored = 0;
  let round_ = 1;
  for (const count of [Math.max(1, Math.round(images / 10)), images]) {
    const t0 = performance.now();
    for (; stored < count; stored++) await store.putIndexReport(benchImage(bases, stored), 'bench');
    const storeSeconds = (performance.now() - t0) / 1000;
    const distinctPackages = (await store.indexedPackagesNamed(sourceNames(bases).concat(bases.flatMap((b) => b.packages.map((p) => p.name))))).length;
    round_++;
    const updates: UpdateFigures[] = [];
    let from = 0;
    for (const changed of UPDATES) {
      for (let i = from; i < from + changed; i++) generation[i] = round_;
      from += changed;
      const op = await write();
      const diff = await store.diffUpdateOperations(prev.ref, op.ref);
      const input = [...diff.added, ...diff.removed].map((v) => ({ id: v.id, vulnerability: v }));
      const t1 = performance.now();
      const now = await affectedManifests(store, matchers, input);
      const affectedSeconds = (performance.now() - t1) / 1000;
      let previousSeconds: number | undefined;
      if (PREVIOUS) {
        const t2 = performance.now();
        const before = await previousAffectedManifests(store, matchers, input);
        previousSeconds = (performance.now() - t2) / 1000;
        if (!isDeepStrictEqual(before.vulnerableManifests, now.vulnerableManifests)) throw new Error(`the package index and the previous approach disagree on the ${changed}-record update`);
      }
      const t3 = performance.now();
      const result = await processUpdateOperation(store, matchers, op);
      const processSeconds = (performance.now() - t3) / 1000;
      if (result.kind !== 'created') throw new Error(`expected notifications, got ${result.kind}`);
      updates.push({
        changedRecords: changed, diffRecords: input.length, affectedSeconds: round(affectedSeconds),
        ...(previousSeconds !== undefined ? { previousSeconds: round(previousSeconds) } : {}),
        affectedManifests: Object.keys(now.vulnerableManifests).length, processSeconds: round(processSeconds), notifications: result.count,
      });
      prev = op;
    }
    phases.push({ images: count, storeSeconds: round(storeSeconds), distinctPackages, updates });
  }
  return { phases, bases: bases.map((b) => `${b.name}: ${b.packages.length} packages`) };
}

export async function benchNotifier() {
  const images = Math.max(10, Math.round(10_000 * SCALE));
  const image = await debianTestImage();
  if (!image) throw new Error('the Debian test image is not built: run scripts/build-test-image.sh');
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-notifier-'));
  try {
    const sqlite = SqliteStore.open(join(dir, 'notifier.db'));
    let debian: IndexReport;
    let onSqlite;
    try {
      const img = await openImage(image.ociRef);
      debian = (await new Indexer(sqlite, allScanners()).index(img)).report;
      await img.close();
      await sqlite.deleteIndexReports([debian.manifestHash]);
      onSqlite = await benchStore(sqlite, debian, images);
    } finally {
      await sqlite.close();
    }
    let onPostgres;
    const pgt = await openTestPostgres();
    if (pgt) {
      try {
        const pgStore = await PostgresStore.open(pgt.url, { schema: pgt.schema });
        try {
          onPostgres = (await benchStore(pgStore, debian, images)).phases;
        } finally {
          await pgStore.close();
        }
      } finally {
        await pgt.drop();
      }
    }
    return { images, records: RECORDS, bases: onSqlite.bases, sqlite: onSqlite.phases, ...(onPostgres ? { postgres: onPostgres } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
