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
  assert.equal(n, 3);
  assert.deepEqual(out, ['-1', '1', '0']);
});

test('compareLines reads a real stream through readline', async () => {
  const input = createInterface({ input: Readable.from(['1.0-1\t1.0-2\n2.0\t1', '.9\n']) });
  const out: string[] = [];
  await compareLines(versionScheme('rpm'), input, (l) => out.push(l));
  assert.deepEqual(out, ['-1', '1']);
});

test('compareLines rejects malformed lines and invalid versions with the line number', async () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['dpkg', ['1.0\t1.1', 'no tab here'], /^line 2: expected "A<TAB>B"/],
    ['dpkg', ['1.0\t1.1\t1.2'], /^line 1: expected/],
    ['dpkg', ['1.0\t1.1', '', '1.0\t1:'], /^line 3: invalid dpkg version "1:"/],
    ['apk', ['1.0-1\t1.0'], /^line 1: invalid apk version "1.0-1"/],
    ['rpm', ['1.0\t'], /^line 1: invalid rpm version ""/],
  ];
  for (const [id, input, message] of cases) {
    const out: string[] = [];
    await assert.rejects(
      compareLines(versionScheme(id), lines(input), (l) => out.push(l)),
      (e: unknown) => isClairError(e) && e.code === 'bad-input' && message.test(e.message),
      `${id} ${JSON.stringify(input)}`,
    );
  }
});

test('registry holds dpkg, rpm and apk and rejects unknown ids', () => {
  assert.deepEqual([...versionSchemes.keys()].sort(), ['apk', 'dpkg', 'rpm']);
  for (const [id, s] of versionSchemes) assert.equal(s.id, id);
  assert.throws(() => versionScheme('semver2'), (e: unknown) => isClairError(e) && e.code === 'unsupported');
});
