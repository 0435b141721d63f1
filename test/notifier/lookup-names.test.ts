import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allMatchers } from '../../src/ecosystems/registry.ts';
import type { IndexedPackage } from '../../src/matcher/matcher.ts';
import { packageLookupNames } from '../../src/matcher/vulnerability-query.ts';
import { emptyDistribution, type Distribution } from '../../src/model/distribution.ts';
import type { Package } from '../../src/model/package.ts';
import type { Repository } from '../../src/model/repository.ts';
import { RHEL_CPE_REPOSITORY_KEY } from '../../src/ecosystems/rhel/csaf-vex.ts';

// The contract the notifier's package index rests on (packageLookupNames): every name a matcher's query asks for a
// package is a name the index files that package under. A matcher asking for another name would leave the manifests
// holding such packages out of every notification, silently; this test names the matcher and the package instead.

function pkg(name: string, packageDb: string, extra: Partial<Package> = {}): Package {
  return { name, version: '1.0-1', kind: 'binary', arch: 'x86_64', module: '', cpe: '', packageDb, repositoryHint: '', ...extra };
}

const dist = (d: Partial<Distribution>): Distribution => ({ ...emptyDistribution(), ...d });
const repo = (name: string, extra: Partial<Repository> = {}): Repository => ({ name, key: '', uri: '', cpe: '', ...extra });

/** At least one package each matcher claims, with the name shapes that differ from the records' (source, case, toolchain). */
const samples: Omit<IndexedPackage, 'id'>[] = [
  { package: pkg('libssl3', 'var/lib/dpkg/status', { source: { name: 'openssl', version: '3.0.11-1' } }), distribution: dist({ did: 'debian', versionId: '12', versionCodeName: 'bookworm' }), repositories: [] },
  { package: pkg('bash', 'var/lib/dpkg/status'), distribution: dist({ did: 'debian', versionId: '12', versionCodeName: 'bookworm' }), repositories: [] },
  { package: pkg('libc6', 'var/lib/dpkg/status', { source: { name: 'glibc', version: '2.35-0ubuntu3' } }), distribution: dist({ did: 'ubuntu', versionId: '22.04', versionCodeName: 'jammy' }), repositories: [] },
  ...['alpine', 'wolfi', 'chainguard'].map((did) => ({
    package: pkg('libcrypto3', 'lib/apk/db/installed', { source: { name: 'openssl', version: '3.1.4-r0' } }),
    distribution: dist({ did, versionId: did === 'alpine' ? '3.19.1' : '20230201' }),
    repositories: [],
  })),
  {
    package: pkg('openssl-libs', 'var/lib/rpm/rpmdb.sqlite', { source: { name: 'openssl', version: '3.0.7-24.el9' } }),
    distribution: dist({ did: 'rhel', versionId: '9.3', cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos' }),
    repositories: [repo('cpe:/o:redhat:enterprise_linux:9::baseos', { key: RHEL_CPE_REPOSITORY_KEY, cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos' })],
  },
  { package: pkg('Jinja2', 'python:usr/lib/python3/site-packages/Jinja2-3.1.2.dist-info'), repositories: [repo('pypi')] },
  { package: pkg('zope.interface', 'python:usr/lib/python3/site-packages/zope.interface-6.0.dist-info'), repositories: [repo('pypi')] },
  { package: pkg('typing_extensions', 'python:usr/lib/python3/site-packages/typing_extensions-4.8.0.dist-info'), repositories: [repo('pypi')] },
  { package: pkg('@babel/core', 'nodejs:usr/lib/node_modules/@babel/core/package.json'), repositories: [repo('npm')] },
  { package: pkg('stdlib', 'usr/local/go/bin/go'), repositories: [repo('go')] },
  { package: pkg('golang.org/x/net', 'go:usr/bin/app'), repositories: [repo('go')] },
  { package: pkg('org.apache.logging.log4j:log4j-core', 'jar:app.jar'), repositories: [repo('maven')] },
  { package: pkg('rack', 'ruby:usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.8.gemspec'), repositories: [repo('rubygems')] },
  { package: pkg('serde', 'rust:usr/bin/app'), repositories: [repo('crates.io')] },
];

test("every matcher's query asks only for names the package index files the package under", () => {
  const claimed = new Set<string>();
  for (const [i, s] of samples.entries()) {
    const p: IndexedPackage = { id: String(i), ...s };
    const names = packageLookupNames(p.package);
    for (const m of allMatchers()) {
      if (!m.filter(p)) continue;
      claimed.add(m.name);
      for (const n of m.query(p).packageNames) {
        assert.ok(names.includes(n), `${m.name} asks for ${JSON.stringify(n)} for package ${p.package.name}; the index files it under ${JSON.stringify(names)}`);
      }
    }
  }
  // Each matcher was asked about a package it claims: the check above is not empty for any of them.
  assert.deepEqual([...claimed].sort(), allMatchers().map((m) => m.name).sort());
});

test('lookup names: the binary, the source, the PEP 503 form; no empty name', () => {
  assert.deepEqual(packageLookupNames({ name: 'libssl3', source: { name: 'openssl' } }).sort(), ['libssl3', 'openssl']);
  assert.deepEqual(packageLookupNames({ name: 'Zope.Interface' }).sort(), ['Zope.Interface', 'zope-interface']);
  assert.deepEqual(packageLookupNames({ name: 'stdlib' }).sort(), ['stdlib', 'toolchain']);
  assert.deepEqual(packageLookupNames({ name: '', source: { name: '' } }), []);
});
