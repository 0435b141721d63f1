import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCli } from '../support/run-cli.ts';
import { OciLayoutWriter, buildLayer, layerTar } from '../../src/image/testdata/image-builder.ts';
import { writeVexMirror } from '../../src/ecosystems/rhel/testdata/vex-mirror-builder.ts';
import { REPO2CPE_ENV } from '../../src/config/ecosystem-options.ts';
import { requireSharedData } from '../support/shared-data.ts';

// Acceptance for the Red Hat family: an image built here whose base layer carries a real rpm database (go-rpmdb's
// Amazon Linux 2023 rpmdb.sqlite, 102 packages: the only real sqlite rpmdb available offline, standing in for a
// RHEL 9 database) under a RHEL 9 os-release, and whose second layer adds a UBI content manifest, is indexed and
// scanned with `clair-ts update --source rhel-vex=<local mirror>` built from real Red Hat VEX documents.
//
// What must come out, read off the documents by hand:
// * CVE-2026-2673 (openssl, known_affected in red_hat_enterprise_linux_9 "openssl"): openssl-libs (source openssl)
//   is affected, no fix.
// * CVE-2026-2297 (python3, known_affected in red_hat_enterprise_linux_9 "python3"/"python3-libs"…): python3 and
//   python3-libs are affected, no fix.
// * CVE-2024-0727 (openssl, fixed in RHEL 9 BaseOS at 1:3.0.7-27.el9): openssl-libs 1:3.0.8-1.amzn2023.0.4 is
//   newer, so it must NOT appear; CVE-2025-40907 (perl-FCGI, RHEL 8 module) and CVE-2026-0968 (libssh, not
//   installed; libssh2 known_not_affected) must not appear either.
// Then, after the mirror says CVE-2024-0727 changed and the changed document marks openssl-libs fixed only at a
// later EVR, an incremental update makes it appear with that fixed version.

const OS_RELEASE = [
  'NAME="Red Hat Enterprise Linux"', 'VERSION="9.2 (Plow)"', 'ID="rhel"', 'ID_LIKE="fedora"', 'VERSION_ID="9.2"',
  'PLATFORM_ID="platform:el9"', 'PRETTY_NAME="Red Hat Enterprise Linux 9.2 (Plow)"', 'CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"', '',
].join('\n');



const text = (p: string) => {
  const b = readFileSync(p);
  return (p.endsWith('.gz') ? gunzipSync(b) : b).toString('utf8');
};

/** "package-name CVE fixed_in_version" for every finding of a JSON vulnerability report. */
function findings(report: any): string[] {
  const out = new Set<string>();
  for (const [pid, vids] of Object.entries(report.package_vulnerabilities as Record<string, string[]>)) {
    for (const vid of vids) {
      const v = report.vulnerabilities[vid];
      out.add(`${report.packages[pid].name} ${v.name} ${v.fixed_in_version ?? ''}`.trim());
    }
  }
  return [...out].sort();
}

test('a RHEL image with a real rpm database and a content manifest, matched against real Red Hat VEX', async (t) => {
  const rpmdb = requireSharedData(t, 'fixtures', 'go-rpmdb', 'pkg', 'testdata', 'amazonlinux2023-plain', 'rpmdb.sqlite');
  const vex = requireSharedData(t, 'feeds', 'redhat', 'vex');
  if (!rpmdb || !vex) return;
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-rhel-'));
  const db = join(dir, 'clair.db');
  // The variable the README documents, as the CLI reads it from its environment.
  const cliEnv = { [REPO2CPE_ENV]: join(import.meta.dirname, '../../src/ecosystems/rhel/testdata/repository-to-cpe.json') };
  try {
    const base = buildLayer(await layerTar({ 'etc/os-release': OS_RELEASE, 'var/lib/rpm/rpmdb.sqlite': readFileSync(rpmdb) }), 'gzip');
    const manifest = JSON.stringify({ metadata: { icm_version: 1 }, content_sets: ['rhel-9-for-x86_64-baseos-rpms', 'rhel-9-for-x86_64-appstream-rpms'] });
    const top = buildLayer(await layerTar({ 'root/buildinfo/content_manifests/ubi9-container-9.2-1.json': manifest }), 'zstd');
    const w = await new OciLayoutWriter(join(dir, 'image')).init();
    const img = await w.addImage([base, top]);
    await w.writeIndex([{ descriptor: img.manifest, tag: 'ubi9' }]);
    const ref = `oci:${join(dir, 'image')}:ubi9`;

    const openssl = text(`${vex}/claircore-acceptance/cve-2024-0727-openssl.json`);
    const mirror = join(dir, 'vex');
    await writeVexMirror(mirror, {
      archiveDate: '2026-03-01',
      archived: {
        '2024/cve-2024-0727.json': openssl,
        '2025/cve-2025-40907.json': text(`${vex}/claircore-acceptance/cve-2025-40907-perl.json.gz`),
        '2026/cve-2026-0968.json': text(`${vex}/claircore-acceptance/cve-2026-0968.json`),
        '2026/cve-2026-2297.json': text(`${vex}/claircore-acceptance/cve-2026-2297.json`),
        '2026/cve-2026-2673.json': text(`${vex}/claircore-acceptance/cve-2026-2673.json`),
      },
    });

    const idx = await runCli(db, ['index', ref, '--format', 'json'], '', cliEnv);
    assert.equal(idx.code, 0, idx.err);
    const report = JSON.parse(idx.out);
    assert.equal(Object.keys(report.packages).length, 102);
    const [dist] = Object.values(report.distributions) as any[];
    // CPEs are answered as Clair answers them: re-bound as CPE 2.3 formatted strings.
    assert.deepEqual([dist.did, dist.version_id, dist.cpe], ['rhel', '9.2', 'cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*']);
    const repos = Object.values(report.repository as Record<string, any>).map((r) => r.cpe || r.name).sort();
    assert.deepEqual(repos, ['cpe:2.3:a:redhat:enterprise_linux:9:*:appstream:*:*:*:*:*', 'cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*', 'rhel-9-for-x86_64-appstream-rpms', 'rhel-9-for-x86_64-baseos-rpms']);
    const libs = Object.entries(report.packages as Record<string, any>).find(([, p]) => p.name === 'openssl-libs')!;
    assert.deepEqual([libs[1].version, libs[1].arch, libs[1].source.name], ['1:3.0.8-1.amzn2023.0.4', 'x86_64', 'openssl']);
    const env = report.environments[libs[0]][0];
    assert.equal(env.package_db, 'var/lib/rpm/rpmdb.sqlite');
    assert.equal(env.repository_ids.length, 4, 'every rpm is associated with the content manifest repositories');

    const up = await runCli(db, ['update', '--source', `rhel-vex=${mirror}`]);
    assert.equal(up.code, 0, up.err);
    assert.match(up.out, /rhel-vex: update operation \S+ with \d+ records/);

    const scan = await runCli(db, ['scan', ref, '--format', 'json'], '', cliEnv);
    assert.ok(scan.code === 0 || scan.code === 1, scan.err);
    const got = findings(JSON.parse(scan.out));
    assert.deepEqual(got.filter((f) => f.includes('CVE-2026-2673')), ['openssl-libs CVE-2026-2673']);
    assert.ok(got.includes('python3 CVE-2026-2297') && got.includes('python3-libs CVE-2026-2297'), got.join('\n'));
    for (const absent of ['CVE-2024-0727', 'CVE-2025-40907', 'CVE-2026-0968']) assert.ok(!got.some((f) => f.includes(absent)), `${absent} must not match`);

    // An incremental update: CVE-2024-0727's document now says RHEL 9 BaseOS openssl-libs is fixed in 1:3.0.9-1.el9.
    const changed = openssl.replaceAll('3.0.7-27.el9', '3.0.9-1.el9');
    await writeVexMirror(mirror, {
      archiveDate: '2026-03-01',
      archived: { '2026/cve-2026-2673.json': text(`${vex}/claircore-acceptance/cve-2026-2673.json`) },
      current: { '2024/cve-2024-0727.json': changed },
      changes: [['2024/cve-2024-0727.json', '2026-03-10T00:00:00+00:00']],
    });
    // (the archive was rewritten smaller on purpose: an incremental run must not read it)
    const up2 = await runCli(db, ['update', '--source', `rhel-vex=${mirror}`]);
    assert.equal(up2.code, 0, up2.err);
    const got2 = findings(JSON.parse((await runCli(db, ['scan', ref, '--format', 'json'], '', cliEnv)).out));
    assert.ok(got2.includes('openssl-libs CVE-2024-0727 1:3.0.9-1.el9'), got2.join('\n'));
    assert.ok(got2.includes('python3 CVE-2026-2297'), 'unchanged CVEs are still there after an incremental run');
    const up3 = await runCli(db, ['update', '--source', `rhel-vex=${mirror}`]);
    assert.match(up3.out, /unchanged/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
