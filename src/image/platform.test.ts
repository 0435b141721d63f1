import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { choosePlatform, parsePlatform, platformMatches, type Platform } from './platform.ts';

describe('platform', () => {
  const matches: { wanted: string; candidate: Platform; match: boolean }[] = [
    { wanted: 'linux/amd64', candidate: { os: 'linux', architecture: 'amd64' }, match: true },
    { wanted: 'linux/amd64', candidate: { os: 'linux', architecture: 'arm64' }, match: false },
    { wanted: 'windows/amd64', candidate: { os: 'linux', architecture: 'amd64' }, match: false },
    { wanted: 'linux/arm64', candidate: { os: 'linux', architecture: 'arm64', variant: 'v8' }, match: true },
    { wanted: 'linux/arm64/v8', candidate: { os: 'linux', architecture: 'arm64' }, match: true },
    { wanted: 'linux/arm/v7', candidate: { os: 'linux', architecture: 'arm', variant: 'v6' }, match: false },
    { wanted: 'Linux/ARM/V7', candidate: { os: 'linux', architecture: 'arm', variant: 'v7' }, match: true },
  ];
  for (const c of matches) {
    it(`${c.wanted} ${c.match ? 'matches' : 'does not match'} ${JSON.stringify(c.candidate)}`, () => {
      assert.equal(platformMatches(parsePlatform(c.wanted), c.candidate), c.match);
    });
  }

  it('prefers the newest variant when none was asked for', () => {
    const entries = [{ platform: { os: 'linux', architecture: 'arm', variant: 'v6' } }, { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }, { platform: { os: 'linux', architecture: 'amd64' } }];
    assert.equal(choosePlatform(parsePlatform('linux/arm'), entries)?.platform.variant, 'v7');
    assert.equal(choosePlatform(parsePlatform('linux/arm/v6'), entries)?.platform.variant, 'v6');
    assert.equal(choosePlatform(parsePlatform('linux/s390x'), entries), undefined);
  });

  for (const bad of ['linux', 'linux/', '/amd64', 'linux/arm/v7/x', 'linux amd64']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parsePlatform(bad), /os\/arch\[\/variant\]/);
    });
  }
});
