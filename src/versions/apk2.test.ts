import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { apk2, compareApk2, isValidApk2Version } from './apk2.ts';
import { apk3 } from './apk3.ts';

// testdata/apk2-vectors.tsv: apk-tools 2.14's own version.c, compiled locally, on the same pairs as apk3's plus more
// (see its header; Debian has no apk-tools package).

test('apk2: every pair in apk2-vectors.tsv matches apk-tools 2.14 version.c', () => {
  const vectors = readVectors('apk2-vectors.tsv', 5);
  assert.ok(vectors.length >= 6000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  let invalid = 0;
  for (const [a = '', b = '', want, validA, validB] of vectors) {
    if (String(Number(isValidApk2Version(a))) !== validA) failures.push(`validate(${a}): want ${validA}`);
    if (String(Number(isValidApk2Version(b))) !== validB) failures.push(`validate(${b}): want ${validB}`);
    const got = apk2.compare(a, b);
    if (String(got) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${got}`);
    if (validA === '1' && validB === '1') {
      if (compareApk2(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
    } else invalid++;
  }
  assert.ok(invalid > 100, `only ${invalid} pairs with an invalid version`);
  assert.deepEqual(failures.slice(0, 20), []);
});

test('apk2 and apk3 differ on leading zeros and letters followed by digits', () => {
  const cases: Array<[string, string, -1 | 0 | 1, -1 | 0 | 1]> = [
    // a, b, apk2, apk3
    ['1.0', '1.00', 1, -1],
    ['1.01', '1.1', -1, -1],
    ['1.00.2o-r0', '1.0.2o-r0', -1, 1],
    ['5.1p1-r0', '5.1-r0', 1, 1],
    ['1.0_rc1', '1.0', -1, -1],
    ['1.0', '1.0-r0', -1, -1],
  ];
  for (const [a, b, want2, want3] of cases) {
    assert.equal(apk2.compare(a, b), want2, `apk2 ${a} vs ${b}`);
    assert.equal(apk2.compare(b, a), -want2 || 0, `apk2 ${b} vs ${a}`);
    assert.equal(apk3.compare(a, b), want3, `apk3 ${a} vs ${b}`);
  }
  assert.equal(apk2.isValid('5.1p1-r0'), true);
  assert.equal(apk3.isValid('5.1p1-r0'), false);
  assert.equal(apk2.isValid('1.0-1'), false);
  assert.equal(compareApk2('3.6.9', '3.6', true), 0);
  assert.equal(apk2.compare('123456789012345678', '1'), -1); // 18 digits: invalid, and the walk stops there
});
