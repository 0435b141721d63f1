import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { apk, apk3, compareApkTokens, compareApkVersions, isValidApkVersion, parseApkVersion } from './apk3.ts';
import { isClairError } from '../model/errors.ts';

// testdata/apk3-vectors.tsv: real Alpine/Wolfi versions and generated ones, answered by apk-tools' own
// version.c compiled locally (see the header of testdata/apk-vectors.tsv; Debian has no apk-tools package).

test('apk: every pair in apk-vectors.tsv matches apk-tools version.c', () => {
  const vectors = readVectors('apk3-vectors.tsv', 5);
  assert.ok(vectors.length > 3000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [a = '', b = '', want, validA, validB] of vectors) {
    if (String(Number(isValidApkVersion(a))) !== validA) failures.push(`validate(${a}): want ${validA}`);
    if (String(Number(isValidApkVersion(b))) !== validB) failures.push(`validate(${b}): want ${validB}`);
    const raw = compareApkTokens(a, b);
    if (String(raw) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${raw}`);
    // apk compares invalid versions too (apk version -t does not validate): the scheme answers as apk does.
    if (apk3.compare(a, b) !== raw) failures.push(`apk3.compare(${a}, ${b}) differs from the token walk`);
    if (validA === '1' && validB === '1') {
      if (compareApkTokens(b, a) !== (raw === 0 ? 0 : -raw)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
    } else {
      assert.throws(() => compareApkVersions(a, b), (e: unknown) => isClairError(e) && e.code === 'bad-input');
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
    assert.throws(() => compareApkVersions(v, '1.0'), /invalid apk version/);
    assert.equal(typeof apk.compare(v, '1.0'), 'number');
  }
  for (const v of ['1', '1.2.3-r4', '1.0a_rc1_p2~1a2b-r3', '2.4.35-r0', '1.0_alpha_beta']) assert.equal(apk.isValid(v), true, v);
  assert.equal(compareApkTokens('3.6.9', '3.6', true), 0);
  assert.equal(compareApkTokens('3.6.9', '3.6'), 1);
  assert.deepEqual(parseApkVersion('1.2.3-r4'), { version: '1.2.3', revision: 4 });
  assert.deepEqual(parseApkVersion('1.2.3'), { version: '1.2.3', revision: undefined });
});

test('apk3: "apk" is apk3 under its old id', () => {
  assert.equal(apk.id, 'apk');
  assert.equal(apk3.id, 'apk3');
  assert.equal(apk.compare('1.0', '1.00'), -1);
  assert.equal(apk.compare('5.1p1-r0', '5.1-r0'), 1); // invalid for apk 3, still compared as apk does
});
