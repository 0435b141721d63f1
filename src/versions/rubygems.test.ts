import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { rubygems } from './rubygems.ts';
import { isClairError } from '../model/errors.ts';

// testdata/rubygems-*.tsv: real gem versions and rubysec requirements answered by Debian's ruby
// (Gem::Version, Gem::Requirement; scripts/gen-rubygems-vectors.ts).

const badInput = (e: unknown) => isClairError(e) && e.code === 'bad-input';

test('rubygems: every pair in rubygems-vectors.tsv matches Gem::Version', () => {
  const vectors = readVectors('rubygems-vectors.tsv', 5);
  assert.ok(vectors.length > 4000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [a = '', b = '', want, validA, validB] of vectors) {
    if (String(Number(rubygems.isValid(a))) !== validA) failures.push(`isValid(${JSON.stringify(a)}): want ${validA}`);
    if (String(Number(rubygems.isValid(b))) !== validB) failures.push(`isValid(${JSON.stringify(b)}): want ${validB}`);
    if (want === '!') {
      assert.throws(() => rubygems.compare(a, b), badInput);
      continue;
    }
    const got = rubygems.compare(a, b);
    if (String(got) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${got}`);
    if (rubygems.compare(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('rubygems: every check in rubygems-reqs.tsv matches Gem::Requirement#satisfied_by?', () => {
  const vectors = readVectors('rubygems-reqs.tsv', 3);
  assert.ok(vectors.length > 3000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [v = '', r = '', want] of vectors) {
    if (want === '!') {
      try {
        rubygems.satisfies?.(v, r);
        failures.push(`satisfies(${JSON.stringify(v)}, ${JSON.stringify(r)}): want an error`);
      } catch (e) {
        if (!badInput(e)) throw e;
      }
      continue;
    }
    const got = rubygems.satisfies?.(v, r);
    if (String(Number(got)) !== want) failures.push(`satisfies(${v}, ${r}): want ${want}`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('rubygems: pre-releases, trailing zeros and the pessimistic operator', () => {
  assert.equal(rubygems.compare('1.0.a', '1.0'), -1); // a letter part makes a pre-release
  assert.equal(rubygems.compare('1.0.0', '1'), 0);
  assert.equal(rubygems.compare('1.0.a', '1.a'), 0); // zeros before the letters are dropped too
  assert.equal(rubygems.compare('1.0-1', '1.0.pre.1'), 0);
  assert.equal(rubygems.satisfies?.('7.0.8.5', '~> 7.0.8, >= 7.0.8.5'), true);
  assert.equal(rubygems.satisfies?.('7.1.0', '~> 7.0.8, >= 7.0.8.5'), false);
  assert.equal(rubygems.satisfies?.('2.3.9', '~> 2.3'), true);
  assert.equal(rubygems.satisfies?.('3.0', '~> 2.3'), false);
  assert.throws(() => rubygems.compare('1.0 a', '1'), /invalid rubygems version "1.0 a"/);
  assert.throws(() => rubygems.satisfies?.('1.0', '~ 1.0'), /invalid rubygems requirement/);
});
