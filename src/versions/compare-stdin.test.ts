import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { compareLines } from './compare-stdin.ts';
import { versionScheme, versionSchemes } from './registry.ts';
import { isClairError } from '../model/errors.ts';

async function* lines(xs: string[]): AsyncIterable<string> {
  yield* xs;
}

test('compareLines writes one result per pair, skipping empty lines', async () => {
  const out: string[] = [];
  const n = await compareLines(versionScheme('dpkg'), lines(['1.0\t1.1', '', '1:0.1\t2.0', '1.0~rc1\t1.0~rc1\r']), (l) => out.push(l));
  assert.deepEqual(n, { compared: 3, errors: 0 });
  assert.deepEqual(out, ['-1', '1', '0']);
});

test('compareLines reads a real stream through readline', async () => {
  const input = createInterface({ input: Readable.from(['1.0-1\t1.0-2\n2.0\t1', '.9\n']) });
  const out: string[] = [];
  await compareLines(versionScheme('rpm'), input, (l) => out.push(l));
  assert.deepEqual(out, ['-1', '1']);
});

test('compareLines answers a bad line with "error" on that line and goes on (every scheme)', async () => {
  const cases: Array<[string, string[], string[], RegExp]> = [
    ['dpkg', ['1.0\t1.1', 'no tab here', '2\t1'], ['-1', 'error', '1'], /^line 2: expected "A<TAB>B"/],
    ['dpkg', ['1.0\t1.1\t1.2', '1\t1'], ['error', '0'], /^line 1: expected/],
    ['dpkg', ['1.0\t1.1', '', '1.0\t1:', '1\t2'], ['-1', 'error', '-1'], /^line 3: invalid dpkg version "1:"/],
    ['rpm', ['1.0\t', '1\t2'], ['error', '-1'], /^line 1: invalid rpm version ""/],
    // apk compares versions it calls invalid (apk version -t does): an answer, not an error.
    ['apk3', ['5.1p1-r0\t5.1-r0', 'x'], ['1', 'error'], /^line 2: expected/],
    ['apk2', ['1.0\t1.00', '1.0-1\t1.0'], ['1', '1'], /^$/],
  ];
  for (const [id, input, want, message] of cases) {
    const out: string[] = [];
    const errors: string[] = [];
    const r = await compareLines(versionScheme(id), lines(input), (l) => out.push(l), (m) => errors.push(m));
    assert.deepEqual(out, want, `${id} ${JSON.stringify(input)}`);
    assert.equal(r.errors, errors.length);
    assert.match(errors.join('\n'), message, `${id} ${JSON.stringify(input)}`);
  }
});

test('registry holds the OS and language schemes and rejects unknown ids', () => {
  for (const id of ['apk', 'apk2', 'apk3', 'dpkg', 'rpm', 'pypi', 'npm', 'go', 'cargo', 'maven', 'rubygems']) assert.ok(versionSchemes.has(id), id);
  for (const [id, s] of versionSchemes) assert.equal(s.id, id);
  assert.throws(() => versionScheme('semver2'), (e: unknown) => isClairError(e) && e.code === 'unsupported');
});
