import type { NormalizedSeverity } from '../../model/severity.ts';

// Ubuntu CVE priorities (https://ubuntu.com/security/cves/about#priority), carried in Canonical's OSV records as
// severity {type: "Ubuntu", score: <priority>} → Clair's normalized severities. The scale is Canonical's own and
// already has Clair's steps, so each maps to its namesake (as claircore does):
//   negligible → Negligible   low → Low   medium → Medium   high → High   critical → Critical
//   untriaged, missing or anything else → Unknown

const BY_PRIORITY: Readonly<Record<string, NormalizedSeverity>> = {
  negligible: 'Negligible',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};

export function normalizeUbuntuPriority(priority: string): NormalizedSeverity {
  return BY_PRIORITY[priority.trim().toLowerCase()] ?? 'Unknown';
}
