import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { updateAndScanDir } from '../support/scan-dir.ts';
import { mavenCompare, readOsvDocs, requireMavenOracle, schemaTruth, type Installed } from '../support/osv-truth.ts';
import { requireSharedData } from '../support/shared-data.ts';

// Maven end to end: jars (pom.properties inside, as Maven builds them) at every version GitHub's Maven advisories
// name and the one before it, `update --source osv=…#ecosystems=Maven`, `scan dir:`; the findings equal the OSV
// schema's evaluation of the raw records with Maven's own ComparableVersion (Debian's libmaven3-core-java).

function before(version: string): string | undefined {
  const m = /^(.*?)(\d+)$/.exec(version);
  return m && Number(m[2]) > 0 ? `${m[1]}${Number(m[2]) - 1}` : undefined;
}

test('maven: dir: scan with GitHub Maven advisories equals ComparableVersion on the raw OSV records', async (t) => {
  const file = requireSharedData(t, 'feeds', 'osv', 'ghsa-vulnfeed', 'maven.json.gz');
  if (!file || !requireMavenOracle(t)) return;
  const records = readOsvDocs(file);
  const installed = new Map<string, Installed>();
  for (const r of records) for (const a of r.affected ?? []) {
    if (a.package.ecosystem !== 'Maven' || !/^[^:]+:[^:]+$/.test(a.package.name)) continue;
    const named: string[] = [...(a.ranges ?? []).flatMap((g: any) => g.events.map((e: any) => Object.values(e)[0] as string)), ...(a.versions ?? [])];
    for (const v of ['0.0.1', ...named.filter((x) => x !== '0' && /^[0-9][0-9A-Za-z.+_-]*$/.test(x))]) {
      for (const x of [v, before(v)]) if (x) installed.set(`${a.package.name}@${x}`, { name: a.package.name, version: x });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'maven-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // One jar per artifact version, written by Python's zipfile: only META-INF/maven/<g>/<a>/pom.properties inside.
  const script = 'import json,os,sys,zipfile\nfor i,(n,v) in enumerate(json.load(sys.stdin)):\n  g,a=n.split(":")\n  d=os.path.join(sys.argv[1],"app%d"%i)\n  os.makedirs(d)\n  with zipfile.ZipFile(os.path.join(d,"%s-%s.jar"%(a,v)),"w") as z:\n    z.writestr("META-INF/maven/%s/%s/pom.properties"%(g,a),"groupId=%s\\nartifactId=%s\\nversion=%s\\n"%(g,a,v))';
  execFileSync('python3', ['-c', script, join(dir, 'root')], { input: JSON.stringify([...installed.values()].map((p) => [p.name, p.version])) });
  const db = join(dir, 'clair.db');
  const { index, m } = await updateAndScanDir(t, db, `osv=${file}#ecosystems=Maven`, join(dir, 'root'));
  assert.equal(Object.keys(index.packages).length, installed.size);
  const got = new Set<string>();
  for (const [pid, vids] of Object.entries(m.packageVulnerabilities)) {
    const p = index.packages[pid]!;
    for (const vid of vids) got.add(`${p.name} ${p.version} ${m.vulnerabilities.get(vid)!.name}`);
  }
  const want = new Set(schemaTruth('Maven', [...installed.values()], records, mavenCompare(join(dir, 'classes'))).map(([n, v, id]) => `${n} ${v} ${id}`));
  t.diagnostic(`${installed.size} artifacts, ${want.size} findings`);
  assert.ok(want.size > 100, `${want.size} expected findings`);
  assert.deepEqual([...got].filter((k) => !want.has(k)).sort(), [], 'found by clair-ts, not by ComparableVersion');
  assert.deepEqual([...want].filter((k) => !got.has(k)).sort(), [], 'found by ComparableVersion, not by clair-ts');
});
