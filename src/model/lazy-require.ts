import { createRequire } from 'node:module';

// Third-party libraries that only some commands use (a TOML, YAML or lockfile parser for a source tree, semver for
// npm ranges, stream-json for a feed) are loaded on first use, not when the module naming them is imported: every
// command imports the ecosystems' registry, and loading all of them at start-up cost more than the rest of a warm
// scan. `require` keeps the callers synchronous (Node loads ES modules through it too).
const require = createRequire(import.meta.url);

/** A getter of the library `specifier`, which loads it the first time it is called. */
export function lazyRequire<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
