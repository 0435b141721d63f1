import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { rpm, compareEVR, compareEVRReleaseOptional, formatEVR, parseEVR, rpmvercmp, rpmverCmp } from './rpm.ts';
import { isClairError } from '../model/errors.ts';

// testdata/rpm-vectors.tsv: real EVRs (rpm databases, OVAL feeds), claircore's rpmvercmp cases and generated
// tricky strings, ordered by librpm 4.18 itself (scripts/gen-rpm-vectors.ts says how).

test('rpm: every pair in rpm-vectors.tsv orders as librpm does', () => {
  const vectors = readVectors('rpm-vectors.tsv', 5);
  assert.ok(vectors.length > 3000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  let checkedEVR = 0;
  for (const [a = '', b = '', raw, whole, overlap] of vectors) {
    const gotRaw = rpmvercmp(a, b);
    if (String(gotRaw) !== raw) failures.push(`rpmvercmp(${a}, ${b}): want ${raw}, got ${gotRaw}`);
    if (rpmvercmp(b, a) !== (gotRaw === 0 ? 0 : -gotRaw)) failures.push(`rpmvercmp(${a}, ${b}) not antisymmetric`);
    if (!rpm.isValid(a) || !rpm.isValid(b)) {
      assert.throws(() => rpm.compare(a, b), (e: unknown) => isClairError(e) && e.code === 'bad-input');
      continue;
    }
    checkedEVR++;
    const got = rpm.compare(a, b);
    if (String(got) !== whole) failures.push(`compare(${a}, ${b}): want ${whole}, got ${got}`);
    if (rpmverCmp(a, b) !== got) failures.push(`rpmverCmp(${a}, ${b}) differs from compare`);
    const gotOverlap = compareEVRReleaseOptional(a, b);
    if (String(gotOverlap) !== overlap) failures.push(`compareEVRReleaseOptional(${a}, ${b}): want ${overlap}, got ${gotOverlap}`);
    if (rpm.compare(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
    if (compareEVR(parseEVR(a), parseEVR(b)) !== got) failures.push(`compareEVR(${a}, ${b}) differs from compare`);
  }
  assert.ok(checkedEVR > 3000, `only ${checkedEVR} valid EVR pairs`);
  assert.deepEqual(failures.slice(0, 20), []);
});

test('rpm: rpmvercmp edge cases', () => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['1.0~rc1', '1.0', -1], // '~' sorts before the end
    ['1.0~rc1~git', '1.0~rc1', -1],
    ['1.0^', '1.0', 1], // '^' sorts after the end…
    ['1.0^git1', '1.0.1', -1], // …but before any further segment
    ['1.0~rc1^git1', '1.0~rc1', 1],
    ['1.0a', '1.0.a', 0], // separators only split segments
    ['1_0', '1.0', 0],
    ['1.0', '1.0.0', -1],
    ['10.0001', '10.1', 0], // leading zeros ignored
    ['1.0a', '1.0.1', -1], // numeric segments are newer than alpha ones
    ['a', 'B', 1], // strcmp: lowercase after uppercase
    ['99999999999999999999999999999', '99999999999999999999999999998', 1],
    ['1.0', '1.0.', 0], // trailing separators are skipped…
    ['1.0', '1.0a', -1], // …but a side with a segment left over wins
    ['', '~', 1],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(rpmvercmp(a, b), want, `${a} vs ${b}`);
    assert.equal(rpmvercmp(b, a), want === 0 ? 0 : -want, `${b} vs ${a}`);
  }
});

test('rpm: EVR comparison and the missing-release rule', () => {
  const cases: Array<[string, string, -1 | 0 | 1, -1 | 0 | 1]> = [
    // a, b, compare (rpmverCmp), compareEVRReleaseOptional (rpmverOverlap: a missing release matches any)
    ['1:1.0-1', '2.0-1', 1, 1],
    ['0:1.0-1', '1.0-1', 0, 0],
    [':1.0-1', '1.0-1', 0, 0], // empty epoch is 0
    ['01:1.0', '1:1.0', 0, 0],
    ['4294967296:1', '4294967295:1', 1, 1],
    ['1.0', '1.0-1', -1, 0], // a missing release sorts before any release…
    ['1.0', '1.0-~1', -1, 0], // …even one starting with '~'
    ['1.0-1', '1.0-2', -1, -1],
    ['1.0-1.el8', '1.0-1.el8_1', -1, -1],
    ['1.2.3-4.el8', '1.2.3-4.el8', 0, 0],
  ];
  for (const [a, b, want, wantRpm] of cases) {
    assert.equal(rpm.compare(a, b), want, `compare ${a} vs ${b}`);
    assert.equal(rpm.compare(b, a), want === 0 ? 0 : -want, `compare ${b} vs ${a}`);
    assert.equal(compareEVRReleaseOptional(a, b), wantRpm, `release-optional ${a} vs ${b}`);
  }
});

test('rpm: isValid and parseEVR', () => {
  for (const v of ['', '1.0-', '1:', '-1', ':', '1.0 -1', '1.0\t', 'a\u0001']) {
    assert.equal(rpm.isValid(v), false, JSON.stringify(v));
    assert.throws(() => rpm.compare(v, '1.0'), (e: unknown) => isClairError(e) && e.code === 'bad-input');
    assert.throws(() => parseEVR(v), /invalid rpm version/);
  }
  const parsed: Array<[string, { epoch: number; version: string; release: string | undefined }]> = [
    ['1.0', { epoch: 0, version: '1.0', release: undefined }],
    ['2:1.0-3.el8', { epoch: 2, version: '1.0', release: '3.el8' }],
    ['1.0-1-2', { epoch: 0, version: '1.0-1', release: '2' }], // the last '-' starts the release
    ['a:1', { epoch: 0, version: 'a:1', release: undefined }], // not a digit epoch: part of the version
    [':1.0', { epoch: 0, version: '1.0', release: undefined }],
  ];
  for (const [v, want] of parsed) {
    assert.equal(rpm.isValid(v), true, v);
    assert.deepEqual(parseEVR(v), want, v);
  }
  assert.equal(formatEVR(parseEVR('2:1.0-3.el8')), '2:1.0-3.el8');
  assert.equal(formatEVR(parseEVR('0:1.0')), '1.0');
});
