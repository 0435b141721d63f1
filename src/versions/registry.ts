// The version schemes by id (`--scheme dpkg`, ranges stored with a scheme id). Other schemes (semver,
// pep440, …) join this map as they are written.

import { ClairError } from '../model/errors.ts';
import { apk } from './apk.ts';
import { dpkg } from './dpkg.ts';
import { rpm } from './rpm.ts';
import type { VersionScheme } from './scheme.ts';

export const versionSchemes: ReadonlyMap<string, VersionScheme> = new Map([
  [dpkg.id, dpkg],
  [rpm.id, rpm],
  [apk.id, apk],
]);

/** The scheme with this id. Throws ClairError('unsupported') naming the known ids. */
export function versionScheme(id: string): VersionScheme {
  const s = versionSchemes.get(id);
  if (!s) throw new ClairError('unsupported', `unknown version scheme ${JSON.stringify(id)} (known: ${[...versionSchemes.keys()].join(', ')})`);
  return s;
}
