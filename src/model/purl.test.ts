import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packagePurl, parsePurl } from './purl.ts';
import { emptyDistribution } from './distribution.ts';
import type { Package } from './package.ts';

const pkg = (name: string, version: string, packageDb: string, more: Partial<Package> = {}): Package => ({
  name, version, kind: 'binary', arch: '', module: '', cpe: '', packageDb, repositoryHint: '', ...more,
});
const debian = { ...emptyDistribution(), did: 'debian', versionId: '12', versionCodeName: 'bookworm' };

test('purls per ecosystem, as Syft and Trivy write them', () => {
  const cases: [Package, string, ReturnType<typeof emptyDistribution>?][] = [
    [pkg('libssl3', '3.0.11-1~deb12u2', 'var/lib/dpkg/status', { arch: 'amd64', source: { name: 'openssl', version: '3.0.11-1~deb12u2' } }), 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl', debian],
    [pkg('libgcc-s1', '12.2.0-14', 'var/lib/dpkg/status', { arch: 'amd64', source: { name: 'gcc-12', version: '12.2.0-14+deb12u1' } }), 'pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12%4012.2.0-14%2Bdeb12u1', debian],
    [pkg('openssl', '1:3.0.7-27.el9', 'var/lib/rpm/rpmdb.sqlite', { arch: 'x86_64' }), 'pkg:rpm/redhat/openssl@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1', { ...emptyDistribution(), did: 'rhel', versionId: '9.4' }],
    [pkg('musl', '1.2.4-r2', 'lib/apk/db/installed', { arch: 'x86_64' }), 'pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1', { ...emptyDistribution(), did: 'alpine', versionId: '3.19.1' }],
    [pkg('jinja2', '3.1.2', 'python:usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info'), 'pkg:pypi/jinja2@3.1.2'],
    [pkg('@babel/core', '7.22.0', 'npm:app/node_modules/@babel/core/package.json'), 'pkg:npm/%40babel/core@7.22.0'],
    [pkg('golang.org/x/net', 'v0.17.0', 'go:usr/bin/age'), 'pkg:golang/golang.org/x/net@v0.17.0'],
    [pkg('stdlib', '1.22.3', 'go:usr/bin/age'), 'pkg:golang/stdlib@1.22.3'],
    [pkg('org.apache.logging.log4j:log4j-core', '2.14.1', 'maven:app/lib/log4j-core-2.14.1.jar'), 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1'],
    [pkg('rack', '2.2.3', 'rubygems:app/Gemfile.lock'), 'pkg:gem/rack@2.2.3'],
    [pkg('tokio', '1.28.0', 'cargo:src/agent/Cargo.lock'), 'pkg:cargo/tokio@1.28.0'],
  ];
  for (const [p, want, dist] of cases) {
    assert.equal(packagePurl(p, dist), want, p.name);
    // Read back: the same name, version and source (what matching needs).
    const back = parsePurl(want)!;
    assert.equal(back.package.name, p.name, want);
    assert.equal(back.package.version, p.version, want);
    if (p.source && p.source.name !== p.name) assert.deepEqual(back.package.source, p.source, want);
  }
  assert.equal(packagePurl(pkg('x', '1', 'etc/unknown')), undefined);
  assert.equal(parsePurl('pkg:generic/openssl@3.0'), undefined);
  assert.equal(parsePurl('pkg:pypi/Jinja_2@1')!.package.name, 'jinja-2', 'PEP 503 names');
  assert.throws(() => parsePurl('not a purl'));
});
