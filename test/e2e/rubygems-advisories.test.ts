import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { updateAndScanDir } from '../support/scan-dir.ts';
import { readOsvDocs, requireRuby, rubygemsTruth, type Installed } from '../support/osv-truth.ts';
import { requireSharedData } from '../support/shared-data.ts';

// RubyGems end to end: Gemfile.lock projects locking every version GitHub's RubyGems advisories name and the one
// before it, `update --source osv=…#ecosystems=RubyGems`, `scan dir:`; the findings equal Ruby's own Gem::Version
// under the OSV schema's evaluation of the raw records.

function before(version: string): string | undefined {
  // The version one below in the last numeric segment (2.2.3 → 2.2.2), when there is one.
  const m = /^(.*\.)(\d+)$/.exec(version);
  return m && Number(m[2]) > 0 ? `${m[1]}${Number(m[2]) - 1}` : undefined;
}

test('rubygems: dir: scan with GitHub RubyGems advisories equals Gem::Version on the raw OSV records', async (t) => {
  const file = requireSharedData(t, 'feeds', 'osv', 'ghsa-vulnfeed', 'rubygems.json.gz');
  if (!file || !requireRuby(t)) return;
  const records = readOsvDocs(file);
  const installed = new Map<string, Installed>();
  for (const r of records) for (const a of r.affected ?? []) {
    if (a.package.ecosystem !== 'RubyGems') continue;
    const named: string[] = [...(a.ranges ?? []).flatMap((g: any) => g.events.map((e: any) => Object.values(e)[0] as string)), ...(a.versions ?? [])];
    for (const v of ['0.0.1', ...named.filter((x) => x !== '0' && /^[0-9][0-9A-Za-z.]*$/.test(x))]) {
      for (const x of [v, before(v)]) if (x) installed.set(`${a.package.name}@${x}`, { name: a.package.name, version: x });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'gem-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  [...installed.values()].forEach((p, i) => {
    const app = join(dir, 'root', `app${i}`);
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'Gemfile.lock'), `GEM\n  remote: https://rubygems.org/\n  specs:\n    ${p.name} (${p.version})\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  ${p.name}\n`);
  });
  const db = join(dir, 'clair.db');
  const { index, m } = await updateAndScanDir(t, db, `osv=${file}#ecosystems=RubyGems`, join(dir, 'root'));
  assert.equal(Object.keys(index.packages).length, installed.size);
  const got = new Set<string>();
  for (const [pid, vids] of Object.entries(m.packageVulnerabilities)) {
    const p = index.packages[pid]!;
    for (const vid of vids) got.add(`${p.name} ${p.version} ${m.vulnerabilities.get(vid)!.name}`);
  }
  const want = new Set(rubygemsTruth([...installed.values()], records).map(([n, v, id]) => `${n} ${v} ${id}`));
  t.diagnostic(`${installed.size} gems, ${want.size} findings`);
  assert.ok(want.size > 100, `${want.size} expected findings`);
  assert.deepEqual([...got].filter((k) => !want.has(k)).sort(), [], 'found by clair-ts, not by Gem::Version');
  assert.deepEqual([...want].filter((k) => !got.has(k)).sort(), [], 'found by Gem::Version, not by clair-ts');
});
