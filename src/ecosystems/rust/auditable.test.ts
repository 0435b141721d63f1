import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { buildAuditableBinary, DEBIAN_CRATES, makeRustWorkspace, type RustProject } from '../../../test/support/rust-project.ts';
import { hasTool, run } from '../../../test/support/system-tool.ts';
import { findSection, parseElf } from '../elf/elf-file.ts';
import { MAX_AUDIT_JSON, readAuditableDeps } from './auditable.ts';

const haveTools = hasTool('cargo') && hasTool('objcopy') && hasTool('ls', [join(DEBIAN_CRATES, 'libc-0.2.139')]);
if (!haveTools && process.env.CI) throw new Error('cargo, objcopy and Debian crates are required under CI (.ci/run installs them)');

describe('cargo-auditable dependency lists in a real Rust binary', { skip: !haveTools && 'cargo, binutils or librust-*-dev missing' }, () => {
  let p: RustProject;
  let built: ReturnType<typeof buildAuditableBinary>;
  before(() => {
    p = makeRustWorkspace();
    built = buildAuditableBinary(p);
  });
  after(() => rmSync(p.dir, { recursive: true, force: true }));

  it('reads every package with source, kind and root', () => {
    const deps = readAuditableDeps(readFileSync(built.binary), 'usr/bin/app');
    assert.ok(deps);
    assert.deepEqual(
      deps.map((d) => `${d.name} ${d.version} ${d.source} ${d.kind}${d.root ? ' root' : ''}`),
      ['app 0.3.0 local runtime root', 'helper 0.1.0 local runtime', 'itoa 1.0.1 crates.io runtime', 'libc 0.2.139 crates.io build', 'memchr 2.5.0 crates.io runtime', 'semver 1.0.14 crates.io runtime'],
    );
    // objdump sees the section we read, compressed as cargo-auditable writes it.
    assert.match(run('objdump', ['-h', built.binary]), /\.dep-v0/);
  });

  it('a Rust binary built without cargo-auditable yields nothing', () => {
    assert.equal(readAuditableDeps(readFileSync(join(p.dir, 'target/debug/app')), 'app'), undefined);
  });

  it('a section claiming more bytes than the file has is an error naming the file, not an allocation', () => {
    const bytes = Buffer.from(readFileSync(built.binary));
    const elf = parseElf(bytes);
    const index = elf.sections.indexOf(findSection(elf, '.dep-v0')!);
    const shoff = Number(bytes.readBigUInt64LE(0x28));
    bytes.writeBigUInt64LE(1n << 42n, shoff + index * 64 + 32);
    assert.throws(() => readAuditableDeps(bytes, 'usr/bin/app'), /usr\/bin\/app: \.dep-v0 section is unreadable: .*past the end/);
  });
});

describe('cargo-auditable sections that lie', () => {
  // A minimal ELF with only a section table: enough for the reader, generated here.
  function elfWithSection(name: string, content: Buffer): Buffer {
    const names = Buffer.from(`\0${name}\0.shstrtab\0`);
    const dataAt = 64;
    const namesAt = dataAt + content.length;
    const shoff = (namesAt + names.length + 7) & ~7;
    const b = Buffer.alloc(shoff + 3 * 64);
    b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
    b.writeUInt16LE(2, 16);
    b.writeUInt16LE(62, 18);
    b.writeUInt32LE(1, 20);
    b.writeBigUInt64LE(BigInt(shoff), 0x28);
    b.writeUInt16LE(64, 0x34);
    b.writeUInt16LE(64, 0x3a);
    b.writeUInt16LE(3, 0x3c);
    b.writeUInt16LE(2, 0x3e);
    content.copy(b, dataAt);
    names.copy(b, namesAt);
    const sh = (i: number, nameOff: number, type: number, off: number, size: number): void => {
      const o = shoff + i * 64;
      b.writeUInt32LE(nameOff, o);
      b.writeUInt32LE(type, o + 4);
      b.writeBigUInt64LE(BigInt(off), o + 24);
      b.writeBigUInt64LE(BigInt(size), o + 32);
    };
    sh(1, 1, 1, dataAt, content.length);
    sh(2, 2 + name.length, 3, namesAt, names.length);
    return b;
  }

  it('a zlib bomb is cut at the documented limit', () => {
    const bomb = deflateSync(Buffer.alloc(MAX_AUDIT_JSON * 4, 0x20));
    assert.throws(() => readAuditableDeps(elfWithSection('.dep-v0', bomb), 'bin/bomb'), /bin\/bomb: \.dep-v0 section is unreadable/);
  });

  it('not zlib, not JSON, no packages', () => {
    assert.throws(() => readAuditableDeps(elfWithSection('.dep-v0', Buffer.from('plain')), 'b'), /unreadable/);
    assert.throws(() => readAuditableDeps(elfWithSection('.dep-v0', deflateSync('{nope')), 'b'), /not JSON/);
    assert.throws(() => readAuditableDeps(elfWithSection('.dep-v0', deflateSync('{}')), 'b'), /no packages array/);
  });

  it('accepts the serde enum names of the schema and Other sources', () => {
    const json = { packages: [{ name: 'a', version: '1.0.0', source: 'CratesIo' }, { name: 'b', version: '2.0.0', source: { Other: 'vendored' }, kind: 'build' }] };
    const deps = readAuditableDeps(elfWithSection('.dep-v0', deflateSync(JSON.stringify(json))), 'b');
    assert.deepEqual(deps, [
      { name: 'a', version: '1.0.0', source: 'crates.io', kind: 'runtime', root: false },
      { name: 'b', version: '2.0.0', source: 'vendored', kind: 'build', root: false },
    ]);
  });
});
