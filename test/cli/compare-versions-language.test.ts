import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli } from '../support/run-cli.ts';

// compare-versions with the language ecosystems' schemes: one pair each, a batch, and a rejected version.

const db = join(tmpdir(), `clair-ts-unused-${process.pid}.db`); // compare-versions never opens it
const run = (args: string[], stdin = '') => runCli(db, args, stdin);

test('compare-versions --scheme pypi|npm|go|maven|rubygems|cargo', async () => {
  const cases: Array<[string, string, string, string]> = [
    ['pypi', '1.0rc1', '1.0', '-1'],
    ['pypi', '1.0.post1', '1.0+local', '1'],
    ['npm', '1.0.0-beta.2', '1.0.0-beta.11', '-1'],
    ['go', 'v2.0.0+incompatible', 'v2.0.0', '0'],
    ['go', '1.22.3', 'v1.22.10', '-1'],
    ['maven', '1.0-SNAPSHOT', '1.0', '-1'],
    ['maven', '2.0.0.Final', '2.0.0', '0'],
    ['rubygems', '1.0.a', '1.0', '-1'],
    ['cargo', '1.0.0-alpha.1', '1.0.0-alpha.beta', '-1'],
  ];
  for (const [scheme, a, b, want] of cases) {
    assert.deepEqual(await run(['compare-versions', '--scheme', scheme, a, b]), { code: 0, out: `${want}\n`, err: '' }, `${scheme} ${a} ${b}`);
  }
  const batch = await run(['compare-versions', '--scheme', 'cargo', '--stdin'], '1.0.0\t1.0.0+build\n0.9.1\t0.10.0\n');
  assert.deepEqual([batch.code, batch.out], [0, '-1\n-1\n']);
});

test('compare-versions: a version the scheme rejects is a clear error naming it', async () => {
  for (const [scheme, bad] of [['pypi', '1.0-SNAPSHOT'], ['npm', '1.2'], ['go', 'go1.22'], ['cargo', 'v1.0.0'], ['rubygems', '1.0 beta'], ['maven', '']]) {
    const r = await run(['compare-versions', '--scheme', scheme ?? '', bad ?? '', '1.0.0']);
    assert.equal(r.code, 2, `${scheme} ${bad}`);
    assert.match(r.err, new RegExp(`invalid ${scheme} version ${JSON.stringify(bad)}`));
  }
});
