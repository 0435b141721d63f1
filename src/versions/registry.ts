// The version schemes by id (`--scheme dpkg`, ranges stored with a scheme id): the OS package schemes and
// the language ecosystems' (ids as in the language package contract: pypi, npm, go, maven, rubygems, cargo).

import { ClairError } from '../model/errors.ts';
import { apk2 } from './apk2.ts';
import { apk, apk3 } from './apk3.ts';
import { cargo } from './cargo.ts';
import { dpkg } from './dpkg.ts';
import { go } from './go.ts';
import { maven } from './maven.ts';
import { npm } from './npm.ts';
import { pypi } from './pypi.ts';
import { rpm } from './rpm.ts';
import { rubygems } from './rubygems.ts';
import type { VersionScheme } from './scheme.ts';

export const versionSchemes: ReadonlyMap<string, VersionScheme> = new Map([
  [dpkg.id, dpkg],
  [rpm.id, rpm],
  [apk2.id, apk2],
  [apk3.id, apk3],
  // The id from before apk-tools 2 and 3 were told apart; it is apk3.
  [apk.id, apk],
  [pypi.id, pypi],
  [npm.id, npm],
  [go.id, go],
  [cargo.id, cargo],
  [maven.id, maven],
  [rubygems.id, rubygems],
]);

/** The scheme with this id. Throws ClairError('unsupported') naming the known ids. */
export function versionScheme(id: string): VersionScheme {
  const s = versionSchemes.get(id);
  if (!s) throw new ClairError('unsupported', `unknown version scheme ${JSON.stringify(id)} (known: ${[...versionSchemes.keys()].join(', ')})`);
  return s;
}
