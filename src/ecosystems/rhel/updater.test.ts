import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { parseVexDocument } from './csaf-vex.ts';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { runUpdater } from '../../updater/run-updater.ts';
import { parseChangesCsv, documentNameOfPath } from './vex-mirror.ts';
import { rhelVexUpdater } from './updater.ts';
import { writeVexMirror } from './testdata/vex-mirror-builder.ts';

const text = (p: string) => {
  const b = readFileSync(p);
  return (p.endsWith('.gz') ? gunzipSync(b) : b).toString('utf8');
};

async function names(store: SqliteStore): Promise<Map<string, number>> {
  const [recs] = await store.queryVulnerabilities([{ packageNames: ['perl-FCGI', 'libssh', 'openssl', 'openssl-libs', 'samba', 'curl'], updaterPrefix: 'rhel-vex' }]);
  const out = new Map<string, number>();
  for (const r of recs!) out.set(r.name, (out.get(r.name) ?? 0) + 1);
  return out;
}

test('rhel-vex mirror: full run from the archive, then incremental runs read only changed documents', async (t) => {
  const vex = requireSharedData(t, 'feeds', 'redhat', 'vex');
  if (!vex) return;
  const dir = mkdtempSync(join(tmpdir(), 'rhel-vex-'));
  const store = SqliteStore.open(':memory:');
  try {
    const perl = text(`${vex}/claircore-acceptance/cve-2025-40907-perl.json.gz`);
    const libssh = text(`${vex}/claircore-acceptance/cve-2026-0968.json`);
    const openssl = text(`${vex}/claircore-acceptance/cve-2024-0727-openssl.json`);
    const curl = text(`${vex}/claircore/cve-2023-38545.json.gz`);
    // The archive holds perl and libssh; openssl changed after it (read loose), curl is in the archive but was
    // deleted after it.
    await writeVexMirror(dir, {
      archiveDate: '2026-03-01',
      archived: { '2025/cve-2025-40907.json': perl, '2026/cve-2026-0968.json': libssh, '2023/cve-2023-38545.json': curl },
      current: { '2024/cve-2024-0727.json': openssl, '2026/cve-2026-0968.json': libssh },
      changes: [['2025/cve-2025-40907.json', '2026-02-11T12:37:55+00:00'], ['2024/cve-2024-0727.json', '2026-03-02T08:00:00+00:00']],
      deletions: [['2023/cve-2023-38545.json', '2026-03-01T09:00:00+00:00']],
    });
    const first = await runUpdater(store, rhelVexUpdater, dir);
    assert.equal(first.unchanged, false);
    const afterFirst = await names(store);
    assert.deepEqual([...afterFirst.keys()].sort(), ['CVE-2024-0727', 'CVE-2025-40907', 'CVE-2026-0968']);

    const again = await runUpdater(store, rhelVexUpdater, dir);
    assert.deepEqual([again.unchanged, again.operation], [true, undefined], 'nothing changed: no new operation');

    // libssh changes (we empty its product status: the CVE no longer names any product) and openssl is deleted.
    const doc = JSON.parse(libssh);
    doc.vulnerabilities[0].product_status = { known_not_affected: doc.vulnerabilities[0].product_status.known_not_affected };
    writeFileSync(join(dir, '2026/cve-2026-0968.json'), JSON.stringify(doc));
    writeFileSync(join(dir, 'changes.csv'), readFileSync(join(dir, 'changes.csv'), 'utf8') + '"2026/cve-2026-0968.json","2026-03-05T00:00:00+00:00"\n');
    writeFileSync(join(dir, 'deletions.csv'), readFileSync(join(dir, 'deletions.csv'), 'utf8') + '"2024/cve-2024-0727.json","2026-03-06T00:00:00+00:00"\n');
    // A fetch that fails on any archive request proves the incremental run does not read the archive.
    rmSync(join(dir, 'csaf_vex_2026-03-01.tar.zst'));
    const third = await runUpdater(store, rhelVexUpdater, dir);
    assert.equal(third.unchanged, false);
    const afterThird = await names(store);
    assert.deepEqual([...afterThird.keys()], ['CVE-2025-40907']);
    assert.equal(afterThird.get('CVE-2025-40907'), afterFirst.get('CVE-2025-40907'), 'unchanged CVEs are carried over whole');
    const ops = await store.listUpdateOperations('rhel-vex');
    assert.equal(ops.length, 2);
    assert.equal(ops[0]!.count, third.records);
    const diff = await store.diffUpdateOperations(ops[1]!.ref, ops[0]!.ref);
    assert.deepEqual(new Set(diff.removed.map((v) => v.name)), new Set(['CVE-2026-0968', 'CVE-2024-0727']));
    assert.deepEqual(diff.added, []);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rhel-vex: a single document, JSON lines or archive file is read whole; bad input is a bad-feed error', async (t) => {
  const vex = requireSharedData(t, 'feeds', 'redhat', 'vex');
  if (!vex) return;
  const dir = mkdtempSync(join(tmpdir(), 'rhel-vex-'));
  const store = SqliteStore.open(':memory:');
  try {
    const one = join(dir, 'cve.json');
    writeFileSync(one, text(`${vex}/claircore-acceptance/cve-2026-0968.json`));
    const r = await runUpdater(store, rhelVexUpdater, one);
    assert.equal(r.records, 9);
    assert.equal((await runUpdater(store, rhelVexUpdater, one)).unchanged, true);
    // claircore's JSON-lines spool of 8 documents, and its 2023-10-31 archive.
    const jsonl = join(dir, 'docs.jsonl');
    writeFileSync(jsonl, text(`${vex}/claircore-history/example_vex.jsonl.gz`));
    const lines = await runUpdater(store, rhelVexUpdater, jsonl);
    assert.ok(lines.records > 0);
    // Its 5 documents are middleware CVEs (maven components, no rpm): read without error, and no rpm records.
    const archivePath = `${vex}/claircore/server/csaf_vex_2023-10-31.tar.zst`;
    // No records at all would empty the feed's data: refused unless allowed (#18).
    await assert.rejects(runUpdater(store, rhelVexUpdater, archivePath), { code: 'bad-feed', message: /holds no records; refused/ });
    const archive = await runUpdater(store, rhelVexUpdater, archivePath, { allowEmpty: true });
    assert.equal(archive.unchanged, false);
    let expected = 0;
    const extract = tar.extract();
    extract.end(zstdDecompressSync(readFileSync(archivePath)));
    for await (const e of extract) {
      const parts: Buffer[] = [];
      for await (const c of e) parts.push(c as Buffer);
      if (e.header.type === 'file') expected += parseVexDocument(JSON.parse(Buffer.concat(parts).toString()), e.header.name).records.length;
    }
    assert.equal(archive.records, expected);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"document": ');
    await assert.rejects(runUpdater(store, rhelVexUpdater, bad), { code: 'bad-feed', message: /bad\.json/ });
    const truncated = join(dir, 'cut.tar.zst');
    writeFileSync(truncated, readFileSync(`${vex}/claircore/server/csaf_vex_2023-10-31.tar.zst`).subarray(0, 3000));
    await assert.rejects(runUpdater(store, rhelVexUpdater, truncated), { code: 'bad-feed' });
    await assert.rejects(runUpdater(store, rhelVexUpdater, join(dir, 'no-such-mirror')), { code: 'not-found', message: /changes\.csv/ });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rhel-vex: changes.csv lines and document names', () => {
  assert.deepEqual(parseChangesCsv('"2023/cve-2023-0030.json","2023-12-05T15:28:00+00:00"\n2024/cve-2024-1.json,2024-01-01T00:00:00Z\n', 'c'), [
    { path: '2023/cve-2023-0030.json', time: new Date('2023-12-05T15:28:00Z') },
    { path: '2024/cve-2024-1.json', time: new Date('2024-01-01T00:00:00Z') },
  ]);
  assert.throws(() => parseChangesCsv('2023/x.json\n', 'changes.csv'), { code: 'bad-feed', message: /changes\.csv line 1/ });
  assert.throws(() => parseChangesCsv('a,not-a-date\n', 'changes.csv'), { code: 'bad-feed' });
  assert.equal(documentNameOfPath('2023/cve-2023-0030.json'), 'CVE-2023-0030');
});
