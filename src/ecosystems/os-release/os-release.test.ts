import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distributionFromOsRelease, parseOsRelease } from './os-release.ts';

test('bookworm os-release', () => {
  const d = distributionFromOsRelease(`PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`);
  assert.deepEqual(d && [d.did, d.versionId, d.versionCodeName, d.prettyName, d.name], ['debian', '12', 'bookworm', 'Debian GNU/Linux 12 (bookworm)', 'Debian GNU/Linux']);
});

test('jessie os-release has no VERSION_CODENAME: taken from VERSION', () => {
  const d = distributionFromOsRelease('PRETTY_NAME="Debian GNU/Linux 8 (jessie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="8"\nVERSION="8 (jessie)"\nID=debian\n');
  assert.equal(d?.versionCodeName, 'jessie');
});

test('quotes, escapes and comments', () => {
  const kv = parseOsRelease(`# comment\nNAME='Single Quoted'\nX="a \\"quoted\\" \\$word"\nEMPTY=\nBROKEN\n`);
  assert.equal(kv.get('NAME'), 'Single Quoted');
  assert.equal(kv.get('X'), 'a "quoted" $word');
  assert.equal(kv.get('EMPTY'), '');
  assert.equal(kv.has('BROKEN'), false);
});

test('no ID: not a distribution', () => {
  assert.equal(distributionFromOsRelease('NAME=foo\n'), undefined);
});
