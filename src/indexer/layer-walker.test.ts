import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { makeTar } from '../../test/support/tar-layer.ts';
import { normalizeLayerPath } from './layer-path.ts';
import { walkLayer } from './layer-walker.ts';
import type { LayerFile, Scanner } from './scanner.ts';
import { dpkgStatusScanner } from '../ecosystems/dpkg/scanner.ts';
import { osReleaseScanner } from '../ecosystems/os-release/scanner.ts';

function recorder(name: string, want: (p: string) => boolean, maxFileSize?: number): Scanner & { seen: LayerFile[] } {
  const seen: LayerFile[] = [];
  return {
    name, version: '1', kind: 'package', seen, ...(maxFileSize ? { maxFileSize } : {}),
    wants: ({ path }) => want(path),
    scan(files) {
      seen.push(...files);
      return {};
    },
  };
}

test('path normalization', () => {
  assert.equal(normalizeLayerPath('./etc/os-release'), 'etc/os-release');
  assert.equal(normalizeLayerPath('/var//lib/./dpkg/status'), 'var/lib/dpkg/status');
  assert.equal(normalizeLayerPath('usr/lib/../lib/os-release'), 'usr/lib/os-release');
  assert.equal(normalizeLayerPath('./'), '');
});

test('each file goes only to the scanners that want it; whiteouts are collected', async () => {
  const bytes = await makeTar([
    { path: './etc/', type: 'directory' },
    { path: './etc/os-release', content: 'ID=debian\n' },
    { path: './etc/passwd', content: 'root:x:0:0\n' },
    { path: './var/lib/dpkg/status', content: 'Package: a\n' },
    { path: './usr/share/doc/.wh.curl', content: '' },
    { path: './opt/app/.wh..wh..opq', content: '' },
    { path: '.wh.toplevel', content: '' },
    { path: './etc/os-release-link', type: 'symlink', linkname: 'os-release' },
  ]);
  const a = recorder('a', (p) => p.startsWith('etc/'));
  const b = recorder('b', (p) => p === 'var/lib/dpkg/status' || p === 'etc/os-release');
  const r = await walkLayer([Readable.from([bytes])], 'sha256:x', [a, b]);
  assert.deepEqual(a.seen.map((f) => f.path), ['etc/os-release', 'etc/passwd'], 'symlinks and directories are not files');
  assert.deepEqual(b.seen.map((f) => [f.path, f.data.toString()]), [['etc/os-release', 'ID=debian\n'], ['var/lib/dpkg/status', 'Package: a\n']]);
  assert.deepEqual(r.whiteouts, ['usr/share/doc/curl', 'toplevel']);
  assert.deepEqual(r.opaqueDirs, ['opt/app']);
  assert.deepEqual(r.errors, []);
});

test('a wanted file over the scanner limit is reported, not read', async () => {
  const bytes = await makeTar([{ path: 'big', content: Buffer.alloc(5000) }]);
  const s = recorder('small', () => true, 1000);
  const r = await walkLayer([Readable.from([bytes])], 'sha256:x', [s]);
  assert.equal(s.seen.length, 0);
  assert.match(r.errors[0]!, /small: big is 5000 bytes, over the 1000 byte limit/);
});

test('a scanner that throws is reported in errors, the layer still completes', async () => {
  const bytes = await makeTar([{ path: 'x', content: 'y' }]);
  const bad: Scanner = { name: 'bad', version: '1', kind: 'package', wants: () => true, scan: () => { throw new Error('cannot parse x'); } };
  const r = await walkLayer([Readable.from([bytes])], 'sha256:x', [bad]);
  assert.deepEqual(r.errors, ['bad: cannot parse x']);
});

test('bytes that are not a tar are a bad-layer error naming the layer', async () => {
  await assert.rejects(walkLayer([Readable.from([Buffer.from('definitely not a tar archive '.repeat(40))])], 'sha256:abc', [dpkgStatusScanner]), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'bad-layer');
    assert.match(e.message, /sha256:abc/);
    return true;
  });
});

test('a tar cut in the middle of a file is a bad-layer error', async () => {
  const bytes = await makeTar([{ path: 'var/lib/dpkg/status', content: Buffer.alloc(4096, 'a') }]);
  await assert.rejects(walkLayer([Readable.from([bytes.subarray(0, 1500)])], 'sha256:cut', [dpkgStatusScanner]), { code: 'bad-layer' });
});

test('the real scanners on a hand-made layer', async () => {
  const bytes = await makeTar([
    { path: 'usr/lib/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { path: 'var/lib/dpkg/status', content: 'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b7\nArchitecture: amd64\n' },
    { path: 'var/lib/dpkg/status.d/tzdata', content: 'Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n' },
    { path: 'var/lib/dpkg/status.d/tzdata.md5sums', content: 'abc  usr/share/zoneinfo/UTC\n' },
    { path: 'var/lib/dpkg/status-old', content: 'Package: old\nStatus: install ok installed\nVersion: 1\n' },
  ]);
  const r = await walkLayer([Readable.from([bytes])], 'sha256:x', [dpkgStatusScanner, osReleaseScanner]);
  const dbs = r.findings.flatMap((f) => f.packageDbs ?? []);
  assert.deepEqual(dbs.map((d) => [d.path, d.packages.map((p) => p.name)]), [
    ['var/lib/dpkg/status', ['bash']],
    ['var/lib/dpkg/status.d/tzdata', ['tzdata']],
  ]);
  const dists = r.findings.flatMap((f) => f.distributions ?? []);
  assert.equal(dists[0]?.distribution.versionCodeName, 'bookworm');
});

test('a hard link is queued for a second pass unless its wanting scanners read the target alike and found nothing', async () => {
  const bytes = await makeTar([
    { path: 'bin/plain', content: 'nothing here' },
    { path: 'bin/plain-link', type: 'link', linkname: 'bin/plain' },
    { path: 'bin/pkg', content: 'PKG one' },
    { path: 'bin/pkg-link', type: 'link', linkname: 'bin/pkg' },
  ]);
  const finder = (alike: boolean): Scanner => ({
    name: 'finder', version: '1', kind: 'package',
    wants: ({ path }) => path.startsWith('bin/'),
    readsAlike: () => alike,
    openFile: ({ path }) => {
      const parts: Buffer[] = [];
      return {
        write: (c) => void parts.push(c),
        end: () => (Buffer.concat(parts).toString().startsWith('PKG') ? { errors: [`found in ${path}`] } : {}),
      };
    },
    scan: () => ({}),
  });
  const links = async (scanners: Scanner[]) => (await walkLayer([Readable.from([bytes])], 'sha256:x', scanners)).hardLinks.map((l) => l.path);
  // Nothing found in bin/plain: reading it again as bin/plain-link would find nothing again.
  assert.deepEqual(await links([finder(true)]), ['bin/pkg-link']);
  // A scanner that reads the two paths differently, or one without readsAlike, reads every wanted link.
  assert.deepEqual(await links([finder(false)]), ['bin/plain-link', 'bin/pkg-link']);
  assert.deepEqual(await links([finder(true), recorder('buffering', (p) => p === 'bin/plain-link')]), ['bin/plain-link', 'bin/pkg-link']);
});
