import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/run-cli.ts';
import { debianTestImage, TEST_IMAGE_SKIP_MESSAGE, type TestImagePackage } from '../support/test-image.ts';

// Acceptance: the real Debian bookworm image (debootstrap minbase; + curl libxml2 openssl sqlite3 libexpat1;
// − sqlite3), indexed in both forms, compared with what dpkg-query said on the same roots.


const key = (p: { name: string; version: string; arch: string; sourceName: string; sourceVersion: string }) =>
  `${p.name} ${p.version} ${p.arch} ${p.sourceName} ${p.sourceVersion}`;

/** The layer index a package was introduced in: the first of the unbroken run of roots that hold it as it is now. */
function expectedLayer(p: TestImagePackage, perRoot: TestImagePackage[][]): number {
  const k = key(p);
  let first = perRoot.length - 1;
  while (first > 0 && perRoot[first - 1]!.some((q) => key(q) === k)) first--;
  return first;
}

function reportPackages(report: any, layerIds: string[]) {
  return Object.entries(report.packages as Record<string, any>).map(([id, p]) => ({
    key: `${p.name} ${p.version} ${p.arch} ${p.source?.name ?? p.name} ${p.source?.version ?? p.version}`,
    layer: layerIds.indexOf(report.environments[id][0].introduced_in),
    db: report.environments[id][0].package_db,
  }));
}

test('the real Debian image: packages, sources and introducing layers equal dpkg-query on the same roots', async (t) => {
  const image = await debianTestImage();
  if (!image) return t.skip(TEST_IMAGE_SKIP_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-e2e-'));
  const db = join(dir, 'clair.db');
  try {
    const { perRoot, packages } = image.expected;
    const want = packages.map((p) => `${key(p)} @${expectedLayer(p, perRoot)}`).sort();
    assert.ok(want.some((w) => w.endsWith('@0')) && want.some((w) => w.endsWith('@1')), 'the image has packages from two layers');
    assert.ok(!packages.some((p) => p.name === 'sqlite3'), 'sqlite3 was removed by layer 3');

    await t.test('OCI layout (gzip layers)', async () => {
      const r = await runCli(db, ['index', image.ociRef, '--format', 'json']);
      assert.equal(r.code, 0, r.err);
      const report = JSON.parse(r.out);
      const got = reportPackages(report, image.expected.layers.map((l) => l.digest));
      assert.deepEqual(got.map((g) => `${g.key} @${g.layer}`).sort(), want);
      assert.ok(got.every((g) => g.db === 'var/lib/dpkg/status'));
      const [dist] = Object.values(report.distributions) as any[];
      assert.deepEqual([dist.did, dist.version_id, dist.version_code_name], ['debian', '12', 'bookworm']);
      assert.match(r.err, /3 layer\(s\) scanned, 0 reused/);
    });

    await t.test('the zstd variant shares two layers: only its zstd layer is scanned, with the same result', async () => {
      const r = await runCli(db, ['index', image.ociZstdRef, '--format', 'json']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /1 layer\(s\) scanned, 2 reused/);
      const got = reportPackages(JSON.parse(r.out), image.expected.zstdLayers.map((l) => l.digest));
      assert.deepEqual(got.map((g) => `${g.key} @${g.layer}`).sort(), want);
    });

    await t.test('docker archive', async () => {
      const r = await runCli(db, ['index', image.dockerArchiveRef, '--format', 'json']);
      assert.equal(r.code, 0, r.err);
      const got = reportPackages(JSON.parse(r.out), image.expected.layers.map((l) => l.diffId));
      assert.deepEqual(got.map((g) => `${g.key} @${g.layer}`).sort(), want);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real Debian image scanned against the tracker excerpt: findings equal the real dpkg --compare-versions', async (t) => {
  const image = await debianTestImage();
  if (!image) return t.skip(TEST_IMAGE_SKIP_MESSAGE);
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const feed = join(import.meta.dirname, '../../src/ecosystems/debian/testdata/tracker-excerpt.json');
  const tracker = JSON.parse(readFileSync(feed, 'utf8')) as Record<string, Record<string, { releases: Record<string, { status: string; fixed_version?: string }> }>>;
  // Truth, independent of clair-ts: for each installed package, each bookworm record of its source package, asking
  // dpkg itself whether the installed source version is lower than the fixed one.
  const want = new Set<string>();
  for (const p of image.expected.packages) {
    for (const [cve, entry] of Object.entries(tracker[p.sourceName] ?? {})) {
      const r = entry.releases.bookworm;
      if (!r || (r.status !== 'open' && r.status !== 'resolved') || r.fixed_version === '0') continue;
      let affected = r.status === 'open';
      if (r.status === 'resolved' && r.fixed_version) {
        try {
          execFileSync('dpkg', ['--compare-versions', p.sourceVersion, 'lt', r.fixed_version]);
          affected = true;
        } catch {
          affected = false;
        }
      }
      if (affected) want.add(`${p.name} ${cve} ${r.fixed_version ?? ''}`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-e2e-'));
  const db = join(dir, 'clair.db');
  try {
    assert.equal((await runCli(db, ['update', '--source', `debian=${feed}`])).code, 0);
    const r = await runCli(db, ['scan', image.ociRef, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const vr = JSON.parse(r.out);
    const got = new Set<string>();
    for (const [pid, vids] of Object.entries(vr.package_vulnerabilities as Record<string, string[]>)) {
      for (const vid of vids) got.add(`${vr.packages[pid].name} ${vr.vulnerabilities[vid].name} ${vr.vulnerabilities[vid].fixed_in_version}`);
    }
    assert.ok(want.size > 0, 'the excerpt affects the image somewhere');
    assert.deepEqual([...got].sort(), [...want].sort());
    const gate = await runCli(db, ['scan', image.ociRef, '--fail-on', 'negligible']);
    assert.equal(gate.code, 1, 'open unimportant issues are Negligible findings');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
