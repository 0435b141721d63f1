import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { readGoBuildInfo } from '../go/build-info.ts';
import { oldLayoutElf } from '../go/testdata/old-layout-elf.ts';
import { ChunkedBytes, parseElf } from './elf-file.ts';
import { elfFileSink } from './elf-sink.ts';

const split = (b: Buffer, n: number): Buffer[] => Array.from({ length: Math.ceil(b.length / n) }, (_, i) => b.subarray(i * n, (i + 1) * n));

describe('ChunkedBytes', () => {
  it('reads any range as Buffer.concat would, clipped to the end', () => {
    const whole = randomBytes(10_000);
    const chunked = new ChunkedBytes([Buffer.alloc(0), ...split(whole, 777)]);
    assert.equal(chunked.length, whole.length);
    for (const [o, n] of [[0, 10], [770, 20], [776, 1], [777, 777], [1, 9_998], [9_990, 100], [20_000, 5], [5, 0]] as const) {
      assert.deepEqual(chunked.read(o, n), whole.subarray(o, o + n), `read(${o}, ${n})`);
    }
  });

  it('ELF headers and Go build info read the same from 7-byte chunks as from one buffer', () => {
    const bytes = oldLayoutElf({ bits: 64, bigEndian: false, goVersion: 'go1.16.15', modText: 'path\tx\nmod\tx\tv1.0.0\t\ndep\ty\tv2.0.0\th1:a=\n' });
    const chunked = new ChunkedBytes(split(bytes, 7));
    assert.deepEqual(parseElf(chunked).segments, parseElf(bytes).segments);
    assert.deepEqual(readGoBuildInfo(chunked), readGoBuildInfo(bytes));
    assert.equal(readGoBuildInfo(chunked)?.deps[0]?.path, 'y');
  });
});

describe('elfFileSink', () => {
  it('drops a non-ELF executable after its first bytes and reads an ELF one from its chunks', () => {
    let calls = 0;
    const script = elfFileSink({ path: 'usr/bin/x', size: 12, mode: 0o755 }, () => (calls++, {}));
    for (const c of split(Buffer.from('#!/bin/sh\necho'), 2)) script.write(c);
    assert.deepEqual(script.end(), {});
    assert.equal(calls, 0);
    const bytes = oldLayoutElf({ bits: 32, bigEndian: true, goVersion: 'go1.12', modText: '' });
    const sink = elfFileSink({ path: 'usr/bin/y', size: bytes.length, mode: 0o755 }, (b) => ({ errors: [readGoBuildInfo(b)!.goVersion] }));
    for (const c of split(bytes, 3)) sink.write(c);
    assert.deepEqual(sink.end(), { errors: ['go1.12'] });
  });
});
