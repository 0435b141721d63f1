// Types for @yarnpkg/lockfile (yarn v1's own lockfile parser, which ships no types): only what lockfiles.ts uses.
declare module '@yarnpkg/lockfile' {
  export function parse(text: string): { type: 'success' | 'merge' | 'conflict'; object: Record<string, { version?: string; resolved?: string }> };
}
