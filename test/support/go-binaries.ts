import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './system-tool.ts';

// Real Go binaries for the Go scanner's tests, built at test time by Debian's golang-go (nothing binary is committed).
// Dependencies come from a module proxy on disk (GOPROXY=file://…, the documented GOPROXY protocol: list, .info,
// .mod, .zip), so the build runs offline yet records real `dep` lines with versions and sums, a module replacement
// (`=> example.com/betafork v0.4.1-fix.1`) and a directory replacement (`=> ./localdep`).

export interface GoBuild {
  dir: string;
  /** Default build: section headers, symbols, module info with replacements. */
  plain: string;
  /** `-trimpath -ldflags='-s -w'`: no symbol table, no DWARF. */
  stripped: string;
  /** GO111MODULE=off: build info with only the toolchain and the main package path, no modules. */
  gopath: string;
}

function writeModule(root: string, path: string, version: string, pkgName: string): void {
  const rel = `${path}@${version}`;
  const dir = join(root, 'modsrc', rel);
  mkdirSync(dir, { recursive: true });
  const gomod = `module ${path}\n\ngo 1.17\n`;
  writeFileSync(join(dir, 'go.mod'), gomod);
  writeFileSync(join(dir, `${pkgName}.go`), `package ${pkgName}\n\nfunc Name() string { return "${path} ${version}" }\n`);
  const v = join(root, 'proxy', path, '@v');
  mkdirSync(v, { recursive: true });
  run('zip', ['-q', '-r', join(v, `${version}.zip`), rel], { cwd: join(root, 'modsrc') });
  writeFileSync(join(v, `${version}.mod`), gomod);
  writeFileSync(join(v, `${version}.info`), JSON.stringify({ Version: version }));
  writeFileSync(join(v, 'list'), `${version}\n`);
}

export function buildGoBinaries(): GoBuild {
  const root = mkdtempSync(join(tmpdir(), 'clair-ts-go-'));
  writeModule(root, 'example.com/alpha', 'v1.2.3', 'alpha');
  writeModule(root, 'example.com/beta', 'v0.4.0', 'beta');
  writeModule(root, 'example.com/betafork', 'v0.4.1-fix.1', 'beta');
  const app = join(root, 'app');
  mkdirSync(join(app, 'localdep'), { recursive: true });
  writeFileSync(
    join(app, 'go.mod'),
    [
      'module example.com/app', '', 'go 1.17', '',
      'require (', '\texample.com/alpha v1.2.3', '\texample.com/beta v0.4.0', '\texample.com/gamma v1.0.0', ')', '',
      'replace example.com/beta => example.com/betafork v0.4.1-fix.1', '',
      'replace example.com/gamma => ./localdep', '',
    ].join('\n'),
  );
  writeFileSync(join(app, 'localdep', 'go.mod'), 'module example.com/gamma\n\ngo 1.17\n');
  writeFileSync(join(app, 'localdep', 'gamma.go'), 'package gamma\n\nfunc Name() string { return "gamma" }\n');
  writeFileSync(
    join(app, 'main.go'),
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/alpha"\n\t"example.com/beta"\n\t"example.com/gamma"\n)\n\n' +
      'func main() { fmt.Println(alpha.Name(), beta.Name(), gamma.Name()) }\n',
  );
  const env = {
    ...process.env,
    GOPROXY: `file://${join(root, 'proxy')}`,
    GOSUMDB: 'off',
    GOFLAGS: '-mod=mod',
    GOPATH: join(root, 'gopath'),
    GOCACHE: process.env.CLAIR_TS_GOCACHE ?? join(tmpdir(), 'clair-ts-gocache'),
    GOTOOLCHAIN: 'local',
  };
  const plain = join(root, 'app-plain');
  const stripped = join(root, 'app-stripped');
  run('go', ['build', '-o', plain, '.'], { cwd: app, env });
  run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', stripped, '.'], { cwd: app, env });
  const gp = join(root, 'gopath-app');
  mkdirSync(gp);
  writeFileSync(join(gp, 'main.go'), 'package main\n\nfunc main() { println("hi") }\n');
  const gopath = join(root, 'app-gopath');
  run('go', ['build', '-o', gopath, 'main.go'], { cwd: gp, env: { ...env, GO111MODULE: 'off', GOFLAGS: '' } });
  return { dir: root, plain, stripped, gopath };
}

/** `go version -m FILE` parsed into the same shape as our reader's output (the truth the tests compare against). */
export function goVersionM(file: string): { goVersion: string; path: string; mod?: string[]; deps: string[][] } {
  const out = run('go', ['version', '-m', file]);
  const lines = out.split('\n');
  const first = lines[0] ?? '';
  const goVersion = first.slice(first.indexOf(': ') + 2).trim();
  let path = '';
  let mod: string[] | undefined;
  const deps: string[][] = [];
  for (const line of lines.slice(1)) {
    const f = line.replace(/^\t/, '').split('\t');
    if (f[0] === 'path') path = f[1] ?? '';
    else if (f[0] === 'mod') mod = f.slice(1, 3);
    else if (f[0] === 'dep') deps.push(f.slice(1, 3));
    else if (f[0] === '=>') deps[deps.length - 1]?.push('=>', ...f.slice(1, 3));
  }
  return { goVersion, path, mod, deps };
}

/** The file's bytes with the ELF section header table erased (as sstrip does): only program headers remain. */
export function withoutSectionHeaders(file: string): Buffer {
  const b = Buffer.from(readFileSync(file));
  b.writeBigUInt64LE(0n, 0x28); // e_shoff
  b.writeUInt16LE(0, 0x3c); // e_shnum
  b.writeUInt16LE(0, 0x3e); // e_shstrndx
  return b;
}
