import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { makeTar } from '../../../test/support/tar-layer.ts';
import { makeZip } from '../../../test/support/zip-archive.ts';
import { alpineUpdater } from './updater.ts';

const SECDB = join(import.meta.dirname, 'testdata/secdb');

async function records(location: string): Promise<Vulnerability[]> {
  const opened = await alpineUpdater.open!(location, {});
  if ('notModified' in opened) throw new Error('not modified');
  const out: Vulnerability[] = [];
  for await (const v of alpineUpdater.parse(opened.stream, { location })) out.push(v);
  return out;
}

const key = (v: Vulnerability) => `${v.package.name} ${v.name} ${v.fixedInVersion} ${v.dist.versionId} ${v.versionScheme}`;

test('alpine secdb: a folder like the site; "0" secfixes are never affected', async () => {
  const got = await records(SECDB);
  assert.equal(got.length, 81);
  const keys = got.map(key);
  assert.ok(keys.includes('busybox CVE-2025-46394 1.36.1-r21 3.19 apk2'));
  assert.ok(keys.includes('busybox ALPINE-13661 1.35.0-r7 3.19 apk2'));
  assert.ok(!got.some((v) => v.name === 'CVE-2023-45853' || v.fixedInVersion === '0'), 'zlib "0" entries are not records');
  const v = got.find((r) => r.name === 'CVE-2025-26519')!;
  assert.deepEqual([v.updater, v.dist.did, v.dist.prettyName, v.repo.name, v.package.kind, v.normalizedSeverity, v.links], [
    'alpine', 'alpine', 'Alpine Linux v3.19', 'main', 'source', 'Unknown', 'https://security.alpinelinux.org/vuln/CVE-2025-26519',
  ]);
});

test('alpine secdb: one document, a .tar.gz and a .zip of the folder give the same records', async () => {
  const want = (await records(SECDB)).map(key).sort();
  assert.deepEqual((await records(join(SECDB, 'v3.19/main.json'))).map(key).sort(), want);
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-secdb-'));
  try {
    const doc = readFileSync(join(SECDB, 'v3.19/main.json'));
    writeFileSync(join(dir, 'secdb.tar.gz'), gzipSync(await makeTar([{ path: 'secdb/v3.19/main.json', content: doc }, { path: 'secdb/last-update', content: '1' }])));
    assert.deepEqual((await records(join(dir, 'secdb.tar.gz'))).map(key).sort(), want);
    writeFileSync(join(dir, 'secdb.zip'), makeZip([{ path: 'v3.19/', content: '' }, { path: 'v3.19/main.json', content: doc }]));
    assert.deepEqual((await records(join(dir, 'secdb.zip'))).map(key).sort(), want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alpine secdb: the site layout of claircore\'s real fetch (v3.10/community.json) and v3.20 entries', async (t) => {
  const fetchDir = requireSharedData(t, 'feeds/alpine/claircore/fetch');
  if (!fetchDir) return;
  const got = await records(fetchDir);
  assert.ok(got.length > 0);
  assert.ok(got.every((v) => v.dist.versionId === '3.10' && v.repo.name === 'community' && v.versionScheme === 'apk2'));
  assert.ok(got.map(key).includes('botan CVE-2018-20187 2.9.0-r0 3.10 apk2'));
});

test('alpine secdb: bad documents are bad-feed errors naming the place', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-secdb-bad-'));
  try {
    const cases: Array<[string, string, RegExp]> = [
      ['no-branch.json', JSON.stringify({ reponame: 'main', packages: [] }), /cannot tell which release/],
      ['broken.json', '{"packages": [', /not a JSON document/],
      ['shape.json', JSON.stringify({ distroversion: 'v3.19', packages: [{ pkg: { secfixes: {} } }] }), /packages\[0\]: expected/],
      ['fixes.json', JSON.stringify({ distroversion: 'v3.19', packages: [{ pkg: { name: 'x', secfixes: { '1.0-r0': 'CVE-1' } } }] }), /is not a list/],
    ];
    for (const [name, text, message] of cases) {
      writeFileSync(join(dir, name), text);
      await assert.rejects(records(join(dir, name)), (e: unknown) => isClairError(e) && e.code === 'bad-feed' && message.test(e.message), name);
    }
    writeFileSync(join(dir, 'trunc.tar.gz'), gzipSync(await makeTar([{ path: 'v3.19/main.json', content: readFileSync(join(SECDB, 'v3.19/main.json')) }])).subarray(0, 300));
    await assert.rejects(records(join(dir, 'trunc.tar.gz')), (e: unknown) => isClairError(e) && e.code === 'bad-feed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alpine secdb: versions apk calls invalid are kept, never abort the feed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-secdb-inv-'));
  try {
    writeFileSync(join(dir, 'main.json'), JSON.stringify({ distroversion: 'v3.23', reponame: 'main', packages: [{ pkg: { name: 'openssh', secfixes: { '5.1p1-r0': ['CVE-2008-1234 (old)'], '0': ['CVE-2000-1'] } } }] }));
    const got = await records(join(dir, 'main.json'));
    assert.deepEqual(got.map(key), ['openssh CVE-2008-1234 5.1p1-r0 3.23 apk3']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alpine secdb: the site (URL) is read branch by branch from its index; missing documents are skipped', async () => {
  const doc = readFileSync(join(SECDB, 'v3.19/main.json'));
  const requested: string[] = [];
  const fakeFetch = (async (url: string | URL) => {
    const u = String(url);
    requested.push(u);
    if (u === 'https://secdb.example/') return new Response('<a href="v3.19/">v3.19/</a> <a href="edge/">edge/</a> <a href="last-update">x</a>');
    if (u === 'https://secdb.example/v3.19/main.json') return new Response(doc);
    return new Response('not here', { status: 404 });
  }) as typeof fetch;
  const opened = await alpineUpdater.open!('https://secdb.example/', { fetch: fakeFetch });
  if ('notModified' in opened) throw new Error('not modified');
  const got: Vulnerability[] = [];
  for await (const v of alpineUpdater.parse(opened.stream, { location: 'https://secdb.example/' })) got.push(v);
  assert.equal(got.length, 81);
  assert.deepEqual(requested, [
    'https://secdb.example/',
    'https://secdb.example/edge/main.json',
    'https://secdb.example/edge/community.json',
    'https://secdb.example/v3.19/main.json',
    'https://secdb.example/v3.19/community.json',
  ]);
  const failing = (async () => new Response('boom', { status: 503 })) as unknown as typeof fetch;
  const broken = await alpineUpdater.open!('https://secdb.example/', { fetch: failing });
  if ('notModified' in broken) throw new Error('not modified');
  await assert.rejects(async () => {
    for await (const _ of alpineUpdater.parse(broken.stream, { location: 'https://secdb.example/' })) void _;
  }, /HTTP 503/);
});
