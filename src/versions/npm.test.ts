import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { npm } from './npm.ts';
import { isClairError } from '../model/errors.ts';

// testdata/npm-*.tsv: real npm versions and ranges answered by the node-semver copy inside the npm CLI
// (scripts/gen-npm-vectors.ts).

const badInput = (e: unknown) => isClairError(e) && e.code === 'bad-input';

test('npm: every pair in npm-vectors.tsv matches node-semver as npm bundles it', () => {
  const vectors = readVectors('npm-vectors.tsv', 5);
  assert.ok(vectors.length > 4000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [a = '', b = '', want, validA, validB] of vectors) {
    if (String(Number(npm.isValid(a))) !== validA) failures.push(`isValid(${a}): want ${validA}`);
    if (String(Number(npm.isValid(b))) !== validB) failures.push(`isValid(${b}): want ${validB}`);
    if (want === '!') {
      assert.throws(() => npm.compare(a, b), badInput);
      continue;
    }
    const got = npm.compare(a, b);
    if (String(got) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${got}`);
    if (npm.compare(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('npm: every check in npm-ranges.tsv matches semver.satisfies as npm audit calls it', () => {
  const vectors = readVectors('npm-ranges.tsv', 3);
  assert.ok(vectors.length > 2000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const [v = '', r = '', want] of vectors) {
    if (want === '!') {
      assert.throws(() => npm.satisfies?.(v, r), badInput, `${v} ${r}`);
      continue;
    }
    const got = npm.satisfies?.(v, r);
    if (String(Number(got)) !== want) failures.push(`satisfies(${v}, ${r}): want ${want}`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test('npm: loose versions, build metadata and pre-releases in ranges', () => {
  assert.equal(npm.compare('v1.2.3', '1.2.3'), 0);
  assert.equal(npm.compare('1.2.3beta', '1.2.3-beta'), 0); // loose: npm accepts the missing hyphen
  assert.equal(npm.compare('1.0.0+a', '1.0.0+b'), 0); // build metadata does not order
  assert.equal(npm.compare('1.0.0-beta.2', '1.0.0-beta.11'), -1);
  assert.equal(npm.compare('1.0.0-rc.1', '1.0.0'), -1);
  assert.equal(npm.satisfies?.('1.5.0-beta', '>=1.0.0 <2.0.0'), true); // includePrerelease, as npm audit
  assert.equal(npm.satisfies?.('2.0.0-rc.1', '<2.0.0'), true);
  assert.equal(npm.isValid('1.2'), false);
  assert.throws(() => npm.compare('1.2', '1.2.0'), /invalid npm version "1.2"/);
  assert.throws(() => npm.satisfies?.('1.2.3', '>=a'), /invalid npm requirement/);
});
