// The one error every scheme throws for a string it rejects, so callers (the CLI's per-line report, the
// matchers) see the same code and a message naming the scheme and the string.

import { ClairError } from '../model/errors.ts';

export function invalidVersion(scheme: string, v: string, why?: string): ClairError {
  const shown = v.length > 200 ? `${JSON.stringify(v.slice(0, 200))}…` : JSON.stringify(v);
  return new ClairError('bad-input', `invalid ${scheme} version ${shown}${why ? `: ${why}` : ''}`);
}

export function invalidRequirement(scheme: string, r: string, why?: string): ClairError {
  const shown = r.length > 200 ? `${JSON.stringify(r.slice(0, 200))}…` : JSON.stringify(r);
  return new ClairError('bad-input', `invalid ${scheme} requirement ${shown}${why ? `: ${why}` : ''}`);
}
