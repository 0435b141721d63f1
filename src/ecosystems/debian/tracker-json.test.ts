import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ClairError } from '../../model/errors.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { readTrackerJson } from './tracker-json.ts';
import { debianRecords, debianUpdater } from './updater.ts';

const EXCERPT = join(import.meta.dirname, 'testdata', 'tracker-excerpt.json');
const LOCATION = 'testdata/tracker-excerpt.json';

async function collect(feed: AsyncIterable<Uint8Array | string>, location = LOCATION): Promise<Vulnerability[]> {
  const out: Vulnerability[] = [];
  for await (const v of debianRecords(feed, location)) out.push(v);
  return out;
}

/** A Readable that emits `bytes` in chunks of `size` bytes (so tokens and UTF-8 sequences are split). */
function chunked(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

const row = (v: Vulnerability) =>
  [v.package.name, v.name, v.dist.versionCodeName, v.fixedInVersion || '-', v.normalizedSeverity].join(' ');

// Every record the excerpt must produce: package, issue, release, fixedInVersion ("-" = open, no fix), severity.
// Not here, on purpose: prototypejs CVE-2007-2383 (fixed_version "0" everywhere) and zlib CVE-2005-2096 in woody
// (not affected).
const WANT = `
curl CVE-2023-38545 bullseye 7.74.0-1.3+deb11u10 Unknown
curl CVE-2023-38545 bookworm 7.88.1-10+deb12u4 Unknown
curl CVE-2023-38545 sid 8.3.0-3 Unknown
curl CVE-2025-0167 bookworm 7.88.1-10+deb12u11 Unknown
curl CVE-2025-0167 trixie 8.12.0+git20250209.89ed161+ds-1 Unknown
curl CVE-2025-0167 forky 8.12.0+git20250209.89ed161+ds-1 Unknown
curl CVE-2025-0725 bullseye - Negligible
curl CVE-2025-0725 bookworm - Negligible
curl CVE-2025-0725 trixie 8.12.0+git20250209.89ed161+ds-1 Negligible
curl CVE-2025-0725 forky 8.12.0+git20250209.89ed161+ds-1 Negligible
expat CVE-2023-52425 bullseye 2.2.10-2+deb11u6 Unknown
expat CVE-2023-52425 bookworm 2.5.0-1+deb12u2 Unknown
expat CVE-2023-52425 sid 2.6.0-1 Unknown
glibc CVE-2023-4911 bullseye 2.31-13+deb11u7 Unknown
glibc CVE-2023-4911 bookworm 2.36-9+deb12u3 Unknown
glibc CVE-2023-4911 sid 2.37-12 Unknown
libxml2 CVE-2022-40303 bullseye 2.9.10+dfsg-6.7+deb11u3 Unknown
libxml2 CVE-2022-40303 bookworm 2.9.14+dfsg-1.1 Unknown
libxml2 CVE-2022-40303 sid 2.9.14+dfsg-1.1 Unknown
openssl CVE-2025-27587 bullseye - Negligible
openssl CVE-2025-27587 bookworm - Negligible
openssl CVE-2025-27587 trixie 3.5.0-1 Negligible
openssl CVE-2025-27587 forky 3.5.0-1 Negligible
openssl CVE-2026-22796 bullseye - Unknown
openssl CVE-2026-22796 bookworm 3.0.18-1~deb12u2 Unknown
openssl CVE-2026-22796 trixie 3.5.4-1~deb13u2 Unknown
openssl CVE-2026-22796 forky - Unknown
perl CVE-2023-47038 bookworm 5.36.0-7+deb12u1 Unknown
sqlite3 CVE-2023-7104 bookworm 3.40.1-2+deb12u1 Unknown
tar CVE-2023-39804 bookworm 1.34+dfsg-1.2+deb12u1 Unknown
txt2man CVE-2013-1444 stretch 1.5.5-4.1 Low
txt2man CVE-2013-1444 jessie 1.5.5-4.1 Low
txt2man CVE-2013-1444 buster 1.5.5-4.1 Low
txt2man CVE-2013-1444 sid 1.5.5-4.1 Low
zlib CVE-2005-2096 sarge 1:1.2.2-4.sarge.1 Medium
zlib CVE-2022-37434 bullseye 1:1.2.11.dfsg-2+deb11u2 Unknown
zlib CVE-2022-37434 bookworm 1:1.2.11.dfsg-4.1 Unknown
zlib CVE-2022-37434 sid 1:1.2.11.dfsg-4.1 Unknown
`
  .trim()
  .split('\n');

test('the excerpt yields exactly the expected records, in feed order', async () => {
  const got = await collect(Readable.from([readFileSync(EXCERPT)]));
  assert.deepEqual(got.map(row), WANT);
});

test('a record carries everything the feed says about it', async () => {
  const got = await collect(Readable.from([readFileSync(EXCERPT)]));
  const glibc = got.find((v) => v.name === 'CVE-2023-4911' && v.dist.versionCodeName === 'bookworm');
  assert.deepEqual(glibc, {
    updater: 'debian',
    name: 'CVE-2023-4911',
    description: "A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so while processing the GLIBC_TUNABLES environment variable.",
    issued: '',
    links: 'https://security-tracker.debian.org/tracker/CVE-2023-4911',
    severity: 'not yet assigned',
    normalizedSeverity: 'Unknown',
    package: { name: 'glibc', kind: 'source', module: '', arch: '' },
    dist: {
      did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: 'Debian GNU/Linux',
      version: '12 (bookworm)', prettyName: 'Debian GNU/Linux 12 (bookworm)', arch: '',
    },
    repo: { name: '', key: '', uri: '', cpe: '' },
    fixedInVersion: '2.36-9+deb12u3',
    versionScheme: 'dpkg',
    range: { introduced: '', lastAffected: '' },
    archOperation: '',
  });
  const sid = got.find((v) => v.name === 'CVE-2023-4911' && v.dist.versionCodeName === 'sid')!;
  assert.equal(sid.dist.versionId, '');
  const txt2man = got.find((v) => v.package.name === 'txt2man')!;
  assert.equal(txt2man.severity, 'low**', 'the raw urgency is kept, asterisks included');
  // Records do not share nested objects: a consumer changing one must not change another.
  const bookworms = got.filter((v) => v.dist.versionCodeName === 'bookworm');
  assert.notEqual(bookworms[0]!.dist, bookworms[1]!.dist);
});

test('the updater parses a Readable in 7-byte chunks to the same records', async () => {
  const bytes = readFileSync(EXCERPT);
  const whole = await collect(Readable.from([bytes]));
  const out: Vulnerability[] = [];
  for await (const v of debianUpdater.parse(chunked(bytes, 7), { location: LOCATION })) out.push(v);
  assert.deepEqual(out, whole);
  assert.equal(out.length, WANT.length);
});

test('multi-byte UTF-8 split across chunks is decoded, a byte-order mark is dropped', async () => {
  const json = '\uFEFF{"pkg-ü":{"CVE-2024-0001":{"description":"Ünïcödé — ✓ 𝄞","releases":{"bookworm":{"status":"open","urgency":"low"}}}}}';
  for (const size of [1, 2, 3, 5]) {
    const [v] = await collect(chunked(Buffer.from(json, 'utf8'), size));
    assert.equal(v?.package.name, 'pkg-ü');
    assert.equal(v?.description, 'Ünïcödé — ✓ 𝄞');
  }
});

test('status rules: what becomes a record and what does not', async () => {
  const rel = (r: object) => JSON.stringify({ p: { 'CVE-2024-0001': { releases: { bookworm: r } } } });
  const cases: [string, object, string | undefined][] = [
    ['resolved with a fix', { status: 'resolved', fixed_version: '1:2.3-4', urgency: 'high' }, '1:2.3-4'],
    ['open', { status: 'open', urgency: 'medium' }, ''],
    ['open ignores a stray fixed_version', { status: 'open', fixed_version: '2.0-1', urgency: 'medium' }, ''],
    ['fixed_version "0" is not affected', { status: 'resolved', fixed_version: '0', urgency: 'unimportant' }, undefined],
    ['undetermined', { status: 'undetermined', urgency: 'not yet assigned' }, undefined],
    ['not-affected', { status: 'not-affected', urgency: 'not yet assigned' }, undefined],
    ['resolved without a version', { status: 'resolved', urgency: 'low' }, undefined],
  ];
  for (const [name, r, want] of cases) {
    const got = await collect(Readable.from([rel(r)]));
    if (want === undefined) assert.equal(got.length, 0, name);
    else {
      assert.equal(got.length, 1, name);
      assert.equal(got[0]!.fixedInVersion, want, name);
    }
  }
});

test('TEMP ids are kept, missing urgency is Unknown, "releases": [] and unknown codenames are accepted', async () => {
  const json = JSON.stringify({
    a: { 'TEMP-0000000-1A2B3C': { description: 'no CVE yet', releases: { bookworm: { status: 'open' } } } },
    b: { 'CVE-2022-0358': { releases: [] } },
    c: [],
    d: { 'CVE-2024-0002': { releases: { experimental: { status: 'resolved', fixed_version: '1.0-1', urgency: 'high' } } } },
  });
  const got = await collect(Readable.from([json]));
  assert.deepEqual(got.map(row), ['a TEMP-0000000-1A2B3C bookworm - Unknown', 'd CVE-2024-0002 experimental 1.0-1 High']);
  assert.equal(got[0]!.links, 'https://security-tracker.debian.org/tracker/TEMP-0000000-1A2B3C');
  assert.equal(got[0]!.severity, '');
  assert.equal(got[1]!.dist.versionId, '');
});

test('malformed feeds are bad-feed errors naming the location', async () => {
  const excerpt = readFileSync(EXCERPT);
  const rel = (r: unknown) => JSON.stringify({ p: { 'CVE-2024-0001': { releases: { bookworm: r } } } });
  const cases: [string, Buffer | string, RegExp][] = [
    ['not JSON', 'hello', /./],
    ['HTML error page', '<html><body>502</body></html>', /./],
    ['empty', '', /empty feed/],
    ['only whitespace', '  \n', /empty feed/],
    ['top-level array', '[{"a":1}]', /object/],
    ['top-level string', '"x"', /object/],
    ['top-level number', '42', /object/],
    ['truncated in the middle', excerpt.subarray(0, Math.floor(excerpt.length / 2)), /./],
    ['truncated before the last brace', excerpt.subarray(0, excerpt.lastIndexOf('}')), /truncated/],
    ['trailing garbage', '{"p":{}} {"q":{}}', /./],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x7b, 0x7d, 0x7d]), /./],
    ['package is a number', '{"p": 1}', /package "p"/],
    ['issue is a string', '{"p": {"CVE-2024-0001": "x"}}', /CVE-2024-0001/],
    ['releases missing', '{"p": {"CVE-2024-0001": {"description": "x"}}}', /releases/],
    ['release without status', rel({ urgency: 'low', fixed_version: '1.0-1' }), /bookworm.*no status/],
    ['release is an array', rel(['resolved']), /bookworm/],
    ['status is a number', rel({ status: 3 }), /no status/],
    ['fixed_version is a number', rel({ status: 'resolved', fixed_version: 1.2 }), /fixed_version/],
    ['fixed_version is not a dpkg version', rel({ status: 'resolved', fixed_version: 'not a version' }), /not a dpkg version/],
    ['unknown status', rel({ status: 'postponed' }), /unknown status "postponed"/],
  ];
  for (const [name, input, message] of cases) {
    await assert.rejects(
      collect(Readable.from([typeof input === 'string' ? Buffer.from(input) : input]), 'https://example.test/json'),
      (e: unknown) => {
        assert.ok(e instanceof ClairError, `${name}: ${String(e)}`);
        assert.equal(e.code, 'bad-feed', name);
        assert.match(e.message, /^https:\/\/example\.test\/json: /, name);
        assert.match(e.message, message, name);
        return true;
      },
      name,
    );
  }
});

test('records before the damage are yielded; the error then comes through the iterator', async () => {
  const text = readFileSync(EXCERPT, 'utf8');
  const cut = text.indexOf('"zlib"');
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const v of debianRecords(chunked(Buffer.from(text.slice(0, cut) + '"zlib": {"CVE-1": 7}}'), 64), LOCATION)) seen.push(v.package.name);
  }, /bad-feed|CVE-1/);
  assert.ok(seen.includes('txt2man'));
  assert.ok(!seen.includes('zlib'));
});

test('an error of the byte source surfaces through the iterator unchanged', async () => {
  const boom = new Error('connection reset');
  const source = new Readable({
    read() {
      this.push('{"p": {"CVE-2024-0001": {"releases": {');
      this.destroy(boom);
    },
  });
  await assert.rejects(collect(source), (e) => e === boom);
});

test('a consumer that stops early closes the source', async () => {
  const source = Readable.from([readFileSync(EXCERPT)]);
  for await (const v of debianRecords(source, LOCATION)) {
    assert.equal(v.package.name, 'curl');
    break;
  }
  assert.ok(source.destroyed);
});

test('readTrackerJson yields one source package at a time', async () => {
  const names: string[] = [];
  for await (const p of readTrackerJson(Readable.from([readFileSync(EXCERPT)]), LOCATION)) names.push(p.name);
  assert.deepEqual(names, ['curl', 'expat', 'glibc', 'libxml2', 'openssl', 'perl', 'prototypejs', 'sqlite3', 'tar', 'txt2man', 'zlib']);
});

test('the real tracker excerpts in shared data parse', async (t) => {
  const dir = requireSharedData(t, 'feeds', 'debian', 'security-tracker-json');
  if (!dir) return;
  const files: [string, number][] = [
    // vunnel: 6 packages; prototypejs CVE-2007-2383 is "0" everywhere, chromium-browser has "releases": [].
    ['vunnel/debian.json', 21],
    ['osv.dev/debian_security_tracker_mock.json', -1],
    ['clair-v2-history/ext/vulnsrc/debian/testdata/fetcher_debian_test.json', 5],
    ['clair-v2-history/updater/fetchers/debian/testdata/fetcher_debian_test.json', 5],
  ];
  for (const [file, want] of files) {
    const got = await collect(chunked(readFileSync(join(dir, file)), 4096), file);
    assert.ok(got.length > 0, file);
    if (want >= 0) assert.equal(got.length, want, file);
    for (const v of got) assert.equal(v.versionScheme, 'dpkg', file);
  }
  const vunnel = await collect(Readable.from([readFileSync(join(dir, 'vunnel/debian.json'))]));
  const rows = vunnel.map(row);
  assert.ok(!rows.some((r) => r.startsWith('prototypejs CVE-2007-2383')), 'fixed_version "0" gives no record');
  assert.ok(rows.includes('prototypejs CVE-2008-7220 buster 1.6.0.2-1 High'), 'high** maps to High');
  assert.ok(rows.includes('chromium CVE-2022-0456 bullseye 98.0.4758.80-1~deb11u1 Unknown'));
  assert.ok(rows.includes('chromium CVE-2022-0456 stretch - Unknown'), 'open end-of-life is a record with Unknown severity');
  assert.ok(rows.includes('backupninja CVE-2005-3111 sid 0.8-2 Medium'));
  // Clair v2's fixture: wheezy "resolved" without fixed_version gives no record; jessie "open" does.
  const v2 = await collect(Readable.from([readFileSync(join(dir, files[2]![0]))]));
  const v2rows = v2.map(row);
  assert.ok(!v2rows.some((r) => r.includes(' wheezy ')));
  assert.ok(v2rows.includes('aptdaemon CVE-2015-1323 jessie - Low'));
  assert.ok(!v2rows.some((r) => r.startsWith('asterisk CVE-2013-2685')));
});
