// Clair's normalized severities, ordered from least to most severe.
export const NORMALIZED_SEVERITIES = ['Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'] as const;
export type NormalizedSeverity = (typeof NORMALIZED_SEVERITIES)[number];

export function severityRank(s: NormalizedSeverity): number {
  return NORMALIZED_SEVERITIES.indexOf(s);
}

/** Parses a user-given severity name case-insensitively; undefined when it is not one. */
export function parseSeverity(s: string): NormalizedSeverity | undefined {
  const lower = s.toLowerCase();
  return NORMALIZED_SEVERITIES.find((n) => n.toLowerCase() === lower);
}
