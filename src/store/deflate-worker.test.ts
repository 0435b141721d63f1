import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { newVulnerability, type Vulnerability } from '../model/vulnerability.ts';
import { runUpdater } from '../updater/run-updater.ts';
import type { Updater } from '../updater/updater.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { encodeText } from './stored-text.ts';
import { BatchDeflate, deflatePacks, deflatePacksAsync, deflateSettings, deflateWorker, PACK_WORKER_MIN, reusedDeflate, TextsAhead } from './deflate-worker.ts';
import { deflateRawSync } from 'node:zlib';
import { PACK_DEFLATE_OPTIONS } from './vulnerability-pack.ts';
import { TEXT_DEFLATE_OPTIONS } from './stored-text.ts';
import { deflatePack } from './vulnerability-pack.ts';

const texts = (n: number, tag = '') => Array.from({ length: n }, (_, i) =>
  JSON.stringify([`${tag}issue ${i}: a flaw allows remote attackers to cause a denial of service ɸ 漢字 🙂 `.repeat(1 + (i % 5)), 'https://security-tracker.debian.org/tracker/\u0001']));

test('deflate worker: the worker gives encodeText\'s bytes, started on first use', async () => {
  const ts = [...texts(700), '[0,0]', JSON.stringify(['x'.repeat(100_000), 0])];
  const started = deflateWorker.started;
  const got = await deflateWorker.deflate(ts);
  assert.ok(deflateWorker.running);
  assert.ok(deflateWorker.started <= started + 1);
  assert.equal(got.length, ts.length);
  ts.forEach((t, i) => assert.deepEqual(got[i], encodeText(t), `text ${i}`));
  assert.deepEqual(await deflateWorker.deflate([]), []);
});

test('deflate worker: one zlib stream reset between items gives each item deflateRawSync\'s bytes', () => {
  // Items of every size in one sequence: empty, small, and outputs of several chunkSize buffers (incompressible).
  let seed = 1;
  const noise = (n: number) => Array.from({ length: n }, () => String.fromCharCode(33 + ((seed = (seed * 48271) % 2147483647) % 90))).join('');
  const items = ['', ...texts(200), noise(50_000), '[0,0]', 'x'.repeat(100_000), noise(4096), ...texts(50, 'after ')];
  for (const options of [TEXT_DEFLATE_OPTIONS, PACK_DEFLATE_OPTIONS, {}]) {
    const deflate = reusedDeflate(options);
    items.forEach((s, i) => assert.deepEqual(deflate(s), deflateRawSync(s, options), `item ${i}`));
    assert.equal(deflate.fresh, 0, 'every item on the one stream');
  }
});

test('deflate worker: a writer with few new texts never asks the worker; with enough, its texts come back deflated', async () => {
  const few = new TextsAhead();
  const before = deflateWorker.requests;
  const small = texts(deflateSettings.minTexts - 1, 'few ');
  small.forEach((t, i) => few.add(`h${i}`, t));
  await few.settle();
  assert.equal(deflateWorker.requests, before, 'below the minimum, nothing goes to the worker');
  small.forEach((t, i) => assert.deepEqual(few.take(`h${i}`, t), encodeText(t)));
  const batch = new BatchDeflate();
  assert.deepEqual(await batch.deflate(small.slice(0, 10)), small.slice(0, 10).map(encodeText));
  assert.equal(deflateWorker.requests, before);

  const many = new TextsAhead();
  const big = texts(deflateSettings.minTexts + 300, 'many ');
  big.forEach((t, i) => many.add(`h${i}`, t));
  assert.ok(many.unstored('h0') && many.seen('h0'));
  await many.settle();
  assert.ok(deflateWorker.requests > before);
  // take() of a text deflated ahead hands over the worker's bytes (another text under that hash would show it).
  assert.deepEqual(many.take('h5', 'not the text'), encodeText(big[5]!));
  assert.equal(many.unstored('h5'), false);
  assert.deepEqual(many.take('h5', big[5]!), encodeText(big[5]!), 'taken once; deflated here after');
});

test('deflate worker: a worker that dies fails its requests, writers deflate those texts themselves, the next request starts another', async () => {
  await deflateWorker.deflate(['[0,0]']);
  const started = deflateWorker.started;
  const ahead = new TextsAhead(1);
  const ts = texts(3000, 'dies ');
  ts.forEach((t, i) => ahead.add(`h${i}`, t));
  const inFlight = deflateWorker.deflate(ts);
  await deflateWorker.terminate();
  await assert.rejects(inFlight, /deflate worker exited/);
  await ahead.settle(); // never rejects
  ts.forEach((t, i) => assert.deepEqual(ahead.take(`h${i}`, t), encodeText(t)));
  assert.equal(deflateWorker.running, false);
  assert.deepEqual(await deflateWorker.deflate([ts[0]!]), [encodeText(ts[0]!)]);
  assert.equal(deflateWorker.started, started + 1);
});

const packsOf = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({
  i, lines: Array.from({ length: 1 + (i % 7) }, (_, j) => `"pkg${i}"\t"CVE-2099-${tag}${i}-${j}"\t${i + j}\t["","high","High","1.${j}"]`),
}));

test('deflate worker: packs deflated on the worker, in order, the next slice while the last is stored; the same bytes', async () => {
  const packs = packsOf(PACK_WORKER_MIN + 700, 'a');
  const requests = deflateWorker.requests;
  const got: { i: number; data: Buffer }[] = [];
  deflatePacks(packs, packs.length, (p, data) => got.push({ i: p.i, data }));
  assert.ok(deflateWorker.requests > requests + 1, 'in several requests to the worker');
  assert.deepEqual(got.map((g) => g.i), packs.map((p) => p.i));
  got.forEach((g) => assert.deepEqual(g.data, deflatePack(packs[g.i]!.lines), `pack ${g.i}`));
  const small = packsOf(3, 'b');
  assert.deepEqual(await deflatePacksAsync(small.map((p) => p.lines)), small.map((p) => deflatePack(p.lines)));
  assert.deepEqual(await deflatePacksAsync(packs.map((p) => p.lines)), packs.map((p) => deflatePack(p.lines)));
});

test('deflate worker: packs whose bytes are not back are deflated here: a dead worker costs no wait', async () => {
  const packs = packsOf(PACK_WORKER_MIN, 'c');
  const expected = packs.map((p) => deflatePack(p.lines));
  await deflateWorker.deflate(['[0,0]']);
  // Ended, and the main thread not told yet (its exit event waits for the event loop): no answer ever comes.
  const terminated = deflateWorker.terminate();
  const got: Buffer[] = [];
  deflatePacks(packs, packs.length, (_, data) => got.push(data));
  await terminated;
  assert.deepEqual(got, expected);
  // Once its exit is known, the next request starts another worker.
  const again: Buffer[] = [];
  deflatePacks(packs, packs.length, (_, data) => again.push(data));
  assert.deepEqual(again, expected);
  assert.ok(deflateWorker.running);
});

const record = (i: number) => newVulnerability({
  updater: 'demo', name: `CVE-2099-${i}`, description: `issue ${i} allows remote attackers to cause a denial of service`,
  package: { name: `pkg${i % 300}`, kind: 'source', module: '', arch: '' },
  dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: 'Debian GNU/Linux', version: '', prettyName: '', arch: '' },
  fixedInVersion: `1.${i}`, versionScheme: 'dpkg',
});

function updater(n: number, during?: (i: number) => Promise<void>): Updater {
  return {
    name: 'demo', version: '1', defaultLocation: '',
    async *parse(feed): AsyncIterable<Vulnerability> {
      for await (const _ of feed) void _;
      for (let i = 0; i < n; i++) {
        if (during) await during(i);
        yield record(i);
      }
    },
  };
}

/** The stored texts and packs, as counts and a digest of every row (a diff of thousands of rows is slow to print). */
function storedRows(path: string): { texts: number; packs: number; digest: string } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const texts = db.prepare('SELECT id, hex(hash) AS h, hex(data) AS d, refs FROM vuln_text ORDER BY id').all();
    const packs = db.prepare('SELECT id, bucket, context_id, hex(data) AS d FROM vuln_pack ORDER BY id').all();
    return { texts: texts.length, packs: packs.length, digest: createHash('sha256').update(JSON.stringify([texts, packs])).digest('hex') };
  } finally {
    db.close();
  }
}

test('deflate worker: SQLite stores the same rows when the worker dies mid-feed, and when its budget drains mid-feed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-deflate-worker-'));
  try {
    const feed = join(dir, 'feed');
    writeFileSync(feed, 'x');
    const ingest = async (name: string, u: Updater, packBufferBytes?: number) => {
      const s = SqliteStore.open(join(dir, name), { packBufferBytes });
      try {
        const r = await runUpdater(s, u, feed);
        assert.equal(r.operation?.count, 6000);
      } finally {
        await s.close();
      }
      return storedRows(join(dir, name));
    };
    // The reference: every text deflated at write, as before the worker.
    deflateSettings.minTexts = Infinity;
    await deflateWorker.terminate();
    const started = deflateWorker.started;
    let plain, drained;
    try {
      plain = await ingest('plain.db', updater(6000));
      drained = await ingest('drained.db', updater(6000), 200_000);
    } finally {
      deflateSettings.minTexts = 1000;
    }
    assert.equal(deflateWorker.started, started, 'the worker was not used (300 packs a write: too few for it)');
    assert.equal(plain.texts, 6000);
    const killed = await ingest('killed.db', updater(6000, async (i) => {
      if (i === 2500 || i === 4500) await deflateWorker.terminate();
    }));
    assert.deepEqual(killed, plain);
    // Drains mid-feed cut packs where they always did (the bytes held), whatever the worker's pace.
    assert.ok(drained.packs > plain.packs, 'the budget drained mid-feed');
    assert.deepEqual(await ingest('drained-a.db', updater(6000), 200_000), drained);
    assert.deepEqual(await ingest('drained-b.db', updater(6000, async (i) => {
      if (i % 700 === 0) await new Promise((r) => setTimeout(r, 5));
    }), 200_000), drained);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deflate worker: a process that aborts or commits a feed using the worker exits by itself, the abort leaving no rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-deflate-worker-'));
  try {
    const script = `
      import { writeFileSync } from 'node:fs';
      import { SqliteStore } from ${JSON.stringify(new URL('./sqlite/sqlite-store.ts', import.meta.url).href)};
      import { deflateWorker } from ${JSON.stringify(new URL('./deflate-worker.ts', import.meta.url).href)};
      const s = SqliteStore.open(process.argv[2]);
      const w = await s.beginUpdateOperation('demo');
      const v = (i) => ({ updater: 'demo', name: 'CVE-2099-' + i, description: 'issue ' + i, package: { name: 'pkg' + (i % 50), kind: 'source' },
        dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: '', version: '', prettyName: '', arch: '' },
        repo: { name: '', key: '', uri: '', cpe: '' }, range: {}, fixedInVersion: '1.' + i, versionScheme: 'dpkg' });
      for (let b = 0; b < 4; b++) await w.add(Array.from({ length: 1000 }, (_, i) => v(b * 1000 + i)));
      if (!deflateWorker.running) throw new Error('the worker was not used');
      if (process.argv[3] === 'abort') await w.abort(); else await w.commit('fp');
      await s.close();
    `;
    // A file, not `-e`: a script given with -e ends the process when it has run, whatever keeps the loop alive.
    const child = join(dir, 'child.mjs');
    writeFileSync(child, script);
    for (const how of ['abort', 'commit']) {
      const db = join(dir, `${how}.db`);
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        execFile(process.execPath, [child, db, how], { timeout: 30_000 }, (err, _out, stderr) => (err ? reject(new Error(`${how}: ${err.message} ${stderr}`)) : resolve()));
      });
      // Well under the worker's idle time (10 s): it does not hold the process.
      assert.ok(performance.now() - t0 < 8000, `${how}: exited after ${performance.now() - t0} ms`);
      const rows = storedRows(db);
      if (how === 'abort') assert.deepEqual([rows.texts, rows.packs], [0, 0]);
      else assert.equal(rows.texts, 4000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
