import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { clairPart } from '../support/clair-shape.ts';
import { runCli } from '../support/run-cli.ts';
import { requireSharedData } from '../support/shared-data.ts';
import { openTestPostgres, postgresSkipReason } from '../support/postgres.ts';
import { schemaChecker, startTestService } from '../http/serve-kit.ts';
import { allFeeds, allMatchers, allScanners } from '../../src/ecosystems/registry.ts';
import { isEnrichmentUpdater } from '../../src/updater/updater.ts';
import { OciLayoutWriter, buildLayer, layerTar } from '../../src/image/testdata/image-builder.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { NVD_TYPE } from '../../src/enrichment/nvd/updater.ts';
import { EPSS_TYPE } from '../../src/enrichment/epss/updater.ts';
import { KEV_TYPE } from '../../src/enrichment/kev/updater.ts';

// Enrichment end to end through the CLI: real NVD, EPSS and KEV records (claircore's enricher test data in
// ../shared) joined to findings of a small Debian image, then the same data carried to another database (SQLite and
// PostgreSQL) in a feed bundle. The Debian tracker entries are hand-made for this test (they name real CVEs with the
// urgencies chosen to exercise the rules); the enrichment records are not altered.

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';
const stanza = (name: string, version: string, source: string) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nSource: ${source}\nVersion: ${version}\n`;
const TRACKER = {
  // NVD's record of CVE-2016-2781 carries only the CNA's CVSS 3.1 score, 4.6: the Unknown urgency becomes Medium.
  coreutils: { 'CVE-2016-2781': { description: 'chroot --userspec TIOCSTI escape', releases: { bookworm: { status: 'open', urgency: 'not yet assigned', repositories: {} } } } },
  // In CISA's KEV catalog.
  'apache-log4j2': { 'CVE-2021-44228': { description: 'Log4Shell', releases: { bookworm: { status: 'resolved', fixed_version: '2.15.0-1', urgency: 'high', repositories: {} } } } },
  // EPSS 0.91963 (percentile 0.99030) on 2024-10-25.
  'uw-imap': { 'CVE-1999-0005': { description: 'IMAP AUTHENTICATE buffer overflow', releases: { bookworm: { status: 'open', urgency: 'low', repositories: {} } } } },
};

let dir: string;
let image: string;
let db: string;
let sources: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clair-ts-enrich-'));
  db = join(dir, 'a.db');
  const layer = buildLayer(
    await layerTar({
      'usr/lib/os-release': OS_RELEASE,
      'var/lib/dpkg/status': [stanza('coreutils', '9.1-1', 'coreutils'), stanza('liblog4j2-java', '2.13.3-1', 'apache-log4j2'), stanza('uw-imapd', '8:2007f~dfsg-7', 'uw-imap')].join('\n'),
    }),
    'gzip',
  );
  const w = await new OciLayoutWriter(join(dir, 'image')).init();
  const img = await w.addImage([layer]);
  await w.writeIndex([{ descriptor: img.manifest, tag: 'app' }]);
  image = `oci:${join(dir, 'image')}:app`;
  writeFileSync(join(dir, 'tracker.json'), JSON.stringify(TRACKER));
});

after(() => rmSync(dir, { recursive: true, force: true }));

function feedSources(t: import('node:test').TestContext): string[] | undefined {
  const base = requireSharedData(t, 'feeds', 'enrichment', 'claircore');
  if (!base) return undefined;
  return [`debian=${join(dir, 'tracker.json')}`, `nvd=${join(base, 'cvss', 'feed.json')}`, `epss=${join(base, 'epss', 'data.csv')}`, `kev=${join(base, 'kev', 'known_exploited_vulnerabilities.json')}`];
}

async function loadFeeds(t: import('node:test').TestContext): Promise<boolean> {
  const s = feedSources(t);
  if (!s) return false;
  if (sources.length > 0) return true;
  const r = await runCli(db, ['update', ...s.flatMap((x) => ['--source', x])]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /nvd: update operation \S+ with 2 records/, 'CVE-2016-3674 has no CVSS v3 score and no record');
  assert.match(r.out, /epss: update operation \S+ with 29 records/);
  assert.match(r.out, /kev: update operation \S+ with 2 records/);
  sources = s;
  return true;
}

/** A report with store-specific ids replaced by what they name, so reports of two databases compare. */
function canonical(report: any): unknown {
  const vname = (id: string) => `${report.vulnerabilities[id].name}/${report.vulnerabilities[id].package?.name}`;
  const pname = (id: string) => `${report.packages[id].name}@${report.packages[id].version}`;
  const pv = Object.fromEntries(Object.entries(report.package_vulnerabilities as Record<string, string[]>).map(([p, vs]) => [pname(p), vs.map(vname).sort()]));
  const vulns = Object.fromEntries(Object.entries(report.vulnerabilities as Record<string, any>).map(([id, v]) => [vname(id), { ...v, id: undefined }]));
  const enrich = Object.fromEntries(Object.entries(report.enrichments as Record<string, Record<string, unknown>[]>).map(([k, [m]]) => [k, Object.fromEntries(Object.entries(m!).map(([id, r]) => [vname(id), r]))]));
  return { pv, vulns, enrich };
}

test('scan: CVSS, EPSS and KEV records attached in Clair\'s shape; an Unknown severity takes CVSS\'s', async (t) => {
  if (!(await loadFeeds(t))) return;
  const check = await schemaChecker(t);
  const r = await runCli(db, ['scan', image, '--format', 'json']);
  assert.equal(r.code, 0, r.err);
  const report = clairPart(JSON.parse(r.out));
  check?.('vulnerability_report', report);
  const byName = new Map(Object.entries(report.vulnerabilities as Record<string, any>).map(([id, v]) => [v.name, { id, v }]));
  const coreutils = byName.get('CVE-2016-2781')!;
  assert.equal(coreutils.v.severity, 'not yet assigned', 'the feed\'s own severity string stays');
  assert.equal(coreutils.v.normalized_severity, 'Medium', 'CVSS 4.6 → Medium');
  assert.equal(byName.get('CVE-2021-44228')!.v.normalized_severity, 'High', 'a known severity is not replaced');
  assert.deepEqual(Object.keys(report.enrichments).sort(), [EPSS_TYPE, KEV_TYPE, NVD_TYPE].sort());
  const cvss = report.enrichments[NVD_TYPE];
  assert.equal(cvss.length, 1, 'one map per enricher, as Clair writes it');
  assert.deepEqual(Object.keys(cvss[0]), [coreutils.id]);
  assert.equal(cvss[0][coreutils.id][0].vectorString, 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N');
  assert.equal(cvss[0][coreutils.id][0].baseScore, 4.6);
  const log4j = byName.get('CVE-2021-44228')!;
  assert.deepEqual(report.enrichments[KEV_TYPE][0][log4j.id], [{
    cve: 'CVE-2021-44228', vulnerability_name: 'Apache Log4j2 Remote Code Execution Vulnerability', catalog_version: '2025.02.24', date_added: '2021-12-10',
    short_description: report.enrichments[KEV_TYPE][0][log4j.id][0].short_description, required_action: report.enrichments[KEV_TYPE][0][log4j.id][0].required_action,
    due_date: '2021-12-24', known_ransomware_campaign_use: 'Known',
  }]);
  const imap = byName.get('CVE-1999-0005')!;
  assert.deepEqual(report.enrichments[EPSS_TYPE][0][imap.id], [{ modelVersion: 'v2023.03.01', date: '2024-10-25T00:00:00+0000', cve: 'CVE-1999-0005', epss: 0.91963, percentile: 0.9903 }]);
});

test('scan table: CVSS, EPSS percentile and KEV columns; --sort risk puts KEV first, then EPSS', async (t) => {
  if (!(await loadFeeds(t))) return;
  const r = await runCli(db, ['scan', image, '--sort', 'risk']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  const head = lines.findIndex((l) => l.startsWith('SEVERITY'));
  assert.match(lines[head]!, /^SEVERITY\s+ECOSYSTEM\s+VULNERABILITY\s+ALIASES\s+PACKAGE\s+INSTALLED\s+FIXED IN\s+LAYER\s+CVSS\s+EPSS\s+KEV$/);
  assert.match(lines[head + 1]!, /^High\s+debian\s+CVE-2021-44228\s+liblog4j2-java\s+2\.13\.3-1\s+2\.15\.0-1\s+\w{12}\s+KEV$/);
  assert.match(lines[head + 2]!, /^Low\s+debian\s+CVE-1999-0005\s+uw-imapd\s.*\s99%$/);
  assert.match(lines[head + 3]!, /^Medium\s+debian\s+CVE-2016-2781\s+coreutils\s+9\.1-1\s+\(no fix yet\)\s+\w{12}\s+4\.6$/);
  assert.match(r.out, /3 findings \(High: 1, Medium: 1, Low: 1\); 1 in CISA's Known Exploited Vulnerabilities catalog/);
  const grouped = await runCli(db, ['scan', image]);
  assert.match(grouped.out, /MEDIUM \(1\)\nECOSYSTEM\s+VULNERABILITY\s+ALIASES\s+PACKAGE\s+INSTALLED\s+FIXED IN\s+LAYER\s+CVSS\s+EPSS\s+KEV\ndebian\s+CVE-2016-2781/);
});

test('scan --fail-on kev, epss>=P, cvss>=S, severities, combined; a bad condition is an error', async (t) => {
  if (!(await loadFeeds(t))) return;
  const gate = async (...conds: string[]) => (await runCli(db, ['scan', image, ...conds.flatMap((c) => ['--fail-on', c])])).code;
  assert.equal(await gate('kev'), 1);
  assert.equal(await gate('epss>=0.9'), 1);
  assert.equal(await gate('epss>=0.95'), 0, 'the highest EPSS here is 0.91963');
  assert.equal(await gate('epss-percentile>=0.99'), 1);
  assert.equal(await gate('cvss>=4.6'), 1);
  assert.equal(await gate('cvss>4.6'), 0);
  assert.equal(await gate('critical'), 0);
  assert.equal(await gate('critical', 'kev'), 1, 'any condition trips the gate');
  const bad = await runCli(db, ['scan', image, '--fail-on', 'epss>=2']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /epss is at most 1/);
  const bad2 = await runCli(db, ['scan', image, '--fail-on', 'exploited']);
  assert.equal(bad2.code, 2);
  assert.match(bad2.err, /--fail-on must be a severity/);
});

test('HTTP: the vulnerability report carries the enrichments; update_operation?kind=enrichment lists their operations', async (t) => {
  if (!(await loadFeeds(t))) return;
  const check = await schemaChecker(t);
  const cli = clairPart(JSON.parse((await runCli(db, ['scan', image, '--format', 'json'])).out));
  const s = await startTestService(t, 'matcher:\n  disable_updaters: true\n', {
    db,
    ecosystems: { scanners: allScanners(), matchers: allMatchers(), updaters: allFeeds(), enrichers: allFeeds().filter(isEnrichmentUpdater) },
  });
  const res = await s.call(`/matcher/api/v1/vulnerability_report/${cli.manifest_hash}`);
  assert.equal(res.status, 200);
  const body = await res.json();
  check?.('vulnerability_report', body);
  assert.deepEqual(body, cli, 'the API and the CLI give the same report');
  const ops = async (q: string) => (await (await s.call(`/matcher/api/v1/internal/update_operation${q}`)).json()) as Record<string, { kind: string }[]>;
  const enrichment = await ops('?kind=enrichment');
  check?.('update_operations', enrichment);
  assert.deepEqual(Object.keys(enrichment).sort(), ['epss', 'kev', 'nvd']);
  assert.ok(Object.values(enrichment).flat().every((o) => o.kind === 'enrichment'));
  assert.deepEqual(Object.keys(await ops('')), ['debian']);
  const nvdRef = (enrichment['nvd'] as unknown as { ref: string }[])[0]!.ref;
  assert.equal((await s.call(`/matcher/api/v1/internal/update_diff?cur=${nvdRef}`)).status, 400, 'diffs compare vulnerability operations');
});

/** Each operation's records in a bundle (by updater), sorted: what a round trip must keep, whatever the order. */
async function bundleRecords(file: string): Promise<Map<string, string[]>> {
  const extract = tar.extract();
  extract.end(zstdDecompressSync(readFileSync(file)));
  const files = new Map<string, string>();
  let manifest: { operations: { updater: string; file: string }[] } | undefined;
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    const text = Buffer.concat(parts).toString('utf8');
    if (entry.header.name === 'manifest.json') manifest = JSON.parse(text) as typeof manifest;
    else files.set(entry.header.name, text);
  }
  return new Map(manifest!.operations.map((op) => [op.updater, files.get(op.file)!.split('\n').filter((l) => l !== '').sort()]));
}

test('feed bundle: exported from SQLite, imported into a new SQLite and into PostgreSQL, the same report and the same records exported again', async (t) => {
  if (!(await loadFeeds(t))) return;
  const bundle = join(dir, 'feeds.tar.zst');
  const ex = await runCli(db, ['export-feeds', bundle]);
  assert.equal(ex.code, 0, ex.err);
  assert.match(ex.out, /wrote .*feeds\.tar\.zst/);
  const want = canonical(JSON.parse((await runCli(db, ['scan', image, '--format', 'json'])).out));

  const db2 = join(dir, 'b.db');
  const im = await runCli(db2, ['import-feeds', bundle]);
  assert.equal(im.code, 0, im.err);
  assert.equal((im.out.match(/imported update operation/g) ?? []).length, 4);
  assert.match(im.err, /not signed/);
  assert.deepEqual(canonical(JSON.parse((await runCli(db2, ['scan', image, '--format', 'json'])).out)), want);
  const again = await runCli(db2, ['import-feeds', bundle]);
  assert.equal(again.code, 0, again.err);
  assert.equal((again.out.match(/already in the database/g) ?? []).length, 4, 'importing twice changes nothing');
  const [a, b] = [SqliteStore.open(db), SqliteStore.open(db2)];
  try {
    assert.deepEqual(await b.listUpdateOperations(), await a.listUpdateOperations(), 'same refs, dates, fingerprints and counts');
  } finally {
    await a.close();
    await b.close();
  }
  // Exported again from the imported database: every record of every operation, as it was.
  const records = await bundleRecords(bundle);
  assert.deepEqual([...records.keys()].sort(), ['debian', 'epss', 'kev', 'nvd']);
  assert.ok(records.get('debian')!.length > 0);
  const bundle2 = join(dir, 'feeds-again.tar.zst');
  assert.equal((await runCli(db2, ['export-feeds', bundle2])).code, 0);
  assert.deepEqual(await bundleRecords(bundle2), records, 'SQLite: records round-trip');

  const skip = await postgresSkipReason();
  if (skip) return t.diagnostic(`PostgreSQL part skipped: ${skip}`);
  const pgt = await openTestPostgres();
  assert.ok(pgt);
  try {
    const u = new URL(pgt.url);
    u.searchParams.set('options', `-c search_path=${pgt.schema}`);
    const pgdb = u.toString();
    const pim = await runCli(pgdb, ['import-feeds', bundle]);
    assert.equal(pim.code, 0, pim.err);
    assert.deepEqual(canonical(JSON.parse((await runCli(pgdb, ['scan', image, '--format', 'json'])).out)), want);
    const bundle3 = join(dir, 'feeds-pg.tar.zst');
    assert.equal((await runCli(pgdb, ['export-feeds', bundle3])).code, 0);
    assert.deepEqual(await bundleRecords(bundle3), records, 'PostgreSQL: records round-trip');
  } finally {
    await pgt.drop();
  }
});

async function repack(src: string, dst: string, edit: (name: string, data: Buffer) => Buffer | undefined): Promise<void> {
  const extract = tar.extract();
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const packed = new Promise<void>((r) => pack.on('end', () => r()));
  extract.end(zstdDecompressSync(readFileSync(src)));
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    const data = edit(entry.header.name, Buffer.concat(parts));
    if (data) pack.entry({ name: entry.header.name, size: data.length }, data);
  }
  pack.finalize();
  await packed;
  writeFileSync(dst, zstdCompressSync(Buffer.concat(chunks)));
}

test('feed bundle: a tampered, truncated or foreign bundle is refused and the database is unchanged', async (t) => {
  if (!(await loadFeeds(t))) return;
  const bundle = join(dir, 'feeds2.tar.zst');
  assert.equal((await runCli(db, ['export-feeds', bundle, '--feed', 'debian', '--feed', 'kev'])).code, 0);
  const target = join(dir, 'c.db');
  const empty = async () => {
    const s = SqliteStore.open(target);
    try {
      return (await s.listUpdateOperations()).length === 0;
    } finally {
      await s.close();
    }
  };
  // One changed character in a record of the KEV operation.
  const tampered = join(dir, 'tampered.tar.zst');
  await repack(bundle, tampered, (name, data) => (name.endsWith('.jsonl') && data.includes('Log4j') ? Buffer.from(data.toString().replace('Log4j', 'Log5j')) : data));
  const r1 = await runCli(target, ['import-feeds', tampered]);
  assert.equal(r1.code, 2);
  assert.match(r1.err, /has sha256 [0-9a-f]{64} .*the manifest says/);
  assert.ok(await empty(), 'nothing of the bundle is stored, not even the operation that came before the damage');
  // An operation file missing.
  const cut = join(dir, 'cut.tar.zst');
  let dropped = false;
  await repack(bundle, cut, (name, data) => (name.endsWith('.jsonl') && !dropped ? ((dropped = true), undefined) : data));
  const r2 = await runCli(target, ['import-feeds', cut]);
  assert.equal(r2.code, 2);
  assert.match(r2.err, /ends without ops\//);
  assert.ok(await empty());
  // Bytes cut off the end of the compressed file.
  const raw = readFileSync(bundle);
  const short = join(dir, 'short.tar.zst');
  writeFileSync(short, raw.subarray(0, raw.length - 40));
  const r3 = await runCli(target, ['import-feeds', short]);
  assert.equal(r3.code, 2);
  assert.ok(await empty());
  // Not a bundle at all, and a missing file.
  const r4 = await runCli(target, ['import-feeds', join(dir, 'tracker.json')]);
  assert.equal(r4.code, 2);
  const r5 = await runCli(target, ['import-feeds', join(dir, 'nope.tar.zst')]);
  assert.equal(r5.code, 2);
  assert.match(r5.err, /cannot be read/);
  assert.ok(await empty());
  const r6 = await runCli(db, ['export-feeds', join(dir, 'x.tar.zst'), '--feed', 'nosuch']);
  assert.equal(r6.code, 2);
  assert.match(r6.err, /unknown feed "nosuch"/);
});

test('feed bundle signatures: --sign with an Ed25519 key, --verify refuses other keys and unsigned bundles', async (t) => {
  if (!(await loadFeeds(t))) return;
  const keys = (n: string) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, `${n}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, `${n}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  };
  keys('ours');
  keys('theirs');
  const signed = join(dir, 'signed.tar.zst');
  const unsigned = join(dir, 'unsigned.tar.zst');
  assert.equal((await runCli(db, ['export-feeds', signed, '--feed', 'kev', '--sign', join(dir, 'ours.key')])).code, 0);
  assert.equal((await runCli(db, ['export-feeds', unsigned, '--feed', 'kev'])).code, 0);
  const wrong = await runCli(join(dir, 'd.db'), ['import-feeds', signed, '--verify', join(dir, 'theirs.pub')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /signature does not verify/);
  const none = await runCli(join(dir, 'd.db'), ['import-feeds', unsigned, '--verify', join(dir, 'ours.pub')]);
  assert.equal(none.code, 2);
  assert.match(none.err, /not signed/);
  // A signed manifest whose operation file was swapped for another's: the digests catch what the signature covers.
  const swapped = join(dir, 'swapped.tar.zst');
  await repack(signed, swapped, (name, data) => (name.endsWith('.jsonl') ? Buffer.from(data.toString().replace('Unknown', 'Known')) : data));
  const sw = await runCli(join(dir, 'd.db'), ['import-feeds', swapped, '--verify', join(dir, 'ours.pub')]);
  assert.equal(sw.code, 2);
  assert.match(sw.err, /manifest says/);
  const ok = await runCli(join(dir, 'd.db'), ['import-feeds', signed, '--verify', join(dir, 'ours.pub')]);
  assert.equal(ok.code, 0, ok.err);
  assert.doesNotMatch(ok.err, /not signed/);
  const notEd = await runCli(db, ['export-feeds', join(dir, 'y.tar.zst'), '--sign', join(dir, 'ours.pub')]);
  assert.equal(notEd.code, 2);
  assert.match(notEd.err, /not a PEM private key/);
});
