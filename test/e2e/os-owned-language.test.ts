import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli } from '../support/run-cli.ts';
import { requireSharedData } from '../support/shared-data.ts';

// A Python distribution that Debian's python3-urllib3 installed is Debian's to report (its tracker knows Debian's
// patched builds); the same distribution pip-installed in a virtualenv is PyPA's. One tree with both: PyPA's
// advisories are reported once, for the virtualenv copy only.

function write(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

test('language packages an OS package owns get no language findings (no double findings)', async (t) => {
  const pypa = requireSharedData(t, 'feeds', 'osv', 'pypa');
  if (!pypa) return;
  const dir = mkdtempSync(join(tmpdir(), 'os-owned-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const meta = 'Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.12\n';
  write(root, 'etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n');
  write(root, 'var/lib/dpkg/status', 'Package: python3-urllib3\nStatus: install ok installed\nArchitecture: all\nVersion: 1.26.12-1\nSource: python-urllib3\n\n');
  write(root, 'var/lib/dpkg/info/python3-urllib3.list', '/.\n/usr\n/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info\n/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA\n');
  write(root, 'usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA', meta);
  write(root, 'opt/venv/lib/python3.11/site-packages/urllib3-1.26.12.dist-info/METADATA', meta);
  const db = join(dir, 'clair.db');
  assert.equal((await runCli(db, ['update', '--source', `osv=${pypa}`])).code, 0);
  const scan = await runCli(db, ['scan', '--format', 'json', `dir:${root}`]);
  assert.equal(scan.code, 0, scan.err);
  const r = JSON.parse(scan.out);
  const urllib3 = Object.entries(r.packages as Record<string, any>).filter(([, p]) => p.name === 'urllib3');
  assert.equal(urllib3.length, 2);
  const dbOf = (id: string) => r.environments[id][0].package_db as string;
  const venv = urllib3.find(([id]) => dbOf(id).includes('opt/venv'))![0];
  const debian = urllib3.find(([id]) => dbOf(id).includes('dist-packages'))![0];
  const names = (id: string) => (r.package_vulnerabilities[id] ?? []).map((v: string) => r.vulnerabilities[v].name as string);
  // PYSEC-2023-192 (CVE-2023-43804, fixed in 1.26.17) affects 1.26.12: reported for the virtualenv copy only.
  assert.ok(names(venv).includes('PYSEC-2023-192'), names(venv).join(' '));
  assert.deepEqual(names(debian), []);
});
