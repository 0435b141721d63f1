import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildLayer, OciLayoutWriter } from '../../src/image/testdata/image-builder.ts';
import { buildGoBinaries, goVersionM, type GoBuild } from '../support/go-binaries.ts';
import { buildJavaFixtures, DEBIAN_JARS, haveDebianJars, unzipPomArtifacts, type JavaFixtures } from '../support/java-archives.ts';
import { runCli } from '../support/run-cli.ts';
import { buildAuditableBinary, cargoMetadataPackages, DEBIAN_CRATES, makeRustWorkspace, type RustProject } from '../support/rust-project.ts';
import { sharedDataPath } from '../support/shared-data.ts';
import { hasTool, run } from '../support/system-tool.ts';
import { makeTar, type TarEntry } from '../support/tar-layer.ts';

// Go, Rust and Java packages end to end: an OCI image whose layers hold real artifacts built here (Go binaries by
// golang-go, a Rust binary by cargo with a cargo-auditable section, Java archives from Debian's jars) plus the traps
// real images contain, indexed by the CLI; and the same artifacts as a `dir:` tree. Truth: go version -m, cargo
// metadata, unzip.

const tools = hasTool('go', ['version']) && hasTool('zip', ['-v']) && hasTool('unzip', ['-v']) && hasTool('cargo') && hasTool('objcopy') &&
  hasTool('ls', [join(DEBIAN_CRATES, 'libc-0.2.139')]) && haveDebianJars();
if (!tools && process.env.CI) throw new Error('golang-go, zip, unzip, cargo, binutils, librust-*-dev and lib*-java are required under CI');

interface Json {
  packages: Record<string, { name: string; version: string }>;
  environments: Record<string, { package_db: string; introduced_in: string; repository_ids: string[] }[]>;
  repository: Record<string, { name: string; uri: string }>;
  err: string;
  success: boolean;
}

/** "name version repo" per package of a package database (packageDb string), sorted. */
function inDb(r: Json, db: string): string[] {
  return Object.entries(r.packages)
    .filter(([id]) => r.environments[id]![0]!.package_db === db)
    .map(([id, p]) => `${p.name} ${p.version} ${r.environments[id]![0]!.repository_ids.map((i) => r.repository[i]!.name).join(',')}`)
    .sort();
}

function goTruth(file: string, at: string): string[] {
  const m = goVersionM(file);
  const out = m.deps.map((d) => (d[2] === '=>' ? (d[3]!.startsWith('.') ? `${d[0]} ` : `${d[3]} ${d[4]}`) : `${d[0]} ${d[1]}`));
  if (m.mod) out.push(`${m.mod[0]} ${m.mod[1] === '(devel)' ? '' : m.mod[1]}`);
  out.push(`stdlib ${m.goVersion.replace(/^go/, '')}`);
  void at;
  return out.map((s) => `${s} go`).sort();
}

describe('Go, Rust and Java packages in an image and a source tree', { skip: !tools && 'build tools missing' }, () => {
  let dir: string;
  let goBuild: GoBuild;
  let rs: RustProject;
  let auditable: string;
  let java: JavaFixtures;
  let image: string;
  let lockfile: string;
  const db = () => join(dir, 'clair.db');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clair-ts-binlang-'));
    goBuild = buildGoBinaries();
    rs = makeRustWorkspace();
    auditable = buildAuditableBinary(rs).binary;
    java = buildJavaFixtures();
    const kata = sharedDataPath('fixtures', 'kata-containers', 'history-3.18.0', 'src', 'agent', 'Cargo.lock');
    lockfile = process.env.CLAIR_TS_SHARED || hasTool('ls', [kata]) ? kata : rs.lockfile;

    const lying = Buffer.from(readFileSync(goBuild.plain));
    lying.writeBigUInt64LE(1n << 40n, 0x28); // e_shoff: a section table a terabyte in
    const bomb = join(dir, 'bomb.jar');
    run('python3', ['-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)\nz.writestr("WEB-INF/lib/evil.jar", b"\\0" * (300 << 20))\nz.write(sys.argv[2], "WEB-INF/lib/slf4j-api.jar")\nz.close()', bomb, DEBIAN_JARS.slf4j]);
    const f = (path: string, file: string | Buffer, mode = 0o755): TarEntry => ({ path, content: typeof file === 'string' ? readFileSync(file) : file, mode });
    const base: TarEntry[] = [
      f('usr/bin/app', goBuild.plain),
      f('usr/local/bin/app-stripped', goBuild.stripped),
      f('usr/bin/gopath-app', goBuild.gopath),
      f('usr/bin/true', realpathSync('/bin/true')),
      f('usr/bin/hello.sh', Buffer.from('#!/bin/sh\necho hi\n')),
      f('usr/bin/lying', lying),
      f('usr/bin/rust-app', auditable),
      f('opt/agent/Cargo.lock', lockfile, 0o644),
      f('opt/broken/Cargo.lock', Buffer.from('version = 4\n[[package]\nname = "x"\n'), 0o644),
      f('opt/shop.ear', java.ear, 0o644),
      f('usr/share/java/commons-io.jar', DEBIAN_JARS.io, 0o644),
      { path: 'usr/share/java/commons-io-2.11.0.jar', type: 'symlink', linkname: 'commons-io.jar' },
      f('opt/corrupt.jar', readFileSync(DEBIAN_JARS.io).subarray(0, 4000), 0o644),
      f('opt/bomb.war', bomb, 0o644),
      // dpkg owns the jar and the GOPATH-built binary (as Debian's libcommons-io-java and age would be).
      f('var/lib/dpkg/status', Buffer.from(['libcommons-io-java 2.11.0-2', 'gopath-app 1.0-1'].map((nv) => {
        const [n, v] = nv.split(' ');
        return `Package: ${n}\nStatus: install ok installed\nArchitecture: all\nVersion: ${v}\n`;
      }).join('\n')), 0o644),
      f('var/lib/dpkg/info/libcommons-io-java.list', Buffer.from('/usr/share/java\n/usr/share/java/commons-io.jar\n/usr/share/java/commons-io-2.11.0.jar\n'), 0o644),
      f('var/lib/dpkg/info/gopath-app.list', Buffer.from('/usr/bin/gopath-app\n'), 0o644),
    ];
    const upper: TarEntry[] = [{ path: 'usr/local/bin/.wh.app-stripped', content: '' }, f('usr/share/java/guava.jar', DEBIAN_JARS.guava, 0o644)];
    const layers = [buildLayer(await makeTar(base), 'gzip'), buildLayer(await makeTar(upper), 'gzip')];
    image = join(dir, 'image');
    const w = await new OciLayoutWriter(image).init();
    const img = await w.addImage(layers);
    await w.writeIndex([{ descriptor: img.manifest, tag: 'latest' }]);
  });

  after(() => {
    for (const d of [dir, goBuild?.dir, rs?.dir, java?.dir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('indexes every binary, lockfile and archive, with the traps reported and the rest indexed', async () => {
    const r = await runCli(db(), ['index', `oci:${image}:latest`, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const rep = JSON.parse(r.out) as Json;

    // Go: build info as go version -m prints it, replacements honoured; the whited-out binary is gone.
    assert.deepEqual(inDb(rep, 'go:usr/bin/app'), goTruth(goBuild.plain, 'usr/bin/app'));
    assert.deepEqual(inDb(rep, 'go:usr/local/bin/app-stripped'), []);
    assert.deepEqual(inDb(rep, 'go:usr/bin/gopath-app'), goTruth(goBuild.gopath, 'x'));
    for (const none of ['go:usr/bin/true', 'go:usr/bin/hello.sh', 'go:usr/bin/lying']) assert.deepEqual(inDb(rep, none), []);
    assert.match(rep.err, /usr\/bin\/lying: malformed ELF file: section headers .* lie outside the file/);
    assert.equal(rep.err.match(/usr\/bin\/lying/g)?.length, 1);

    // Rust: the lockfile lists exactly its packages (crates.io under crates.io, git and path crates apart).
    const lock = inDb(rep, 'cargo:opt/agent/Cargo.lock');
    const text = readFileSync(lockfile, 'utf8');
    assert.equal(lock.length, (text.match(/^\[\[package\]\]$/gm) ?? []).length);
    assert.equal(lock.filter((l) => l.endsWith(' crates.io')).length, (text.match(/^source = "registry\+https:\/\/github.com\/rust-lang\/crates.io-index"$/gm) ?? []).length);
    if (lockfile === rs.lockfile) assert.deepEqual(lock.map((l) => l.split(' ').slice(0, 2).join(' ')), cargoMetadataPackages(rs.dir).map((l) => l.split(' ').slice(0, 2).join(' ')));
    assert.deepEqual(inDb(rep, 'cargo:usr/bin/rust-app'), ['app 0.3.0 local', 'helper 0.1.0 local', 'itoa 1.0.1 crates.io', 'memchr 2.5.0 crates.io', 'semver 1.0.14 crates.io']);
    assert.match(rep.err, /opt\/broken\/Cargo\.lock is not valid TOML/);

    // Java: nested archives under their locations, the symlink not counted twice, corrupt and bomb archives warned.
    const maven = (loc: string) => inDb(rep, `maven:${loc}`).map((l) => l.replace(/ maven$/, ''));
    const art = (jar: string) => unzipPomArtifacts(jar).map((a) => a.replace('@', ' '));
    assert.deepEqual(maven('opt/shop.ear!/lib/commons-lang3.jar'), art(DEBIAN_JARS.lang3));
    assert.deepEqual(maven('opt/shop.ear!/shop.war!/WEB-INF/lib/commons-io-2.11.0.jar'), art(DEBIAN_JARS.io));
    assert.deepEqual(maven('opt/shop.ear!/shop.war!/WEB-INF/lib/guava.jar'), art(DEBIAN_JARS.guava));
    assert.deepEqual(maven('usr/share/java/commons-io.jar'), art(DEBIAN_JARS.io));
    assert.deepEqual(maven('usr/share/java/commons-io-2.11.0.jar'), []);
    assert.deepEqual(maven('opt/bomb.war!/WEB-INF/lib/slf4j-api.jar'), art(DEBIAN_JARS.slf4j));
    assert.match(rep.err, /opt\/corrupt\.jar: not a zip archive/);
    assert.match(rep.err, /opt\/bomb\.war: entry WEB-INF\/lib\/evil\.jar inflates past the \d+-byte limit/);
    // The upper layer's jar is introduced by it, the lower layer's by that one.
    const layerOf = (db: string) => Object.entries(rep.environments).find(([, e]) => e[0]!.package_db === db)?.[1][0]!.introduced_in;
    assert.ok(layerOf('maven:usr/share/java/guava.jar'));
    assert.notEqual(layerOf('maven:usr/share/java/guava.jar'), layerOf('maven:usr/share/java/commons-io.jar'));
  });

  it('packages whose file an OS package lists are marked as owned by it', async () => {
    const r = await runCli(db(), ['index', `oci:${image}:latest`, '--format', 'json']);
    const { SqliteStore } = await import('../../src/store/sqlite/sqlite-store.ts');
    const store = SqliteStore.open(db());
    try {
      const report = await store.getIndexReport(JSON.parse(r.out).manifest_hash as string);
      const owners = Object.values(report!.report.packages)
        .filter((p) => /^(go|maven|cargo):/.test(p.packageDb) && p.ownedBy)
        .map((p) => `${p.packageDb} ${p.name} ${p.ownedBy!.name} ${p.ownedBy!.version}`)
        .sort();
      assert.deepEqual(owners, [
        `go:usr/bin/gopath-app stdlib gopath-app 1.0-1`,
        `maven:usr/share/java/commons-io.jar commons-io:commons-io libcommons-io-java 2.11.0-2`,
      ]);
    } finally {
      await store.close();
    }
  });

  it('the table groups them by ecosystem', async () => {
    const r = await runCli(db(), ['index', `oci:${image}:latest`]);
    assert.equal(r.code, 0, r.err);
    for (const eco of ['go', 'cargo', 'maven']) assert.match(r.out, new RegExp(`\\b${eco}\\b`));
  });

  it('dir: reads go.mod and Cargo.lock of a source tree too', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'src', 'runtime'), { recursive: true });
    mkdirSync(join(tree, 'bin'), { recursive: true });
    copyFileSync(rs.lockfile, join(tree, 'Cargo.lock'));
    writeFileSync(join(tree, 'src', 'runtime', 'go.mod'), 'module example.com/rt\n\ngo 1.21\n\nrequire (\n\tgithub.com/pkg/errors v0.9.1\n\tgolang.org/x/sys v0.1.0 // indirect\n)\n');
    copyFileSync(goBuild.plain, join(tree, 'bin', 'app'));
    symlinkSync('app', join(tree, 'bin', 'app-link'));
    const r = await runCli(db(), ['index', `dir:${tree}`, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const rep = JSON.parse(r.out) as Json;
    assert.deepEqual(inDb(rep, 'go:src/runtime/go.mod'), ['github.com/pkg/errors v0.9.1 go', 'golang.org/x/sys v0.1.0 go']);
    assert.deepEqual(inDb(rep, 'go:bin/app'), goTruth(goBuild.plain, 'bin/app'));
    assert.deepEqual(inDb(rep, 'go:bin/app-link'), []);
    assert.equal(inDb(rep, 'cargo:Cargo.lock').length, cargoMetadataPackages(rs.dir).length);
  });
});
