import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { run } from './system-tool.ts';

// A real Cargo workspace for the Rust scanner's tests, resolved and built offline by the installed cargo against
// Debian's crate registry (/usr/share/cargo/registry, from librust-semver-dev, librust-itoa-dev,
// librust-memchr-dev, librust-libc-dev): workspace members without a source, crates.io crates, a build dependency.

export const DEBIAN_CRATES = '/usr/share/cargo/registry';

export interface RustProject {
  dir: string;
  lockfile: string;
}

export function makeRustWorkspace(): RustProject {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-cargo-'));
  const w = (rel: string, text: string): void => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  w('.cargo/config.toml', `[source.crates-io]\nreplace-with = "debian"\n[source.debian]\ndirectory = "${DEBIAN_CRATES}"\n`);
  w('Cargo.toml', '[workspace]\nmembers = ["app", "helper"]\nresolver = "2"\n');
  w(
    'app/Cargo.toml',
    '[package]\nname = "app"\nversion = "0.3.0"\nedition = "2021"\n\n[dependencies]\nsemver = "1"\nitoa = "1"\nhelper = { path = "../helper" }\n\n' +
      '[build-dependencies]\nlibc = "0.2"\n',
  );
  w('app/build.rs', 'fn main() {}\n');
  w('app/src/main.rs', 'fn main() {\n    println!("{} {}", semver::Version::parse("1.2.3").unwrap(), itoa::Buffer::new().format(helper::x()));\n}\n');
  w('helper/Cargo.toml', '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nmemchr = "2"\n');
  w('helper/src/lib.rs', 'pub fn x() -> u32 {\n    memchr::memchr(b\'a\', b"xa").unwrap() as u32\n}\n');
  run('cargo', ['generate-lockfile', '--offline'], { cwd: dir });
  return { dir, lockfile: join(dir, 'Cargo.lock') };
}

interface Metadata {
  packages: { id: string; name: string; version: string; source: string | null }[];
  resolve: { root: string | null; nodes: { id: string; deps: { pkg: string; dep_kinds: { kind: string | null }[] }[] }[] };
}

export function cargoMetadata(dir: string): Metadata {
  return JSON.parse(run('cargo', ['metadata', '--locked', '--offline', '--format-version', '1'], { cwd: dir })) as Metadata;
}

/** `cargo metadata --locked --offline`'s package list: the truth a Cargo.lock reading is compared with. */
export function cargoMetadataPackages(dir: string): string[] {
  return cargoMetadata(dir).packages.map((p) => `${p.name} ${p.version} ${p.source ?? ''}`).sort();
}

/**
 * Builds `app` and embeds its dependency tree the way cargo-auditable does (format 0, from cargo metadata): a
 * `.dep-v0` section of zlib-compressed JSON, packages reachable from the root, `kind: "build"` for those reached
 * only through build dependencies. cargo-auditable is not packaged for Debian or npm; objcopy adds the section.
 */
export function buildAuditableBinary(p: RustProject): { binary: string; json: { packages: Record<string, unknown>[] } } {
  run('cargo', ['build', '--offline', '--locked', '-p', 'app'], { cwd: p.dir });
  const meta = cargoMetadata(p.dir);
  const byId = new Map(meta.packages.map((x) => [x.id, x]));
  const root = meta.packages.find((x) => x.name === 'app')!.id;
  const nodes = new Map(meta.resolve.nodes.map((n) => [n.id, n]));
  const kind = new Map<string, 'runtime' | 'build'>();
  const visit = (id: string, k: 'runtime' | 'build'): void => {
    if (kind.get(id) === 'runtime' || kind.get(id) === k) return;
    kind.set(id, k);
    for (const d of nodes.get(id)?.deps ?? []) {
      const kinds = d.dep_kinds.map((x) => x.kind);
      if (kinds.includes(null)) visit(d.pkg, k);
      else if (kinds.includes('build')) visit(d.pkg, 'build');
    }
  };
  visit(root, 'runtime');
  const source = (s: string | null): string => (s === null ? 'local' : s.startsWith('registry+https://github.com/rust-lang/crates.io-index') ? 'crates.io' : (s.split('+')[0] ?? s));
  const packages = [...kind.entries()]
    .map(([id, k]) => ({ id, pkg: byId.get(id)!, k }))
    .sort((a, b) => a.pkg.name.localeCompare(b.pkg.name))
    .map(({ id, pkg, k }) => ({
      name: pkg.name,
      version: pkg.version,
      source: source(pkg.source),
      ...(k === 'build' ? { kind: 'build' } : {}),
      ...(id === root ? { root: true } : {}),
    }));
  const json = { packages };
  const section = join(p.dir, 'dep-v0.bin');
  writeFileSync(section, deflateSync(Buffer.from(JSON.stringify(json))));
  const binary = join(p.dir, 'app-auditable');
  run('objcopy', ['--add-section', `.dep-v0=${section}`, '--set-section-flags', '.dep-v0=noload,readonly', join(p.dir, 'target/debug/app'), binary]);
  return { binary, json };
}

/** The same lockfile rewritten in the v3 format (only the version key differs from v4 for these packages). */
export function asV3(v4: string): string {
  return v4.replace(/^version = \d+$/m, 'version = 3');
}

/** The same resolution in the v1 format: no version key, `name version (source)` dependencies, [metadata] checksums. */
export function asV1(v4: string): string {
  const blocks = v4.split('[[package]]').slice(1);
  const pkgs = blocks.map((b) => ({
    name: /name = "([^"]+)"/.exec(b)![1],
    version: /version = "([^"]+)"/.exec(b)![1],
    source: /source = "([^"]+)"/.exec(b)?.[1],
    checksum: /checksum = "([^"]+)"/.exec(b)?.[1],
    deps: [...(/dependencies = \[([^\]]*)\]/.exec(b)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? ''),
  }));
  const full = (name: string): string => {
    const [n = '', v] = name.split(' ');
    const p = pkgs.find((x) => x.name === n && (v === undefined || x.version === v))!;
    return `${p.name} ${p.version}${p.source ? ` (${p.source})` : ''}`;
  };
  let out = '';
  for (const p of pkgs) {
    out += `[[package]]\nname = "${p.name}"\nversion = "${p.version}"\n`;
    if (p.source) out += `source = "${p.source}"\n`;
    if (p.deps.length) out += `dependencies = [\n${p.deps.map((d) => ` "${full(d)}",\n`).join('')}]\n`;
    out += '\n';
  }
  out += '[metadata]\n';
  for (const p of pkgs) if (p.checksum) out += `"checksum ${p.name} ${p.version} (${p.source})" = "${p.checksum}"\n`;
  return out;
}

export function readText(f: string): string {
  return readFileSync(f, 'utf8');
}
