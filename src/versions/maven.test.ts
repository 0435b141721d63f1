import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { maven, mavenCanonical } from './maven.ts';

// testdata/maven-vectors.tsv: real Maven versions (OSV/GHSA records, Debian's maven-repo) answered by
// Maven's ComparableVersion from Debian's libmaven3-core-java (scripts/gen-maven-vectors.ts).

test('maven: every pair in maven-vectors.tsv matches ComparableVersion (order and canonical form)', () => {
  const vectors = readVectors('maven-vectors.tsv', 4);
  assert.ok(vectors.length > 4000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  let compared = 0;
  for (const [a = '', b = '', want, canonical] of vectors) {
    if (mavenCanonical(a) !== canonical) failures.push(`canonical(${a}): want ${canonical}, got ${mavenCanonical(a)}`);
    if (!maven.isValid(a) || !maven.isValid(b)) {
      assert.throws(() => maven.compare(a, b), /invalid maven version/);
      continue;
    }
    compared++;
    const got = maven.compare(a, b);
    if (String(got) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${got}`);
    if (maven.compare(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
  }
  assert.ok(compared > 4000);
  assert.deepEqual(failures.slice(0, 20), []);
});

test('maven: the version order specification', () => {
  const chain = ['1-alpha', '1-beta', '1-milestone', '1-rc', '1-snapshot', '1', '1-sp', '1-abc', '1-xyz', '1-1', '1.1'];
  for (let i = 0; i + 1 < chain.length; i++) assert.equal(maven.compare(chain[i] ?? '', chain[i + 1] ?? ''), -1, `${chain[i]} < ${chain[i + 1]}`);
  const same: Array<[string, string]> = [['1.0', '1'], ['1-ga', '1'], ['1.0.Final', '1'], ['1.RELEASE', '1'], ['1-cr1', '1-rc1'], ['1a1', '1-alpha-1'], ['1.0-ALPHA1', '1.0-alpha1']];
  for (const [a, b] of same) assert.equal(maven.compare(a, b), 0, `${a} = ${b}`);
  assert.equal(maven.compare('1.0.0.x1', '1.0.0-x2'), -1); // .X1 reads as -X1
  assert.equal(maven.compare('1.123456789012345678901234567890', '1.123456789012345678901234567891'), -1); // big numbers exact
  for (const bad of ['', '1.0 beta', '1.0\n', '-'.repeat(100000)]) {
    assert.equal(maven.isValid(bad), false, JSON.stringify(bad));
    assert.throws(() => maven.compare(bad, '1'), /invalid maven version/);
  }
});
