import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { buildJavaFixtures, DEBIAN_JAR_PACKAGES, DEBIAN_JARS, haveDebianJars, unzipPomArtifacts, type JavaFixtures } from '../../../test/support/java-archives.ts';
import { hasTool, run } from '../../../test/support/system-tool.ts';
import { fromManifest, parseManifest, parseProperties, scanJavaArchive, type JavaScan } from './archive.ts';
import { openZip, readEntry } from './zip-archive.ts';

const haveTools = haveDebianJars() && hasTool('zip', ['-v']) && hasTool('unzip', ['-v']);
if (!haveTools && process.env.CI) throw new Error(`zip, unzip and ${DEBIAN_JAR_PACKAGES} are required under CI (.ci/run installs them)`);

const names = (s: JavaScan): string[] => s.artifacts.map((a) => `${a.groupId}:${a.artifactId}@${a.version}`).sort();

describe('Java archives built from Debian jars, truth from unzip', { skip: !haveTools && `zip/unzip or ${DEBIAN_JAR_PACKAGES} missing` }, () => {
  let fx: JavaFixtures;
  before(() => {
    fx = buildJavaFixtures();
  });
  after(() => rmSync(fx.dir, { recursive: true, force: true }));

  for (const [key, jar] of Object.entries(DEBIAN_JARS)) {
    it(`${key}: pom.properties as unzip reads them`, () => {
      const scan = scanJavaArchive(readFileSync(jar), 'usr/share/java/x.jar');
      assert.deepEqual(scan.warnings, []);
      assert.deepEqual(names(scan), unzipPomArtifacts(jar));
      assert.equal(scan.artifacts.length, 1);
    });
  }

  it('a jar inside a war inside an ear: each artifact under its nested location', () => {
    const scan = scanJavaArchive(readFileSync(fx.ear), 'opt/shop.ear');
    assert.deepEqual(scan.warnings, []);
    const truth = [...unzipPomArtifacts(DEBIAN_JARS.lang3), ...unzipPomArtifacts(DEBIAN_JARS.io), ...unzipPomArtifacts(DEBIAN_JARS.guava)].sort();
    assert.deepEqual(names(scan), truth);
    assert.deepEqual(scan.artifacts.map((a) => a.location).sort(), [
      'opt/shop.ear!/lib/commons-lang3.jar',
      'opt/shop.ear!/shop.war!/WEB-INF/lib/commons-io-2.11.0.jar',
      'opt/shop.ear!/shop.war!/WEB-INF/lib/guava.jar',
    ]);
    // The war's libraries: one stored (read as a view), one deflated.
    const war = openZip(readFileSync(fx.war));
    assert.deepEqual(war.entries.filter((e) => e.name.endsWith('.jar')).map((e) => e.method).sort(), [0, 8]);
  });

  it('a shaded jar yields each embedded artifact', () => {
    const scan = scanJavaArchive(readFileSync(fx.shaded), 'app/app-all.jar');
    assert.deepEqual(names(scan), unzipPomArtifacts(fx.shaded));
    assert.equal(scan.artifacts.length, 2);
  });

  it('MANIFEST.MF identifies jars without pom.properties', () => {
    assert.deepEqual(unzipPomArtifacts(fx.lang3NoPom), []);
    const lang3 = scanJavaArchive(readFileSync(fx.lang3NoPom), 'lib/commons-lang3-3.12.0.jar');
    assert.deepEqual(names(lang3), unzipPomArtifacts(DEBIAN_JARS.lang3));
    assert.equal(lang3.artifacts[0]?.from, 'MANIFEST.MF');
    const databind = scanJavaArchive(readFileSync(fx.databindNoPom), 'lib/jackson-databind.jar');
    assert.deepEqual(names(databind), unzipPomArtifacts(DEBIAN_JARS.databind));
  });

  it('a corrupt jar is a warning naming it; the other archives in the war are still read', () => {
    const truncated = readFileSync(DEBIAN_JARS.io).subarray(0, 5000);
    const scan = scanJavaArchive(truncated, 'opt/broken.jar');
    assert.deepEqual(scan.artifacts, []);
    assert.match(scan.warnings.join('\n'), /^opt\/broken\.jar: not a zip archive/);
    // A war whose WEB-INF/lib holds that broken jar next to a good one.
    const dir = fx.dir;
    run('sh', ['-c', 'mkdir -p bw/WEB-INF/lib && cp "$1" bw/WEB-INF/lib/good.jar && head -c 5000 "$1" > bw/WEB-INF/lib/broken.jar && cd bw && zip -q -r ../bw.war WEB-INF', 'sh', DEBIAN_JARS.io], { cwd: dir });
    const war = scanJavaArchive(readFileSync(`${dir}/bw.war`), 'srv/bw.war');
    assert.deepEqual(names(war), unzipPomArtifacts(DEBIAN_JARS.io));
    assert.equal(war.warnings.length, 1);
    assert.match(war.warnings[0] ?? '', /^srv\/bw\.war!\/WEB-INF\/lib\/broken\.jar: /);
  });

  it('a zip bomb inside a jar is cut at the caps; the rest of the archive still counts', () => {
    // 8 MiB of zeros as a pom.properties and 48 MiB as a nested jar, ~60 KB deflated; Python's zipfile writes it.
    const bomb = `${fx.dir}/bomb.jar`;
    run('python3', ['-c', [
      'import sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)',
      'z.writestr("META-INF/maven/evil/evil/pom.properties", b"\\0" * (8 << 20))',
      'z.writestr("lib/evil.jar", b"\\0" * (48 << 20))',
      'z.write(sys.argv[2], "lib/commons-io.jar")',
      'z.close()',
    ].join('\n'), bomb, DEBIAN_JARS.io]);
    const before = process.memoryUsage().arrayBuffers;
    const scan = scanJavaArchive(readFileSync(bomb), 'opt/bomb.jar', { maxDepth: 4, maxMetadataEntry: 1 << 20, maxNestedArchive: 16 << 20, maxTotalInflated: 64 << 20 });
    assert.ok(process.memoryUsage().arrayBuffers - before < 128 << 20);
    assert.deepEqual(names(scan), unzipPomArtifacts(DEBIAN_JARS.io));
    assert.match(scan.warnings.join('\n'), /pom\.properties inflates past the 1048576-byte limit/);
    assert.match(scan.warnings.join('\n'), /lib\/evil\.jar inflates past the 16777216-byte limit/);
  });

  it('reads ZIP64 archives and archives behind a launcher script', () => {
    const z64 = `${fx.dir}/z64.jar`;
    run('python3', ['-c', [
      'import sys, zipfile',
      'src = zipfile.ZipFile(sys.argv[2])',
      'z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, allowZip64=True)',
      'for i in src.infolist():',
      '    with src.open(i) as r, z.open(i.filename, "w", force_zip64=True) as w: w.write(r.read())',
      'z.close()',
    ].join('\n'), z64, DEBIAN_JARS.slf4j]);
    assert.deepEqual(names(scanJavaArchive(readFileSync(z64), 'z64.jar')), unzipPomArtifacts(DEBIAN_JARS.slf4j));
    const launcher = Buffer.concat([Buffer.from('#!/bin/sh\nexec java -jar "$0" "$@"\n'), readFileSync(DEBIAN_JARS.slf4j)]);
    assert.deepEqual(names(scanJavaArchive(launcher, 'app.jar')), unzipPomArtifacts(DEBIAN_JARS.slf4j));
  });

  it('stops at the nesting depth with a warning', () => {
    const scan = scanJavaArchive(readFileSync(fx.ear), 'shop.ear', { maxDepth: 1, maxMetadataEntry: 1 << 20, maxNestedArchive: 64 << 20, maxTotalInflated: 1 << 30 });
    assert.deepEqual(names(scan), unzipPomArtifacts(DEBIAN_JARS.lang3));
    assert.match(scan.warnings.join('\n'), /shop\.war!\/WEB-INF\/lib\/guava\.jar: nested deeper than 1 archives/);
  });
});

describe('zip entries', () => {
  it('a stored entry is a view; a deflated one is capped', () => {
    const deflated = deflateRawSync(Buffer.alloc(1000, 0x61));
    // A one-entry zip by hand: local header, data, central directory, end record.
    const name = Buffer.from('a.txt');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(deflated.length, 18);
    local.writeUInt32LE(1000, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(deflated.length, 20);
    central.writeUInt32LE(1000, 24);
    central.writeUInt16LE(name.length, 28);
    const cdOffset = 30 + name.length + deflated.length;
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(46 + name.length, 12);
    end.writeUInt32LE(cdOffset, 16);
    const zip = openZip(Buffer.concat([local, name, deflated, central, name, end]));
    const [entry] = zip.entries;
    assert.ok(entry);
    assert.equal(readEntry(zip, entry, 1000).toString(), 'a'.repeat(1000));
    assert.throws(() => readEntry(zip, entry, 999), /inflates past the 999-byte limit/);
  });
});

describe('pom.properties and MANIFEST.MF', () => {
  it('properties: separators, comments, continuations, escapes', () => {
    const p = parseProperties('#Generated by Maven\n! also a comment\ngroupId = org.example\nartifactId:demo\nversion 1.0\\\n    .2\nname=a\\u0041\\tb\n');
    assert.deepEqual([...p], [['groupId', 'org.example'], ['artifactId', 'demo'], ['version', '1.0.2'], ['name', 'aA\tb']]);
  });

  it('manifest: continuation lines and only the main section', () => {
    const m = parseManifest('Manifest-Version: 1.0\r\nBundle-SymbolicName: com.example.very.long.na\r\n me;singleton:=true\r\n\r\nName: x\r\nImplementation-Version: 9\r\n');
    assert.equal(m.get('Bundle-SymbolicName'), 'com.example.very.long.name;singleton:=true');
    assert.equal(m.get('Implementation-Version'), undefined);
  });

  it('manifest fallback refuses to guess', () => {
    assert.equal(fromManifest(new Map([['Implementation-Title', 'Apache Commons Lang']]), 'x.jar'), undefined);
    assert.equal(fromManifest(new Map([['Implementation-Version', '1.0'], ['Implementation-Title', 'demo']]), 'demo-1.0.jar'), undefined);
    assert.deepEqual(fromManifest(new Map([['Implementation-Version', '1.0'], ['Bundle-SymbolicName', 'org.acme.demo']]), 'lib/demo-1.0.jar'), {
      groupId: 'org.acme', artifactId: 'demo', version: '1.0',
    });
  });
});
