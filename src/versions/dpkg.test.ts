import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import {
  dpkg,
  compareDpkgFragment,
  compareDpkgVersions,
  dpkgVersionProblem,
  isStrictDpkgVersion,
  parseDpkgVersion,
} from './dpkg.ts';
import { isClairError } from '../model/errors.ts';

// testdata/dpkg-vectors.tsv: real Debian versions paired and ordered by dpkg 1.21 itself
// (scripts/gen-dpkg-vectors.ts says how).

test('dpkg: every pair in dpkg-vectors.tsv orders as dpkg --compare-versions does', () => {
  const vectors = readVectors('dpkg-vectors.tsv', 3);
  assert.ok(vectors.length > 4000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [a = '', b = '', want] of vectors) {
    if (want === '!') {
      if (dpkg.isValid(a) && dpkg.isValid(b)) failures.push(`${a} ? ${b}: dpkg rejects one, we accept both`);
      assert.throws(() => dpkg.compare(a, b), (e: unknown) => isClairError(e) && e.code === 'bad-input');
      continue;
    }
    if (!dpkg.isValid(a) || !dpkg.isValid(b)) {
      failures.push(`${a} ? ${b}: dpkg accepts both, we reject one`);
      continue;
    }
    const got = dpkg.compare(a, b);
    if (String(got) !== want) failures.push(`${a} ? ${b}: want ${want}, got ${got}`);
    const back = dpkg.compare(b, a);
    if (back !== -got) failures.push(`${a} ? ${b}: not antisymmetric (${got} / ${back})`);
    if (compareDpkgVersions(parseDpkgVersion(a), parseDpkgVersion(b)) !== got) {
      failures.push(`${a} ? ${b}: parsed compare differs from string compare`);
    }
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('dpkg: ordering edge cases', () => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['1.0~rc1', '1.0', -1], // '~' sorts before the end
    ['1.0~~', '1.0~', -1],
    ['1.0~', '1.0', -1],
    ['1.0', '1.0+b1', -1],
    ['1.0a', '1.0+', -1], // letters before non-letters
    ['1.0A', '1.0a', -1], // ASCII order among letters
    ['1.0', '1.00', 0], // digit runs numerically
    ['1.01', '1.1', 0],
    ['0:1.0', '1.0', 0], // missing epoch is 0
    ['1:0.1', '2.0', 1],
    ['10:1', '9:2', 1],
    ['1.0', '1.0-0', 0], // missing revision compares as empty, and "0" is equal to it
    ['1.0-1', '1.0', 1],
    ['1:2:3-4', '1:2:3-5', -1], // colons allowed after the epoch
    ['1:2-3-4', '1:2-3-5', -1], // the last hyphen starts the revision
    ['99999999999999999999999', '99999999999999999999998', 1], // no integer overflow
    ['00000000000000000000001', '1', 0],
    [' 1.0 ', '1.0', 0], // surrounding blanks are trimmed
    ['1.0é', '1.0e', 1], // UTF-8 bytes sort after letters…
    ['1.0é', '1.0+', -1], // …but before ASCII punctuation (signed char in dpkg)
  ];
  for (const [a, b, want] of cases) {
    assert.equal(dpkg.compare(a, b), want, `${a} vs ${b}`);
    assert.equal(dpkg.compare(b, a), want === 0 ? 0 : -want, `${b} vs ${a}`);
  }
});

test('dpkg: isValid rejects what dpkg refuses and accepts what it only warns about', () => {
  const invalid: Array<[string, string]> = [
    ['', 'version string is empty'],
    ['   ', 'version string is empty'],
    ['1.0 a', 'version string has embedded spaces'],
    [':1.0', 'epoch in version is empty'],
    ['x:1.0', 'epoch in version is empty'],
    ['1.0:1', 'epoch in version is not number'],
    ['-1:1.0', 'epoch in version is negative'],
    ['2147483648:1', 'epoch in version is too big'],
    ['1:', 'nothing after colon in version number'],
    ['1.0-', 'revision number is empty'],
    ['1:-1', 'version number is empty'],
  ];
  for (const [v, message] of invalid) {
    assert.equal(dpkg.isValid(v), false, v);
    assert.deepEqual(dpkgVersionProblem(v), { level: 'error', message }, v);
    assert.throws(() => dpkg.compare(v, '1.0'), (e: unknown) => isClairError(e) && e.code === 'bad-input' && e.message.includes(message));
    assert.throws(() => parseDpkgVersion(v), /invalid dpkg version/);
  }
  const warned: Array<[string, string]> = [
    ['a1.0', 'version number does not start with digit'],
    ['1.0_1', 'invalid character in version number'],
    ['1.0-a_b', 'invalid character in revision number'],
    ['1:1.0-1=2', 'invalid character in revision number'],
  ];
  for (const [v, message] of warned) {
    assert.equal(dpkg.isValid(v), true, v);
    assert.equal(isStrictDpkgVersion(v), false, v);
    assert.deepEqual(dpkgVersionProblem(v), { level: 'warning', message }, v);
  }
  for (const v of ['1.0', '1:2.30-1+deb12u1', '2147483647:1', '+1:1.0', '01:1.0', '1.0~rc1-0ubuntu1~22.04', '1:2:3-4']) {
    assert.equal(dpkg.isValid(v), true, v);
    assert.equal(isStrictDpkgVersion(v), true, v);
  }
});

test('dpkg: parseDpkgVersion splits as parseversion does', () => {
  const cases: Array<[string, { epoch: number; upstream: string; revision: string }]> = [
    ['1.0', { epoch: 0, upstream: '1.0', revision: '' }],
    ['1:2.30-1+deb12u1', { epoch: 1, upstream: '2.30', revision: '1+deb12u1' }],
    ['1:2-3-4', { epoch: 1, upstream: '2-3', revision: '4' }],
    ['1:2:3-4', { epoch: 1, upstream: '2:3', revision: '4' }],
    [' 2:1.0~rc1 ', { epoch: 2, upstream: '1.0~rc1', revision: '' }],
  ];
  for (const [v, want] of cases) assert.deepEqual(parseDpkgVersion(v), want, v);
});

test('dpkg: compareDpkgFragment is verrevcmp on one part', () => {
  assert.equal(compareDpkgFragment('', ''), 0);
  assert.equal(compareDpkgFragment('', '~'), 1);
  assert.equal(compareDpkgFragment('', '0'), 0);
  assert.equal(compareDpkgFragment('1+deb12u1', '1+deb12u2'), -1);
  assert.equal(compareDpkgFragment('a', ''), 1);
});
