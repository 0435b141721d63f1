import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { updateAndScanDir } from '../support/scan-dir.ts';
import { goCompare, readOsvDocs, requireGoXMod, schemaTruth } from '../support/osv-truth.ts';
import { requireSharedData } from '../support/shared-data.ts';

// Go end to end: the Kata Containers runtime's go.mod files (main and 3.18.0) scanned as a dir: tree against the
// Go vulnerability database; the findings equal the OSV schema's evaluation of the raw GO-* records with every
// version comparison made by golang.org/x/mod/semver (Debian's golang-golang-x-mod-dev, built offline).

test('go: Kata runtime go.mod modules against the Go vulnerability database equal x/mod/semver on the raw records', async (t) => {
  const kata = requireSharedData(t, 'fixtures', 'kata-containers');
  const vulndb = requireSharedData(t, 'feeds', 'osv', 'go-vulndb', 'data', 'osv');
  if (!kata || !vulndb || !requireGoXMod(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'go-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'clair.db');
  const { index, m } = await updateAndScanDir(t, db, `go=${vulndb}`, kata);
  const goPkgs = Object.entries(index.packages).filter(([id]) => index.environments[id]!.some((e) => e.repositoryIds.some((r) => index.repositories[r]!.name === 'go')));
  assert.ok(goPkgs.length > 200, `${goPkgs.length} go modules`);
  const got = new Set<string>();
  for (const [pid, p] of goPkgs) for (const vid of m.packageVulnerabilities[pid] ?? []) got.add(`${p.name} ${p.version} ${m.vulnerabilities.get(vid)!.name}`);
  const installed = [...new Map(goPkgs.map(([, p]) => [`${p.name}@${p.version}`, { name: p.name, version: p.version }])).values()];
  const want = new Set(schemaTruth('Go', installed, readOsvDocs(vulndb), goCompare(join(dir, 'gocache'))).map(([n, v, id]) => `${n} ${v} ${id}`));
  t.diagnostic(`${installed.length} modules, ${want.size} findings`);
  assert.ok(want.size > 20, `${want.size} expected findings`);
  assert.deepEqual([...got].filter((k) => !want.has(k)).sort(), [], 'found by clair-ts, not by x/mod');
  assert.deepEqual([...want].filter((k) => !got.has(k)).sort(), [], 'found by x/mod, not by clair-ts');
});
