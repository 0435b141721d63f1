import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildGoBinaries, goVersionM } from '../../test/support/go-binaries.ts';
import { buildJavaFixtures, DEBIAN_JARS, unzipPomArtifacts } from '../../test/support/java-archives.ts';
import { buildAuditableBinary, cargoMetadataPackages, makeRustWorkspace } from '../../test/support/rust-project.ts';

// The Go, Rust and Java layer of the polyglot test image, from artifacts built here by the real toolchains (the same
// builders the scanners' own tests use): a Go program with a module replacement (plain and stripped), a Rust
// workspace's Cargo.lock and its cargo-auditable binary, an EAR (WAR and libraries inside) and a shaded jar from
// Debian's jars. The truth each tool prints goes to EXPECTED; a source tree with go.mod and Cargo.lock to TREE.
//
//   usr/local/bin/app, usr/local/bin/app-stripped   go version -m       -> EXPECTED/go-version-m.json
//   opt/rust-app/Cargo.lock, usr/local/bin/rust-app   cargo metadata      -> EXPECTED/cargo-metadata.json, auditable.json
//   opt/shop/shop.ear, opt/shop/app-all.jar           unzip               -> EXPECTED/maven.json
//   TREE/go-rust-java/{go.mod,Cargo.lock}

const [root, expected, tree] = process.argv.slice(2);
if (!root || !expected || !tree) throw new Error('usage: go-rust-java.ts ROOT EXPECTED TREE');

const put = (rel: string, file: string, mode = 0o755): void => {
  const dest = join(root, rel);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, readFileSync(file), { mode });
};
const write = (rel: string, data: unknown): void => writeFileSync(join(expected, rel), JSON.stringify(data, null, 1) + '\n');

const go = buildGoBinaries();
const rs = makeRustWorkspace();
const auditable = buildAuditableBinary(rs);
const java = buildJavaFixtures();
try {
  put('usr/local/bin/app', go.plain);
  put('usr/local/bin/app-stripped', go.stripped);
  write('go-version-m.json', { 'usr/local/bin/app': goVersionM(go.plain), 'usr/local/bin/app-stripped': goVersionM(go.stripped) });

  put('opt/rust-app/Cargo.lock', rs.lockfile, 0o644);
  put('usr/local/bin/rust-app', auditable.binary);
  write('cargo-metadata.json', cargoMetadataPackages(rs.dir));
  write('auditable.json', auditable.json);

  put('opt/shop/shop.ear', java.ear, 0o644);
  put('opt/shop/app-all.jar', java.shaded, 0o644);
  write('maven.json', {
    'opt/shop/shop.ear!/lib/commons-lang3.jar': unzipPomArtifacts(DEBIAN_JARS.lang3),
    'opt/shop/shop.ear!/shop.war!/WEB-INF/lib/commons-io-2.11.0.jar': unzipPomArtifacts(DEBIAN_JARS.io),
    'opt/shop/shop.ear!/shop.war!/WEB-INF/lib/guava.jar': unzipPomArtifacts(DEBIAN_JARS.guava),
    'opt/shop/app-all.jar': unzipPomArtifacts(java.shaded),
  });

  const t = join(tree, 'go-rust-java');
  mkdirSync(t, { recursive: true });
  copyFileSync(rs.lockfile, join(t, 'Cargo.lock'));
  copyFileSync(join(go.dir, 'app', 'go.mod'), join(t, 'go.mod'));
} finally {
  for (const d of [go.dir, rs.dir, java.dir]) rmSync(d, { recursive: true, force: true });
}
