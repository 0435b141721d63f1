import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage } from '../image/image-source.ts';
import { walkDirectory } from './directory-walker.ts';
import type { Scanner } from './scanner.ts';

const recorder = (seen: string[]): Scanner => ({
  name: 'rec', version: '1', kind: 'package',
  wants: ({ path, origin }) => origin === 'directory' && path.endsWith('.txt'),
  scan(files) {
    for (const f of files) seen.push(`${f.path}=${f.data.toString()}`);
    return {};
  },
});

test('dir: walks the tree in place, never follows links, skips VCS folders, fingerprints the metadata', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'clair-ts-dirwalk-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'tree');
  const outside = join(base, 'outside');
  await mkdir(join(root, 'a/b'), { recursive: true });
  await mkdir(join(root, '.git/objects'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'a/b/one.txt'), '1');
  await writeFile(join(root, 'a/two.bin'), '2');
  await writeFile(join(root, '.git/objects/three.txt'), '3');
  await writeFile(join(outside, 'secret.txt'), 's');
  await symlink(outside, join(root, 'out'));
  await symlink(join(outside, 'secret.txt'), join(root, 'a/link.txt'));
  await symlink(join(root, 'a'), join(root, 'again'));

  const seen: string[] = [];
  const walk = await walkDirectory(root, [recorder(seen)]);
  assert.deepEqual(seen, ['a/b/one.txt=1']);
  assert.deepEqual(walk.errors, []);
  assert.equal(walk.bytesRead, 1);

  const img = await openImage(`dir:${root}`);
  assert.equal(img.layers.length, 1);
  assert.equal(img.layers[0]!.directory, root);
  assert.match(img.manifestDigest, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await openImage(`dir:${root}`)).manifestDigest, img.manifestDigest, 'same tree, same digest');
  await writeFile(join(root, 'a/b/one.txt'), '11');
  assert.notEqual((await openImage(`dir:${root}`)).layers[0]!.digest, img.layers[0]!.digest, 'an edit changes the layer');
  await assert.rejects(img.openLayer(img.layers[0]!), { code: 'unsupported' });
  await assert.rejects(openImage(`dir:${join(base, 'missing')}`), { code: 'not-found' });
  await assert.rejects(openImage(`dir:${join(root, 'a/two.bin')}`), { code: 'bad-input' });
});

test('in image layers, scanners are told the origin is a layer', async () => {
  const { walkLayer } = await import('./layer-walker.ts');
  const { makeTar } = await import('../../test/support/tar-layer.ts');
  const seen: string[] = [];
  const bytes = await makeTar([{ path: 'x.txt', content: 'x' }]);
  const { Readable } = await import('node:stream');
  await walkLayer([Readable.from([bytes])], 'sha256:x', [recorder(seen)]);
  assert.deepEqual(seen, []);
});
