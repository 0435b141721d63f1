import type { NormalizedSeverity } from '../../model/severity.ts';

// Debian security tracker urgencies → Clair's normalized severities.
// The urgencies are the tracker's own scale (https://security-team.debian.org/security_tracker.html#severity-levels):
// "unimportant" (no security impact worth a fix, e.g. disputed or only in unsupported configurations), "low", "medium",
// "high"; plus two values that say nothing about impact: "not yet assigned" (not triaged) and "end-of-life" (the package
// is no longer security-supported in that release).
//
// Decisions, and how they differ from the Clairs a user may know:
// - Same-named steps map to the same-named severity (unimportant → Negligible). Clair v2 did this too. claircore
//   (Clair v4) currently shifts Debian up one step (unimportant → Low … high → Critical) to line it up with Red Hat's
//   scale; its own maintainers proposed the straight mapping in quay/claircore#1069. We take the straight mapping:
//   Debian never rates anything critical, and a "low" Debian issue shown as Medium surprises a user who reads the
//   Debian page the record links to.
// - A trailing "*" or "**" marks an urgency the tracker took from elsewhere (e.g. NVD) without Debian confirming it.
//   It is still the best impact estimate there is, so it maps like its base value (as Clair v2 did; claircore gives
//   these Unknown). The raw string, asterisks included, stays in the record's `severity` for anyone who cares.
// - "end-of-life" maps to Unknown, not Negligible (Clair v2 said Negligible): the release is unsupported, which makes
//   an open issue more worrying, not less, and hiding it under a severity filter would be wrong.
// - "not yet assigned", a missing urgency and anything unrecognised map to Unknown.

const BASE: Readonly<Record<string, NormalizedSeverity>> = {
  unimportant: 'Negligible',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
};

/** The normalized severity of a tracker urgency ("" when the feed gave none). */
export function normalizeUrgency(urgency: string): NormalizedSeverity {
  let end = urgency.length;
  while (end > 0 && urgency.charCodeAt(end - 1) === 42 /* '*' */) end--;
  const base = (end === urgency.length ? urgency : urgency.slice(0, end)).trim().toLowerCase();
  return BASE[base] ?? 'Unknown';
}
