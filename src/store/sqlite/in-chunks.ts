// Set-based lookups in SQLite: `WHERE x IN (?, ?, …)` with one bound parameter per value, cut into statements of at
// most IN_CHUNK values, far below SQLite's bound-parameter limit.

export const IN_CHUNK = 500;

/** Calls `run` for each run of at most IN_CHUNK values, with the `?,?,…` placeholder list for it. */
export function forEachInChunk<T>(values: readonly T[], run: (chunk: T[], placeholders: string) => void): void {
  for (let i = 0; i < values.length; i += IN_CHUNK) {
    const chunk = values.slice(i, i + IN_CHUNK);
    run(chunk, chunk.map(() => '?').join(','));
  }
}
