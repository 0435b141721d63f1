import type { Scanner } from '../indexer/scanner.ts';
import type { Updater } from '../updater/updater.ts';
import type { Ecosystem } from './ecosystem.ts';
import type { Matcher } from './matcher.ts';
import { debian } from './debian/index.ts';
import { osRelease } from './os-release/index.ts';
import { rhel } from './rhel/index.ts';

// Every ecosystem clair-ts knows. Adding one is adding its folder and a line here.
export const ecosystems: readonly Ecosystem[] = [osRelease, debian, rhel];

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
