import type { Package } from '../../model/package.ts';
import type { GoBuildInfo, GoModule } from './build-info.ts';

// Go modules as clair-ts packages (the language-package contract in the project's notes): name = module path,
// version as build info writes it (`v1.2.3`), the toolchain as `stdlib` with its version without `go`
// (`go1.22.3` -> `1.22.3`), packageDb `go:<path of the binary or go.mod>`.

export const GO_DB_PREFIX = 'go:';

export function goPackage(name: string, version: string, file: string): Package {
  return { name, version, kind: 'binary', arch: '', module: '', cpe: '', packageDb: GO_DB_PREFIX + file, repositoryHint: '' };
}

/**
 * `go1.22.3` -> `1.22.3`; experiment suffixes (`go1.21.0 X:boringcrypto`) dropped; `devel …` toolchains (built from
 * a Go checkout, no release version) give undefined, since no advisory range can place them.
 */
export function stdlibVersion(goVersion: string): string | undefined {
  const first = goVersion.trim().split(/\s+/)[0] ?? '';
  const m = /^go(\d+(?:\.\d+){0,2}(?:(?:rc|beta)\d+)?)$/.exec(first);
  return m ? m[1] : undefined;
}

/** A directory replacement (`=> ../fork`, `=> /src/x`) has no version of its own: the code is local. */
function isDirectory(path: string): boolean {
  return path.startsWith('./') || path.startsWith('../') || path.startsWith('/') || path === '.' || path === '..';
}

/**
 * `(devel)` is what Go records when it knows no version (a main module built from a checkout, a directory
 * replacement): reported as an empty version, as Trivy does, rather than a string no version scheme can order.
 */
function known(version: string): string {
  return version === '(devel)' ? '' : version;
}

/** What a module line resolves to once its `=>` replacement is honoured. */
export function effectiveModule(m: GoModule): { path: string; version: string } {
  const r = m.replace;
  if (!r) return { path: m.path, version: known(m.version) };
  // A directory replacement keeps the module's identity (its import path) but not its version: the code is local,
  // so no advisory range of the published module applies to it.
  if (isDirectory(r.path)) return { path: m.path, version: '' };
  return { path: r.path, version: known(r.version) };
}

/**
 * The packages one binary's build info names: the main module (its version is usually unknown, `(devel)`: Go
 * stamps a real one only for `go install module@version` or, from Go 1.24, a tagged VCS checkout), every dependency after replacement, and
 * `stdlib`. A GOPATH-mode binary has no modules: only `stdlib`.
 */
export function buildInfoPackages(info: GoBuildInfo, file: string): Package[] {
  const out: Package[] = [];
  if (info.main && info.main.path !== '') {
    const m = effectiveModule(info.main);
    out.push(goPackage(m.path, m.version, file));
  }
  for (const dep of info.deps) {
    // Old toolchains could record the main module as a dependency with an empty path (Trivy notes the same).
    if (dep.path === '') continue;
    const m = effectiveModule(dep);
    out.push(goPackage(m.path, m.version, file));
  }
  const std = stdlibVersion(info.goVersion);
  if (std) out.push(goPackage('stdlib', std, file));
  return out;
}
