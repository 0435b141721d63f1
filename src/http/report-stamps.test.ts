import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReportStampBatcher } from './report-stamps.ts';

/** A reader whose reads the test ends one at a time; the "database" is `version`, read when a read begins. */
function manualReader() {
  let version = 0;
  const reads: { hashes: string[]; finish: () => void }[] = [];
  const read = (hashes: string[]) => {
    const seen = version;
    return new Promise<{ operations: string; indexReports: (string | undefined)[] }>((resolve) => {
      reads.push({ hashes, finish: () => resolve({ operations: `ops-${seen}`, indexReports: hashes.map((h) => (h === 'missing' ? undefined : `${h}@${seen}`)) }) });
    });
  };
  return { read, reads, bump: () => version++ };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('requests of the same event loop turn share one read, begun after the last of them', async () => {
  const r = manualReader();
  const b = new ReportStampBatcher(r.read);
  const first = b.get('a');
  assert.equal(r.reads.length, 0, 'not begun in the call: the rest of the turn may bring more');
  r.bump(); // a commit after the first request arrived, before the turn's last
  const second = b.get('b');
  await turn();
  assert.equal(r.reads.length, 1);
  assert.deepEqual(r.reads[0]!.hashes, ['a', 'b']);
  r.reads[0]!.finish();
  assert.deepEqual(await Promise.all([first, second]), [
    { operations: 'ops-1', indexReport: 'a@1' },
    { operations: 'ops-1', indexReport: 'b@1' },
  ], 'the read began after both arrived: both see the commit');
});

test('requests waiting while a read is in flight share the next read, one per batch', async () => {
  const r = manualReader();
  const b = new ReportStampBatcher(r.read);
  const first = b.get('a');
  await turn();
  assert.equal(r.reads.length, 1);
  // These arrive while the first read is in flight: they must not be answered by it.
  const later = [b.get('a'), b.get('b'), b.get('missing'), b.get('b')];
  assert.equal(r.reads.length, 1, 'no second read while one is in flight');
  r.bump(); // a commit after the first read began, before the later requests' read
  r.reads[0]!.finish();
  assert.deepEqual(await first, { operations: 'ops-0', indexReport: 'a@0' });
  await turn();
  assert.equal(r.reads.length, 2);
  assert.deepEqual(r.reads[1]!.hashes, ['a', 'b', 'missing'], 'one read for the whole batch, each manifest once');
  r.reads[1]!.finish();
  assert.deepEqual(await Promise.all(later), [
    { operations: 'ops-1', indexReport: 'a@1' },
    { operations: 'ops-1', indexReport: 'b@1' },
    { operations: 'ops-1', indexReport: undefined },
    { operations: 'ops-1', indexReport: 'b@1' },
  ], 'answered by a read that began after they arrived: the commit is seen');
  assert.equal(r.reads.length, 2, 'nothing left to read');
});

test('a failed read fails its batch only', async () => {
  let calls = 0;
  const b = new ReportStampBatcher(async (hashes) => {
    if (calls++ === 0) throw new Error('connection lost');
    return { operations: 'ops', indexReports: hashes.map(() => 'x') };
  });
  await assert.rejects(b.get('a'), /connection lost/);
  assert.deepEqual(await b.get('a'), { operations: 'ops', indexReport: 'x' });
});
