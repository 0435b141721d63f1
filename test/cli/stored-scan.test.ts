import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { runCli, type CliRun } from '../support/run-cli.ts';
import { OciLayoutWriter, buildLayer, layerTar } from '../../src/image/testdata/image-builder.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { newVulnerability } from '../../src/model/vulnerability.ts';
import { openTestPostgres, postgresSkipReason } from '../support/postgres.ts';
import { withSearchPath } from '../cluster/cluster-kit.ts';
import pg from 'pg';

// `scan` stores what it wrote (src/cli/stored-scan.ts) and writes it again, generation time renewed, while the data
// it was computed from is current. What must hold: the reused output is byte for byte the output of a scan computed
// now (only clair_ts.generated differs, being the time of each run), whatever changed in between: an update
// operation that changes the findings, one that does not, the image indexed again by other scanners.

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';
const stanza = (name: string, version: string, source?: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\n${source ? `Source: ${source}\n` : ''}Version: ${version}\n`;

const entry = (description: string, release: Record<string, unknown>) => ({ description, releases: { bookworm: { repositories: {}, ...release } } });
const TRACKER = {
  glibc: { 'CVE-2023-4911': entry('Looney Tunables', { status: 'resolved', fixed_version: '2.36-9+deb12u3', urgency: 'high' }) },
  curl: { 'CVE-2023-38545': entry('SOCKS5 heap overflow', { status: 'resolved', fixed_version: '7.88.1-10+deb12u4', urgency: 'high' }) },
};
/** One more finding: bash is affected. */
const TRACKER_MORE = { ...TRACKER, bash: { 'CVE-2099-0001': entry('bash flaw', { status: 'open', urgency: 'low' }) } };
/** Another operation, the same findings: the new record names a package the image does not have. */
const TRACKER_SAME = { ...TRACKER_MORE, zsh: { 'CVE-2099-0002': entry('zsh flaw', { status: 'open', urgency: 'low' }) } };

let dir: string;
let db: string;
let ref: string;

const run = (args: string[], database = db): Promise<CliRun> => runCli(database, args);

/** The output with clair_ts.generated (the time of the run, 24 characters) blanked. */
function timeless(out: string): string {
  const at = out.lastIndexOf('\n  "clair_ts": {\n');
  assert.ok(at > 0, 'a JSON scan report');
  const re = /\n {4}"generated": "[^"]{24}"/y;
  re.lastIndex = out.indexOf('\n    "generated": ', at);
  assert.ok(re.test(out), 'clair_ts.generated where json-report.ts writes it');
  return out.slice(0, re.lastIndex - 26) + '"-"' + out.slice(re.lastIndex);
}

/** The same scan computed now: on a copy of the database without stored results. */
async function computed(args: string[]): Promise<CliRun> {
  const copy = join(dir, `computed-${Math.random().toString(36).slice(2)}.db`);
  copyFileSync(db, copy);
  const raw = new DatabaseSync(copy);
  raw.exec('DELETE FROM scan_result');
  raw.close();
  try {
    return await run(args, copy);
  } finally {
    rmSync(copy, { force: true });
  }
}

function storedResults(): number {
  const raw = new DatabaseSync(db, { readOnly: true });
  try {
    return Number(raw.prepare('SELECT count(*) AS n FROM scan_result').get()!.n);
  } finally {
    raw.close();
  }
}

/**
 * Marks the stored outputs (stored deflated; the mark has the same length, so the stored sizes and offsets stay
 * right): a run that prints the mark reused them.
 */
function markStored(): void {
  const raw = new DatabaseSync(db);
  const update = raw.prepare('UPDATE scan_result SET output = ? WHERE id = ?');
  for (const r of raw.prepare('SELECT id, output FROM scan_result').all()) {
    const text = inflateRawSync(r.output as Uint8Array).toString('utf8').replaceAll('Looney Tunables', 'Looney Tunablez');
    update.run(deflateRawSync(Buffer.from(text)), r.id as number);
  }
  raw.close();
}

async function update(tracker: unknown): Promise<void> {
  const file = join(dir, 'tracker.json');
  writeFileSync(file, JSON.stringify(tracker));
  const u = await run(['update', '--source', `debian=${file}`]);
  assert.equal(u.code, 0, u.err);
  assert.match(u.out, /update operation/);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clair-ts-stored-scan-'));
  db = join(dir, 'clair.db');
  const layer = buildLayer(
    await layerTar({
      'usr/lib/os-release': OS_RELEASE,
      'var/lib/dpkg/status': [stanza('bash', '5.2.15-2+b2'), stanza('libc6', '2.36-9+deb12u1', 'glibc'), stanza('curl', '7.88.1-10+deb12u1')].join('\n'),
    }),
    'gzip',
  );
  const w = await new OciLayoutWriter(join(dir, 'image')).init();
  const image = await w.addImage([layer]);
  await w.writeIndex([{ descriptor: image.manifest, tag: 'latest' }]);
  ref = `oci:${join(dir, 'image')}:latest`;
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('scan --format json: the stored output is reused while current and equals a scan computed now, byte for byte', async () => {
  await update(TRACKER);
  const args = ['scan', ref, '--format', 'json', '--fail-on', 'high'];
  const first = await run(args);
  assert.equal(first.code, 1, first.err);
  assert.equal(storedResults(), 1, 'the output was stored');
  const again = await run(args);
  assert.equal(again.code, 1);
  assert.equal(timeless(again.out), timeless(first.out));
  const now = await computed(args);
  assert.equal(timeless(again.out), timeless(now.out), 'equal to a scan computed now');
  assert.equal(again.err, now.err, 'the same lines on stderr');
  assert.equal(now.code, again.code);

  markStored();
  const marked = await run(args);
  assert.match(marked.out, /Looney Tunablez/, 'the stored output was written, not computed');
  assert.doesNotMatch(marked.out, /Looney Tunables/);
  assert.ok(Date.parse(JSON.parse(marked.out).clair_ts.generated) >= Date.parse(JSON.parse(first.out).clair_ts.generated), 'generation time renewed');
  assert.equal((await run(['scan', ref, '--format', 'json', '--fail-on', 'critical'])).code, 0, 'other --fail-on conditions, their own verdict');
  assert.equal((await run([...args.slice(0, 4), '--max-feed-age', '1ms'])).code, 3, 'feed age judged at each run');

  // An update operation that changes the findings: the stored output is not used.
  await update(TRACKER_MORE);
  const more = await run(args);
  assert.doesNotMatch(more.out, /Tunablez/, 'stale output not written');
  assert.match(more.out, /CVE-2099-0001/);
  assert.equal(timeless(more.out), timeless((await computed(args)).out));
  assert.equal(timeless((await run(args)).out), timeless(more.out), 'and stored again');

  // One that does not change them: still computed again (the feeds' operation is in the report).
  markStored();
  await update(TRACKER_SAME);
  const same = await run(args);
  assert.doesNotMatch(same.out, /Tunablez/);
  // The same findings, by package and advisory. (Not by record id: the new record shares a pack with the image's
  // records in this small feed's context, whose ids then change with it: store/vulnerability-pack.ts.)
  const findings = (out: string) => {
    const r = JSON.parse(out) as { package_vulnerabilities: Record<string, string[]>; vulnerabilities: Record<string, { name: string }> };
    return Object.fromEntries(Object.entries(r.package_vulnerabilities).map(([p, ids]) => [p, ids.map((id) => r.vulnerabilities[id]!.name).sort()]));
  };
  assert.deepEqual(findings(same.out), findings(more.out));
  assert.equal(Object.keys(JSON.parse(same.out).package_vulnerabilities).length, 3);
  assert.notDeepEqual(JSON.parse(same.out).clair_ts.feeds, JSON.parse(more.out).clair_ts.feeds);
  assert.equal(timeless(same.out), timeless((await computed(args)).out));
});

test('the image indexed again by other scanners, an ignore file, SARIF: computed', async () => {
  const args = ['scan', ref, '--format', 'json'];
  const first = await run(args);
  assert.equal(first.code, 0, first.err);
  markStored();
  assert.match((await run(args)).out, /Tunablez/);
  // Another scanner set's report (as another clair-ts version would leave) is indexed again: a new index report.
  const store = SqliteStore.open(db);
  try {
    const hash = JSON.parse(first.out).manifest_hash as string;
    const stored = (await store.getIndexReport(hash))!;
    await store.putIndexReport(stored.report, 'another-scanner-set');
  } finally {
    await store.close();
  }
  const reindexed = await run(args);
  assert.doesNotMatch(reindexed.out, /Tunablez/);
  assert.equal(timeless(reindexed.out), timeless(first.out));

  markStored();
  const ignore = join(dir, 'ignore.yaml');
  writeFileSync(ignore, 'ignore:\n  - id: CVE-2023-38545\n    reason: not used\n');
  const withIgnore = await run([...args, '--ignore-file', ignore]);
  assert.doesNotMatch(withIgnore.out, /Tunablez/, 'decisions depend on the day: never stored');
  assert.equal(JSON.parse(withIgnore.out).clair_ts.suppressed.length, 1);
  markStored();
  const sarif = await run(['scan', ref, '--format', 'sarif']);
  assert.equal(sarif.code, 0, sarif.err);
  assert.doesNotMatch(sarif.out, /Tunablez/, 'SARIF: computed');
});

test('scan (table): stored, with its FEEDS section made anew at each reuse', async () => {
  const args = ['scan', ref, '--fail-on', 'high'];
  const first = await run(args);
  assert.equal(first.code, 1, first.err);
  assert.match(first.out, /FEEDS\n {2}debian: updated \S+ \(0m ago\), update operation /);
  const again = await run(args);
  assert.equal(again.out, first.out);
  assert.equal(again.code, 1);
  const now = await computed(args);
  assert.equal(again.out, now.out, 'equal to a table computed now');
  assert.equal(again.err, now.err);
  // The stored table with another CVE id, and its feed updated three days earlier: the reused table shows both.
  const raw = new DatabaseSync(db);
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000).toISOString();
  for (const r of raw.prepare('SELECT id, meta, output FROM scan_result').all()) {
    const meta = JSON.parse(r.meta as string) as { feeds: { updated?: string }[]; feedsAt: number };
    if (meta.feedsAt < 0) continue;
    meta.feeds[0]!.updated = threeDaysAgo;
    const text = inflateRawSync(r.output as Uint8Array).toString('utf8').replaceAll('CVE-2023-4911', 'CVE-2023-4919');
    raw.prepare('UPDATE scan_result SET meta = ?, output = ? WHERE id = ?').run(JSON.stringify(meta), deflateRawSync(Buffer.from(text)), r.id as number);
  }
  raw.close();
  const reused = await run(args);
  assert.match(reused.out, /CVE-2023-4919/, 'the stored table was written');
  assert.ok(reused.out.includes(`debian: updated ${threeDaysAgo} (3d ago)`), 'its FEEDS section made at this scan');
});

test('PostgreSQL: a stored result is reused, and an update operation committed by another instance makes it stale', async (t) => {
  const skip = await postgresSkipReason();
  if (skip) return t.skip(skip);
  const pgt = await openTestPostgres();
  assert.ok(pgt, 'PostgreSQL reachable');
  const pgdb = withSearchPath(pgt.url, pgt.schema);
  const client = new pg.Client({ connectionString: pgdb });
  await client.connect();
  try {
    const file = join(dir, 'tracker-pg.json');
    writeFileSync(file, JSON.stringify(TRACKER));
    assert.equal((await run(['update', '--source', `debian=${file}`], pgdb)).code, 0);
    const args = ['scan', ref, '--format', 'json'];
    const first = await run(args, pgdb);
    assert.equal(first.code, 0, first.err);
    // The stored output marked through another connection, as in markStored: a run that prints the mark reused it.
    const rows = (await client.query<{ id: string; output: Buffer }>('SELECT id, output FROM scan_result')).rows;
    assert.equal(rows.length, 1, 'stored');
    const marked = inflateRawSync(rows[0]!.output).toString('utf8').replaceAll('Looney Tunables', 'Looney Tunablez');
    await client.query('UPDATE scan_result SET output = $1 WHERE id = $2', [deflateRawSync(Buffer.from(marked)), rows[0]!.id]);
    const again = await run(args, pgdb);
    assert.match(again.out, /Looney Tunablez/, 'reused');
    assert.equal(timeless(again.out), timeless(first.out).replaceAll('Looney Tunables', 'Looney Tunablez'));

    // Another instance commits an update operation (a record for a package the image does not have).
    const other = await PostgresStore.open(pgdb);
    let ref2: string;
    try {
      const w = await other.beginUpdateOperation('debian');
      await w.add([newVulnerability({
        updater: 'debian', name: 'CVE-2099-0003', package: { name: 'zsh', kind: 'source', module: '', arch: '' },
        dist: { did: 'debian', versionId: '12', versionCodeName: 'bookworm', cpe: '', name: '', version: '', prettyName: '', arch: '' },
        fixedInVersion: '', versionScheme: 'dpkg',
      })]);
      ref2 = (await w.commit('fp-other-instance')).ref;
    } finally {
      await other.close();
    }
    const after = await run(args, pgdb);
    assert.doesNotMatch(after.out, /Tunablez/, 'stale output not written');
    assert.equal(JSON.parse(after.out).clair_ts.feeds[0].operation, ref2, 'computed from the new operation');
  } finally {
    await client.end();
    await pgt.drop();
  }
});
