import type { Scanner } from '../indexer/scanner.ts';
import type { Updater } from '../updater/updater.ts';
import type { Ecosystem } from './ecosystem.ts';
import type { Matcher } from '../matcher/matcher.ts';
import { alpine } from './alpine/index.ts';
import { debian } from './debian/index.ts';
import { osRelease } from './os-release/index.ts';
import { python } from './python/index.ts';
import { rhel } from './rhel/index.ts';
import { wolfi } from './wolfi/index.ts';

// Every ecosystem clair-ts knows. Adding one is adding its folder and a line here.
//
// Folder layout, the same in every ecosystem so that a reader finds a role by its file name:
//   index.ts      the Ecosystem object (name, scanners, updaters, matchers)
//   scanner.ts    the scanner; a folder with several names each <what>-scanner.ts (rhel: release-scanner.ts,
//                 content-manifest-scanner.ts); likewise updater.ts or <what>-updater.ts
//   updater.ts    the feed parser's driver: records from the feed
//   matcher.ts    the Matcher (src/matcher/matcher.ts): filter, query, vulnerable
//   releases.ts   the releases the ecosystem knows and how their names map to Distribution fields
//   severity.ts   the feed's severity words -> NormalizedSeverity
//   testdata/     real excerpts, each with a line saying where it came from
// Other files are named for the format they read (tracker-json.ts, csaf-vex.ts, status-file.ts). Formats shared by
// several distributions (dpkg, rpm) have their own folder, imported by the distributions that use them.
export const ecosystems: readonly Ecosystem[] = [osRelease, debian, rhel, alpine, wolfi, python];

export function allScanners(): Scanner[] {
  // Format scanners (dpkg, rpm) may be shared by several distributions: keep one of each.
  return [...new Map(ecosystems.flatMap((e) => e.scanners).map((s) => [s.name, s])).values()];
}

export function allUpdaters(): Updater[] {
  return ecosystems.flatMap((e) => e.updaters);
}

export function allMatchers(): Matcher[] {
  return ecosystems.flatMap((e) => e.matchers);
}

export function findUpdater(name: string): Updater | undefined {
  return allUpdaters().find((u) => u.name === name);
}
