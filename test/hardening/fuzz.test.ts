import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { makeTar } from '../support/tar-layer.ts';
import { mulberry32 } from '../support/prng.ts';
import { walkLayer } from '../../src/indexer/layer-walker.ts';
import { dpkgStatusScanner } from '../../src/ecosystems/dpkg/scanner.ts';
import { osReleaseScanner } from '../../src/ecosystems/os-release/scanner.ts';
import { StatusFileReader } from '../../src/ecosystems/dpkg/status-file.ts';
import { readBdbHeaders } from '../../src/ecosystems/rpm/bdb.ts';
import { readNdbHeaders } from '../../src/ecosystems/rpm/ndb.ts';
import { parseHeaderBlob } from '../../src/ecosystems/rpm/header.ts';
import { packageFromHeader } from '../../src/ecosystems/rpm/rpmdb.ts';
import { apkPackages } from '../../src/ecosystems/apk/installed-db.ts';
import { apkInstalledScanner } from '../../src/ecosystems/apk/scanner.ts';
import { apk2 } from '../../src/versions/apk2.ts';
import { apk3 } from '../../src/versions/apk3.ts';
import { dpkg } from '../../src/versions/dpkg.ts';
import { rpm } from '../../src/versions/rpm.ts';
import { readTrackerJson } from '../../src/ecosystems/debian/tracker-json.ts';
import { parseVexDocument } from '../../src/ecosystems/rhel/csaf-vex.ts';
import { parseChangesCsv } from '../../src/ecosystems/rhel/vex-mirror.ts';
import { parseJsonDocument, secdbRecords } from '../../src/ecosystems/apk/secdb.ts';
import { emptyDistribution } from '../../src/model/distribution.ts';
import { isClairError } from '../../src/model/errors.ts';

// Issue #18: a fuzz test of the readers an image or a feed feeds: tar layers, dpkg status, rpm databases (bdb, ndb,
// header blobs), apk's installed database and versions, and the feed parsers (Debian tracker JSON, CSAF VEX, apk
// secdb, changes.csv). Inputs are mutations of small valid seeds from a fixed-seed PRNG, so every run tries the same
// inputs and a failure is reproducible. The property: a reader returns, or throws a ClairError (a typed, reported
// error); never a TypeError/RangeError, a stack overflow or a hang.
//
// Iterations per reader: CLAIR_TS_FUZZ_ITERATIONS, else 1500 under CI (.ci/run) and 150 elsewhere.

const ITERATIONS = Number(process.env.CLAIR_TS_FUZZ_ITERATIONS ?? (process.env.CI ? 1500 : 150));
const SEED = 0x18_2026;

const INTERESTING = [0, 0xff, 0x7f, 0x80, 0x0a, 0x0d, 0x3a, 0x20, 0x00, 0x2e, 0x2f, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x5c, 0x2d, 0x7e];

/** One to eight mutations: bit flips, interesting bytes, 32-bit boundary values, cuts, duplications, insertions. */
function mutate(seed: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(seed);
  const n = 1 + Math.floor(rnd() * 8);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    switch (Math.floor(rnd() * 7)) {
      case 0:
        if (b.length) b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
        break;
      case 1:
        if (b.length) b[at] = INTERESTING[Math.floor(rnd() * INTERESTING.length)]!;
        break;
      case 2:
        if (at + 4 <= b.length) b.writeUInt32LE([0, 0xffffffff, 0x7fffffff, 0x80000000, 1, b.length][Math.floor(rnd() * 6)]! >>> 0, at);
        break;
      case 3:
        b = b.subarray(0, at);
        break;
      case 4: {
        const len = Math.floor(rnd() * 64);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 5: {
        const junk = Buffer.alloc(Math.floor(rnd() * 32));
        for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rnd() * 256);
        b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
        break;
      }
      default:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + Math.floor(rnd() * 16)))]);
    }
  }
  return b;
}

function randomBytes(rnd: () => number, max: number): Buffer {
  const b = Buffer.alloc(Math.floor(rnd() * max));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** Runs `fn` over ITERATIONS inputs; any throw that is not a ClairError fails with the input that caused it. */
async function fuzz(name: string, seeds: Buffer[], fn: (input: Buffer) => unknown): Promise<void> {
  const rnd = mulberry32(SEED ^ [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261));
  for (let i = 0; i < ITERATIONS; i++) {
    const input = i % 10 === 9 ? randomBytes(rnd, 4096) : mutate(seeds[i % seeds.length]!, rnd);
    try {
      await fn(input);
    } catch (e) {
      if (isClairError(e)) continue;
      assert.fail(`${name}: iteration ${i} threw ${(e as Error)?.name}: ${(e as Error)?.message}\ninput (base64): ${input.subarray(0, 2048).toString('base64')}`);
    }
  }
}

const STATUS = Buffer.from(`Package: bash
Status: install ok installed
Architecture: amd64
Source: bash (5.2.15-2)
Version: 5.2.15-2+b2
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.
 .
 It includes features from the Korn and C shells.

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
`);

const APK_DB = Buffer.from(`C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
o:musl
F:lib
R:ld-musl-x86_64.so.1

P:py3-pip
V:23.1.2-r0
A:noarch
o:py-pip
F:usr/lib/python3.11/site-packages/pip-23.1.2.dist-info
R:METADATA
`);

test('fuzz: tar layers through the walker and the OS scanners', async () => {
  const seeds = [
    await makeTar([
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
      { path: 'var/lib/dpkg/status', content: STATUS },
      { path: 'lib/apk/db/installed', content: APK_DB },
      { path: 'usr/.wh.share', content: '' },
      { path: 'var/lib/dpkg/status.d/base', type: 'link', linkname: 'var/lib/dpkg/status' },
    ]),
  ];
  await fuzz('tar', seeds, async (input) => {
    const walk = await walkLayer([Readable.from([input])], 'sha256:fuzz', [dpkgStatusScanner, osReleaseScanner, apkInstalledScanner]);
    assert.ok(Array.isArray(walk.findings));
  });
});

test('fuzz: dpkg status reader and dpkg versions', async () => {
  await fuzz('dpkg-status', [STATUS], (input) => {
    const r = new StatusFileReader('var/lib/dpkg/status', true);
    // Chunked as a layer would deliver it, so boundaries fall anywhere.
    for (let i = 0; i < input.length; i += 37) r.write(input.subarray(i, i + 37));
    r.end();
  });
  await fuzz('dpkg-version', [Buffer.from('1:2.36-9+deb12u4'), Buffer.from('5.2.15-2+b2~bpo1')], (input) => {
    dpkg.compare(input.toString('latin1'), '1.0-1');
  });
});

test('fuzz: rpm databases (bdb, ndb) and header blobs', async () => {
  const bdb = readFileSync(join(import.meta.dirname, '../../src/ecosystems/rpm/testdata/bdb-le/Packages'));
  const headers = readBdbHeaders(bdb, 'seed').map((h) => h.blob).slice(0, 4);
  await fuzz('rpm-bdb', [bdb], (input) => readBdbHeaders(input, 'var/lib/rpm/Packages'));
  const ndb = Buffer.alloc(8192);
  ndb.write('RpmP', 0, 'latin1');
  ndb.writeUInt32LE(1, 12);
  await fuzz('rpm-ndb', [ndb], (input) => readNdbHeaders(input, 'var/lib/rpm/Packages.db'));
  await fuzz('rpm-header', headers, (input) => {
    const h = parseHeaderBlob(input, 'fuzz');
    packageFromHeader(h);
  });
  await fuzz('rpm-version', [Buffer.from('1:2.36-9.el9_2'), Buffer.from('3.0.7-24.el9~beta^1')], (input) => {
    rpm.compare(input.toString('latin1'), '1.0-1');
  });
});

test('fuzz: apk installed database and apk versions', async () => {
  await fuzz('apk-installed', [APK_DB], (input) => apkPackages(input.toString('utf8'), 'lib/apk/db/installed'));
  await fuzz('apk-version', [Buffer.from('1.2.4-r2'), Buffer.from('2.14.10_rc3-r10'), Buffer.from('1.0_p1~ab12-r0')], (input) => {
    const v = input.toString('latin1');
    // Either scheme may refuse a version (a ClairError); neither may throw anything else.
    for (const scheme of [apk2, apk3]) {
      try {
        scheme.compare(v, '1.0-r0');
      } catch (e) {
        if (!isClairError(e)) throw e;
      }
    }
  });
});

test('fuzz: feed readers (Debian tracker JSON, CSAF VEX, apk secdb, changes.csv)', async () => {
  const tracker = readFileSync(join(import.meta.dirname, '../../src/ecosystems/debian/testdata/tracker-excerpt.json')).subarray(0, 6000);
  await fuzz('debian-tracker', [tracker], async (input) => {
    for await (const _ of readTrackerJson(Readable.from([input.subarray(0, input.length >> 1), input.subarray(input.length >> 1)]), 'fuzz')) void _;
  });
  const vex = Buffer.from(JSON.stringify({
    document: { tracking: { id: 'CVE-2024-1', current_release_date: '2024-01-01T00:00:00Z' }, aggregate_severity: { text: 'Important' } },
    product_tree: {
      branches: [{ category: 'vendor', name: 'Red Hat', branches: [{ category: 'product_family', name: 'RHEL', branches: [{ category: 'product_name', name: 'RHEL 9', product: { product_id: 'AppStream-9', name: 'RHEL 9', product_identification_helper: { cpe: 'cpe:/a:redhat:enterprise_linux:9::appstream' } } }] }] }],
      relationships: [{ category: 'default_component_of', full_product_name: { product_id: 'AppStream-9:curl-0:7.76.1-26.el9.x86_64', name: 'curl' }, product_reference: 'curl-0:7.76.1-26.el9.x86_64', relates_to_product_reference: 'AppStream-9' }],
    },
    vulnerabilities: [{ cve: 'CVE-2024-1', product_status: { fixed: ['AppStream-9:curl-0:7.76.1-26.el9.x86_64'] }, threats: [{ category: 'impact', details: 'Important' }] }],
  }));
  await fuzz('csaf-vex', [vex], (input) => {
    let doc: unknown;
    try {
      doc = JSON.parse(input.toString('utf8'));
    } catch {
      return; // not JSON: the updater's parseFeedJson says so; the document reader gets parsed JSON only
    }
    parseVexDocument(doc, 'fuzz');
  });
  const secdb = Buffer.from(JSON.stringify({
    distroversion: 'v3.19', reponame: 'main', urlprefix: 'https://dl-cdn.alpinelinux.org/alpine',
    packages: [{ pkg: { name: 'openssl', secfixes: { '3.1.4-r1': ['CVE-2023-5678'], '0': ['CVE-2000-1'] } } }],
  }));
  const ctx = { updater: 'alpine', dist: { ...emptyDistribution(), did: 'alpine' }, versionScheme: 'apk', link: (id: string) => id };
  await fuzz('apk-secdb', [secdb], (input) => secdbRecords(parseJsonDocument(input, 'fuzz'), ctx as never, 'fuzz'));
  await fuzz('changes-csv', [Buffer.from('"2024/cve-2024-1.json","2024-01-02T00:00:00+00:00"\n"2023/cve-2023-2.json","2024-01-03T00:00:00Z"\n')], (input) =>
    parseChangesCsv(input.toString('utf8'), 'fuzz'),
  );
});
