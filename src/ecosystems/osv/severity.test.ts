import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { requireSharedData } from '../../../test/support/shared-data.ts';
import { advisorySeverity, cvssBaseScore, severityOfScore } from './severity.ts';

// claircore's CVSS vectors (toolkit/types/cvss/testdata): "<vector> <score> # note". Their score is the vector's
// overall score (temporal and environmental metrics applied); clair-ts scores the base, so the scores are checked on
// the vectors that have only base metrics (plus v4's threat metric, which v4's one score includes).
function lines(dir: string, file: string): string[] {
  return readFileSync(`${dir}/${file}`, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
}

const BASE_ONLY: Record<string, RegExp> = {
  'v2_score.list': /^AV:\w\/AC:\w\/Au:\w\/C:\w\/I:\w\/A:\w$/,
  'v30_score.list': /^CVSS:3\.0(\/(AV|AC|PR|UI|S|C|I|A):\w)+$/,
  'v31_score.list': /^CVSS:3\.1(\/(AV|AC|PR|UI|S|C|I|A):\w)+$/,
  'v4_score.list': /^CVSS:4\.0\//,
};

test('CVSS base scores equal claircore test vectors (v2, v3.0, v3.1, v4.0)', (t) => {
  const dir = requireSharedData(t, 'fixtures', 'claircore', 'toolkit', 'types', 'cvss', 'testdata');
  if (!dir) return;
  let checked = 0;
  for (const [file, baseOnly] of Object.entries(BASE_ONLY)) {
    for (const l of lines(dir, file)) {
      const [vector, score] = l.split('#')[0]!.trim().split(/\s+/);
      if (!baseOnly.test(vector!)) continue;
      assert.equal(cvssBaseScore(vector!), Number(score), `${file}: ${vector}`);
      checked++;
    }
  }
  assert.ok(checked >= 60, `only ${checked} vectors checked`);
});

test('CVSS vectors claircore rejects are not scored, except the forms clair-ts reads leniently', (t) => {
  const dir = requireSharedData(t, 'fixtures', 'claircore', 'toolkit', 'types', 'cvss', 'testdata');
  if (!dir) return;
  // Accepted on purpose: metrics out of the specification's order, an incomplete temporal or environmental group
  // (the base score does not depend on either), and v4_error.list's valid v3.1 vector.
  const lenient = new Set([
    'AV:A/AC:L/Au:N/C:C/I:C/A:C/CDP:H/TD:H/CR:H',
    'AV:A/AC:L/Au:N/C:C/I:C/A:C/E:F',
    'AV:A/AC:L/Au:N/A:C/I:C/C:C',
    'CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N',
    'CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/E:A/SA:N',
  ]);
  let rejected = 0;
  for (const file of ['v2_error.list', 'v3_error.list', 'v4_error.list']) {
    for (const l of lines(dir, file)) {
      const vector: string = l.split('#')[0]!.trim();
      const ok: boolean = l.includes('#OK') || lenient.has(vector);
      assert.equal(cvssBaseScore(vector) !== undefined, ok, `${file}: ${vector}`);
      if (!ok) rejected++;
    }
  }
  assert.ok(rejected >= 35, `only ${rejected} rejected`);
});

test('severity: NVD bands, CVSS v3 before v4 and v2, GitHub word as fallback', () => {
  assert.deepEqual([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityOfScore), ['Negligible', 'Low', 'Low', 'Medium', 'Medium', 'High', 'High', 'Critical', 'Critical']);
  const v3 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
  const v4 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N';
  assert.deepEqual(advisorySeverity([{ type: 'CVSS_V4', score: v4 }, { type: 'CVSS_V3', score: v3 }]), { severity: v3, normalized: 'Critical', score: 9.8 });
  assert.equal(advisorySeverity([{ type: 'CVSS_V4', score: v4 }])?.normalized, 'Medium');
  assert.deepEqual(advisorySeverity([{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N' }], 'MODERATE'), { severity: 'MODERATE', normalized: 'Medium' });
  assert.equal(advisorySeverity([], 'whatever'), undefined);
});
