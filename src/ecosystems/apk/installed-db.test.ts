import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { fileInTarGz } from '../../../test/support/distro-images.ts';
import { apkPackages, parseInstalledDb } from './installed-db.ts';

test('apk installed db: the real Alpine 3.19.4 minirootfs database', (t) => {
  const rootfs = requireSharedData(t, 'fixtures/alpine/alpine-minirootfs-3.19.4-x86_64.tar.gz');
  if (!rootfs) return;
  const text = fileInTarGz(rootfs, 'lib/apk/db/installed')!.toString('utf8');
  const pkgs = parseInstalledDb(text);
  assert.equal(pkgs.length, 15);
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  assert.deepEqual(
    ['libcrypto3', 'musl-utils', 'ssl_client', 'zlib'].map((n) => { const p = byName.get(n)!; return `${p.name} ${p.version} ${p.arch} ${p.origin}`; }),
    ['libcrypto3 3.1.7-r0 x86_64 openssl', 'musl-utils 1.2.4_git20230717-r4 x86_64 musl', 'ssl_client 1.36.1-r19 x86_64 busybox', 'zlib 1.3.1-r0 x86_64 zlib'],
  );
  // File lists: F: folders with the R: files below them.
  assert.ok(byName.get('zlib')!.files.includes('lib/libz.so.1.3.1'), byName.get('zlib')!.files.join(' '));
  assert.ok(byName.get('busybox')!.files.includes('bin/busybox'));
  assert.ok(byName.get('alpine-baselayout')!.files.includes('etc/crontabs/root'));
});

test('apk installed db: trivy\'s real fixture, and packages as clair-ts packages', (t) => {
  const path = requireSharedData(t, 'fixtures/alpine/trivy-apk-installed');
  if (!path) return;
  const pkgs = apkPackages(readFileSync(path, 'utf8'), 'lib/apk/db/installed');
  assert.ok(pkgs.length > 10);
  for (const p of pkgs) {
    assert.ok(p.name && p.version && p.source?.name, JSON.stringify(p));
    assert.equal(p.source!.version, p.version);
    assert.equal(p.packageDb, 'lib/apk/db/installed');
  }
});

test('apk installed db: blocks without P or V are skipped, no o: means the origin is the name, CRLF tolerated', () => {
  const pkgs = parseInstalledDb('P:a\r\nV:1.0-r0\r\nA:x86_64\r\nF:usr/bin\r\nR:a\r\n\r\nV:2.0-r0\n\nP:b\nV:2.0-r1\no:bb\nR:top-level\n');
  assert.deepEqual(pkgs, [
    { name: 'a', version: '1.0-r0', arch: 'x86_64', origin: 'a', files: ['usr/bin/a'] },
    { name: 'b', version: '2.0-r1', arch: '', origin: 'bb', files: ['top-level'] },
  ]);
});
