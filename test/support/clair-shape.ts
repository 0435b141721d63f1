// `scan --format json` is Clair's VulnerabilityReport plus each package's `purl` and a `clair_ts` section (feeds,
// suppressed findings, advice). Tests that compare it with what Clair's API serves take the Clair part.
export function clairPart<T extends Record<string, any>>(report: T): T {
  const { clair_ts: _, ...rest } = report;
  const packages: Record<string, unknown> = {};
  for (const [id, p] of Object.entries((rest.packages ?? {}) as Record<string, Record<string, unknown>>)) {
    const { purl: _purl, ...pkg } = p;
    packages[id] = pkg;
  }
  return { ...rest, packages } as unknown as T;
}
