import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { updateAndScanDir } from '../support/scan-dir.ts';
import { npmTruth, readOsvDocs, type Installed } from '../support/osv-truth.ts';
import { requireSharedData } from '../support/shared-data.ts';

// npm end to end: installed node_modules packages at every version GitHub's npm advisories name and next to them,
// `clair-ts update --source osv=…#ecosystems=npm` and `scan dir:`; the findings equal node-semver's evaluation of the
// raw records under the OSV schema (withdrawn dropped, SEMVER and ECOSYSTEM ranges, versions lists).

test('npm: dir: scan with GitHub npm advisories equals node-semver on the raw OSV records', async (t) => {
  const file = requireSharedData(t, 'feeds', 'osv', 'ghsa-vulnfeed', 'npm.json');
  if (!file) return;
  const records = readOsvDocs(file);
  // Probe versions: each version an event or list names, the patch before it, and 0.0.1.
  const installed = new Map<string, Installed>();
  for (const r of records) for (const a of r.affected ?? []) {
    if (a.package.ecosystem !== 'npm') continue;
    const named = [...(a.ranges ?? []).flatMap((g: any) => g.events.map((e: any) => Object.values(e)[0] as string)), ...(a.versions ?? [])];
    for (const v of ['0.0.1', ...named]) {
      const p = semver.parse(v);
      if (!p) continue;
      for (const x of [p.version, p.patch > 0 ? `${p.major}.${p.minor}.${p.patch - 1}` : undefined]) if (x) installed.set(`${a.package.name}@${x}`, { name: a.package.name, version: x });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'npm-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  [...installed.values()].forEach((p, i) => {
    const pkgDir = join(dir, 'root', 'srv', `app${i}`, 'node_modules', ...p.name.split('/'));
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: p.name, version: p.version }));
  });
  const db = join(dir, 'clair.db');
  const { index, m } = await updateAndScanDir(t, db, `osv=${file}#ecosystems=npm`, join(dir, 'root'));
  assert.equal(Object.keys(index.packages).length, installed.size);
  const got = new Set<string>();
  for (const [pid, vids] of Object.entries(m.packageVulnerabilities)) {
    const p = index.packages[pid]!;
    for (const vid of vids) got.add(`${p.name} ${p.version} ${m.vulnerabilities.get(vid)!.name}`);
  }
  const want = new Set((await npmTruth([...installed.values()], records)).map(([n, v, id]) => `${n} ${v} ${id}`));
  assert.ok(want.size > 100, `${want.size} expected findings`);
  t.diagnostic(`${installed.size} packages, ${want.size} findings`);
  assert.deepEqual([...got].filter((k) => !want.has(k)).sort(), [], 'found by clair-ts, not by node-semver');
  assert.deepEqual([...want].filter((k) => !got.has(k)).sort(), [], 'found by node-semver, not by clair-ts');
  // Withdrawn advisories are in the feed but never found.
  const withdrawn = new Set(records.filter((r) => r.withdrawn).map((r) => r.id));
  assert.ok(withdrawn.size > 0);
  assert.ok(![...got].some((k) => withdrawn.has(k.split(' ')[2]!)));
});
