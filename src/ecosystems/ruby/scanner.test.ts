import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseGemfileLock, parseGemspec } from './gemspec.ts';
import { rubyScanner } from './scanner.ts';

const testdata = (f: string) => readFileSync(new URL(`./testdata/${f}`, import.meta.url));

test('real gemspecs: a Debian gem and a default gem', async () => {
  const r = await rubyScanner.scan([
    { path: 'usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec', data: testdata('rake-13.0.6.gemspec'), mode: 0o644 },
    { path: 'usr/lib/ruby/gems/3.1.0/specifications/default/abbrev-0.1.0.gemspec', data: testdata('abbrev-0.1.0.gemspec'), mode: 0o644 },
  ]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.packageDbs!.map((d) => [d.packages[0]!.name, d.packages[0]!.version, d.packages[0]!.packageDb, d.repository?.name]),
    [
      ['rake', '13.0.6', 'rubygems:usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec', 'rubygems'],
      ['abbrev', '0.1.0', 'rubygems:usr/lib/ruby/gems/3.1.0/specifications/default/abbrev-0.1.0.gemspec', 'rubygems'],
    ],
  );
});

test('gemspec forms: quotes, .freeze, Gem::Version.new, the stub line; the requirement fields are not the version', () => {
  assert.deepEqual(parseGemspec("Gem::Specification.new do |spec|\n  spec.name    = 'foo'\n  spec.version = Gem::Version.new('1.2.3.pre')\nend\n"), { name: 'foo', version: '1.2.3.pre' });
  assert.deepEqual(parseGemspec('# stub: bar 2.0.0 ruby lib\nGem::Specification.new do |s|\n  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze)\n  s.version = Bar::VERSION\nend\n'), { name: 'bar', version: '2.0.0' });
  assert.equal(parseGemspec('Gem::Specification.new do |s|\n  s.version = Bar::VERSION\nend\n'), undefined);
});

test('a gemspec that cannot be read is a warning naming it', async () => {
  const r = await rubyScanner.scan([{ path: 'var/lib/gems/3.1.0/specifications/x.gemspec', data: Buffer.from('raise "no"\n'), mode: 0o644 }]);
  assert.deepEqual(r.packageDbs, []);
  assert.deepEqual(r.errors, ['var/lib/gems/3.1.0/specifications/x.gemspec: no name and version assignment found; not read']);
});

test('Gemfile.lock: GEM specs with platforms; dependencies, GIT and PATH left out', () => {
  const lock = `GIT
  remote: https://github.com/x/y.git
  revision: abc
  specs:
    y (0.1.0)

PATH
  remote: .
  specs:
    app (1.0.0)
      rack

GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.15.4-x86_64-linux)
      racc (~> 1.4)
    rack (2.2.8)
    racc (1.7.1)

PLATFORMS
  x86_64-linux

DEPENDENCIES
  rack

BUNDLED WITH
   2.3.15
`;
  assert.deepEqual(parseGemfileLock(lock), [
    { name: 'nokogiri', version: '1.15.4' },
    { name: 'rack', version: '2.2.8' },
    { name: 'racc', version: '1.7.1' },
  ]);
});

test('wants: gemspecs anywhere; Gemfile.lock only in source trees', () => {
  const w = (path: string, origin: 'layer' | 'directory' = 'layer') => rubyScanner.wants({ path, size: 1, mode: 0o644, origin });
  assert.ok(w('usr/local/bundle/specifications/rack-2.2.8.gemspec'));
  assert.ok(w('usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec'));
  assert.ok(!w('usr/lib/ruby/gems/3.1.0/gems/rack-2.2.8/rack.gemspec'));
  assert.ok(!w('srv/app/Gemfile.lock'));
  assert.ok(w('srv/app/Gemfile.lock', 'directory'));
});

test('a Gemfile.lock whose gems are installed in vendor/bundle beside it is not read again', async () => {
  const lock = Buffer.from('GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.8)\n\nDEPENDENCIES\n  rack\n');
  const spec = Buffer.from('Gemfile.lock\n# stub: rack 2.2.8 ruby lib\n');
  const r = await rubyScanner.scan([
    { path: 'app/Gemfile.lock', data: lock, mode: 0o644 },
    { path: 'app/vendor/bundle/ruby/3.1.0/specifications/rack-2.2.8.gemspec', data: spec, mode: 0o644 },
    { path: 'other/Gemfile.lock', data: lock, mode: 0o644 },
  ]);
  assert.deepEqual(r.packageDbs!.map((d) => d.path), ['app/vendor/bundle/ruby/3.1.0/specifications/rack-2.2.8.gemspec', 'other/Gemfile.lock']);
});
