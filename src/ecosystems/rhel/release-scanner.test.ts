import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { distributionFromReleaseFile, parseSystemReleaseCpe } from './releases.ts';
import { rhelReleaseScanner } from './release-scanner.ts';
import { repositoriesFromContentManifest, contentManifestScanner } from './content-manifest-scanner.ts';
import { parseRepositoryCpeMapping } from './repository-to-cpe.ts';

const file = (path: string, text: string) => ({ path, data: Buffer.from(text), mode: 0o644 });

test('release files of the family → os-release IDs and versions', () => {
  // First lines as the distributions ship them (CentOS 7.9.2009, Stream 9, Rocky 8.9, Alma 9.3, Fedora 39, AL2, AL2023).
  const table: [string, string, string][] = [
    ['Red Hat Enterprise Linux Server release 7.4 (Maipo)', 'rhel', '7.4'],
    ['Red Hat Enterprise Linux release 9.0 (Plow)', 'rhel', '9.0'],
    ['CentOS Linux release 7.9.2009 (Core)', 'centos', '7.9.2009'],
    ['CentOS Stream release 9', 'centos', '9'],
    ['Rocky Linux release 8.9 (Green Obsidian)', 'rocky', '8.9'],
    ['AlmaLinux release 9.3 (Shamrock Pampas Cat)', 'almalinux', '9.3'],
    ['Fedora release 39 (Thirty Nine)', 'fedora', '39'],
    ['Oracle Linux Server release 8.9', 'ol', '8.9'],
    ['Amazon Linux release 2 (Karoo)', 'amzn', '2'],
    ['Amazon Linux release 2023.3.20240131 (Amazon Linux)', 'amzn', '2023.3.20240131'],
    ['Amazon Linux AMI release 2018.03', 'amzn', '2018.03'],
  ];
  for (const [line, did, versionId] of table) {
    const d = distributionFromReleaseFile(line + '\n');
    assert.deepEqual([d?.did, d?.versionId, d?.prettyName], [did, versionId, line], line);
  }
  assert.equal(distributionFromReleaseFile('Debian GNU/Linux 12'), undefined);
  assert.equal(parseSystemReleaseCpe('cpe:/o:redhat:enterprise_linux:6server:ga:server\n'), 'cpe:/o:redhat:enterprise_linux:6server:ga:server');
  assert.equal(parseSystemReleaseCpe('hello'), undefined);
});

test('claircore release files: the vendor file wins over redhat-release; system-release-cpe gives the CPE', async (t) => {
  const dir = requireSharedData(t, 'fixtures', 'claircore', 'rhel', 'testdata', 'releasefiles');
  if (!dir) return;
  const read = (rel: string) => file(`etc/${rel.split('/').pop()}`, readFileSync(join(dir, rel), 'utf8'));
  for (const [name, did, versionId] of [['oracle-8', 'ol', '8.9'], ['oracle-6', 'ol', '6.10'], ['7', 'rhel', '7.4'], ['atomichost-7', 'rhel', '7.9']] as const) {
    const files = [read(`${name}/etc/redhat-release`), ...(name.startsWith('oracle') ? [read(`${name}/etc/oracle-release`)] : [])];
    files.push(file('etc/system-release-cpe', 'cpe:/o:example:x:1\n'));
    const f = await rhelReleaseScanner.scan(files);
    const best = [...f.distributions!].sort((a, b) => b.priority - a.priority)[0]!;
    assert.deepEqual([best.distribution.did, best.distribution.versionId, best.distribution.cpe], [did, versionId, 'cpe:/o:example:x:1'], name);
  }
  assert.ok(rhelReleaseScanner.wants({ path: 'etc/redhat-release', size: 1, mode: 0 }));
  assert.ok(!rhelReleaseScanner.wants({ path: 'etc/os-release', size: 1, mode: 0 }), 'os-release belongs to the os-release scanner');
});

test('content manifests: content sets become repositories, mapped to CPEs; a broken manifest is reported', async (t) => {
  const mapping = parseRepositoryCpeMapping(readFileSync(join(import.meta.dirname, 'testdata/repository-to-cpe.json')), 'testdata');
  const repos = repositoriesFromContentManifest('{"content_sets": ["rhel-8-for-x86_64-appstream-rpms", "unknown-rpms"]}', 'x.json', mapping);
  assert.deepEqual(repos.map((r) => `${r.key} ${r.name} ${r.cpe}`), [
    'rhel-content-set rhel-8-for-x86_64-appstream-rpms ',
    'rhel-content-set unknown-rpms ',
    'rhel-cpe-repository cpe:/a:redhat:enterprise_linux:8::appstream cpe:/a:redhat:enterprise_linux:8::appstream',
  ]);
  assert.deepEqual(repositoriesFromContentManifest('{"content_sets": ["a"]}', 'x.json', undefined).map((r) => r.cpe), ['']);
  assert.throws(() => parseRepositoryCpeMapping(Buffer.from('[]'), 'm.json'), { code: 'bad-input', message: /m\.json/ });
  const dir = requireSharedData(t, 'fixtures', 'claircore', 'rhel', 'testdata');
  if (!dir) return;
  // claircore's layers: an embedded content manifest (content-set-1, content-set-2), and one a vendor replaced by text.
  const { execFileSync } = await import('node:child_process');
  const member = (tarFile: string, path: string) => execFileSync('tar', ['xOf', join(dir, tarFile), path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const good = await contentManifestScanner().scan([file('root/buildinfo/content_manifests/foo-1.1-2.json', member('layer-with-embedded-cs.tar', 'root/buildinfo/content_manifests/foo-1.1-2.json'))]);
  assert.deepEqual(good.repositories!.flatMap((r) => r.repositories.map((x) => x.name)), ['content-set-1', 'content-set-2']);
  assert.deepEqual(good.repositories![0]!.packageDbPrefixes, ['var/lib/rpm/', 'usr/lib/sysimage/rpm/']);
  const bad = await contentManifestScanner().scan([file('root/buildinfo/content_manifests/ubi8-container-8.7-1112.json', member('layer-with-invalid-content-manifests-json.tar', 'root/buildinfo/content_manifests/ubi8-container-8.7-1112.json'))]);
  assert.deepEqual(bad.repositories, []);
  assert.match(bad.errors![0]!, /ubi8-container-8\.7-1112\.json: content manifest is not JSON/);
});
