import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { ClairError } from '../model/errors.ts';
import { DigestVerifier } from './digest-verifier.ts';
import { collect } from './testdata/image-builder.ts';

const data = Buffer.from('the bytes of a layer, split over a few chunks');
const chunks = [data.subarray(0, 5), data.subarray(5, 20), data.subarray(20)];
const hash = (alg: string, b: Buffer): string => `${alg}:${createHash(alg).update(b).digest('hex')}`;
const otherData = Buffer.from('other bytes');

describe('DigestVerifier', () => {
  const passing: { name: string; digest: string; size?: number }[] = [
    { name: 'sha256', digest: hash('sha256', data) },
    { name: 'sha512', digest: hash('sha512', data) },
    { name: 'sha256 with the right size', digest: hash('sha256', data), size: data.length },
  ];
  for (const c of passing) {
    it(`passes bytes through unchanged: ${c.name}`, async () => {
      const v = new DigestVerifier(c.digest, c.size === undefined ? {} : { expectedSize: c.size });
      const out = await collect(Readable.from(chunks).pipe(v));
      assert.deepEqual(out, data);
    });
  }

  const failing: { name: string; digest: string; size?: number; message: RegExp }[] = [
    { name: 'other content, sha256', digest: hash('sha256', otherData), message: /^layer sha256:[0-9a-f]{64}: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}$/ },
    { name: 'other content, sha512', digest: hash('sha512', otherData), message: /expected sha512:.*got sha512:/ },
    { name: 'too few bytes', digest: hash('sha256', data), size: data.length + 1, message: /expected \d+ bytes, got \d+/ },
    { name: 'too many bytes', digest: hash('sha256', data), size: 3, message: /expected 3 bytes, got more/ },
  ];
  for (const c of failing) {
    it(`fails with digest-mismatch: ${c.name}`, async () => {
      const v = new DigestVerifier(c.digest, c.size === undefined ? {} : { expectedSize: c.size });
      await assert.rejects(pipeline(Readable.from(chunks), v, async (s: AsyncIterable<Buffer>) => { for await (const _ of s); }), (err: unknown) => {
        assert.ok(err instanceof ClairError);
        assert.equal(err.code, 'digest-mismatch');
        assert.match(err.message, c.message);
        return true;
      });
    });
  }

  const refused: { digest: string; code: string }[] = [
    { digest: 'md5:d41d8cd98f00b204e9800998ecf8427e', code: 'unsupported' },
    { digest: 'sha256:abc', code: 'bad-input' },
    { digest: 'no-colon', code: 'bad-input' },
    { digest: `sha256:${'A'.repeat(64)}`, code: 'bad-input' },
  ];
  for (const c of refused) {
    it(`refuses ${c.digest} with ${c.code}`, () => {
      assert.throws(() => new DigestVerifier(c.digest), (err: unknown) => err instanceof ClairError && err.code === c.code);
    });
  }
});
