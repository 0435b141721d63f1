// The language ecosystems OSV names, and what the contract for language packages (/work/coord) calls them in
// clair-ts: the repository a package of that ecosystem is associated with, the version scheme that orders its
// versions, and how its package names are normalised so that a record and an installed package meet by name.

export interface LanguageEcosystem {
  /** The ecosystem as OSV writes it in affected[].package.ecosystem. */
  readonly osv: string;
  /** Repository name of packages of this ecosystem (IndexedPackage.repositories[].name) and of its records. */
  readonly repository: string;
  readonly uri: string;
  /** src/versions scheme id. */
  readonly scheme: string;
  /** The package name as the inventory writes it. */
  normalizeName(name: string): string;
}

/** PEP 503: lowercase, runs of "-", "_" and "." become one "-". */
export function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const asIs = (name: string): string => name;

export const LANGUAGE_ECOSYSTEMS: readonly LanguageEcosystem[] = [
  { osv: 'PyPI', repository: 'pypi', uri: 'https://pypi.org/simple', scheme: 'pypi', normalizeName: pep503 },
  { osv: 'npm', repository: 'npm', uri: 'https://registry.npmjs.org/', scheme: 'npm', normalizeName: asIs },
  { osv: 'Go', repository: 'go', uri: 'https://proxy.golang.org/', scheme: 'go', normalizeName: asIs },
  { osv: 'Maven', repository: 'maven', uri: 'https://repo1.maven.apache.org/maven2', scheme: 'maven', normalizeName: asIs },
  { osv: 'RubyGems', repository: 'rubygems', uri: 'https://rubygems.org/', scheme: 'rubygems', normalizeName: asIs },
  { osv: 'crates.io', repository: 'crates.io', uri: 'https://crates.io/', scheme: 'cargo', normalizeName: asIs },
];

const BY_OSV = new Map(LANGUAGE_ECOSYSTEMS.map((e) => [e.osv.toLowerCase(), e]));
const BY_REPOSITORY = new Map(LANGUAGE_ECOSYSTEMS.map((e) => [e.repository, e]));

/** The ecosystem OSV calls `name` (case-insensitive); undefined for ecosystems clair-ts does not match (Debian, NuGet…). */
export function ecosystemByOsvName(name: string): LanguageEcosystem | undefined {
  return BY_OSV.get(name.toLowerCase());
}

export function ecosystemByRepository(name: string): LanguageEcosystem | undefined {
  return BY_REPOSITORY.get(name);
}
