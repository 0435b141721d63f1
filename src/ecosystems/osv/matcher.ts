import type { Package } from '../../model/package.ts';
import type { Vulnerability } from '../../model/vulnerability.ts';
import { versionSchemes } from '../../versions/registry.ts';
import type { VersionScheme } from '../../versions/scheme.ts';
import type { IndexedPackage, Matcher } from '../../matcher/matcher.ts';
import type { VulnerabilityQuery } from '../../matcher/vulnerability-query.ts';
import { LANGUAGE_ECOSYSTEMS, type LanguageEcosystem } from './ecosystems.ts';

// One matcher per language ecosystem, all the same engine: a package is the ecosystem's when it came from the
// ecosystem's repository (pypi, npm, go, maven, rubygems, crates.io); records are looked up by its normalised name,
// whichever feed stored them (osv, osv/<ecosystems>, go, rustsec); the decision is the record's interval or version
// list under the ecosystem's own version rules (src/versions). Packages an OS package owns are left to the OS feed
// (Debian's python3-urllib3 is matched by Debian's tracker, not again by PyPA).

type SchemeLookup = (id: string) => VersionScheme | undefined;

function ownedByOsPackage(p: Package): boolean {
  return p.ownedBy !== undefined;
}

/**
 * The version as the scheme reads it: Go's inventory keeps build info's "v1.2.3" while the Go vulnerability
 * database writes "1.2.3"; either side is tried with and without the "v".
 */
function comparable(scheme: VersionScheme, v: string): string | undefined {
  if (scheme.isValid(v)) return v;
  const alt = v.startsWith('v') ? v.slice(1) : `v${v}`;
  return scheme.isValid(alt) ? alt : undefined;
}

/** Does the record's interval (or version list) hold `version`? False when either side is not a version of the scheme. */
export function recordAffects(scheme: VersionScheme, version: string, v: Vulnerability): boolean {
  const ver = comparable(scheme, version);
  if (ver === undefined) return false;
  const cmp = (bound: string): number | undefined => {
    const b = comparable(scheme, bound);
    return b === undefined ? undefined : scheme.compare(ver, b);
  };
  if (v.affectedVersions) return v.affectedVersions.some((x) => cmp(x) === 0);
  if (v.range.introduced) {
    const c = cmp(v.range.introduced);
    if (c === undefined || c < 0) return false;
  }
  if (v.fixedInVersion) {
    const c = cmp(v.fixedInVersion);
    return c !== undefined && c < 0;
  }
  if (v.range.lastAffected) {
    const c = cmp(v.range.lastAffected);
    return c !== undefined && c <= 0;
  }
  return true;
}

/**
 * The `go` command itself (a Go toolchain in the image: /usr/local/go/bin/go): its standard library is the toolchain
 * release, and the Go database's `toolchain` module (cmd/go, the linker, cgo) applies to it at that version too.
 */
function isGoCommand(eco: LanguageEcosystem, p: IndexedPackage): boolean {
  return eco.repository === 'go' && p.package.name === 'stdlib' && /(^|\/)go$/.test(p.package.packageDb);
}

export function languageMatcher(eco: LanguageEcosystem, lookup: SchemeLookup = (id) => versionSchemes.get(id)): Matcher {
  const fromRepository = (p: IndexedPackage): boolean => p.repositories.some((r) => r.name === eco.repository);
  return {
    name: eco.scheme,
    // Without the ecosystem's version scheme nothing can be decided: the package is then reported as not covered.
    filter: (p) => fromRepository(p) && !ownedByOsPackage(p.package) && lookup(eco.scheme) !== undefined,
    query: (p): VulnerabilityQuery => ({ packageNames: [eco.normalizeName(p.package.name), ...(isGoCommand(eco, p) ? ['toolchain'] : [])] }),
    vulnerable(p, v) {
      if (v.repo.name !== eco.repository || v.versionScheme !== eco.scheme) return false;
      const scheme = lookup(eco.scheme);
      return scheme !== undefined && recordAffects(scheme, p.package.version, v);
    },
  };
}

export const languageMatchers: readonly Matcher[] = LANGUAGE_ECOSYSTEMS.map((e) => languageMatcher(e));
