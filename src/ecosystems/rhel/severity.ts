import type { NormalizedSeverity } from '../../model/severity.ts';

// Red Hat's four-point impact scale (https://access.redhat.com/security/updates/classification/), as VEX threats
// of category "impact" state it, onto Clair's normalized severities (as claircore's rhel NormalizeSeverity).
const IMPACT: Record<string, NormalizedSeverity> = {
  none: 'Unknown',
  low: 'Low',
  moderate: 'Medium',
  important: 'High',
  critical: 'Critical',
};

export function normalizeRedHatImpact(impact: string): NormalizedSeverity {
  return IMPACT[impact.trim().toLowerCase()] ?? 'Unknown';
}
