import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClairError } from '../../model/errors.ts';
import { apiHost, formatReference, manifestReference, parseReference, type ImageReference } from './reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

// Expected values follow distribution/reference's normalize_test.go and reference_test.go.
const valid: [string, ImageReference][] = [
  ['debian', { registry: 'docker.io', repository: 'library/debian' }],
  ['debian:bookworm', { registry: 'docker.io', repository: 'library/debian', tag: 'bookworm' }],
  ['docker.io/library/debian:bookworm', { registry: 'docker.io', repository: 'library/debian', tag: 'bookworm' }],
  ['docker.io/debian', { registry: 'docker.io', repository: 'library/debian' }],
  ['index.docker.io/debian', { registry: 'docker.io', repository: 'library/debian' }],
  ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
  [`quay.io/org/app@${D}`, { registry: 'quay.io', repository: 'org/app', digest: D }],
  [`quay.io/org/app:1.0@${D}`, { registry: 'quay.io', repository: 'org/app', tag: '1.0', digest: D }],
  ['localhost:5000/app:1.2', { registry: 'localhost:5000', repository: 'app', tag: '1.2' }],
  ['localhost/app', { registry: 'localhost', repository: 'app' }],
  ['127.0.0.1:5000/a/b/c', { registry: '127.0.0.1:5000', repository: 'a/b/c' }],
  ['[::1]:5000/app:x', { registry: '[::1]:5000', repository: 'app', tag: 'x' }],
  ['Registry/app', { registry: 'Registry', repository: 'app' }], // an upper-case first component can only be a host
  ['example.com/a.b_c__d--e/f', { registry: 'example.com', repository: 'a.b_c__d--e/f' }],
  ['app:_under.score-', { registry: 'docker.io', repository: 'library/app', tag: '_under.score-' }],
  [`app:${'t'.repeat(128)}`, { registry: 'docker.io', repository: 'library/app', tag: 't'.repeat(128) }],
];

test('parseReference: valid references', () => {
  for (const [input, expected] of valid) assert.deepEqual(parseReference(input), expected, input);
});

const invalid: [string, RegExp][] = [
  ['', /is empty/],
  ['Debian', /must be lowercase/],
  ['docker.io/Library/debian', /must be lowercase/],
  ['debian:', /tag "" is invalid/],
  ['debian:-x', /tag "-x" is invalid/],
  [`debian:${'t'.repeat(129)}`, /tag .* is invalid/],
  ['debian@sha256:abc', /digest "sha256:abc" is not of the form/],
  ['debian@', /digest "" is not of the form/],
  ['quay.io/', /no repository name after the registry/],
  ['quay.io/org//app', /repository component "" is invalid/],
  ['org/-app', /repository component "-app" is invalid/],
  ['org/app_', /repository component "app_" is invalid/],
  ['a..b/c', /registry "a..b" is not a valid host/],
  ['-bad.host/c', /registry "-bad.host" is not a valid host/],
  [':tag', /no repository name/],
  ['deb ian', /white space/],
  ['a'.repeat(64).replace(/a/g, 'f'), /hexadecimal image ID/],
  [`example.com/${'a/'.repeat(124)}abc`, /longer than 255/],
];

test('parseReference: malformed references are bad-input naming the input', () => {
  for (const [input, message] of invalid) {
    assert.throws(
      () => parseReference(input),
      (e: unknown) => e instanceof ClairError && e.code === 'bad-input' && message.test(e.message) && e.message.includes(JSON.stringify(input)),
      input,
    );
  }
});

test('manifestReference, formatReference and apiHost', () => {
  const cases: [string, string, string, string][] = [
    ['debian', 'latest', 'docker.io/library/debian:latest', 'registry-1.docker.io'],
    ['debian:12', '12', 'docker.io/library/debian:12', 'registry-1.docker.io'],
    [`quay.io/org/app:1@${D}`, D, `quay.io/org/app:1@${D}`, 'quay.io'],
    ['localhost:5000/app', 'latest', 'localhost:5000/app:latest', 'localhost:5000'],
  ];
  for (const [input, reference, text, host] of cases) {
    const ref = parseReference(input);
    assert.equal(manifestReference(ref), reference, input);
    assert.equal(formatReference(ref), text, input);
    assert.equal(apiHost(ref.registry), host, input);
  }
});
