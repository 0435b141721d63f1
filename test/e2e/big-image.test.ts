import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/run-cli.ts';
import { BIG_IMAGE_SKIP_MESSAGE, debianBigImage } from '../support/big-image.ts';
import type { TestImagePackage } from '../support/test-image.ts';

// Acceptance at real scale: the big Debian image (scripts/build-big-image.sh; four layers, ~900 packages, ~1.4 GB),
// indexed from its gzip and its zstd tag, compared with what dpkg-query said on the same roots. Large layers are
// where a decompression pipeline that reorders, parallelizes or chunks differently would go wrong.

const key = (p: { name: string; version: string; arch: string; sourceName: string; sourceVersion: string }) =>
  `${p.name} ${p.version} ${p.arch} ${p.sourceName} ${p.sourceVersion}`;

/** The layer index a package was introduced in: the first of the unbroken run of roots that hold it as it is now. */
function expectedLayer(p: TestImagePackage, perRoot: Set<string>[]): number {
  const k = key(p);
  let first = perRoot.length - 1;
  while (first > 0 && perRoot[first - 1]!.has(k)) first--;
  return first;
}

/** The dpkg packages of an index report (the image also holds npm, Python and Ruby packages Debian ships). */
function dpkgPackages(report: any, layerIds: string[]): string[] {
  return Object.entries(report.packages as Record<string, any>).filter(([id]) => report.environments[id][0].package_db === 'var/lib/dpkg/status').map(([id, p]) => {
    const k = `${p.name} ${p.version} ${p.arch} ${p.source?.name ?? p.name} ${p.source?.version ?? p.version}`;
    return `${k} @${layerIds.indexOf(report.environments[id][0].introduced_in)}`;
  });
}

test('the big Debian image: packages, sources and introducing layers equal dpkg-query on the same roots, gzip and zstd', async (t) => {
  const image = await debianBigImage();
  if (!image) return t.skip(BIG_IMAGE_SKIP_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-e2e-big-'));
  const db = join(dir, 'clair.db');
  try {
    const perRoot = image.expected.perRoot.map((r) => new Set(r.map(key)));
    const want = image.expected.packages.map((p) => `${key(p)} @${expectedLayer(p, perRoot)}`).sort();
    for (const layer of [0, 1, 2, 3]) assert.ok(want.some((w) => w.endsWith(`@${layer}`)), `layer ${layer} introduces packages`);

    for (const [form, ref, layers] of [
      ['gzip', image.ociRef, image.expected.layers],
      ['zstd', image.ociZstdRef, image.expected.zstdLayers],
    ] as const) {
      await t.test(`OCI layout, ${form} layers`, async () => {
        const r = await runCli(db, ['index', ref, '--format', 'json']);
        assert.equal(r.code, 0, r.err);
        // The tags share no layer blob, so each is scanned in full.
        assert.match(r.err, /4 layer\(s\) scanned, 0 reused/);
        assert.deepEqual(dpkgPackages(JSON.parse(r.out), layers.map((l) => l.digest)).sort(), want);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
