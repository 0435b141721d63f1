import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { apk, compareApkTokens, isValidApkVersion, parseApkVersion } from './apk.ts';
import { isClairError } from '../model/errors.ts';

// testdata/apk-vectors.tsv: real Alpine/Wolfi versions and generated ones, answered by apk-tools' own
// version.c compiled locally (see the header of testdata/apk-vectors.tsv; Debian has no apk-tools package).

test('apk: every pair in apk-vectors.tsv matches apk-tools version.c', () => {
  const vectors = readVectors('apk-vectors.tsv', 5);
  assert.ok(vectors.length > 3000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [a = '', b = '', want, validA, validB] of vectors) {
    if (String(Number(isValidApkVersion(a))) !== validA) failures.push(`validate(${a}): want ${validA}`);
    if (String(Number(isValidApkVersion(b))) !== validB) failures.push(`validate(${b}): want ${validB}`);
    const raw = compareApkTokens(a, b);
    if (String(raw) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${raw}`);
    if (validA === '1' && validB === '1') {
      const got = apk.compare(a, b);
      if (got !== raw) failures.push(`apk.compare(${a}, ${b}) differs from the token walk`);
      if (apk.compare(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
    } else {
      assert.throws(() => apk.compare(a, b), (e: unknown) => isClairError(e) && e.code === 'bad-input');
    }
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('apk: ordering edge cases', () => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['1.0_alpha', '1.0_beta', -1],
    ['1.0_rc1', '1.0', -1], // pre-release suffixes sort before the bare version…
    ['1.0', '1.0_p1', -1], // …post-release ones after it
    ['1.0_git1', '1.0_p1', -1],
    ['1.0', '1.0-r0', -1],
    ['1.0-r1', '1.0-r10', -1],
    ['1.0a', '1.0b', -1],
    ['1.0a', '1.0.1', -1], // a further numeric part beats a letter
    ['1.01', '1.1', -1], // leading zero after '.': string comparison
    ['1.10', '1.010', 1],
    ['01.1', '1.1', 0], // the first part is always numeric
    ['1.0~abc', '1.0', 1],
    ['18446744073709551617', '2', -1], // uint64 wraparound, as in C
  ];
  for (const [a, b, want] of cases) {
    assert.equal(apk.compare(a, b), want, `${a} vs ${b}`);
    assert.equal(apk.compare(b, a), want === 0 ? 0 : -want, `${b} vs ${a}`);
  }
});

test('apk: isValid, fuzzy match and parseApkVersion', () => {
  for (const v of ['', 'a', '1.0-r', '1.0-1', '1.0_foo', '1.0A', '1.0ab', '1a2', '.1', '1.', '1.0~', '1.0-r1-r2']) {
    assert.equal(apk.isValid(v), false, v);
    assert.throws(() => apk.compare(v, '1.0'), /invalid apk version/);
  }
  for (const v of ['1', '1.2.3-r4', '1.0a_rc1_p2~1a2b-r3', '2.4.35-r0', '1.0_alpha_beta']) assert.equal(apk.isValid(v), true, v);
  assert.equal(compareApkTokens('3.6.9', '3.6', true), 0);
  assert.equal(compareApkTokens('3.6.9', '3.6'), 1);
  assert.deepEqual(parseApkVersion('1.2.3-r4'), { version: '1.2.3', revision: 4 });
  assert.deepEqual(parseApkVersion('1.2.3'), { version: '1.2.3', revision: undefined });
});
