import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { pypi } from './pypi.ts';
import { isClairError } from '../model/errors.ts';

// testdata/pypi-specifiers.tsv: specifier sets (pyup.io, PyPA ranges, every operator over real versions)
// answered by Debian's python3-packaging (scripts/gen-pypi-specifier-vectors.ts).

test('pypi: every check in pypi-specifiers.tsv matches SpecifierSet.contains(prereleases=True)', () => {
  const vectors = readVectors('pypi-specifiers.tsv', 3);
  assert.ok(vectors.length > 4000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [v = '', s = '', want] of vectors) {
    let got: string;
    try {
      got = pypi.satisfies?.(v, s) ? '1' : '0';
    } catch (e) {
      if (!isClairError(e) || e.code !== 'bad-input') throw e;
      got = '!';
    }
    if (got !== want) failures.push(`satisfies(${JSON.stringify(v)}, ${JSON.stringify(s)}): want ${want}, got ${got}`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('pypi: specifier operators', () => {
  const cases: Array<[string, string, boolean]> = [
    ['1.4.9', '~=1.4.5', true], ['1.5.0', '~=1.4.5', false], ['2.0', '~=1.4', false], ['1.9', '~=1.4', true],
    ['1.0.5', '==1.0.*', true], ['1.1', '==1.0.*', false], ['1.0+local', '==1.0', true], ['1.0', '==1.0+local', false],
    ['1.7.1', '>1.7', true], ['1.7.post1', '>1.7', false], ['1.7.0rc1', '<1.7', false], ['1.6rc1', '<1.7', true],
    ['1.5b1', '>=1.0,<2.0', true], // pre-releases considered…
    ['2.0b1', '>=1.0,<2.0', false], // …but not those of the excluded release itself (PEP 440's rule for <)
    ['1.5.3', '>=1.0,!=1.5.*,<2.0', false],
  ];
  for (const [v, s, want] of cases) assert.equal(pypi.satisfies?.(v, s), want, `${v} ${s}`);
  assert.throws(() => pypi.satisfies?.('1.0', '=>1.0'), /invalid pypi requirement "=>1.0"/);
});
