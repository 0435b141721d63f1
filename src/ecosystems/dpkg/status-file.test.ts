import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { installedPackages, parseSourceField, parseStanzas } from './status-file.ts';

const STATUS = `Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.15-1~deb12u1
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation.
 .
 It provides the libssl and libcrypto shared libraries.

Package: bsdutils
Status: install ok installed
Architecture: amd64
Source: util-linux (2.38.1-5)
Version: 1:2.38.1-5+deb12u3

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14+deb12u1

Package: sqlite3
Status: deinstall ok config-files
Architecture: amd64
Version: 3.40.1-2

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b7
`;

test('dpkg status: installed packages with their sources', () => {
  const pkgs = installedPackages(STATUS, 'var/lib/dpkg/status', true);
  assert.deepEqual(
    pkgs.map((p) => [p.name, p.version, p.arch, p.source?.name, p.source?.version]),
    [
      ['libssl3', '3.0.15-1~deb12u1', 'amd64', 'openssl', '3.0.15-1~deb12u1'],
      ['bsdutils', '1:2.38.1-5+deb12u3', 'amd64', 'util-linux', '2.38.1-5'],
      ['libgcc-s1', '12.2.0-14+deb12u1', 'amd64', 'gcc-12', '12.2.0-14'],
      ['bash', '5.2.15-2+b7', 'amd64', 'bash', '5.2.15-2+b7'],
    ],
  );
  assert.ok(pkgs.every((p) => p.packageDb === 'var/lib/dpkg/status' && p.kind === 'binary'));
});

test('dpkg status: continuation lines join the previous field', () => {
  const [first] = parseStanzas(STATUS);
  assert.match(first!.get('Description')!, /^Secure Sockets Layer toolkit - shared libraries\nThis package/);
});

test('dpkg Source field forms', () => {
  assert.deepEqual(parseSourceField(undefined, 'bash', '5.2'), { name: 'bash', version: '5.2' });
  assert.deepEqual(parseSourceField('openssl', 'libssl3', '3.0'), { name: 'openssl', version: '3.0' });
  assert.deepEqual(parseSourceField('util-linux (2.38.1-5)', 'bsdutils', '1:2.38.1-5'), { name: 'util-linux', version: '2.38.1-5' });
});

test('distroless status.d entries have no Status field and count as installed', () => {
  const text = 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n';
  assert.equal(installedPackages(text, 'var/lib/dpkg/status.d/base', false).length, 1);
  assert.equal(installedPackages(text, 'var/lib/dpkg/status', true).length, 0, 'the main status file needs Status');
});

test('a status file with CRLF endings, junk lines and no trailing newline', () => {
  const text = 'garbage line\r\nPackage: a\r\nStatus: install ok installed\r\nVersion: 1.0\r\nArchitecture: all';
  assert.deepEqual(installedPackages(text, 'x', true).map((p) => [p.name, p.version, p.arch]), [['a', '1.0', 'all']]);
});

test('real status file from claircore (texlive.status)', (t) => {
  const texlive = requireSharedData(t, 'fixtures/claircore/dpkg/testdata/texlive.status');
  if (!texlive) return;
  const text = readFileSync(texlive, 'utf8');
  const pkgs = installedPackages(text, 'var/lib/dpkg/status', true);
  const stanzas = parseStanzas(text).filter((s) => s.get('Status')?.endsWith(' installed'));
  assert.equal(pkgs.length, stanzas.length);
  assert.ok(pkgs.length > 50);
  const tl = pkgs.find((p) => p.name === 'texlive-base');
  assert.ok(tl, 'texlive-base is in the file');
  assert.equal(tl.source?.name, 'texlive-base');
});
