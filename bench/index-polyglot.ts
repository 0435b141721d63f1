import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { polyglotImage } from '../test/support/polyglot-image.ts';
import { openImage } from '../src/image/image-source.ts';
import { Indexer } from '../src/indexer/indexer.ts';
import { allScanners } from '../src/ecosystems/registry.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { round, timeRuns, timeShell } from './measure.ts';

// Indexing the polyglot test image (scripts/build-polyglot-image.sh: Debian + Python + Ruby + npm layers, and any
// layers added through its scripts/polyglot-layers/ hook) cold, against `zcat | tar -t` of the same layer blobs in
// the same run; and a dir: scan of its source trees against `find -type f | wc -l` over them (walking the tree).
// Every layer of the image counts, so layers added by the hook are measured without changes here.

export async function benchPolyglot(runs = 3) {
  const image = await polyglotImage();
  if (!image) throw new Error('the polyglot test image is not built: run scripts/build-polyglot-image.sh');
  const layers = (JSON.parse(readFileSync(join(image.dir, 'expected', 'layers.json'), 'utf8')) as { layers: { digest: string; size: number }[] }).layers;
  const compressedBytes = layers.reduce((n, l) => n + l.size, 0);
  const blobPaths = layers.map((l) => join(image.dir, 'oci', 'blobs', 'sha256', l.digest.slice('sha256:'.length)));
  const baseline = await timeRuns(runs, () => {
    timeShell(blobPaths.map((p) => `zcat ${p} | tar -t > /dev/null`).join(' && '));
  });
  const treeBaseline = await timeRuns(runs, () => {
    timeShell(`find ${image.tree} -type f | wc -l > /dev/null`);
  });
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-polyglot-'));
  try {
    const counts: Record<string, number> = {};
    const cold = await timeRuns(runs, async (i) => {
      const store = SqliteStore.open(join(dir, `cold-${i}.db`));
      const img = await openImage(image.ociRef);
      const { report } = await new Indexer(store, allScanners()).index(img);
      for (const p of Object.values(report.packages)) {
        const eco = /^([a-z0-9]+):(?!\/)/.exec(p.packageDb)?.[1] ?? 'os';
        if (i === 0) counts[eco] = (counts[eco] ?? 0) + 1;
      }
      await img.close();
      await store.close();
    });
    let treePackages = 0;
    const tree = await timeRuns(runs, async (i) => {
      const store = SqliteStore.open(join(dir, `tree-${i}.db`));
      const img = await openImage(`dir:${image.tree}`);
      treePackages = Object.keys((await new Indexer(store, allScanners()).index(img)).report.packages).length;
      await img.close();
      await store.close();
    });
    const mb = compressedBytes / 1e6;
    return {
      image: { layers: layers.length, compressedMB: round(mb, 1), packages: counts },
      baseline: { medianSeconds: round(baseline.median), mbPerSecond: round(mb / baseline.median, 1) },
      cold: { medianSeconds: round(cold.median), mbPerSecond: round(mb / cold.median, 1), ratioToBaseline: round(cold.median / baseline.median, 2) },
      tree: { packages: treePackages, medianSeconds: round(tree.median, 3), findSeconds: round(treeBaseline.median, 3), ratioToFind: round(tree.median / treeBaseline.median, 2) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
