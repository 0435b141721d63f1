import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allMatchers } from '../../src/ecosystems/registry.ts';
import { match } from '../../src/matcher/match.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { runCli } from '../support/run-cli.ts';
import { pypiTruth, readOsvDocs, requirePythonPackaging, type Installed } from '../support/osv-truth.ts';
import { requireSharedData } from '../support/shared-data.ts';

// PyPI end to end: a tree of installed Python distributions (`dir:`), PyPA's advisory database and GitHub's PyPI
// advisories loaded by the osv updater, `clair-ts scan`; the findings are exactly what python3-packaging says of the
// same raw records under the OSV schema's evaluation.

const INSTALLED: Installed[] = [
  { name: 'Django', version: '3.2.0' }, { name: 'Django', version: '2.2.10' }, { name: 'Django', version: '4.0rc1' }, { name: 'Django', version: '1.11.29' },
  { name: 'urllib3', version: '1.26.4' }, { name: 'urllib3', version: '1.24.1' }, { name: 'urllib3', version: '2.0.6' },
  { name: 'Jinja2', version: '2.10' }, { name: 'waitress', version: '1.3.0' }, { name: 'PyYAML', version: '5.3' },
  { name: 'requests', version: '2.25.0' }, { name: 'Pillow', version: '8.1.0' }, { name: 'Pillow', version: '9.0.0' },
  { name: 'cryptography', version: '3.3.1' }, { name: 'tensorflow', version: '2.4.0' }, { name: 'tensorflow-gpu', version: '2.5.0rc0' },
  { name: 'Flask', version: '0.12.2' }, { name: 'lxml', version: '4.6.2' }, { name: 'paramiko', version: '2.4.1' },
  { name: 'numpy', version: '1.21.0' }, { name: 'setuptools', version: '65.5.0' }, { name: 'salt', version: '2014.1.10' },
  { name: 'apache-airflow', version: '2.8.1' }, { name: 'mistune', version: '0.8.4' }, { name: 'Twisted', version: '20.3.0' },
];

const pep503 = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

function writeTree(root: string): void {
  INSTALLED.forEach((p, i) => {
    // Each in its own virtualenv, so several versions of one distribution can be installed side by side.
    const dir = join(root, 'opt', `venv${i}`, 'lib', 'python3.11', 'site-packages', `${p.name}-${p.version}.dist-info`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'METADATA'), `Metadata-Version: 2.1\nName: ${p.name}\nVersion: ${p.version}\n`);
  });
}

test('pypi: dir: scan with PyPA + GitHub advisories equals python3-packaging on the raw OSV records', async (t) => {
  const pypa = requireSharedData(t, 'feeds', 'osv', 'pypa');
  if (!pypa || !requirePythonPackaging(t)) return;
  const ghsa = requireSharedData(t, 'feeds', 'osv', 'ghsa-vulnfeed', 'pypi.json')!;
  const dir = mkdtempSync(join(tmpdir(), 'pypi-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'clair.db');
  writeTree(join(dir, 'root'));

  const up = await runCli(db, ['update', '--source', `osv=${pypa}`, '--source', `osv=${ghsa}#ecosystems=PyPI`]);
  assert.equal(up.code, 0, up.err);
  const scan = await runCli(db, ['scan', '--format', 'json', `dir:${join(dir, 'root')}`]);
  assert.equal(scan.code, 0, scan.err);
  const report = JSON.parse(scan.out);

  // Every record that affects a package, before findings are merged by alias.
  const store = SqliteStore.open(db);
  t.after(() => store.close());
  const index = (await store.getIndexReport(report.manifest_hash))!.report;
  const m = await match(store, allMatchers(), index);
  const got = new Set<string>();
  for (const [pid, vids] of Object.entries(m.packageVulnerabilities)) {
    const p = index.packages[pid]!;
    for (const vid of vids) got.add(`${p.name} ${p.version} ${m.vulnerabilities.get(vid)!.name}`);
  }
  const truth = pypiTruth(INSTALLED.map((p) => ({ name: pep503(p.name), version: p.version })), [...readOsvDocs(pypa), ...readOsvDocs(ghsa)]);
  const want = new Set(truth.map(([n, v, id]) => `${n} ${v} ${id}`));
  assert.ok(want.size > 150, `${want.size} expected findings`);
  t.diagnostic(`${INSTALLED.length} distributions, ${want.size} findings`);
  assert.deepEqual([...got].filter((k) => !want.has(k)).sort(), [], 'found by clair-ts, not by packaging');
  assert.deepEqual([...want].filter((k) => !got.has(k)).sort(), [], 'found by packaging, not by clair-ts');

  // The report merges one flaw's records: waitress 1.3.0 has GHSA-4ppp-gpcr-7qf6 (High, from GitHub) once, listing
  // PyPA's PYSEC-2020-178 and the CVE; the Clair-shaped JSON keeps the ids as links.
  const waitressId = Object.entries(report.packages as Record<string, any>).find(([, p]) => p.name === 'waitress')![0];
  const names = (report.package_vulnerabilities[waitressId] as string[]).map((id) => report.vulnerabilities[id]);
  const ghsaFinding = names.find((v: any) => v.name === 'GHSA-4ppp-gpcr-7qf6');
  assert.ok(ghsaFinding, 'GHSA-4ppp-gpcr-7qf6 reported');
  assert.ok(!names.some((v: any) => v.name === 'PYSEC-2020-178'), 'PYSEC-2020-178 merged into the GHSA finding');
  assert.match(ghsaFinding.links, /https:\/\/osv\.dev\/vulnerability\/PYSEC-2020-178/);
  assert.match(ghsaFinding.links, /CVE-2019-16792/);
  assert.equal(ghsaFinding.repository.name, 'pypi');
  const table = await runCli(db, ['scan', `dir:${join(dir, 'root')}`]);
  assert.match(table.out, /pypi\s+GHSA-4ppp-gpcr-7qf6\s+CVE-2019-16792 GHSA-j7j6-7hfx-5522 PYSEC-2020-178\s+waitress\s+1\.3\.0\s+1\.4\.0/);
});
