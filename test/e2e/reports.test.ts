import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/run-cli.ts';
import { debianTestImage, TEST_IMAGE_SKIP_MESSAGE } from '../support/test-image.ts';
import { cycloneDxErrors, sarifErrors, spdxErrors } from '../support/report-schemas.ts';

// The CI gate's reports on the real Debian bookworm image scanned against the real tracker excerpt: every format
// valid against its official schema, the SBOM round trip, ignore rules, VEX, filters, freshness and exit codes.

const FEED = join(import.meta.dirname, '../../src/ecosystems/debian/testdata/tracker-excerpt.json');

/** "package version vulnerability layer" per finding of Clair-shaped JSON. */
function findingKeys(json: string): string[] {
  const vr = JSON.parse(json);
  const out: string[] = [];
  for (const [pid, vids] of Object.entries(vr.package_vulnerabilities as Record<string, string[]>)) {
    for (const vid of vids) out.push(`${vr.packages[pid].name} ${vr.packages[pid].version} ${vr.vulnerabilities[vid].name} ${vr.environments[pid][0].introduced_in}`);
  }
  return out.sort();
}

test('reports on the real Debian image: formats, round trip, decisions, freshness', async (t) => {
  const image = await debianTestImage();
  if (!image) return t.skip(TEST_IMAGE_SKIP_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-reports-'));
  const db = join(dir, 'clair.db');
  const f = (name: string) => join(dir, name);
  try {
    assert.equal((await runCli(db, ['update', '--source', `debian=${FEED}`])).code, 0);
    const scan = await runCli(db, [
      'scan', image.ociRef, '--format', 'table', '--format', 'sarif', '--format', 'cyclonedx', '--format', 'spdx-json', '--format', 'json',
      '--output', `sarif=${f('o.sarif')}`, '--output', `cyclonedx=${f('o.cdx.json')}`, '--output', `spdx-json=${f('o.spdx.json')}`, '--output', `json=${f('o.json')}`,
    ]);
    assert.equal(scan.code, 0, scan.err);
    const imageFindings = findingKeys(readFileSync(f('o.json'), 'utf8'));
    assert.ok(imageFindings.length >= 4, `findings: ${imageFindings.join(', ')}`);

    await t.test('table: findings, advice, layers and the feed with its update operation', () => {
      assert.match(scan.out, /CVE-2025-0725 +curl/);
      assert.match(scan.out, /UPGRADES\n {2}curl 7\.88\.1-10\+deb12u15: no fixed version yet/);
      assert.match(scan.out, /LAYERS: the base image \(first 1 layer\(s\)\) brings 0 findings, the layers built on it 4/);
      assert.match(scan.out, /FEEDS\n {2}debian: updated \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+m ago\), update operation [0-9a-f-]{36}/);
    });

    await t.test('SARIF 2.1.0: valid, one rule per vulnerability, one result per package, security-severity', () => {
      const sarif = JSON.parse(readFileSync(f('o.sarif'), 'utf8'));
      assert.deepEqual(sarifErrors(sarif), []);
      const run = sarif.runs[0];
      assert.deepEqual(run.rules ?? run.tool.driver.rules.map((r: any) => r.id).sort(), ['CVE-2025-0725', 'CVE-2025-27587']);
      assert.equal(run.results.length, imageFindings.length);
      assert.ok(run.tool.driver.rules.every((r: any) => r.help.text && r.properties['security-severity'] === '0.5'));
      const curl = run.results.find((r: any) => r.properties.package === 'curl');
      assert.equal(curl.locations[0].physicalLocation.artifactLocation.uri, 'var/lib/dpkg/status');
      assert.match(curl.locations[0].logicalLocations[0].fullyQualifiedName, /^pkg:deb\/debian\/curl@7\.88\.1-10(\+|%2B)deb12u15\?arch=amd64&distro=debian-12$/);
      assert.equal(run.artifacts[0].location.uri, image.ociRef);
      assert.match(run.invocations[0].toolExecutionNotifications[0].message.text, /^feed debian: updated .* by update operation /);
    });

    await t.test('CycloneDX 1.6: valid, purls and layers on components, vulnerabilities with ratings and affects', () => {
      const bom = JSON.parse(readFileSync(f('o.cdx.json'), 'utf8'));
      assert.deepEqual(cycloneDxErrors(bom), []);
      const libs = bom.components.filter((c: any) => c.type === 'library');
      assert.equal(libs.length, image.expected.packages.length);
      assert.ok(libs.every((c: any) => c.purl.startsWith('pkg:deb/debian/') && c.properties.some((p: any) => p.name === 'clair-ts:layer')));
      const v = bom.vulnerabilities.find((x: any) => x.id === 'CVE-2025-27587');
      assert.equal(v.ratings[0].severity, 'info');
      assert.deepEqual(v.affects.map((a: any) => libs.find((c: any) => c['bom-ref'] === a.ref).name).sort(), ['libssl3', 'openssl']);
      assert.ok(bom.metadata.properties.some((p: any) => p.name === 'clair-ts:feed:debian' && /update operation/.test(p.value)));
    });

    await t.test('SPDX 2.3: valid, every package with its purl', () => {
      const doc = JSON.parse(readFileSync(f('o.spdx.json'), 'utf8'));
      assert.deepEqual(spdxErrors(doc), []);
      const pkgs = doc.packages.filter((p: any) => p.primaryPackagePurpose === 'LIBRARY');
      assert.equal(pkgs.length, image.expected.packages.length);
      assert.ok(pkgs.every((p: any) => p.externalRefs.some((r: any) => r.referenceType === 'purl')));
    });

    await t.test('JSON: Clair shape, a purl on every package, feeds in clair_ts', () => {
      const j = JSON.parse(readFileSync(f('o.json'), 'utf8'));
      assert.ok(Object.values(j.packages).every((p: any) => typeof p.purl === 'string' && p.purl.startsWith('pkg:deb/debian/')));
      assert.equal(j.clair_ts.feeds[0].feed, 'debian');
      assert.equal(j.clair_ts.feeds[0].packages, image.expected.packages.length);
      assert.deepEqual(j.clair_ts.not_checked, []);
    });

    await t.test('index --format cyclonedx|spdx-json: valid inventories; scanned as sbom: they give the image findings', async () => {
      const idx = await runCli(db, ['index', image.ociRef, '--format', 'cyclonedx,spdx-json', '--output', `cyclonedx=${f('i.cdx.json')}`, '--output', `spdx-json=${f('i.spdx.json')}`]);
      assert.equal(idx.code, 0, idx.err);
      assert.deepEqual(cycloneDxErrors(JSON.parse(readFileSync(f('i.cdx.json'), 'utf8'))), []);
      assert.deepEqual(spdxErrors(JSON.parse(readFileSync(f('i.spdx.json'), 'utf8'))), []);
      for (const sbom of ['i.cdx.json', 'i.spdx.json', 'o.cdx.json']) {
        const r = await runCli(db, ['scan', `sbom:${f(sbom)}`, '--format', 'json']);
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(findingKeys(r.out), imageFindings, sbom);
      }
    });

    await t.test('a foreign CycloneDX (purls and an operating-system component only, as Syft writes) gives the same findings', async () => {
      const bom = JSON.parse(readFileSync(f('i.cdx.json'), 'utf8'));
      const strip = (c: any) => ({ type: c.type, name: c.name, version: c.version, ...(c.purl ? { purl: c.purl } : {}) });
      writeFileSync(f('syft.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: bom.components.map(strip) }));
      const r = await runCli(db, ['scan', `sbom:${f('syft.json')}`, '--format', 'json']);
      assert.equal(r.code, 0, r.err);
      const names = (keys: string[]) => keys.map((k) => k.split(' ').slice(0, 3).join(' '));
      assert.deepEqual(names(findingKeys(r.out)), names(imageFindings));
    });

    await t.test('ignore file: by id and package; an expired entry stops suppressing and says so', async () => {
      writeFileSync(f('ignore.yaml'), [
        'ignore:',
        '  - id: CVE-2025-0725',
        '    package: curl',
        '    reason: the curl binary is never run with a proxy',
        '    expires: 2999-01-01',
        '  - id: CVE-2025-27587',
        '    package: pkg:deb/debian/openssl',
        '    reason: timing side channel not reachable',
        '    expires: 2020-01-01',
      ].join('\n'));
      const r = await runCli(db, ['scan', image.ociRef, '--ignore-file', f('ignore.yaml'), '--format', 'json', '--fail-on', 'negligible']);
      assert.equal(r.code, 1, r.err);
      const j = JSON.parse(r.out);
      assert.deepEqual(findingKeys(r.out).map((k) => k.split(' ')[0]).sort(), ['libcurl4', 'libssl3', 'openssl']);
      assert.deepEqual(j.clair_ts.suppressed.map((s: any) => [s.package, s.vulnerability, s.by]), [['curl', 'CVE-2025-0725', 'ignore']]);
      assert.match(j.clair_ts.suppressed[0].reason, /never run with a proxy \(until 2999-01-01\)/);
      assert.match(j.clair_ts.notices[0], /CVE-2025-27587 \(pkg:deb\/debian\/openssl\) .* expired on 2020-01-01: it no longer suppresses/);
      assert.match(r.err, /notice: ignore entry for CVE-2025-27587/);
    });

    await t.test('VEX: OpenVEX not_affected and CycloneDX resolved suppress, affected keeps; the table says why', async () => {
      writeFileSync(f('openvex.json'), JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'https://example.com/vex-1', author: 'team', timestamp: '2026-11-01T00:00:00Z', version: 1,
        statements: [
          { vulnerability: { name: 'CVE-2025-27587' }, products: [{ '@id': 'pkg:deb/debian/openssl' }, { '@id': 'pkg:deb/debian/libssl3' }], status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' },
          { vulnerability: { name: 'CVE-2025-0725' }, products: [{ '@id': 'pkg:deb/debian/libcurl4' }], status: 'affected' },
        ],
      }));
      writeFileSync(f('cdx-vex.json'), JSON.stringify({
        bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
        vulnerabilities: [{ id: 'CVE-2025-0725', analysis: { state: 'resolved', detail: 'rebuilt with the patch' }, affects: [{ ref: 'pkg:deb/debian/curl' }] }],
      }));
      const r = await runCli(db, ['scan', image.ociRef, '--vex', f('openvex.json'), '--vex', f('cdx-vex.json'), '--fail-on', 'negligible']);
      assert.equal(r.code, 1, r.err);
      assert.match(r.out, /CVE-2025-0725 +libcurl4/);
      assert.doesNotMatch(r.out, /debian +CVE-2025-27587/);
      assert.match(r.out, /SUPPRESSED \(3\)/);
      assert.match(r.out, /CVE-2025-27587 openssl 3\.0\.22-1~deb12u2: VEX not_affected: vulnerable_code_not_in_execute_path \(.*openvex\.json: statement 1\)/);
      assert.match(r.out, /CVE-2025-0725 curl 7\.88\.1-10\+deb12u15: VEX fixed: rebuilt with the patch \(.*cdx-vex\.json: vulnerability 1\)/);
      const sarif = await runCli(db, ['scan', image.ociRef, '--vex', f('openvex.json'), '--format', 'sarif']);
      const results = JSON.parse(sarif.out).runs[0].results;
      assert.equal(results.filter((x: any) => x.suppressions).length, 2);
      assert.deepEqual(sarifErrors(JSON.parse(sarif.out)), []);
      const bom = await runCli(db, ['scan', image.ociRef, '--vex', f('openvex.json'), '--vex', f('cdx-vex.json'), '--format', 'cyclonedx']);
      const doc = JSON.parse(bom.out);
      assert.deepEqual(cycloneDxErrors(doc), []);
      // CVE-2025-0725 is kept on libcurl4 and resolved on curl: two entries, each with a bom-ref of its own.
      assert.deepEqual(doc.vulnerabilities.map((v: any) => [v.id, v.analysis?.state ?? 'finding']).sort(), [
        ['CVE-2025-0725', 'finding'], ['CVE-2025-0725', 'resolved'], ['CVE-2025-27587', 'not_affected'],
      ]);
      assert.equal(new Set(doc.vulnerabilities.map((v: any) => v['bom-ref'])).size, 3);
    });

    await t.test('--only-fixed and --severity combine with --fail-on', async () => {
      // Every finding of the excerpt on this image is an open Negligible issue: no fix, so --only-fixed leaves none.
      const fixed = await runCli(db, ['scan', image.ociRef, '--only-fixed', '--fail-on', 'negligible']);
      assert.equal(fixed.code, 0, fixed.err);
      assert.match(fixed.out, /No known vulnerabilities\.[\s\S]*4 findings left out by --only-fixed \/ --severity/);
      const high = await runCli(db, ['scan', image.ociRef, '--severity', 'High,Critical', '--fail-on', 'negligible', '--format', 'json']);
      assert.equal(high.code, 0);
      assert.deepEqual(findingKeys(high.out), []);
      const neg = await runCli(db, ['scan', image.ociRef, '--severity', 'negligible', '--fail-on', 'negligible']);
      assert.equal(neg.code, 1);
      assert.equal((await runCli(db, ['scan', image.ociRef, '--severity', 'urgent'])).code, 2);
    });

    await t.test('--max-feed-age: stale data has its own exit code; fresh data passes', async () => {
      const stale = await runCli(db, ['scan', image.ociRef, '--max-feed-age', '1ms', '--only-fixed']);
      assert.equal(stale.code, 3, stale.err);
      assert.match(stale.err, /stale vulnerability data: debian updated .* \(--max-feed-age 1ms\)/);
      assert.equal((await runCli(db, ['scan', image.ociRef, '--max-feed-age', '7d', '--only-fixed'])).code, 0);
      // Findings that trip the gate win over staleness: the gate fails either way, for the surer reason.
      assert.equal((await runCli(db, ['scan', image.ociRef, '--max-feed-age', '1ms', '--fail-on', 'negligible'])).code, 1);
    });

    await t.test('without data for the feed that covers the image, every package is "not checked", never clean', async () => {
      const empty = join(dir, 'empty.db');
      const r = await runCli(empty, ['scan', image.ociRef, '--format', 'json', '--max-feed-age', '7d']);
      assert.equal(r.code, 3, r.err);
      const j = JSON.parse(r.out);
      assert.equal(j.clair_ts.not_checked.length, image.expected.packages.length);
      assert.match(j.clair_ts.not_checked[0].reason, /no data from feed debian in the database/);
      assert.deepEqual(j.clair_ts.feeds, [{ feed: 'debian', role: 'vulnerabilities', packages: image.expected.packages.length }]);
    });

    await t.test('output plans: several formats need files, unknown ones are refused', async () => {
      const both = await runCli(db, ['scan', image.ociRef, '--format', 'table', '--format', 'sarif']);
      assert.equal(both.code, 2);
      assert.match(both.err, /table and sarif would both go to stdout/);
      assert.equal((await runCli(db, ['scan', image.ociRef, '--format', 'html'])).code, 2);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
