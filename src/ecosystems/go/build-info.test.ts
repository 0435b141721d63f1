import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildGoBinaries, goVersionM, withoutSectionHeaders, type GoBuild } from '../../../test/support/go-binaries.ts';
import { hasTool } from '../../../test/support/system-tool.ts';
import { parseElf } from '../elf/elf-file.ts';
import { readGoBuildInfo, type GoBuildInfo } from './build-info.ts';
import { buildInfoPackages, stdlibVersion } from './packages.ts';
import { oldLayoutElf } from './testdata/old-layout-elf.ts';

// Truth: `go version -m` (Debian's golang-go) on binaries built here, and on the generated old-layout binaries.

const haveGo = hasTool('go', ['version']) && hasTool('zip', ['-v']);
if (!haveGo && process.env.CI) throw new Error('go and zip are required under CI (.ci/run installs golang-go and zip)');

/** Our reading in the shape goVersionM gives. */
function asGoVersionM(info: GoBuildInfo): ReturnType<typeof goVersionM> {
  return {
    goVersion: info.goVersion,
    path: info.path,
    mod: info.main && [info.main.path, info.main.version],
    deps: info.deps.map((d) => [d.path, d.version, ...(d.replace ? ['=>', d.replace.path, d.replace.version] : [])]),
  };
}

describe('Go build info from binaries built by the real toolchain', { skip: !haveGo && 'go or zip not installed (apt-get install golang-go zip)' }, () => {
  let built: GoBuild;
  before(() => {
    built = buildGoBinaries();
  });
  after(() => rmSync(built.dir, { recursive: true, force: true }));

  it('reads the main module, every dependency with its replacement, and the toolchain like go version -m', () => {
    const info = readGoBuildInfo(readFileSync(built.plain));
    assert.ok(info);
    assert.deepEqual(asGoVersionM(info), goVersionM(built.plain));
    assert.deepEqual(info.main, { path: 'example.com/app', version: '(devel)', sum: '' });
    assert.ok(info.settings.some((s) => s.key === 'GOOS' && s.value === 'linux'));
  });

  it('maps build info to packages: replacements honoured, stdlib from the toolchain', () => {
    const info = readGoBuildInfo(readFileSync(built.plain));
    assert.ok(info);
    const pkgs = buildInfoPackages(info, 'usr/bin/app').map((p) => `${p.name} ${p.version} ${p.packageDb}`);
    const std = stdlibVersion(goVersionM(built.plain).goVersion);
    assert.ok(std && /^\d+\.\d+/.test(std));
    assert.deepEqual(pkgs, [
      'example.com/app  go:usr/bin/app',
      'example.com/alpha v1.2.3 go:usr/bin/app',
      'example.com/betafork v0.4.1-fix.1 go:usr/bin/app',
      'example.com/gamma  go:usr/bin/app',
      `stdlib ${std} go:usr/bin/app`,
    ]);
  });

  it('reads -trimpath -ldflags="-s -w" binaries', () => {
    const info = readGoBuildInfo(readFileSync(built.stripped));
    assert.ok(info);
    assert.deepEqual(asGoVersionM(info), goVersionM(built.stripped));
    assert.equal(info.deps.length, 3);
  });

  it('reads binaries without section headers through the writable segment, as Go does', () => {
    const bytes = withoutSectionHeaders(built.stripped);
    assert.equal(parseElf(bytes).sections.length, 0);
    const copy = join(built.dir, 'no-sections');
    writeFileSync(copy, bytes, { mode: 0o755 });
    const info = readGoBuildInfo(bytes);
    assert.ok(info);
    assert.deepEqual(asGoVersionM(info), goVersionM(copy));
  });

  it('reads a GOPATH-mode binary: toolchain and path, no modules', () => {
    const info = readGoBuildInfo(readFileSync(built.gopath));
    assert.ok(info);
    assert.equal(info.main, undefined);
    assert.deepEqual(info.deps, []);
    assert.deepEqual(asGoVersionM(info), goVersionM(built.gopath));
    assert.deepEqual(buildInfoPackages(info, 'x').map((p) => p.name), ['stdlib']);
  });

  it('finds nothing, and throws nothing, in an ELF binary that is not Go', () => {
    const notGo = realpathSync('/bin/sh');
    assert.equal(readGoBuildInfo(readFileSync(notGo)), undefined);
  });

  it('does not read past a segment that claims more bytes than the file has', () => {
    // The writable segment's file size set to 2^40: nothing is allocated for it, the reader just sees no build info
    // where the claim cannot be honoured.
    const bytes = Buffer.from(readFileSync(built.stripped));
    const elf = parseElf(bytes);
    const phoff = Number(bytes.readBigUInt64LE(0x20));
    elf.segments.forEach((_, i) => bytes.writeBigUInt64LE(1n << 40n, phoff + i * 56 + 32));
    const before = process.memoryUsage().arrayBuffers;
    assert.doesNotThrow(() => readGoBuildInfo(bytes));
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
  });

  // Go programs shipped on this machine (Google Cloud SDK, Terraform): large, real, many dependencies. Optional.
  for (const file of ['/usr/local/bin/terraform', '/usr/bin/kubectl', '/usr/bin/kpt']) {
    it(`agrees with go version -m on ${file} when present`, { skip: !existsSync(file) && `${file} not on this machine` }, () => {
      const info = readGoBuildInfo(readFileSync(file));
      assert.ok(info);
      assert.deepEqual(asGoVersionM(info), goVersionM(file));
      assert.ok(info.deps.length > 50);
    });
  }
});

describe('Go build info in the pre-1.18 pointer layout (generated binaries, read back by go version -m)', () => {
  const modText =
    'path\texample.com/old/cmd/x\nmod\texample.com/old\tv0.9.0\th1:m=\n' +
    'dep\tgolang.org/x/text\tv0.3.7\th1:abc=\n=>\tgolang.org/x/text\tv0.3.8\th1:def=\n' +
    'dep\tgithub.com/pkg/errors\tv0.9.1\th1:e=\n';
  for (const [bits, bigEndian] of [[64, false], [32, false], [32, true], [64, true]] as const) {
    it(`${bits}-bit ${bigEndian ? 'big' : 'little'} endian`, (t) => {
      const bytes = oldLayoutElf({ bits, bigEndian, goVersion: 'go1.16.15', modText });
      const info = readGoBuildInfo(bytes);
      assert.ok(info);
      assert.deepEqual(
        buildInfoPackages(info, 'bin/x').map((p) => `${p.name}@${p.version}`),
        ['example.com/old@v0.9.0', 'golang.org/x/text@v0.3.8', 'github.com/pkg/errors@v0.9.1', 'stdlib@1.16.15'],
      );
      if (!haveGo) return t.skip('go not installed: compared with the expected list only');
      const dir = realpathSync(process.env.TMPDIR ?? '/tmp');
      const file = join(dir, `clair-ts-old-layout-${process.pid}-${bits}-${bigEndian}`);
      writeFileSync(file, bytes, { mode: 0o755 });
      try {
        assert.deepEqual(asGoVersionM(info), goVersionM(file));
      } finally {
        rmSync(file, { force: true });
      }
    });
  }

  it('a truncated string header or an absurd length yields nothing', () => {
    const bytes = oldLayoutElf({ bits: 64, bigEndian: false, goVersion: 'go1.16.15', modText });
    // version string length -> 2^50
    bytes.writeBigUInt64LE(1n << 50n, 0x140 + 8);
    assert.equal(readGoBuildInfo(bytes), undefined);
    assert.equal(readGoBuildInfo(bytes.subarray(0, 0x120)), undefined);
  });
});

describe('stdlibVersion', () => {
  it('strips go and experiment suffixes; refuses devel toolchains', () => {
    assert.equal(stdlibVersion('go1.22.3'), '1.22.3');
    assert.equal(stdlibVersion('go1.20'), '1.20');
    assert.equal(stdlibVersion('go1.21rc2'), '1.21rc2');
    assert.equal(stdlibVersion('go1.21.0 X:boringcrypto'), '1.21.0');
    assert.equal(stdlibVersion('devel go1.23-abcdef Tue'), undefined);
  });
});
