// The shape every version scheme exports (one file per scheme in this folder, renovate-style):
// an exact total order over the scheme's version strings, plus validation.

export interface VersionScheme {
  /** Stable id used by the CLI (`--scheme`) and stored with vulnerability ranges. */
  readonly id: string;
  /** Where the rule comes from (policy section, upstream source file). */
  readonly url: string;
  /** True when `v` is a well-formed version of this scheme. */
  isValid(v: string): boolean;
  /** -1, 0 or 1. Throws ClairError('bad-input') when either side is not a valid version. */
  compare(a: string, b: string): -1 | 0 | 1;
  /**
   * For schemes whose advisories express ranges as requirements (npm ranges, Cargo's `^1.2`/`>= 1.2, < 2`,
   * RubyGems' `~> 1.2`): true when `version` satisfies `requirement` as the ecosystem's own tool decides.
   * Throws ClairError('bad-input') naming the string when the version or the requirement is malformed.
   */
  satisfies?(version: string, requirement: string): boolean;
}
