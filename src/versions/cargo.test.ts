import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { cargo, parseCargoRequirement } from './cargo.ts';
import { isClairError } from '../model/errors.ts';

// testdata/cargo-*.tsv: real crate versions and RustSec requirements answered by the `semver` crate from
// Debian's librust-semver-dev (scripts/gen-cargo-vectors.ts).

const badInput = (e: unknown) => isClairError(e) && e.code === 'bad-input';

test('cargo: every pair in cargo-vectors.tsv matches semver::Version', () => {
  const vectors = readVectors('cargo-vectors.tsv', 5);
  assert.ok(vectors.length > 4000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [a = '', b = '', want, validA, validB] of vectors) {
    if (String(Number(cargo.isValid(a))) !== validA) failures.push(`isValid(${JSON.stringify(a)}): want ${validA}`);
    if (String(Number(cargo.isValid(b))) !== validB) failures.push(`isValid(${JSON.stringify(b)}): want ${validB}`);
    if (want === '!') {
      assert.throws(() => cargo.compare(a, b), badInput);
      continue;
    }
    const got = cargo.compare(a, b);
    if (String(got) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${got}`);
    if (cargo.compare(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('cargo: every check in cargo-reqs.tsv matches semver::VersionReq::matches', () => {
  const vectors = readVectors('cargo-reqs.tsv', 3);
  assert.ok(vectors.length > 3000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [v = '', r = '', want] of vectors) {
    if (want === '!') {
      if (cargo.isValid(v) && parseCargoRequirement(r) !== null) failures.push(`parse(${JSON.stringify(v)}, ${JSON.stringify(r)}): want a rejection`);
      else assert.throws(() => cargo.satisfies?.(v, r), badInput);
      continue;
    }
    let got: boolean | undefined;
    try {
      got = cargo.satisfies?.(v, r);
    } catch (e) {
      failures.push(`satisfies(${JSON.stringify(v)}, ${JSON.stringify(r)}): threw ${(e as Error).message}`);
      continue;
    }
    if (String(Number(got)) !== want) failures.push(`satisfies(${v}, ${r}): want ${want}`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('cargo: RustSec-style requirements, pre-releases and build metadata', () => {
  assert.equal(cargo.satisfies?.('0.9.1', '>= 0.9.1'), true);
  assert.equal(cargo.satisfies?.('1.0.0-beta.1', '>= 0.9.1'), false); // a pre-release needs a comparator naming its MAJOR.MINOR.PATCH
  assert.equal(cargo.satisfies?.('1.0.0-beta.2', '>= 1.0.0-beta.1'), true);
  assert.equal(cargo.satisfies?.('0.3.5', '^0.3.2'), true);
  assert.equal(cargo.satisfies?.('0.4.0', '^0.3.2'), false);
  assert.equal(cargo.satisfies?.('0.2.9', '>= 0.2.5, < 0.3'), true);
  assert.equal(cargo.satisfies?.('1.2.9', '1.2.*'), true);
  assert.equal(cargo.satisfies?.('1.0.0-alpha', '*'), false);
  assert.equal(cargo.compare('1.0.0+a', '1.0.0+b'), -1); // the crate orders build metadata
  assert.equal(cargo.compare('1.0.0+1', '1.0.0+01'), -1);
  assert.throws(() => cargo.compare('v1.0.0', '1.0.0'), /invalid cargo version "v1.0.0"/);
  assert.throws(() => cargo.satisfies?.('1.0.0', '>=1.0.0 <2.0.0'), /invalid cargo requirement/);
});
