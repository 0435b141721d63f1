import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LayerScan } from '../../indexer/layer-scan.ts';
import { pythonScanner } from '../python/scanner.ts';
import { dpkgFileListScanner, listedFiles } from './file-list-scanner.ts';

const jwtList = readFileSync(new URL('./testdata/python3-jwt.list', import.meta.url));

test('a real dpkg .list: paths relative to the root, the root itself left out', () => {
  const files = listedFiles(jwtList.toString(), 'list');
  assert.ok(files.includes('usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO'));
  assert.ok(!files.includes('') && !files.some((f) => f.startsWith('/')));
  assert.deepEqual(listedFiles('/.\n/lib/x86_64-linux-gnu/libz.so.1\n', 'list'), ['lib/x86_64-linux-gnu/libz.so.1', 'usr/lib/x86_64-linux-gnu/libz.so.1']);
  // Folders (a line followed by one below it) are dropped, merged-/usr aliases with them; odd paths are normalised.
  assert.deepEqual(listedFiles('/.\n/lib\n/lib/x\n/usr\n/usr/share//doc/./a\n/opt/y.egg-info\n', 'list'), ['lib/x', 'usr/lib/x', 'usr/share/doc/a', 'opt/y.egg-info']);
  assert.ok(!files.includes('usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info'), 'a folder');
  assert.deepEqual(listedFiles('0123456789abcdef0123456789abcdef  usr/lib/python3/dist-packages/a-1.dist-info/METADATA\n', 'md5sums'), ['usr/lib/python3/dist-packages/a-1.dist-info/METADATA']);
});

test('owners named by the file: NAME[:ARCH].list, distroless status.d/NAME.md5sums', async () => {
  const w = (path: string) => dpkgFileListScanner.wants({ path, size: 1, mode: 0o644 });
  assert.ok(w('var/lib/dpkg/info/python3-jwt.list') && w('var/lib/dpkg/info/libc6:amd64.list') && w('var/lib/dpkg/status.d/base.md5sums'));
  assert.ok(!w('var/lib/dpkg/info/python3-jwt.md5sums') && !w('var/lib/dpkg/status.d/base') && !w('var/lib/dpkg/info/x/y.list'));
  const r = await dpkgFileListScanner.scan([
    { path: 'var/lib/dpkg/info/libfoo:amd64.list', data: Buffer.from('/usr/lib/x\n'), mode: 0o644 },
    { path: 'var/lib/dpkg/status.d/tzdata.md5sums', data: Buffer.from('0123456789abcdef0123456789abcdef  usr/share/zoneinfo/UTC\n'), mode: 0o644 },
  ]);
  assert.deepEqual(r.fileOwners!.map((f) => f.owners[0]!.owner), [
    { name: 'libfoo', version: '', packageDb: 'var/lib/dpkg/status' },
    { name: 'tzdata', version: '', packageDb: 'var/lib/dpkg/status.d/tzdata' },
  ]);
});

test('the walker keeps only the listed paths a language scanner could report (folders are not metadata files)', async () => {
  const scan = new LayerScan([dpkgFileListScanner, pythonScanner], 'layer');
  const path = 'var/lib/dpkg/info/python3-jwt.list';
  scan.add({ path, data: jwtList, mode: 0o644 }, scan.takers(path, jwtList.length, 0o644));
  const r = await scan.finish();
  assert.deepEqual(r.findings.flatMap((f) => f.fileOwners ?? []), [
    { path, owners: [{ owner: { name: 'python3-jwt', version: '', packageDb: 'var/lib/dpkg/status' }, files: ['usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO'] }] },
  ]);
});
