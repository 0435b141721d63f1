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

test('dir: an unpacked root: streaming scanners (dpkg status) and files over the read-ahead size go through the same limits', async (t) => {
  const { allScanners } = await import('../ecosystems/registry.ts');
  const { readFileSync } = await import('node:fs');
  const base = await mkdtemp(join(tmpdir(), 'clair-ts-dirroot-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await mkdir(join(base, 'var/lib/dpkg'), { recursive: true });
  await writeFile(join(base, 'var/lib/dpkg/status'), 'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b7\nArchitecture: amd64\n');
  const meta = join(base, 'usr/lib/python3/dist-packages/PyYAML-6.0.dist-info');
  await mkdir(meta, { recursive: true });
  // The real METADATA with a long description appended: 2 MiB, streamed in chunks rather than read ahead.
  const real = readFileSync(new URL('../ecosystems/python/testdata/PyYAML-6.0.METADATA', import.meta.url));
  await writeFile(join(meta, 'METADATA'), Buffer.concat([real, Buffer.alloc(2 * 1024 * 1024, 'x')]));
  const walk = await walkDirectory(base, allScanners());
  assert.deepEqual(walk.errors, []);
  const dbs = walk.findings.flatMap((f) => f.packageDbs ?? []);
  assert.deepEqual(dbs.map((d) => [d.path, d.packages.map((p) => `${p.name} ${p.version}`).join()]).sort(), [
    ['usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', 'pyyaml 6.0'],
    ['var/lib/dpkg/status', 'bash 5.2.15-2+b7'],
  ]);
  assert.ok(walk.bytesRead > 2 * 1024 * 1024);
});
