import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { hasTool, run } from '../../../test/support/system-tool.ts';
import { parseGoMod, resolveRequire } from './go-mod.ts';

// Truth: `go mod edit -json` (Debian's golang-go). Go 1.19 refuses `go 1.26.7` (three-part go lines came with 1.21),
// so the copy it reads has its go line set to 1.19; the go line is not part of the inventory.

const haveGo = hasTool('go', ['version']);
if (!haveGo && process.env.CI) throw new Error('go is required under CI (.ci/run installs golang-go)');

interface EditJson {
  Module: { Path: string };
  Require: { Path: string; Version: string; Indirect?: boolean }[] | null;
  Replace: { Old: { Path: string; Version?: string }; New: { Path: string; Version?: string } }[] | null;
}

function goModEditJson(text: string): EditJson {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-gomod-'));
  try {
    const f = join(dir, 'go.mod');
    writeFileSync(f, text.replace(/^go \S+$/m, 'go 1.19'));
    return JSON.parse(run('go', ['mod', 'edit', '-json', f], { env: { ...process.env, GOFLAGS: '' } })) as EditJson;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertSameAsGo(text: string, file: string): void {
  const ours = parseGoMod(text, file);
  const go = goModEditJson(text);
  assert.equal(ours.module, go.Module.Path);
  assert.deepEqual(
    ours.require,
    (go.Require ?? []).map((r) => ({ path: r.Path, version: r.Version, indirect: r.Indirect === true })),
  );
  assert.deepEqual(
    ours.replace,
    (go.Replace ?? []).map((r) => ({ oldPath: r.Old.Path, oldVersion: r.Old.Version ?? '', newPath: r.New.Path, newVersion: r.New.Version ?? '' })),
  );
}

describe('go.mod', () => {
  for (const rel of ['src/runtime/go.mod', 'history-3.18.0/src/runtime/go.mod']) {
    it(`Kata Containers ${rel}: every require, as go mod edit -json reads it`, (t) => {
      const p = requireSharedData(t, 'fixtures', 'kata-containers', ...rel.split('/'));
      if (!p) return;
      const text = readFileSync(p, 'utf8');
      const mod = parseGoMod(text, rel);
      // Counts from the fixture's README (require entries, direct / indirect).
      const expected = rel.startsWith('history') ? [128, 55, 73] : [130, 58, 72];
      assert.deepEqual([mod.require.length, mod.require.filter((r) => !r.indirect).length, mod.require.filter((r) => r.indirect).length], expected);
      if (!haveGo) return t.skip('go not installed: compared with the README counts only');
      assertSameAsGo(text, rel);
    });
  }

  const withReplaces = [
    'module "example.com/app" // quoted module path',
    '',
    'go 1.21.3',
    '',
    'require example.com/a v1.0.0',
    'require (',
    '\texample.com/b v1.1.0 // indirect',
    '\t"example.com/c" v0.0.0-20200101000000-abcdefabcdef // indirect; comment',
    '\texample.com/d v2.0.0+incompatible',
    ')',
    '',
    'replace example.com/b v1.1.0 => example.com/b-fork v1.1.1',
    'replace (',
    '\texample.com/b => example.com/b-other v9.9.9',
    '\texample.com/c => ../c',
    ')',
    'exclude example.com/a v0.9.0',
    'retract [v0.1.0, v0.2.0] // broken',
    '',
  ].join('\n');

  it('quoted tokens, blocks, comments, version-specific and directory replacements', (t) => {
    const mod = parseGoMod(withReplaces, 'go.mod');
    assert.deepEqual(
      mod.require.map((r) => resolveRequire(mod, r)),
      [
        { path: 'example.com/a', version: 'v1.0.0' },
        { path: 'example.com/b-fork', version: 'v1.1.1' },
        { path: 'example.com/c', version: '' },
        { path: 'example.com/d', version: 'v2.0.0+incompatible' },
      ],
    );
    assert.deepEqual(mod.require.map((r) => r.indirect), [false, true, true, false]);
    assert.equal(parseGoMod(`${withReplaces}\ntoolchain go1.22.1\ngodebug default=go1.21\n`, 'go.mod').require.length, 4);
    if (!haveGo) return t.skip('go not installed');
    assertSameAsGo(withReplaces, 'go.mod');
  });

  it('malformed: names the file and line', () => {
    assert.throws(() => parseGoMod('module x\nrequire example.com/a\n', 'src/x/go.mod'), /src\/x\/go\.mod:2: usage: require/);
    assert.throws(() => parseGoMod('module x\nrequire (\nexample.com/a v1\n', 'go.mod'), /unterminated require/);
    assert.throws(() => parseGoMod('module "x\n', 'go.mod'), /go\.mod:1: unterminated quoted string/);
  });
});
