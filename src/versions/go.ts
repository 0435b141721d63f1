// Go module versions: semantic versions with a `v` (https://go.dev/ref/mod#versions) as
// golang.org/x/mod/semver parses and orders them, checked against that package from Debian's
// golang-golang-x-mod-dev (testdata/go-vectors.tsv).
//
// vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]: the shorthands v1 and v1.2 mean v1.0.0 and v1.2.0 (and take
// no pre-release or build); numbers and numeric pre-release identifiers have no leading zeros. Build
// metadata, `+incompatible` included, does not order: v2.0.0+incompatible equals v2.0.0. Pseudo-versions
// (v0.0.0-20191109021931-daa7c04131f5, vX.Y.(Z+1)-0.TIMESTAMP-REV) are pre-releases and order by their
// timestamp through the ordinary pre-release rule.
//
// OSV's Go records write versions without the `v` (1.2.3), and the `stdlib` package's version is the
// toolchain's without `go` (1.22.3): this scheme accepts both forms and adds the `v` when it is missing.
// x/mod ranks every invalid string below every valid one; here an invalid version is an error.

import { invalidVersion } from './invalid-version.ts';
import type { VersionScheme } from './scheme.ts';

interface GoSemver {
  major: string;
  minor: string;
  patch: string;
  /** identifiers after '-', [] when none */
  pre: string[];
}

const NUM = /^(0|[1-9][0-9]*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;

/** x/mod/semver's parse of a `v`-prefixed string, or null when semver.IsValid is false. */
export function parseGoSemver(v: string): GoSemver | null {
  const m = /^v([0-9]+)(?:\.([0-9]+)(?:\.([0-9]+)(?:-([^+]*))?(?:\+(.*))?)?)?$/s.exec(v);
  if (!m) return null;
  const [, major = '', minor, patch, pre, build] = m;
  if (!NUM.test(major) || (minor !== undefined && !NUM.test(minor)) || (patch !== undefined && !NUM.test(patch))) return null;
  const preIds = pre === undefined ? [] : pre.split('.');
  for (const id of preIds) if (!IDENT.test(id) || (/^[0-9]+$/.test(id) && !NUM.test(id))) return null;
  if (build !== undefined) for (const id of build.split('.')) if (!IDENT.test(id)) return null;
  return { major, minor: minor ?? '0', patch: patch ?? '0', pre: preIds };
}

function cmpNum(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpPre(a: string[], b: string[]): -1 | 0 | 1 {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] ?? '', y = b[i] ?? '';
    if (x === y) continue;
    const nx = /^[0-9]+$/.test(x), ny = /^[0-9]+$/.test(y);
    if (nx !== ny) return nx ? -1 : 1; // numeric identifiers sort before alphanumeric ones
    if (nx) return cmpNum(x, y);
    return x < y ? -1 : 1; // ASCII order
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compareGoSemver(a: GoSemver, b: GoSemver): -1 | 0 | 1 {
  return cmpNum(a.major, b.major) || cmpNum(a.minor, b.minor) || cmpNum(a.patch, b.patch) || cmpPre(a.pre, b.pre);
}

/** `v` added when missing: OSV's and stdlib's form (1.2.3) to Go's (v1.2.3). */
function withV(v: string): string {
  return v.startsWith('v') ? v : `v${v}`;
}

function parseOrThrow(v: string): GoSemver {
  const p = parseGoSemver(withV(v));
  if (p === null) throw invalidVersion('go', v, 'not a Go module version (vMAJOR.MINOR.PATCH[-PRE][+BUILD])');
  return p;
}

// x/mod/module's pseudo-version pattern: vX.0.0-TIME-REV, vX.Y.Z-PRE.0.TIME-REV or vX.Y.Z-0.TIME-REV.
const PSEUDO = /^v[0-9]+\.(?:0\.0-|\d+\.\d+-(?:[^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** module.IsPseudoVersion: a valid version in one of the three pseudo-version forms. `v` optional, as above. */
export function isGoPseudoVersion(v: string): boolean {
  const s = withV(v);
  return (s.match(/-/g)?.length ?? 0) >= 2 && parseGoSemver(s) !== null && PSEUDO.test(s);
}

/**
 * A Go toolchain version (`go1.22.3`, `go1.21rc2`, `go1.19`, with or without `go`) in the semantic-version
 * form the Go vulnerability database uses for `stdlib` and `toolchain` (1.22.3, 1.21.0-rc.2, 1.19.0), or
 * null when it is not one. A vendor suffix after a space, `-` or `+` (go1.20.5-bigcorp, "go1.22 X:boringcrypto") is dropped.
 */
export function goToolchainSemver(tag: string): string | null {
  const m = /^(?:go)?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:(alpha|beta|rc)([0-9]+))?(?:[ +-].*)?$/s.exec(tag);
  if (!m) return null;
  const [, major = '', minor = '0', patch = '0', pre, preN] = m;
  const strip = (d: string) => d.replace(/^0+(?=.)/, '');
  return `${strip(major)}.${strip(minor)}.${strip(patch)}${pre ? `-${pre}.${strip(preN ?? '0')}` : ''}`;
}

export const go: VersionScheme = {
  id: 'go',
  url: 'https://go.dev/ref/mod#versions',
  isValid(v: string): boolean {
    return parseGoSemver(withV(v)) !== null;
  },
  compare(a: string, b: string): -1 | 0 | 1 {
    return compareGoSemver(parseOrThrow(a), parseOrThrow(b));
  },
};
