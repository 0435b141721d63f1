import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confinedFeedPath, parseFeedJson, urlUnderFeedBase } from '../../src/updater/feed-location.ts';
import { runUpdater } from '../../src/updater/run-updater.ts';
import { rhelVexUpdater } from '../../src/ecosystems/rhel/updater.ts';
import { writeVexMirror } from '../../src/ecosystems/rhel/testdata/vex-mirror-builder.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { runCli } from '../support/run-cli.ts';

// Issue #18, items 7 and 14: feed paths confined to the feed's base; a feed with no records refused unless allowed.

test('#18.7 only plain relative paths inside a feed are accepted', () => {
  for (const ok of ['2023/cve-2023-0030.json', './2023/cve-2023-0030.json', 'archive_latest.txt', 'csaf_vex_2025-06-01.tar.zst']) {
    assert.equal(confinedFeedPath(ok, 's'), ok.replace(/^\.\//, ''));
  }
  for (const bad of [
    '../../../../etc/passwd', '/etc/passwd', '2023/../../x.json', 'https://evil.example/x.json', '//evil.example/x.json',
    'file:///etc/passwd', '2023/%2e%2e/%2e%2e/x', 'a\\..\\b', '', '.', '2023//x.json', 'x\u0000.json', 'x\u001b[2J.json', 'C:/x',
  ]) {
    assert.throws(() => confinedFeedPath(bad, 'src'), (e: Error & { code?: string }) => e.code === 'bad-feed' && !/[\u0000-\u001f]/.test(e.message), bad);
  }
  assert.equal(urlUnderFeedBase('https://mirror.example/vex', '2023/a.json', 's'), 'https://mirror.example/vex/2023/a.json');
});

test('#18.7 a local rhel-vex mirror cannot read host files: ../ entries and symlinks out are refused, nothing echoed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harden-vex-'));
  const store = SqliteStore.open(':memory:');
  try {
    const secret = join(dir, 'secret.json');
    writeFileSync(secret, 'root:x:0:0:SECRET-CONTENT');
    const mirror = join(dir, 'mirror');
    await writeVexMirror(mirror, { archiveDate: '2026-03-01', archived: {}, changes: [['../secret.json', '2026-03-02T00:00:00Z']] });
    await assert.rejects(runUpdater(store, rhelVexUpdater, mirror), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'bad-feed');
      assert.match(e.message, /changes\.csv line 1: "\.\.\/secret\.json" is not a path inside the feed; refused/);
      return true;
    });
    // A symlink inside the mirror that leads out of it.
    await writeVexMirror(mirror, { archiveDate: '2026-03-01', archived: {}, changes: [['2026/cve-2026-1.json', '2026-03-02T00:00:00Z']] });
    rmSync(join(mirror, '2026'), { recursive: true, force: true });
    symlinkSync(dir, join(mirror, '2026'));
    writeFileSync(join(dir, 'cve-2026-1.json'), 'root:x:0:0:SECRET-CONTENT');
    await assert.rejects(runUpdater(store, rhelVexUpdater, mirror), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'bad-feed');
      assert.match(e.message, /leads outside the feed folder/);
      assert.doesNotMatch(e.message, /SECRET/);
      return true;
    });
    assert.equal((await store.listUpdateOperations()).length, 0);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('#18.7 an HTTP rhel-vex mirror is never sent to another host by changes.csv', async () => {
  const store = SqliteStore.open(':memory:');
  const asked: string[] = [];
  const files: Record<string, string> = {
    'changes.csv': '"https://evil.example/steal.json","2026-03-02T00:00:00Z"\n',
    'deletions.csv': '',
    'archive_latest.txt': 'csaf_vex_2026-03-01.tar.zst',
  };
  const fakeFetch = (async (url: string | URL) => {
    asked.push(String(url));
    const rel = String(url).replace('https://mirror.example/vex/', '');
    return files[rel] !== undefined ? new Response(files[rel]) : new Response('nope', { status: 404 });
  }) as typeof fetch;
  try {
    await assert.rejects(runUpdater(store, rhelVexUpdater, 'https://mirror.example/vex/', { fetch: fakeFetch }), { code: 'bad-feed' });
    assert.ok(asked.every((u) => u.startsWith('https://mirror.example/vex/')), asked.join(' '));
    files['changes.csv'] = '"2023/%2e%2e/%2e%2e/admin","2026-03-02T00:00:00Z"\n';
    await assert.rejects(runUpdater(store, rhelVexUpdater, 'https://mirror.example/vex/', { fetch: fakeFetch }), { code: 'bad-feed' });
    assert.ok(asked.every((u) => u.startsWith('https://mirror.example/vex/')), asked.join(' '));
  } finally {
    await store.close();
  }
});

test('#18.7 a feed document that is not JSON is an error that does not quote it', () => {
  assert.throws(() => parseFeedJson('root:x:0:0:SECRET-CONTENT\n', 'feed x.json'), (e: Error) => {
    assert.match(e.message, /^feed x\.json: not JSON/);
    assert.doesNotMatch(e.message, /root|SECRET/);
    return true;
  });
});

test('#18.14 a feed with no records is refused unless --allow-empty; the stored data stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harden-empty-'));
  try {
    const db = join(dir, 'db.sqlite');
    const feed = join(dir, 'tracker.json');
    writeFileSync(feed, JSON.stringify({ bash: { 'CVE-2024-0001': { releases: { bookworm: { status: 'resolved', fixed_version: '5.2-1', urgency: 'low' } } } } }));
    const first = await runCli(db, ['update', '--source', `debian=${feed}`]);
    assert.equal(first.code, 0, first.err);
    writeFileSync(feed, '{}');
    const refused = await runCli(db, ['update', '--source', `debian=${feed}`]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /debian feed .* holds no records; refused, the stored data is kept \(allow it with --allow-empty\)/);
    const forced = await runCli(db, ['update', '--source', `debian=${feed}`, '--allow-empty']);
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.out, /with 0 records/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
