import type { Scanner } from '../indexer/scanner.ts';
import type { AnyUpdater, Updater } from '../updater/updater.ts';
import { enrichmentUpdaters } from '../enrichment/registry.ts';
import type { Ecosystem } from './ecosystem.ts';
import type { Matcher } from '../matcher/matcher.ts';
import { alpine } from './alpine/index.ts';
import { apk } from './apk/index.ts';
import { debian } from './debian/index.ts';
import { dpkg } from './dpkg/index.ts';
import { elf } from './elf/index.ts';
import { go } from './go/index.ts';
import { java } from './java/index.ts';
import { npm } from './npm/index.ts';
import { osRelease } from './os-release/index.ts';
import { osv } from './osv/index.ts';
import { python } from './python/index.ts';
import { rhel, type RhelOptions } from './rhel/index.ts';
import { rpm } from './rpm/index.ts';
import { rust } from './rust/index.ts';
import { rustsec } from './rustsec/index.ts';
import { ubuntu } from './ubuntu/index.ts';
import { wolfi } from './wolfi/index.ts';
import { ruby } from './ruby/index.ts';

// Every ecosystem clair-ts knows. Adding one is adding its folder and a line here.
//
// Folder layout, the same in every ecosystem so that a reader finds a role by its file name:
//   index.ts      the Ecosystem object (name, scanners, updaters, matchers), or the function that builds it from the
//                 ecosystem's options (rhel): no ecosystem reads the environment or keeps state of its own
//   scanner.ts    the package scanner; a scanner of anything else is <what>-scanner.ts (release-scanner.ts,
//                 lsb-release-scanner.ts, content-manifest-scanner.ts, file-list-scanner.ts); likewise updater.ts
//                 or <what>-updater.ts
//   updater.ts    the feed parser's driver: records from the feed
//   matcher.ts    the Matcher (src/matcher/matcher.ts): filter, query, vulnerable
//   releases.ts   the releases the ecosystem knows and how their names map to Distribution fields
//   severity.ts   the feed's severity words -> NormalizedSeverity
//   repository.ts the Repository a language ecosystem's packages come from (pypi, npm, crates.io, …)
//   testdata/     real excerpts, each with a line saying where it came from
// Other files are named for the format they read (tracker-json.ts, csaf-vex.ts, status-file.ts). A package format
// shared by several distributions (dpkg, rpm, apk) has its own folder, registered here as an ecosystem of scanners
// only; the distributions import its parsers and matcher factories. Every folder is registered (registry.test.ts).
export function buildEcosystems(options: EcosystemOptions = {}): Ecosystem[] {
  return [osRelease, dpkg, rpm, apk, elf, debian, ubuntu, rhel(options.rhel), alpine, wolfi, python, npm, ruby, go, rust, java, osv, rustsec];
}

/** Each ecosystem's options, under its name; config/ecosystem-options.ts reads them from the config and environment. */
export interface EcosystemOptions {
  rhel?: RhelOptions;
}

export function allScanners(ecosystems: readonly Ecosystem[] = buildEcosystems()): Scanner[] {
  // A scanner listed by several ecosystems (a distribution may name a shared format's) runs once.
  return [...new Map(ecosystems.flatMap((e) => e.scanners).map((s) => [s.name, s])).values()];
}

/**
 * For the indexer's layer workers (indexer/layer-workers.ts ScannerRecipe): how a worker thread builds the scanners
 * allScanners(buildEcosystems(options)) gives here. `options` must be structured-cloneable (they are data).
 */
export function scannerRecipe(options: EcosystemOptions = {}): { module: string; export: string; options: EcosystemOptions } {
  return { module: import.meta.url, export: 'workerScanners', options };
}

/** Called inside a layer worker (scannerRecipe). */
export function workerScanners(options: EcosystemOptions): Scanner[] {
  return allScanners(buildEcosystems(options));
}

export function allUpdaters(ecosystems: readonly Ecosystem[] = buildEcosystems()): Updater[] {
  return ecosystems.flatMap((e) => e.updaters);
}

export function allMatchers(ecosystems: readonly Ecosystem[] = buildEcosystems()): Matcher[] {
  return ecosystems.flatMap((e) => e.matchers);
}

/** Every feed the update engine runs: the ecosystems' vulnerability feeds, then the enrichments (NVD, EPSS, KEV). */
export function allFeeds(ecosystems: readonly Ecosystem[] = buildEcosystems()): AnyUpdater[] {
  return [...allUpdaters(ecosystems), ...enrichmentUpdaters];
}

export function findUpdater(name: string, ecosystems: readonly Ecosystem[] = buildEcosystems()): AnyUpdater | undefined {
  return allFeeds(ecosystems).find((u) => u.name === name);
}
