import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { parsePep440, pypi } from './pypi.ts';
import { isClairError } from '../model/errors.ts';

// testdata/pypi-vectors.tsv: real PyPI versions (PyPA and GHSA records) answered by Debian's
// python3-packaging (scripts/gen-pypi-vectors.ts).

test('pypi: every pair in pypi-vectors.tsv matches packaging.version.Version', () => {
  const vectors = readVectors('pypi-vectors.tsv', 5);
  assert.ok(vectors.length > 5000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [a = '', b = '', want, validA, validB] of vectors) {
    if (String(Number(pypi.isValid(a))) !== validA) failures.push(`isValid(${JSON.stringify(a)}): want ${validA}`);
    if (String(Number(pypi.isValid(b))) !== validB) failures.push(`isValid(${JSON.stringify(b)}): want ${validB}`);
    if (want === '!') {
      assert.throws(() => pypi.compare(a, b), (e: unknown) => isClairError(e) && e.code === 'bad-input');
      continue;
    }
    const got = pypi.compare(a, b);
    if (String(got) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${got}`);
    if (pypi.compare(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('pypi: PEP 440 ordering examples', () => {
  // The PEP's own example order, plus normalisation.
  const order = ['1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456',
    '1.0b2.post345', '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.1.dev1'];
  for (let i = 0; i + 1 < order.length; i++) assert.equal(pypi.compare(order[i] ?? '', order[i + 1] ?? ''), -1, `${order[i]} < ${order[i + 1]}`);
  const same: Array<[string, string]> = [['1.0', '1.0.0'], ['v1.0', '1.0'], ['1.0-1', '1.0.post1'], ['1.0alpha1', '1.0a1'], ['1.0c1', '1.0rc1'], [' 1.0 ', '1.0'], ['1.0+ABC', '1.0+abc'], ['1.0+a-b', '1.0+a.b']];
  for (const [a, b] of same) assert.equal(pypi.compare(a, b), 0, `${a} = ${b}`);
  assert.equal(pypi.compare('1!0.1', '2024.1'), 1); // epoch first
  assert.equal(pypi.compare('1.0.99999999999999999999', '1.0.99999999999999999998'), 1); // exact beyond 2^53
  assert.equal(parsePep440('1.0-SNAPSHOT'), null);
  assert.throws(() => pypi.compare('1.0-SNAPSHOT', '1.0'), /invalid pypi version "1.0-SNAPSHOT"/);
});
