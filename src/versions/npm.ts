// npm versions and ranges: node-semver (https://github.com/npm/node-semver), the library npm itself uses,
// with the options npm's audit uses (@npmcli/metavuln-calculator's advisory.js: `{ loose: true,
// includePrerelease: true }`). Checked against the semver copy bundled in the npm CLI
// (testdata/npm-vectors.tsv, testdata/npm-ranges.tsv).
//
// Loose parsing accepts what npm accepts in manifests and lockfiles: a leading `v` or `=`, `1.2.3beta`
// (a pre-release without the hyphen). Build metadata (`+…`) is ignored in comparisons, as node-semver does
// (1.0.0+a equals 1.0.0+b). In ranges, includePrerelease makes `>=1.0.0 <2.0.0` contain 1.5.0-beta, as
// npm audit decides; plain `semver.satisfies` without it would skip pre-releases.

import type { Range, SemVer } from 'semver';
import { lazyRequire } from '../model/lazy-require.ts';
import { invalidRequirement, invalidVersion } from './invalid-version.ts';
import type { VersionScheme } from './scheme.ts';

const OPTS = { loose: true, includePrerelease: true } as const;
const semver = lazyRequire<typeof import('semver')>('semver');

function parse(v: string): SemVer {
  const p = semver().parse(v, OPTS);
  if (p === null) throw invalidVersion('npm', v);
  return p;
}

export const npm: VersionScheme = {
  id: 'npm',
  url: 'https://github.com/npm/node-semver#versions',
  isValid(v: string): boolean {
    return semver().parse(v, OPTS) !== null;
  },
  compare(a: string, b: string): -1 | 0 | 1 {
    return parse(a).compare(parse(b));
  },
  satisfies(version: string, requirement: string): boolean {
    const v = parse(version);
    let range: Range;
    try {
      range = new (semver().Range)(requirement, OPTS);
    } catch {
      throw invalidRequirement('npm', requirement);
    }
    return range.test(v);
  },
};
