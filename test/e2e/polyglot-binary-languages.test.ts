import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { polyglotImage, type PolyglotImage } from '../support/polyglot-image.ts';
import { runCli } from '../support/run-cli.ts';

// The Go, Rust and Java layer of the polyglot test image (scripts/polyglot-layers/50-go-rust-java.sh) indexed with
// everything under it, against the truth its builder wrote from go version -m, cargo metadata and unzip.

const HOOK = '50-go-rust-java';

interface Json {
  packages: Record<string, { name: string; version: string }>;
  environments: Record<string, { package_db: string; introduced_in: string; repository_ids: string[] }[]>;
  repository: Record<string, { name: string }>;
  err: string;
}

const inDb = (r: Json, db: string): string[] =>
  Object.entries(r.packages)
    .filter(([id]) => r.environments[id]![0]!.package_db === db)
    .map(([id, p]) => `${p.name} ${p.version} ${r.environments[id]![0]!.repository_ids.map((i) => r.repository[i]!.name).join(',')}`)
    .sort();

describe('Go, Rust and Java in the polyglot image', () => {
  let img: PolyglotImage | undefined;
  let dir: string;
  let rep: Json;
  const expected = <T>(f: string): T => JSON.parse(readFileSync(join(img!.dir, 'expected', HOOK, f), 'utf8')) as T;

  before(async () => {
    img = await polyglotImage();
    if (img && !existsSync(join(img.dir, 'expected', HOOK))) {
      if (process.env.CI) throw new Error(`the polyglot image has no ${HOOK} layer: scripts/build-polyglot-image.sh rebuilds it`);
      img = undefined;
    }
    if (!img) return;
    dir = mkdtempSync(join(tmpdir(), 'clair-ts-polyglot-bin-'));
    const r = await runCli(join(dir, 'db'), ['index', img.ociRef, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    rep = JSON.parse(r.out) as Json;
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('Go binaries: every module of go version -m, replacements honoured, in the last layer', (t) => {
    if (!img) return t.skip('polyglot image not built with the Go/Rust/Java layer (scripts/build-polyglot-image.sh)');
    const truth = expected<Record<string, { goVersion: string; mod?: string[]; deps: string[][] }>>('go-version-m.json');
    for (const [path, m] of Object.entries(truth)) {
      const want = m.deps.map((d) => (d[2] === '=>' ? (d[3]!.startsWith('.') ? `${d[0]} ` : `${d[3]} ${d[4]}`) : `${d[0]} ${d[1]}`));
      if (m.mod) want.push(`${m.mod[0]} ${m.mod[1] === '(devel)' ? '' : m.mod[1]}`);
      want.push(`stdlib ${m.goVersion.replace(/^go/, '').split(' ')[0]}`);
      assert.deepEqual(inDb(rep, `go:${path}`), want.map((w) => `${w} go`).sort(), path);
      const layer = Object.entries(rep.environments).find(([, e]) => e[0]!.package_db === `go:${path}`)![1][0]!.introduced_in;
      assert.equal(layer, img.layers[img.layers.length - 1]);
    }
  });

  it('Rust: the Cargo.lock as cargo metadata lists it, the auditable binary as it records', (t) => {
    if (!img) return t.skip('polyglot image not built with the Go/Rust/Java layer');
    const meta = expected<string[]>('cargo-metadata.json').map((l) => l.split(' ').slice(0, 2).join(' ')).sort();
    assert.deepEqual(inDb(rep, 'cargo:opt/rust-app/Cargo.lock').map((l) => l.split(' ').slice(0, 2).join(' ')), meta);
    const audit = expected<{ packages: { name: string; version: string; kind?: string }[] }>('auditable.json').packages;
    assert.deepEqual(
      inDb(rep, 'cargo:usr/local/bin/rust-app').map((l) => l.split(' ').slice(0, 2).join(' ')),
      audit.filter((p) => p.kind !== 'build').map((p) => `${p.name} ${p.version}`).sort(),
    );
  });

  it('Java: nested and shaded artifacts as unzip reads their pom.properties', (t) => {
    if (!img) return t.skip('polyglot image not built with the Go/Rust/Java layer');
    for (const [loc, arts] of Object.entries(expected<Record<string, string[]>>('maven.json'))) {
      assert.deepEqual(inDb(rep, `maven:${loc}`), arts.map((a) => `${a.replace('@', ' ')} maven`).sort(), loc);
    }
  });

  it('dir: the tree with go.mod and Cargo.lock', async (t) => {
    if (!img) return t.skip('polyglot image not built with the Go/Rust/Java layer');
    const r = await runCli(join(dir, 'db'), ['index', `dir:${join(img.tree, 'go-rust-java')}`, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const tree = JSON.parse(r.out) as Json;
    assert.deepEqual(inDb(tree, 'go:go.mod'), ['example.com/alpha v1.2.3 go', 'example.com/betafork v0.4.1-fix.1 go', 'example.com/gamma  go']);
    assert.equal(inDb(tree, 'cargo:Cargo.lock').length, expected<string[]>('cargo-metadata.json').length);
  });
});
