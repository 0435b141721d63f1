import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { normalizePythonName, parseCoreMetadata } from './metadata.ts';
import { pythonScanner } from './scanner.ts';

const testdata = (f: string) => readFileSync(new URL(`./testdata/${f}`, import.meta.url));

test('PEP 503 normalisation', () => {
  for (const [a, b] of [['PyYAML', 'pyyaml'], ['zope.interface', 'zope-interface'], ['Foo__Bar-.baz', 'foo-bar-baz'], ['ruamel.yaml.clib', 'ruamel-yaml-clib']]) {
    assert.equal(normalizePythonName(a!), b);
  }
});

test('real METADATA and PKG-INFO of Debian packages', async () => {
  const r = await pythonScanner.scan([
    { path: 'usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', data: testdata('PyYAML-6.0.METADATA'), mode: 0o644 },
    { path: 'usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO', data: testdata('PyJWT-2.6.0.PKG-INFO'), mode: 0o644 },
  ]);
  assert.deepEqual(
    r.packageDbs!.map((d) => [d.path, d.packages[0]!.name, d.packages[0]!.version, d.packages[0]!.packageDb, d.repository?.name]),
    [
      ['usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', 'pyyaml', '6.0', 'python:usr/lib/python3/dist-packages/PyYAML-6.0.dist-info', 'pypi'],
      ['usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO', 'pyjwt', '2.6.0', 'python:usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info', 'pypi'],
    ],
  );
});

test('egg-info as a single file; a header in the long description is not read; malformed files are named', async () => {
  const r = await pythonScanner.scan([
    { path: 'usr/lib/python3/dist-packages/foo-1.0.egg-info', data: Buffer.from('Metadata-Version: 1.0\r\nName: Foo_Bar\r\nVersion: 1.0.post1\r\n'), mode: 0o644 },
    { path: 'opt/x.dist-info/METADATA', data: Buffer.from('Metadata-Version: 2.1\nSummary: x\n\nName: not-a-header\nVersion: 9\n'), mode: 0o644 },
  ]);
  assert.deepEqual(r.packageDbs!.map((d) => [d.packages[0]!.name, d.packages[0]!.version, d.packages[0]!.packageDb]), [['foo-bar', '1.0.post1', 'python:usr/lib/python3/dist-packages/foo-1.0.egg-info']]);
  assert.deepEqual(r.errors, ['opt/x.dist-info/METADATA: no Name and Version headers; not a Python core metadata file']);
  assert.deepEqual(parseCoreMetadata('Name: a\n Continued: no\nVersion: 2\n'), { name: 'a', version: '2' });
});

test('wants metadata files only', () => {
  const w = (path: string) => pythonScanner.wants({ path, size: 1, mode: 0o644 });
  assert.ok(w('usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA'));
  assert.ok(w('usr/lib/python3/dist-packages/x-1.egg-info/PKG-INFO'));
  assert.ok(w('usr/lib/python3/dist-packages/x-1.egg-info'));
  assert.ok(!w('usr/lib/python3/dist-packages/x-1.dist-info/RECORD'));
  assert.ok(!w('usr/lib/python3/dist-packages/x-1.egg-info/requires.txt'));
});
