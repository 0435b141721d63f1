import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { runUpdater } from '../../updater/run-updater.ts';
import { rustsecUpdater } from './updater.ts';

async function records(store: SqliteStore, names: string[]) {
  return (await store.queryVulnerabilities([{ packageNames: names }]))[0]!;
}

test('rustsec: the real advisory-db checkout; patched/unaffected as intervals, informational kept, withdrawn dropped', async (t) => {
  const db = requireSharedData(t, 'feeds', 'osv', 'rustsec');
  if (!db) return;
  const store = SqliteStore.open(':memory:');
  const warnings: string[] = [];
  const r = await runUpdater(store, rustsecUpdater, db, { warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
  assert.equal(r.updater, 'rustsec');
  assert.ok(r.records > 1300, `${r.records}`);
  const abi = (await records(store, ['abi_stable']))[0]!;
  assert.deepEqual(
    [abi.name, abi.repo.name, abi.versionScheme, abi.range.introduced, abi.fixedInVersion, abi.normalizedSeverity, abi.issued],
    ['RUSTSEC-2020-0105', 'crates.io', 'cargo', '', '0.9.1', 'High', '2020-12-21T00:00:00Z'],
  );
  assert.deepEqual(abi.aliases, ['CVE-2020-36212', 'CVE-2020-36213', 'GHSA-vq23-5h4f-vwpv', 'GHSA-wqxc-qrq4-w5v4']);
  assert.match(abi.description, /^Update unsound DrainFilter and RString::retain\n\nAffected versions/);
  // lz4_flex RUSTSEC-2026-0041: patched ">= 0.11.6, < 0.12.0", ">= 0.12.1" → [0, 0.11.6) and [0.12.0, 0.12.1); CVSS 4.0.
  const lz4 = (await records(store, ['lz4_flex'])).filter((v) => v.name === 'RUSTSEC-2026-0041');
  assert.deepEqual(lz4.map((v) => [v.range.introduced, v.fixedInVersion]), [['', '0.11.6'], ['0.12.0', '0.12.1']]);
  assert.ok(lz4[0]!.functions!.includes('lz4_flex::block::decompress_into'));
  assert.match(lz4[0]!.severity, /^CVSS:4\.0\//);
  // Informational advisories keep their kind; markdown RUSTSEC-2022-0044 is withdrawn.
  const kinds = new Map<string, number>();
  for (const crate of ['libpulse-binding', 'badge', 'markdown']) for (const v of await records(store, [crate])) kinds.set(`${v.name}:${v.informational ?? ''}`, 1);
  assert.ok(kinds.has('RUSTSEC-2022-0057:unmaintained'), [...kinds.keys()].join(' '));
  assert.ok(![...kinds.keys()].some((k) => k.startsWith('RUSTSEC-2022-0044')));
  assert.equal((await runUpdater(store, rustsecUpdater, db)).unchanged, true);
});

test('rustsec: GitHub tar.gz of the repository; a bad advisory is skipped with a warning; no advisories refused', async (t) => {
  const db = requireSharedData(t, 'feeds', 'osv', 'rustsec');
  if (!db) return;
  const dir = mkdtempSync(join(tmpdir(), 'rustsec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'advisory-db-main');
  mkdirSync(join(root, 'crates', 'broken'), { recursive: true });
  cpSync(join(db, 'crates', 'abi_stable'), join(root, 'crates', 'abi_stable'), { recursive: true });
  cpSync(join(db, 'rust'), join(root, 'rust'), { recursive: true });
  writeFileSync(join(root, 'crates', 'broken', 'RUSTSEC-2099-0001.md'), '```toml\n[advisory]\nid = "RUSTSEC-2099-0001"\npackage = "broken"\n[versions]\npatched = [">= banana"]\n```\n# x\n');
  const tgz = join(dir, 'main.tar.gz');
  execFileSync('tar', ['-czf', tgz, '-C', dir, 'advisory-db-main']);
  const store = SqliteStore.open(':memory:');
  const warnings: string[] = [];
  const r = await runUpdater(store, rustsecUpdater, tgz, { warn: (m) => warnings.push(m) });
  assert.equal(r.records, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /RUSTSEC-2099-0001\.md: RUSTSEC-2099-0001: "\>= banana"/);
  // rust/ (toolchain advisories) is not read: only the crate advisory is stored.
  assert.deepEqual((await records(store, ['abi_stable', 'std', 'rustdoc', 'cargo'])).map((v) => v.name), ['RUSTSEC-2020-0105']);
  const onlyRust = join(dir, 'only-rust');
  cpSync(join(db, 'rust'), join(onlyRust, 'rust'), { recursive: true });
  await assert.rejects(runUpdater(store, rustsecUpdater, onlyRust), { code: 'bad-feed', message: /holds no records/ });
});
