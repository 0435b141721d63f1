import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistryImage } from '../src/image/registry/index.ts';
import { Indexer } from '../src/indexer/indexer.ts';
import { allScanners } from '../src/ecosystems/registry.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { startRegistry } from '../test/support/registry.ts';
import { debianTestImage } from '../test/support/test-image.ts';
import { round, timeRuns, timeShell } from './measure.ts';

// Pull-and-index of the Debian test image from a real registry on loopback (Debian's docker-registry), cold (empty
// database) and warm (layers cached: only the manifest is fetched), beside the bare transfer of the same blobs with
// curl in the same run.

export async function benchRegistryPull(runs = 3) {
  const image = await debianTestImage();
  if (!image) throw new Error('the Debian test image is not built: run scripts/build-test-image.sh');
  const registry = await startRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-bench-reg-'));
  try {
    await registry.push(join(image.dir, 'oci'), 'bookworm', 'library/debian', 'bookworm');
    const ref = `${registry.host}/library/debian:bookworm`;
    const layers = image.expected.layers;
    const bytes = layers.reduce((n, l) => n + l.size, 0);
    const blobUrl = (digest: string) => `${registry.url}/v2/library/debian/blobs/${digest}`;
    const curl = await timeRuns(runs, () => {
      timeShell(layers.map((l) => `curl -sf -o /dev/null ${blobUrl(l.digest)}`).join(' && '));
    });
    // What a pull-and-list must do at the least: transfer and decompress every layer.
    const curlZcat = await timeRuns(runs, () => {
      timeShell(layers.map((l) => `curl -sf ${blobUrl(l.digest)} | zcat | tar -t > /dev/null`).join(' && '));
    });
    const pull = async (db: string) => {
      const store = SqliteStore.open(db);
      const img = await openRegistryImage(ref, {});
      const r = await new Indexer(store, allScanners()).index(img);
      await img.close();
      await store.close();
      return r;
    };
    const cold = await timeRuns(runs, async (i) => {
      await pull(join(dir, `cold-${i}.db`));
    });
    const warm = await timeRuns(runs, async () => {
      const r = await pull(join(dir, 'cold-0.db'));
      if (r.layersScanned !== 0) throw new Error('warm pull scanned layers');
    });
    const mb = bytes / 1e6;
    return {
      image: { layers: layers.length, compressedMB: round(mb, 1) },
      curl: { medianSeconds: round(curl.median), mbPerSecond: round(mb / curl.median, 1) },
      curlZcat: { medianSeconds: round(curlZcat.median), mbPerSecond: round(mb / curlZcat.median, 1) },
      cold: { medianSeconds: round(cold.median), mbPerSecond: round(mb / cold.median, 1), ratioToBound: round(cold.median / curlZcat.median, 2) },
      warm: { medianSeconds: round(warm.median, 4) },
    };
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
