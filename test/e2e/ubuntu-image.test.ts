import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { scanFindings, txtarFiles, ubuntuTestImage } from '../support/distro-images.ts';
import { clairPart } from '../support/clair-shape.ts';
import { runCli } from '../support/run-cli.ts';
import { requireSharedData } from '../support/shared-data.ts';
import { makeTar } from '../support/tar-layer.ts';
import { schemaChecker } from '../http/serve-kit.ts';

// Acceptance: an Ubuntu 18.04 image from real data — os-release and lsb-release of a real 18.04.6 root (claircore's
// testdata) and trivy's real bionic dpkg status (91 packages) — plus a layer that installs libwayland-client0 from
// wayland 1.16.0-1ubuntu1.1~18.04.3 and libnetty-java 1:4.1.7-4 (versions the records list for bionic) and purges
// fdisk; scanned against Canonical's real OSV records laid out as canonical/ubuntu-security-notices (vunnel's osv
// and osv-esm-cases, and VulnFeed's 100 UBUNTU-CVE records), built into a folder at test time. What they say:
//   CVE-2021-3782 wayland 18.04: fixed in 1.16.0-1ubuntu1.1~18.04.4 (no subscription required), medium
//   CVE-2022-24823 netty 18.04: only in Ubuntu Pro, fixed in 1:4.1.7-4ubuntu0.1+esm3, low
//   CVE-2023-7008 systemd 18.04 (Pro, no fix), low; CVE-2016-20013 glibc 18.04 (Pro, no fix), negligible
//   CVE-2014-2901 (wolfssl) is withdrawn; the USN records restate the CVE records' fixes.

function feedTree(t: Parameters<typeof requireSharedData>[0], dir: string): string | undefined {
  const vunnel = requireSharedData(t, 'feeds/ubuntu/vunnel');
  const vulnfeed = requireSharedData(t, 'feeds/ubuntu/osv-vulnfeed/ubuntu.json.gz');
  if (!vunnel || !vulnfeed) return undefined;
  const root = join(dir, 'ubuntu-security-notices');
  cpSync(join(vunnel, 'osv'), join(root, 'osv'), { recursive: true });
  cpSync(join(vunnel, 'osv-esm-cases/cve'), join(root, 'osv/cve'), { recursive: true });
  for (const r of JSON.parse(gunzipSync(readFileSync(vulnfeed)).toString('utf8')) as { id: string }[]) {
    const year = r.id.split('-')[2]!;
    mkdirSync(join(root, 'osv/cve', year), { recursive: true });
    writeFileSync(join(root, 'osv/cve', year, `${r.id}.json`), JSON.stringify(r));
  }
  return root;
}

test('Ubuntu 18.04 image: Canonical\'s OSV records, Pro-only fixes marked, --fail-on', async (t) => {
  const status = requireSharedData(t, 'fixtures/ubuntu/trivy-dpkg-valid-bionic.txtar');
  const etc = requireSharedData(t, 'fixtures/claircore/ubuntu/testdata/dist/18.04/etc');
  if (!status || !etc) return;
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-ubuntu-'));
  const db = join(dir, 'clair.db');
  try {
    const feed = feedTree(t, dir);
    if (!feed) return;
    const image = await ubuntuTestImage(
      dir,
      {
        osRelease: readFileSync(join(etc, 'os-release'), 'utf8'),
        lsbRelease: readFileSync(join(etc, 'lsb-release'), 'utf8'),
        status: txtarFiles(readFileSync(status, 'utf8')).get('var/lib/dpkg/status')!,
      },
      [
        'Package: libwayland-client0\nStatus: install ok installed\nArchitecture: amd64\nSource: wayland\nVersion: 1.16.0-1ubuntu1.1~18.04.3\n',
        'Package: libnetty-java\nStatus: install ok installed\nArchitecture: all\nSource: netty\nVersion: 1:4.1.7-4\n',
      ],
      ['fdisk'],
    );
    const [base, change] = image.layers.map((l) => l.digest.slice(7, 19));

    const index = await runCli(db, ['index', image.ref]);
    assert.equal(index.code, 0, index.err);
    assert.match(index.out, /Ubuntu 18\.04\.6 LTS, 91 packages/);

    const up = await runCli(db, ['update', '--source', `ubuntu=${feed}`]);
    assert.equal(up.code, 0, up.err);
    assert.match(up.out, /ubuntu: update operation \S+ with \d+ records/);

    const scan = await runCli(db, ['scan', image.ref]);
    assert.equal(scan.code, 0, scan.err);
    assert.doesNotMatch(scan.err, /not checked/);
    const rows = scanFindings(scan.out);
    assert.deepEqual(rows, [
      `CVE-2021-3782 | libwayland-client0 | 1.16.0-1ubuntu1.1~18.04.3 | 1.16.0-1ubuntu1.1~18.04.4 | ${change}`,
      `CVE-2022-24823 | libnetty-java | 1:4.1.7-4 | 1:4.1.7-4ubuntu0.1+esm3 (Ubuntu Pro) | ${change}`,
      `CVE-2023-7008 | libsystemd0 | 237-3ubuntu10.3 | (no fix yet) | ${base}`,
      `CVE-2023-7008 | libudev1 | 237-3ubuntu10.3 | (no fix yet) | ${base}`,
      `CVE-2016-20013 | libc-bin | 2.27-3ubuntu1 | (no fix yet) | ${base}`,
      `CVE-2016-20013 | libc6 | 2.27-3ubuntu1 | (no fix yet) | ${base}`,
    ]);
    assert.match(scan.out, /6 findings \(Medium: 1, Low: 3, Negligible: 2\)/);
    assert.equal((await runCli(db, ['scan', image.ref, '--fail-on', 'medium'])).code, 1);
    assert.equal((await runCli(db, ['scan', image.ref, '--fail-on', 'high'])).code, 0);

    // JSON: the Pro-only fix says so in fixed_in_version, and the record names the Pro pocket.
    const vr = JSON.parse((await runCli(db, ['scan', image.ref, '--format', 'json'])).out);
    (await schemaChecker(t))?.('vulnerability_report', clairPart(vr));
    const netty = Object.values(vr.vulnerabilities as Record<string, any>).find((v) => v.name === 'CVE-2022-24823')!;
    assert.equal(netty.fixed_in_version, '1:4.1.7-4ubuntu0.1+esm3 (Ubuntu Pro)');
    assert.equal(netty.repository.name, 'Ubuntu Pro (esm-apps)');
    assert.equal(netty.normalized_severity, 'Low');

    // The same tree as GitHub's archive of the repository (.tar.gz, one top folder) gives the same operation's data.
    const entries: { path: string; content: Buffer }[] = [];
    const walk = (d: string, rel: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
        else entries.push({ path: `ubuntu-security-notices-main/${rel}${e.name}`, content: readFileSync(p) });
      }
    };
    walk(feed, '');
    writeFileSync(join(dir, 'main.tar.gz'), gzipSync(await makeTar(entries)));
    const db2 = join(dir, 'clair2.db');
    assert.equal((await runCli(db2, ['update', '--source', `ubuntu=${join(dir, 'main.tar.gz')}`])).code, 0);
    assert.deepEqual(
      scanFindings((await runCli(db2, ['scan', image.ref])).out),
      rows,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

