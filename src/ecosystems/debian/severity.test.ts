import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeUrgency } from './severity.ts';

test('tracker urgencies map to normalized severities', () => {
  const cases: [string, string][] = [
    ['unimportant', 'Negligible'],
    ['low', 'Low'],
    ['medium', 'Medium'],
    ['high', 'High'],
    // Unconfirmed urgencies (one or two asterisks) map like their base value.
    ['low*', 'Low'],
    ['low**', 'Low'],
    ['medium**', 'Medium'],
    ['high**', 'High'],
    ['unimportant**', 'Negligible'],
    // No impact information.
    ['not yet assigned', 'Unknown'],
    ['end-of-life', 'Unknown'],
    ['', 'Unknown'],
    ['**', 'Unknown'],
    ['critical', 'Unknown'],
    ['HIGH', 'High'],
  ];
  for (const [urgency, want] of cases) assert.equal(normalizeUrgency(urgency), want, urgency);
});
