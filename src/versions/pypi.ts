// The pypi version scheme: PEP 440 versions (pep440.ts) and specifier sets (pep440-specifiers.ts), checked
// against Debian's python3-packaging (testdata/pypi-vectors.tsv, testdata/pypi-specifiers.tsv).

import { invalidVersion } from './invalid-version.ts';
import { comparePep440, parsePep440, type Pep440Version } from './pep440.ts';
import { pep440Satisfies } from './pep440-specifiers.ts';
import type { VersionScheme } from './scheme.ts';

export { comparePep440, normalizedPep440, parsePep440, type Pep440Version } from './pep440.ts';

function parseOrThrow(v: string): Pep440Version {
  const p = parsePep440(v);
  if (p === null) throw invalidVersion('pypi', v, 'not a PEP 440 version');
  return p;
}

export const pypi: VersionScheme = {
  id: 'pypi',
  url: 'https://packaging.python.org/en/latest/specifications/version-specifiers/',
  isValid(v: string): boolean {
    return parsePep440(v) !== null;
  },
  compare(a: string, b: string): -1 | 0 | 1 {
    return comparePep440(parseOrThrow(a), parseOrThrow(b));
  },
  /** PEP 440 specifiers (`>=1.2,<2`, `~=1.4.2`, `==1.*`), pre-releases included: see pep440-specifiers.ts. */
  satisfies(version: string, requirement: string): boolean {
    return pep440Satisfies(parseOrThrow(version), requirement);
  },
};
