import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from '../support/run-cli.ts';
import { OciLayoutWriter, buildLayer, layerTar, type BuiltLayer } from '../../src/image/testdata/image-builder.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { versionSchemes } from '../../src/versions/registry.ts';

// The CLI end to end, in-process, on small hand-made Debian-like images: a base layer, a layer that installs and
// upgrades packages, and a layer that removes one (with a whiteout). Exit codes, outputs and the database after
// bad input are what a CI pipeline relies on.

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n';
const stanza = (name: string, version: string, source?: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\n${source ? `Source: ${source}\n` : ''}Version: ${version}\n`;
const status = (...s: string[]) => s.join('\n');

// Real CVEs and fixed versions (see src/ecosystems/debian/testdata/README.md for the sources of the same facts).
const TRACKER = {
  glibc: {
    'CVE-2023-4911': { description: 'Looney Tunables', scope: 'local', releases: { bookworm: { status: 'resolved', fixed_version: '2.36-9+deb12u3', urgency: 'high', repositories: { bookworm: '2.36-9+deb12u7' } } } },
  },
  curl: {
    'CVE-2023-38545': { description: 'SOCKS5 heap overflow', releases: { bookworm: { status: 'resolved', fixed_version: '7.88.1-10+deb12u4', urgency: 'high', repositories: {} } } },
    'CVE-2024-2379': { description: 'QUIC certificate check bypass', releases: { bookworm: { status: 'resolved', fixed_version: '0', urgency: 'unimportant', repositories: {} } } },
  },
  openssl: {
    'CVE-2024-5535': { description: 'SSL_select_next_proto buffer overread', releases: { bookworm: { status: 'open', urgency: 'low', repositories: {} } } },
  },
  bash: {
    'CVE-2022-3715': { description: 'heap overflow in valid_parameter_transform', releases: { bookworm: { status: 'resolved', fixed_version: '5.2.15-1', urgency: 'unimportant', repositories: {} } } },
  },
};

let dir: string;
let layers: BuiltLayer[];
let db: string;

const run = (args: string[], stdin = ''): Promise<CliRun> => runCli(db, args, stdin);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clair-ts-cli-'));
  db = join(dir, 'clair.db');
  const base = buildLayer(
    await layerTar({
      'usr/lib/os-release': OS_RELEASE,
      'var/lib/dpkg/status': status(stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u1', 'glibc'), stanza('libssl3', '3.0.11-1~deb12u2', 'openssl')),
    }),
    'gzip',
  );
  const install = buildLayer(
    await layerTar({
      'var/lib/dpkg/status': status(
        stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u1', 'glibc'), stanza('libssl3', '3.0.11-1~deb12u2', 'openssl'),
        stanza('curl', '7.88.1-10+deb12u1'), stanza('libcurl4', '7.88.1-10+deb12u1', 'curl'), stanza('sqlite3', '3.40.1-2'),
      ),
      'usr/bin/sqlite3': 'binary',
    }),
    'zstd',
  );
  const remove = buildLayer(
    await layerTar({
      'var/lib/dpkg/status': status(
        stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u1', 'glibc'), stanza('libssl3', '3.0.11-1~deb12u2', 'openssl'),
        stanza('curl', '7.88.1-10+deb12u1'), stanza('libcurl4', '7.88.1-10+deb12u1', 'curl'),
      ),
      'usr/bin/.wh.sqlite3': '',
    }),
    'none',
  );
  layers = [base, install, remove];
  const w = await new OciLayoutWriter(join(dir, 'image')).init();
  const full = await w.addImage(layers);
  const baseOnly = await w.addImage([base]);
  const other = await w.addImage([base, buildLayer(await layerTar({ 'etc/motd': 'hi' }), 'gzip')]);
  await w.writeIndex([{ descriptor: full.manifest, tag: 'full' }, { descriptor: baseOnly.manifest, tag: 'base' }, { descriptor: other.manifest, tag: 'other' }]);
  writeFileSync(join(dir, 'tracker.json'), JSON.stringify(TRACKER));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('index --format json: packages, sources, distribution and introducing layers', async () => {
  const r = await run(['index', `oci:${join(dir, 'image')}:full`, '--format', 'json']);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.state, 'IndexFinished');
  assert.equal(report.success, true);
  const pkgs = Object.entries(report.packages as Record<string, { name: string; version: string; source?: { name: string } }>)
    .map(([id, p]) => `${p.name}=${p.version}<${p.source?.name}@${layers.findIndex((l) => l.digest === report.environments[id][0].introduced_in)}`)
    .sort();
  assert.deepEqual(pkgs, [
    'bash=5.2.15-2+b2<bash@0',
    'curl=7.88.1-10+deb12u1<curl@1',
    'libc6=2.36-9+deb12u1<glibc@0',
    'libcurl4=7.88.1-10+deb12u1<curl@1',
    'libssl3=3.0.11-1~deb12u2<openssl@0',
  ]);
  assert.deepEqual(Object.values(report.distributions).map((d: any) => [d.did, d.version_id, d.version_code_name]), [['debian', '12', 'bookworm']]);
  assert.match(r.err, /3 layer\(s\) scanned, 0 reused/);
});

test('layers already scanned are reused: a second image scans only its new layer', async () => {
  await run(['index', `oci:${join(dir, 'image')}:base`]);
  const r = await run(['index', `oci:${join(dir, 'image')}:other`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /1 layer\(s\) scanned, 1 reused/);
  assert.match(r.out, /bash\s+5\.2\.15-2\+b2/);
});

test('an image indexed before is answered from its stored report while the scanners are the same and it finished', async () => {
  const ref = `oci:${join(dir, 'image')}:full`;
  const first = await run(['index', ref, '--format', 'json']);
  assert.equal(first.code, 0, first.err);
  const hash = JSON.parse(first.out).manifest_hash as string;
  const names = (out: string) => Object.values(JSON.parse(out).packages as Record<string, { name: string }>).map((p) => p.name).sort();
  assert.ok(names(first.out).includes('curl'));
  // A stored report altered behind the CLI's back (curl taken out) shows which report a later run answers with.
  const store = SqliteStore.open(db);
  try {
    const stored = (await store.getIndexReport(hash))!;
    const altered = structuredClone(stored.report);
    const curlId = Object.keys(altered.packages).find((id) => altered.packages[id]!.name === 'curl')!;
    delete altered.packages[curlId];
    delete altered.environments[curlId];
    const indexAgain = async (state: string, report = altered) => {
      await store.putIndexReport(report, state);
      const r = await run(['index', ref, '--format', 'json']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /0 layer\(s\) scanned, 3 reused from the cache, 0 bytes read/);
      return names(r.out);
    };
    assert.ok(!(await indexAgain(stored.indexState)).includes('curl'), 'same scanners: the stored report');
    assert.ok((await indexAgain('another-scanner-set')).includes('curl'), 'other scanners: indexed again from the layers');
    assert.equal((await store.getIndexReport(hash))!.indexState, stored.indexState);
    assert.ok((await indexAgain(stored.indexState, { ...altered, state: 'IndexError', success: false, err: 'failed' })).includes('curl'), 'failed: indexed again');
  } finally {
    await store.close();
  }
});

test('update stores one operation; the same feed again stores none', async () => {
  const first = await run(['update', '--source', `debian=${join(dir, 'tracker.json')}`]);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /debian: update operation \S+ with \d+ records/);
  const again = await run(['update', '--source', `debian=file://${join(dir, 'tracker.json')}`]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /debian: unchanged/);
  const store = SqliteStore.open(db);
  assert.equal((await store.listUpdateOperations('debian')).length, 1);
  await store.close();
});

test('scan finds what affects the image, with fixed versions and layers; --fail-on sets the exit code', async () => {
  const ref = `oci:${join(dir, 'image')}:full`;
  const json = await run(['scan', ref, '--format', 'json']);
  assert.equal(json.code, 0, json.err);
  const vr = JSON.parse(json.out);
  const found = new Set<string>();
  for (const [pid, vids] of Object.entries(vr.package_vulnerabilities as Record<string, string[]>)) {
    for (const vid of vids) found.add(`${vr.packages[pid].name}:${vr.vulnerabilities[vid].name}:${vr.vulnerabilities[vid].fixed_in_version}`);
  }
  assert.deepEqual([...found].sort(), [
    'curl:CVE-2023-38545:7.88.1-10+deb12u4',
    'libc6:CVE-2023-4911:2.36-9+deb12u3',
    'libcurl4:CVE-2023-38545:7.88.1-10+deb12u4',
    'libssl3:CVE-2024-5535:',
  ], 'bash is fixed, CVE-2024-2379 does not affect bookworm');

  const table = await run(['scan', ref]);
  assert.equal(table.code, 0);
  assert.match(table.out, /HIGH \(3\)/);
  assert.match(table.out, /CVE-2023-4911\s+libc6\s+2\.36-9\+deb12u1\s+2\.36-9\+deb12u3\s+[0-9a-f]{12}/);
  assert.match(table.out, /CVE-2024-5535\s+libssl3\s+3\.0\.11-1~deb12u2\s+\(no fix yet\)/);

  assert.equal((await run(['scan', ref, '--fail-on', 'high'])).code, 1);
  assert.equal((await run(['scan', ref, '--fail-on', 'Critical'])).code, 0);
  const bad = await run(['scan', ref, '--fail-on', 'severe']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--fail-on must be a severity \(Unknown, Negligible, Low, Medium, High, Critical\)/);
});

test('compare-versions: two arguments and --stdin', async () => {
  assert.deepEqual(await run(['compare-versions', '--scheme', 'dpkg', '1:2.0~rc1-1', '1:2.0-1']), { code: 0, out: '-1\n', err: '' });
  const r = await run(['compare-versions', '--scheme', 'dpkg', '--stdin'], '1.0\t1.0-0\n2.0\t2.0~\n');
  assert.deepEqual([r.code, r.out], [0, '0\n1\n']);
  const unknown = await run(['compare-versions', '--scheme', 'semver9', '1', '2']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown version scheme "semver9"/);
  const badLine = await run(['compare-versions', '--scheme', 'dpkg', '--stdin'], '1.0 2.0\n1\t2\n');
  assert.deepEqual([badLine.code, badLine.out], [2, 'error\n-1\n']);
  assert.match(badLine.err, /line 1: expected/);
  // apk2 and apk3 order leading zeros differently; apk answers even for versions it calls invalid.
  assert.deepEqual(await run(['compare-versions', '--scheme', 'apk2', '1.0', '1.00']), { code: 0, out: '1\n', err: '' });
  assert.deepEqual(await run(['compare-versions', '--scheme', 'apk3', '1.0', '1.00']), { code: 0, out: '-1\n', err: '' });
  assert.deepEqual(await run(['compare-versions', '--scheme', 'apk', '1.0', '1.00']), { code: 0, out: '-1\n', err: '' });
  const apkBatch = await run(['compare-versions', '--scheme', 'apk3', '--stdin'], '5.1p1-r0\t5.1-r0\n1.0\t1.00\n');
  assert.deepEqual([apkBatch.code, apkBatch.out], [0, '1\n-1\n']);
});

test('compare-versions --help names every registered version scheme', async () => {
  const help = await run(['compare-versions', '--help']);
  assert.equal(help.code, 0);
  // Commander wraps long help lines: read up to the next option.
  const listed = /--scheme <scheme>([\s\S]*?)--stdin/.exec(help.out)?.[1]?.trim().split(/\s*\|\s*/);
  assert.deepEqual(listed?.map((l) => l.replace(/ \(= \S+\)$/, '')), [...versionSchemes.keys()]);
  assert.ok(listed?.includes('apk (= apk3)'), 'the alias apk says which scheme it is');
});

async function storeSnapshot() {
  const store = SqliteStore.open(db);
  try {
    return { ops: (await store.listUpdateOperations()).map((o) => o.ref), manifests: await store.manifestsWithPackages(['bash', 'zsh']) };
  } finally {
    await store.close();
  }
}

test('bad input: clear message, exit 2, database unchanged', async (t) => {
  const before = await storeSnapshot();
  const imgDir = join(dir, 'bad');
  const w = await new OciLayoutWriter(imgDir).init();
  const zsh = buildLayer(await layerTar({ 'var/lib/dpkg/status': stanza('zsh', '5.9-4') }), 'gzip');
  const truncated = { ...zsh, blob: zsh.blob.subarray(0, zsh.blob.length - 20) };
  truncated.digest = (await import('../../src/image/testdata/image-builder.ts')).sha256(truncated.blob);
  const tImg = await w.addImage([truncated]);
  const mImg = await w.addImage([zsh]);
  await w.writeIndex([{ descriptor: tImg.manifest, tag: 'truncated' }, { descriptor: mImg.manifest, tag: 'mismatch' }]);
  // Flip a byte of the good layer's blob after the fact: its digest no longer matches.
  const blobPath = w.blobPath(zsh.digest);
  const bytes = readFileSync(blobPath);
  bytes[bytes.length - 10]! ^= 0xff;
  writeFileSync(blobPath, bytes);
  writeFileSync(join(dir, 'broken.json'), '{"glibc": {"CVE-1": {"releases": ');

  const cases: [string, string[], RegExp][] = [
    ['missing path', ['index', `oci:${join(dir, 'nope')}`], /nope/],
    ['unknown reference form', ['index', 'ftp://x'], /./],
    ['truncated layer', ['index', `oci:${imgDir}:truncated`], /layer sha256:[0-9a-f]{64}/],
    ['digest mismatch', ['scan', `oci:${imgDir}:mismatch`], /expected sha256:[0-9a-f]{64}/],
    ['malformed feed', ['update', '--source', `debian=${join(dir, 'broken.json')}`], /broken\.json/],
    ['missing feed', ['update', '--source', `debian=${join(dir, 'absent.json')}`], /absent\.json/],
    ['unknown feed', ['update', '--source', 'nvd9=x'], /unknown feed "nvd9"/],
    ['bad format', ['index', `oci:${join(dir, 'image')}:full`, '--format', 'xml'], /--format must be one of table, json, cyclonedx, spdx-json, not "xml"/],
    ['missing argument', ['scan'], /./],
  ];
  for (const [name, args, message] of cases) {
    await t.test(name, async () => {
      const r = await run(args);
      assert.equal(r.code, 2, `${name}: exit code (stderr: ${r.err})`);
      assert.match(r.err, message);
      assert.ok(!r.err.includes('    at '), 'no stack trace');
    });
  }
  assert.deepEqual(await storeSnapshot(), before);
  const store = SqliteStore.open(db);
  assert.equal(await store.getIndexReport(tImg.manifest.digest), undefined);
  assert.equal(await store.getIndexReport(mImg.manifest.digest), undefined);
  await store.close();
});

test('update keeps --retention operations per feed and deletes the records only older ones held', async () => {
  const dbBefore = db;
  db = join(dir, 'retention.db');
  try {
    const feed = join(dir, 'retention.json');
    const refs: string[] = [];
    for (let i = 0; i < 4; i++) {
      // Each run changes one fixed version: a new operation every time.
      writeFileSync(feed, JSON.stringify({ zlib: { 'CVE-2022-37434': { releases: { bookworm: { status: 'resolved', fixed_version: `1:1.2.13.dfsg-${i + 1}`, urgency: 'high' } } } } }));
      const r = await run(['update', '--source', `debian=${feed}`, '--retention', '2']);
      assert.equal(r.code, 0, r.err);
      refs.push(/operation (\S+)/.exec(r.out)![1]!);
    }
    const store = SqliteStore.open(db);
    try {
      assert.deepEqual((await store.listUpdateOperations('debian')).map((o) => o.ref), [refs[3], refs[2]]);
      const [found] = await store.queryVulnerabilities([{ packageNames: ['zlib'] }]);
      assert.deepEqual(found!.map((v) => v.fixedInVersion), ['1:1.2.13.dfsg-4'], 'the newest operation is current');
      const diff = await store.diffUpdateOperations(refs[2], refs[3]!);
      assert.equal(diff.removed[0]?.fixedInVersion, '1:1.2.13.dfsg-3', 'the previous operation still has its records');
    } finally {
      await store.close();
    }
    const bad = await run(['update', '--source', `debian=${feed}`, '--retention', '-1']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--retention/);
  } finally {
    db = dbBefore;
  }
});

test('scan warns when packages are not covered by any feed instead of implying a clean image', async () => {
  // Linux Mint installs dpkg packages but no feed speaks for it; Ubuntu (which it derives from) has a feed now.
  const img = join(dir, 'uncovered');
  const w = await new OciLayoutWriter(img).init();
  const status = stanza('bash', '5.1-6ubuntu1') + '\n' + stanza('libc6', '2.35-0ubuntu3.6', 'glibc');
  const mint = buildLayer(await layerTar({
    'etc/os-release': 'PRETTY_NAME="Linux Mint 21.3"\nNAME="Linux Mint"\nVERSION_ID="21.3"\nVERSION_CODENAME=virginia\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
    'var/lib/dpkg/status': status,
  }), 'gzip');
  const jammy = buildLayer(await layerTar({
    'etc/os-release': 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nID=ubuntu\n',
    'var/lib/dpkg/status': status,
  }), 'gzip');
  const mintImage = await w.addImage([mint]);
  const jammyImage = await w.addImage([jammy]);
  await w.writeIndex([{ descriptor: mintImage.manifest, tag: 'mint' }, { descriptor: jammyImage.manifest, tag: 'jammy' }]);
  const r = await run(['scan', `oci:${img}:mint`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: 2 of 2 packages are not covered by any vulnerability feed \(Linux Mint 21\.3\); they were not checked/);
  assert.doesNotMatch((await run(['scan', `oci:${img}:jammy`])).err, /not covered/);
  const debian = await run(['scan', `oci:${join(dir, 'image')}:full`]);
  assert.doesNotMatch(debian.err, /not covered/);
});
