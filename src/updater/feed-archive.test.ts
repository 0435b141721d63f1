import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { isClairError } from '../model/errors.ts';
import { makeTar } from '../../test/support/tar-layer.ts';
import { makeZip } from '../../test/support/zip-archive.ts';
import { openFeedArchive, readFeedDocuments } from './feed-archive.ts';

const wanted = (p: string) => p.endsWith('.json');

async function bytesOf(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function docs(location: string, opts: { fetch?: typeof fetch } = {}): Promise<string[]> {
  const opened = await openFeedArchive(location, { wanted, ...opts });
  if ('notModified' in opened) throw new Error('not modified');
  const out: string[] = [];
  for await (const d of readFeedDocuments(opened.stream, location, wanted)) out.push(`${d.path}=${d.data.toString('utf8')}`);
  return out;
}

test('feed archive: a folder is one deterministic stream of its wanted files, sorted; symlinks are not followed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-feed-archive-'));
  try {
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'b/2.json'), '{"b":2}');
    writeFileSync(join(dir, 'a.json'), '{"a":1}');
    writeFileSync(join(dir, 'notes.txt'), 'skipped');
    symlinkSync('/etc/passwd', join(dir, 'c.json'));
    assert.deepEqual(await docs(dir), ['a.json={"a":1}', 'b/2.json={"b":2}']);
    const hash = async () => {
      const o = await openFeedArchive(dir, { wanted });
      if ('notModified' in o) throw new Error('x');
      return createHash('sha256').update(await bytesOf(o.stream)).digest('hex');
    };
    assert.equal(await hash(), await hash(), 'the same folder gives the same bytes (so the same fingerprint)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('feed archive: tar, tar.gz, zip (file and URL), single document', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-feed-archive-'));
  try {
    const files = [{ path: 'top/x/1.json', content: '{"n":1}' }, { path: 'top/readme.md', content: 'no' }, { path: 'top/2.json', content: '{"n":2}' }];
    writeFileSync(join(dir, 'f.tar'), await makeTar(files));
    writeFileSync(join(dir, 'f.tar.gz'), gzipSync(await makeTar(files)));
    writeFileSync(join(dir, 'f.zip'), makeZip(files));
    writeFileSync(join(dir, 'one.json'), '{"n":0}');
    assert.deepEqual(await docs(join(dir, 'f.tar')), ['top/x/1.json={"n":1}', 'top/2.json={"n":2}']);
    assert.deepEqual(await docs(join(dir, 'f.tar.gz')), ['top/x/1.json={"n":1}', 'top/2.json={"n":2}']);
    assert.deepEqual(await docs(join(dir, 'f.zip')), ['top/2.json={"n":2}', 'top/x/1.json={"n":1}']);
    assert.deepEqual(await docs(join(dir, 'one.json')), ['={"n":0}']);
    // A zip over HTTP is downloaded to a private temp folder (under TMPDIR, here one of the test's own), removed
    // once read.
    const zip = makeZip(files);
    const fakeFetch = (async () => new Response(zip, { headers: { etag: '"z1"' } })) as unknown as typeof fetch;
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = tmp;
    try {
      assert.deepEqual(await docs('https://feeds.example/all.zip', { fetch: fakeFetch }), ['top/2.json={"n":2}', 'top/x/1.json={"n":1}']);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(tmp), [], 'temp folder removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('feed archive: damaged archives are bad-feed errors; a missing location is not-found', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-feed-archive-'));
  try {
    const zip = makeZip([{ path: 'a.json', content: '{"a":1}'.repeat(100) }]);
    writeFileSync(join(dir, 'cut.zip'), zip.subarray(0, zip.length - 30));
    await assert.rejects(docs(join(dir, 'cut.zip')), (e: unknown) => isClairError(e) && e.code === 'bad-feed' && /zip/.test(e.message));
    const tgz = gzipSync(await makeTar([{ path: 'a.json', content: 'x'.repeat(5000) }]));
    writeFileSync(join(dir, 'cut.tar.gz'), tgz.subarray(0, tgz.length - 40));
    await assert.rejects(docs(join(dir, 'cut.tar.gz')), (e: unknown) => isClairError(e) && e.code === 'bad-feed');
    await assert.rejects(docs(join(dir, 'missing')), (e: unknown) => isClairError(e) && e.code === 'not-found');
    assert.equal(existsSync(join(dir, 'missing')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
