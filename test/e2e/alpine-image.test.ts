import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apkTestImage, scanFindings } from '../support/distro-images.ts';
import { runCli } from '../support/run-cli.ts';
import { requireSharedData } from '../support/shared-data.ts';

// Acceptance: Alpine's real 3.19.4 minirootfs (one layer) + a layer that upgrades musl to 1.2.4_git20230717-r5 and
// removes ssl_client, scanned against Alpine's real v3.19 secdb entries for busybox, musl, openssl and zlib
// (src/ecosystems/alpine/testdata/secdb). What the secdb says for the installed versions:
//   busybox 1.36.1-r19 < 1.36.1-r21: CVE-2024-58251, CVE-2025-46394 (busybox, busybox-binsh; ssl_client removed)
//   musl 1.2.4_git20230717-r5: fixed CVE-2025-26519, not yet CVE-2026-40200, CVE-2026-6042 (fixed in -r6)
//   openssl 3.1.7-r0: every secfix is older: nothing; zlib 1.3.1-r0: only "0" entries (never affected): nothing.

const SECDB = join(import.meta.dirname, '../../src/ecosystems/alpine/testdata/secdb');

test('Alpine 3.19 image: scan reports what secdb says, with fixed-in versions and introducing layers', async (t) => {
  const rootfs = requireSharedData(t, 'fixtures/alpine/alpine-minirootfs-3.19.4-x86_64.tar.gz');
  if (!rootfs) return;
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-alpine-'));
  const db = join(dir, 'clair.db');
  try {
    const image = await apkTestImage(dir, rootfs, { musl: '1.2.4_git20230717-r5', 'musl-utils': '1.2.4_git20230717-r5' }, ['ssl_client']);
    const [baseDigest, changeDigest] = image.layers.map((l) => l.digest.slice(7, 19));

    const index = await runCli(db, ['index', image.ref, '--format', 'json']);
    assert.equal(index.code, 0, index.err);
    const report = JSON.parse(index.out);
    const [dist] = Object.values(report.distributions) as any[];
    assert.deepEqual([dist.did, dist.version_id, dist.pretty_name], ['alpine', '3.19.4', 'Alpine Linux v3.19']);
    const pkgs = Object.entries(report.packages as Record<string, any>).map(([id, p]) => `${p.name} ${p.version} ${p.source?.name} ${report.environments[id][0].package_db}`);
    assert.equal(pkgs.length, 14);
    assert.ok(pkgs.includes('libcrypto3 3.1.7-r0 openssl lib/apk/db/installed'));
    assert.ok(pkgs.includes('musl-utils 1.2.4_git20230717-r5 musl lib/apk/db/installed'));
    assert.ok(!pkgs.some((p) => p.startsWith('ssl_client ')));

    const up = await runCli(db, ['update', '--source', `alpine=${SECDB}`]);
    assert.equal(up.code, 0, up.err);
    assert.match(up.out, /alpine: update operation \S+ with 81 records/);

    const scan = await runCli(db, ['scan', image.ref]);
    assert.equal(scan.code, 0, scan.err);
    assert.doesNotMatch(scan.err, /not checked/);
    const rows = scanFindings(scan.out).map((r) => r.split(' | ').join(' ')).sort();
    assert.deepEqual(rows, [
      `CVE-2024-58251 busybox 1.36.1-r19 1.36.1-r21 ${baseDigest}`,
      `CVE-2024-58251 busybox-binsh 1.36.1-r19 1.36.1-r21 ${baseDigest}`,
      `CVE-2025-46394 busybox 1.36.1-r19 1.36.1-r21 ${baseDigest}`,
      `CVE-2025-46394 busybox-binsh 1.36.1-r19 1.36.1-r21 ${baseDigest}`,
      `CVE-2026-40200 musl 1.2.4_git20230717-r5 1.2.4_git20230717-r6 ${changeDigest}`,
      `CVE-2026-40200 musl-utils 1.2.4_git20230717-r5 1.2.4_git20230717-r6 ${changeDigest}`,
      `CVE-2026-6042 musl 1.2.4_git20230717-r5 1.2.4_git20230717-r6 ${changeDigest}`,
      `CVE-2026-6042 musl-utils 1.2.4_git20230717-r5 1.2.4_git20230717-r6 ${changeDigest}`,
    ]);
    assert.doesNotMatch(scan.out, /CVE-2023-45853|CVE-2025-26519|CVE-2023-42364/);

    // The base alone still has ssl_client and the older musl: CVE-2025-26519 too.
    const base = await runCli(db, ['scan', image.baseRef, '--format', 'json']);
    assert.equal(base.code, 0, base.err);
    const vr = JSON.parse(base.out);
    const names = new Set(Object.values(vr.vulnerabilities as Record<string, any>).map((v) => v.name));
    assert.ok(names.has('CVE-2025-26519'));
    const sslClient = Object.entries(vr.packages as Record<string, any>).find(([, p]) => p.name === 'ssl_client')!;
    assert.equal(vr.package_vulnerabilities[sslClient[0]].length, 2);

    // secdb has no severity: Unknown. --fail-on unknown fails the gate, anything higher does not.
    assert.equal((await runCli(db, ['scan', image.ref, '--fail-on', 'unknown'])).code, 1);
    assert.equal((await runCli(db, ['scan', image.ref, '--fail-on', 'low'])).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Alpine: a Python package apk installed is owned by its apk package (F:/R: file lists)', async (t) => {
  const rootfs = requireSharedData(t, 'fixtures/alpine/alpine-minirootfs-3.19.4-x86_64.tar.gz');
  if (!rootfs) return;
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-alpine-own-'));
  try {
    const site = 'usr/lib/python3.11/site-packages';
    // py3-six as apk records it (fields from Alpine 3.19's py3-six 1.16.0-r8 block, trimmed to what apk needs), and a
    // pip-installed package beside it that no apk package lists.
    const block = `P:py3-six\nV:1.16.0-r8\nA:noarch\no:py3-six\nF:${site}/six-1.16.0.dist-info\nR:METADATA\nR:RECORD\nF:${site}\nR:six.py\n`;
    const image = await apkTestImage(dir, rootfs, {}, [], {
      blocks: [block],
      files: {
        [`${site}/six-1.16.0.dist-info/METADATA`]: 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n',
        [`${site}/requests-2.31.0.dist-info/METADATA`]: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n',
      },
    });
    const r = await runCli(join(dir, 'clair.db'), ['index', image.ref, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const pkgs = Object.values(JSON.parse(r.out).packages as Record<string, any>);
    assert.ok(pkgs.some((p) => p.name === 'py3-six' && p.version === '1.16.0-r8'));
    // The JSON report has no ownedBy field; the in-process index tells it.
    const { SqliteStore } = await import('../../src/store/sqlite/sqlite-store.ts');
    const store = SqliteStore.open(join(dir, 'clair.db'));
    try {
      const digest = JSON.parse(r.out).manifest_hash as string;
      const report = await store.getIndexReport(digest);
      const py = Object.values(report!.report.packages).filter((p) => p.packageDb.startsWith('python:'));
      assert.deepEqual(py.map((p) => [p.name, p.ownedBy?.name ?? '', p.ownedBy?.version ?? '']).sort(), [
        ['requests', '', ''],
        ['six', 'py3-six', '1.16.0-r8'],
      ]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Alpine minirootfs 3.18.9, 3.19.4 and edge: release, branch and packages from the real files', async (t) => {
  const cases: Array<[string, string, string, number]> = [
    ['alpine-minirootfs-3.18.9-x86_64.tar.gz', '3.18.9', 'Alpine Linux v3.18', 15],
    ['alpine-minirootfs-3.19.4-x86_64.tar.gz', '3.19.4', 'Alpine Linux v3.19', 15],
    // edge's etc/os-release is a symlink to ../usr/lib/os-release, read from there.
    ['alpine-minirootfs-20240923-x86_64.tar.gz', '3.21.0_alpha20240923', 'Alpine Linux edge', 14],
  ];
  for (const [file, versionId, pretty, count] of cases) {
    const rootfs = requireSharedData(t, 'fixtures/alpine', file);
    if (!rootfs) return;
    const dir = mkdtempSync(join(tmpdir(), 'clair-ts-alpine-rel-'));
    try {
      const image = await apkTestImage(dir, rootfs, {}, []);
      const r = await runCli(join(dir, 'clair.db'), ['index', image.baseRef, '--format', 'json']);
      assert.equal(r.code, 0, r.err);
      const report = JSON.parse(r.out);
      assert.deepEqual(Object.values(report.distributions as Record<string, any>).map((d) => [d.did, d.version_id, d.pretty_name]), [['alpine', versionId, pretty]], file);
      assert.equal(Object.keys(report.packages).length, count, file);
      // Every package is one a feed covers: no "not covered" warning, even with no data yet (the report lists them as
      // not checked for want of data, which the empty database's own warning says).
      const scan = await runCli(join(dir, 'clair.db'), ['scan', image.baseRef]);
      assert.equal(scan.code, 0, scan.err);
      assert.doesNotMatch(scan.err, /not covered by any vulnerability feed/, file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
