import { test } from 'node:test';
import assert from 'node:assert/strict';
import semver from 'semver';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import type { VersionScheme } from '../../versions/scheme.ts';
import type { IndexedPackage } from '../../matcher/matcher.ts';
import { LANGUAGE_ECOSYSTEMS } from './ecosystems.ts';
import { languageMatcher, recordAffects } from './matcher.ts';

// The matcher's own decisions: repository selection, OS ownership, name normalisation, interval and version-list
// semantics. The ecosystems' version rules themselves are src/versions' (tested against the real tools there); a
// node-semver scheme stands in here so these cases do not depend on any one ecosystem's rules.
const semverScheme: VersionScheme = {
  id: 'cargo',
  url: 'https://semver.org',
  isValid: (v) => semver.valid(v) !== null,
  compare: (a, b) => semver.compareBuild(a, b),
};

const cargo = LANGUAGE_ECOSYSTEMS.find((e) => e.osv === 'crates.io')!;
const pypi = LANGUAGE_ECOSYSTEMS.find((e) => e.osv === 'PyPI')!;

function pkg(name: string, version: string, repo: string, extra: Record<string, unknown> = {}): IndexedPackage {
  return {
    id: '1',
    package: { name, version, kind: 'binary', arch: '', module: '', cpe: '', packageDb: `cargo:Cargo.lock`, repositoryHint: '', ...extra },
    repositories: [{ name: repo, key: '', uri: '', cpe: '' }],
  };
}

function rec(v: Partial<Vulnerability>): Vulnerability {
  return newVulnerability({ updater: 'rustsec', name: 'RUSTSEC-1', versionScheme: 'cargo', repo: { name: 'crates.io', key: '', uri: 'https://crates.io/', cpe: '' }, ...v });
}

test('interval semantics: introduced inclusive, fixed exclusive, last_affected inclusive, open ends, version lists', () => {
  const at = (version: string, v: Partial<Vulnerability>) => recordAffects(semverScheme, version, rec(v));
  const iv = { range: { introduced: '1.0.0', lastAffected: '' }, fixedInVersion: '1.2.0' };
  assert.deepEqual(['0.9.9', '1.0.0', '1.1.9', '1.2.0', '2.0.0'].map((x) => at(x, iv)), [false, true, true, false, false]);
  const la = { range: { introduced: '', lastAffected: '1.4.0' } };
  assert.deepEqual(['0.1.0', '1.4.0', '1.4.1'].map((x) => at(x, la)), [true, true, false]);
  assert.equal(at('9.9.9', {}), true);
  assert.deepEqual(['1.0.0', '1.0.1', '1.0.2'].map((x) => at(x, { affectedVersions: ['1.0.0', '1.0.2'] })), [true, false, true]);
  // A version the scheme cannot read decides nothing.
  assert.equal(at('not-a-version', iv), false);
  assert.equal(at('1.1.0', { range: { introduced: 'garbage', lastAffected: '' } }), false);
});

test('matcher: selects by repository, skips OS-owned packages, queries by normalised name, checks the record ecosystem', () => {
  const m = languageMatcher(cargo, (id) => (id === 'cargo' ? semverScheme : undefined));
  assert.equal(m.filter(pkg('tokio', '1.0.0', 'crates.io')), true);
  assert.equal(m.filter(pkg('tokio', '1.0.0', 'npm')), false);
  assert.equal(m.filter(pkg('tokio', '1.0.0', 'crates.io', { ownedBy: { name: 'rust-tokio', version: '1.0.0-1', packageDb: 'var/lib/dpkg/status' } })), false);
  assert.deepEqual(m.query(pkg('tokio', '1.0.0', 'crates.io')), { packageNames: ['tokio'] });
  const p = pkg('tokio', '1.0.0', 'crates.io');
  assert.equal(m.vulnerable(p, rec({ fixedInVersion: '1.0.1' })), true);
  // The same name in another ecosystem's feed is another package.
  assert.equal(m.vulnerable(p, rec({ fixedInVersion: '1.0.1', repo: { name: 'npm', key: '', uri: '', cpe: '' }, versionScheme: 'npm' })), false);
  // Without the ecosystem's version scheme the package is not claimed (reported as not covered), not guessed.
  assert.equal(languageMatcher(cargo, () => undefined).filter(p), false);
  assert.deepEqual(languageMatcher(pypi, () => semverScheme).query(pkg('Jinja2', '3.1.2', 'pypi')), { packageNames: ['jinja2'] });
  // Go: the inventory's "v1.2.3" against the database's "1.2.3".
  const goScheme: VersionScheme = { ...semverScheme, id: 'go', isValid: (v) => v.startsWith('v') && semver.valid(v.slice(1)) !== null, compare: (a, b) => semver.compare(a.slice(1), b.slice(1)) };
  assert.equal(recordAffects(goScheme, 'v0.17.0', rec({ versionScheme: 'go', fixedInVersion: '0.23.0' })), true);
  assert.equal(recordAffects(goScheme, 'v0.23.0', rec({ versionScheme: 'go', fixedInVersion: '0.23.0' })), false);
});

test('go: the go command also gets the toolchain module\'s advisories; other binaries only stdlib\'s', () => {
  const go = languageMatcher(LANGUAGE_ECOSYSTEMS.find((e) => e.osv === 'Go')!, () => semverScheme);
  const at = (packageDb: string) => go.query({ ...pkg('stdlib', '1.19.8', 'go'), package: { ...pkg('stdlib', '1.19.8', 'go').package, packageDb } });
  assert.deepEqual(at('go:usr/local/go/bin/go').packageNames, ['stdlib', 'toolchain']);
  assert.deepEqual(at('go:usr/bin/hello').packageNames, ['stdlib']);
  assert.deepEqual(at('go:usr/bin/gofmt').packageNames, ['stdlib']);
});
