import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mulberry32 } from '../../test/support/prng.ts';
import { sha256Hex } from './sha256.ts';

test('sha256Hex equals node:crypto for every length around the block and padding boundaries, and random inputs', () => {
  // FIPS 180-4's own example ("abc", Appendix B.1 of the examples document).
  assert.equal(sha256Hex(new TextEncoder().encode('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const rnd = mulberry32(17);
  const lengths = [...Array.from({ length: 260 }, (_, i) => i), 1000, 4095, 4096, 65_537, ...Array.from({ length: 40 }, () => Math.floor(rnd() * 20_000))];
  for (const n of lengths) {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = Math.floor(rnd() * 256);
    assert.equal(sha256Hex(bytes), createHash('sha256').update(bytes).digest('hex'), `length ${n}`);
  }
});
