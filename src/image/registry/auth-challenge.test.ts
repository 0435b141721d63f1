import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChallenges, type Challenge } from './auth-challenge.ts';

// Header values as Docker Hub, quay.io, GHCR and the distribution registry send them.
const cases: [string, Challenge[]][] = [
  [
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"',
    [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/debian:pull' } }],
  ],
  ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  [
    'Bearer realm="https://quay.io/v2/auth",service="quay.io",scope="repository:org/app:pull,push"',
    [{ scheme: 'bearer', params: { realm: 'https://quay.io/v2/auth', service: 'quay.io', scope: 'repository:org/app:pull,push' } }],
  ],
  ['bearer realm=https://x/token, service=x', [{ scheme: 'bearer', params: { realm: 'https://x/token', service: 'x' } }]],
  ['Basic realm="a", Bearer realm="b",service="s"', [{ scheme: 'basic', params: { realm: 'a' } }, { scheme: 'bearer', params: { realm: 'b', service: 's' } }]],
  ['Bearer realm="quo\\"te"', [{ scheme: 'bearer', params: { realm: 'quo"te' } }]],
  ['', []],
];

test('parseChallenges', () => {
  for (const [header, expected] of cases) assert.deepEqual(parseChallenges(header), expected, header);
});
