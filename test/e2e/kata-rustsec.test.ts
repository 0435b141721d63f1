import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { runCli } from '../support/run-cli.ts';
import { updateAndScanDir } from '../support/scan-dir.ts';
import { cargoReqMatcher } from '../support/osv-truth.ts';
import { requireSharedData } from '../support/shared-data.ts';

// Kata Containers: `clair-ts scan dir:` over the real lockfiles (the main workspace and release 3.18.0's
// per-component Cargo.lock files) with the real RustSec database. The findings per lockfile are what cargo audit's
// rule gives (a crate version is affected unless a `patched` or `unaffected` requirement matches it), computed on the
// raw advisories by the `semver` crate itself (VersionReq::matches, scripts/oracles/cargo-semver built offline),
// withdrawn advisories dropped; informational ones are reported apart and never trip --fail-on.

interface Advisory {
  id: string;
  crate: string;
  reqs: string[];
  informational: string;
}

function readAdvisories(crates: string): Advisory[] {
  const out: Advisory[] = [];
  for (const crate of readdirSync(crates)) {
    for (const f of readdirSync(join(crates, crate))) {
      const text = readFileSync(join(crates, crate, f), 'utf8');
      const doc = parseToml(/```toml\n([\s\S]*?)\n```/.exec(text)![1]!) as any;
      if (doc.advisory.withdrawn) continue;
      out.push({
        id: doc.advisory.id, crate: doc.advisory.package, informational: doc.advisory.informational ?? '',
        reqs: [...(doc.versions?.patched ?? []), ...(doc.versions?.unaffected ?? [])],
      });
    }
  }
  return out;
}

test('Kata Containers: RustSec advisories per component lockfile equal the semver crate (cargo audit\'s rule) on the raw advisories', async (t) => {
  const kata = requireSharedData(t, 'fixtures', 'kata-containers');
  const rustsec = requireSharedData(t, 'feeds', 'osv', 'rustsec');
  if (!kata || !rustsec) return;
  const dir = mkdtempSync(join(tmpdir(), 'kata-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const matches = cargoReqMatcher(t, join(dir, 'oracle'));
  if (!matches) return;
  const db = join(dir, 'clair.db');
  const { index, m } = await updateAndScanDir(t, db, `rustsec=${rustsec}`, kata);

  const key = (db: string, name: string, version: string, id: string) => `${db.replace(/^cargo:/, '')} ${name} ${version} ${id}`;
  const got = new Set<string>();
  for (const [pid, vids] of Object.entries(m.packageVulnerabilities)) {
    const p = index.packages[pid]!;
    for (const vid of vids) got.add(key(p.packageDb, p.name, p.version, m.vulnerabilities.get(vid)!.name));
  }
  const byCrate = new Map<string, Advisory[]>();
  for (const a of readAdvisories(join(rustsec, 'crates'))) byCrate.set(a.crate, [...(byCrate.get(a.crate) ?? []), a]);
  const candidates: { db: string; name: string; version: string; a: Advisory }[] = [];
  let crates = 0;
  for (const [pid, p] of Object.entries(index.packages)) {
    const fromCratesIo = index.environments[pid]!.some((e) => e.repositoryIds.some((r) => index.repositories[r]!.name === 'crates.io'));
    if (!fromCratesIo || !p.packageDb.startsWith('cargo:')) continue;
    crates++;
    for (const a of byCrate.get(p.name) ?? []) candidates.push({ db: p.packageDb, name: p.name, version: p.version, a });
  }
  const pairs = candidates.flatMap((c) => c.a.reqs.map((r) => [c.version, r.trim()] as [string, string]));
  const answers = matches(pairs);
  const matched = new Map(pairs.map(([v, r], i) => [`${v}\t${r}`, answers[i]!]));
  const want = new Set<string>();
  for (const c of candidates) if (!c.a.reqs.some((r) => matched.get(`${c.version}\t${r.trim()}`))) want.add(key(c.db, c.name, c.version, c.a.id));
  assert.ok(crates > 4000, `${crates} crates.io packages`);
  t.diagnostic(`${crates} crates.io packages, ${want.size} findings`);
  assert.deepEqual([...got].filter((k) => !want.has(k)).sort(), [], 'reported by clair-ts, not by the semver crate');
  assert.deepEqual([...want].filter((k) => !got.has(k)).sort(), [], 'by the semver crate, not reported by clair-ts');

  // Per component: the agent, runtime-rs and mem-agent of release 3.18.0 each have findings in their own lockfile.
  for (const component of ['agent', 'runtime-rs', 'mem-agent']) {
    assert.ok([...got].some((k) => k.startsWith(`history-3.18.0/src/${component}/Cargo.lock `)), component);
  }
  assert.ok(got.has('history-3.18.0/src/runtime-rs/Cargo.lock time 0.1.45 RUSTSEC-2020-0071'));

  // The table says where each finding is; informational advisories are a section of their own.
  const table = await runCli(db, ['scan', `dir:${kata}`]);
  assert.match(table.out, /crates\.io\s+RUSTSEC-2020-0071\s+CVE-2020-26235 GHSA-wcg3-cvx6-7396\s+time\s+0\.1\.45\s+0\.2\.0\s+\w+\s+history-3\.18\.0\/src\/runtime-rs\/Cargo\.lock/);
  assert.match(table.out, /INFORMATIONAL \(\d+, not counted by --fail-on\)\n.*KIND[^\n]*\n(.*\n)*crates\.io\s+RUSTSEC-2021-0139\s+unmaintained\s+ansi_term/);
  // --fail-on: High findings exist, Critical ones do not.
  assert.equal((await runCli(db, ['scan', '--fail-on', 'High', `dir:${kata}`])).code, 1);
  assert.equal((await runCli(db, ['scan', '--fail-on', 'Critical', `dir:${kata}`])).code, 0);
});

test('informational RustSec advisories are shown but never fail the scan gate', async (t) => {
  const rustsec = requireSharedData(t, 'feeds', 'osv', 'rustsec');
  if (!rustsec) return;
  const dir = mkdtempSync(join(tmpdir(), 'kata-info-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'clair.db');
  assert.equal((await runCli(db, ['update', '--source', `rustsec=${rustsec}`])).code, 0);
  // A project whose only advisory is RUSTSEC-2021-0139 (ansi_term is unmaintained).
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'Cargo.lock'), 'version = 3\n\n[[package]]\nname = "ansi_term"\nversion = "0.12.1"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n\n[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = ["ansi_term"]\n');
  const r = await runCli(db, ['scan', '--fail-on', 'Unknown', `dir:${join(dir, 'app')}`]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /RUSTSEC-2021-0139\s+unmaintained\s+ansi_term\s+0\.12\.1/);
  assert.match(r.out, /0 findings, 1 informational/);
  const json = JSON.parse((await runCli(db, ['scan', '--format', 'json', `dir:${join(dir, 'app')}`])).out);
  const v = Object.values(json.vulnerabilities as Record<string, any>)[0];
  assert.deepEqual([v.name, v.severity, v.repository.name], ['RUSTSEC-2021-0139', 'informational: unmaintained', 'crates.io']);
});
