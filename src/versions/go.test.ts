import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readVectors } from './testdata/read-vectors.ts';
import { go, goToolchainSemver, isGoPseudoVersion } from './go.ts';
import { isClairError } from '../model/errors.ts';

// testdata/go-vectors.tsv: real Go module versions (Go vulndb, GHSA, Kata's go.sum) answered by
// golang.org/x/mod/semver from Debian (scripts/gen-go-vectors.ts).

const badInput = (e: unknown) => isClairError(e) && e.code === 'bad-input';

test('go: every pair in go-vectors.tsv matches golang.org/x/mod/semver', () => {
  const vectors = readVectors('go-vectors.tsv', 6);
  assert.ok(vectors.length > 4000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  let stripped = 0;
  for (const [a = '', b = '', want, validA, validB, pseudoA] of vectors) {
    // Go's own form starts with `v`; the scheme also takes OSV's form without it (checked below).
    if (a.startsWith('v') && String(Number(go.isValid(a))) !== validA) failures.push(`isValid(${JSON.stringify(a)}): want ${validA}`);
    if (b.startsWith('v') && String(Number(go.isValid(b))) !== validB) failures.push(`isValid(${JSON.stringify(b)}): want ${validB}`);
    if (a.startsWith('v') && String(Number(isGoPseudoVersion(a))) !== pseudoA) failures.push(`isGoPseudoVersion(${a}): want ${pseudoA}`);
    if (validA !== '1' || validB !== '1') {
      if (a.startsWith('v') && b.startsWith('v')) assert.throws(() => go.compare(a, b), badInput, `${a} ${b}`);
      continue;
    }
    const got = go.compare(a, b);
    if (String(got) !== want) failures.push(`compare(${a}, ${b}): want ${want}, got ${got}`);
    if (go.compare(b, a) !== (got === 0 ? 0 : -got)) failures.push(`compare(${a}, ${b}) not antisymmetric`);
    // OSV's form: the same answer without the `v`.
    if (!a.startsWith('vv') && !b.startsWith('vv')) {
      stripped++;
      if (go.compare(a.slice(1), b.slice(1)) !== got) failures.push(`compare without v (${a}, ${b}) differs`);
    }
  }
  assert.ok(stripped > 3000);
  assert.deepEqual(failures.slice(0, 20), []);
});

test('go: +incompatible, pseudo-versions, shorthands and OSV form', () => {
  assert.equal(go.compare('v2.0.0+incompatible', 'v2.0.0'), 0); // build metadata does not order
  assert.equal(go.compare('v2.0.0+incompatible', 'v2.0.1'), -1);
  assert.equal(go.compare('v0.0.0-20191109021931-daa7c04131f5', 'v0.0.0-20200101000000-000000000000'), -1);
  assert.equal(go.compare('v1.2.4-0.20191109021931-daa7c04131f5', 'v1.2.3'), 1); // the pseudo-version after v1.2.3
  assert.equal(go.compare('v1.2.4-0.20191109021931-daa7c04131f5', 'v1.2.4'), -1); // and before v1.2.4
  assert.equal(isGoPseudoVersion('v1.2.4-0.20191109021931-daa7c04131f5'), true);
  assert.equal(isGoPseudoVersion('v1.2.4-rc.1'), false);
  assert.equal(go.compare('v1.2', 'v1.2.0'), 0);
  assert.equal(go.compare('1.22.3', 'v1.22.3'), 0); // stdlib / OSV form
  assert.equal(go.compare('1.21.0-0', '1.21.0-rc.1'), -1);
  for (const bad of ['v1.2-pre', 'v01.2.3', 'v1.2.3-01', 'V1.2.3', 'vv1.0.0', '', 'v1.2.3.4', 'go1.22.3']) {
    assert.equal(go.isValid(bad), false, bad);
    assert.throws(() => go.compare(bad, 'v1.0.0'), /invalid go version/);
  }
});

test('go: toolchain versions in the stdlib form of the Go vulnerability database', () => {
  const cases: Array<[string, string | null]> = [
    ['go1.22.3', '1.22.3'], ['1.22.3', '1.22.3'], ['go1.19', '1.19.0'], ['go1.21rc2', '1.21.0-rc.2'], ['go1.9beta2', '1.9.0-beta.2'],
    ['go1.20.5-bigcorp', '1.20.5'], ['go1.22.1 X:boringcrypto', '1.22.1'], ['go1', '1.0.0'], ['devel go1.23-abc', null], ['gox', null],
  ];
  for (const [tag, want] of cases) assert.equal(goToolchainSemver(tag), want, tag);
  // Ordered against the vulndb's own stdlib events: 1.21.0-rc.4 fixed, go1.21rc3 affected.
  assert.equal(go.compare(goToolchainSemver('go1.21rc3') ?? '', '1.21.0-rc.4'), -1);
  assert.equal(go.compare(goToolchainSemver('go1.21.0') ?? '', '1.21.0-rc.4'), 1);
});
