import { test } from 'node:test';
import assert from 'node:assert/strict';
import semver from 'semver';
import { RequirementError, requirementInterval, uncovered } from './requirement.ts';

test('Cargo requirements → intervals (caret, tilde, wildcard, partial versions, comma)', () => {
  const show = (r: string) => {
    const i = requirementInterval(r);
    if (!i) return 'empty';
    return `${i.lo ? (i.lo.inclusive ? '[' : '(') + i.lo.version : '(-'},${i.hi ? i.hi.version + (i.hi.inclusive ? ']' : ')') : '+)'}`;
  };
  assert.equal(show('^1.2.3'), '[1.2.3,2.0.0)');
  assert.equal(show('1.2.3'), '[1.2.3,2.0.0)');
  assert.equal(show('^0.2.3'), '[0.2.3,0.3.0)');
  assert.equal(show('^0.0.3'), '[0.0.3,0.0.4)');
  assert.equal(show('^0.0'), '[0.0.0,0.1.0)');
  assert.equal(show('^0'), '[0.0.0,1.0.0)');
  assert.equal(show('~1.2.3'), '[1.2.3,1.3.0)');
  assert.equal(show('~1'), '[1.0.0,2.0.0)');
  assert.equal(show('1.*'), '[1.0.0,2.0.0)');
  assert.equal(show('*'), '(-,+)');
  assert.equal(show('=1.0.0'), '[1.0.0,1.0.0]');
  assert.equal(show('=1.2'), '[1.2.0,1.3.0)');
  assert.equal(show('> 1.2.3'), '(1.2.3,+)');
  assert.equal(show('>1.2'), '[1.3.0,+)');
  assert.equal(show('<= 1.2'), '(-,1.3.0)');
  assert.equal(show('>= 0.11.6, < 0.12.0'), '[0.11.6,0.12.0)');
  assert.equal(show('>= 1.0.0-alpha.1'), '[1.0.0-alpha.1,+)');
  assert.equal(show('>= 2, < 1'), 'empty');
  assert.throws(() => requirementInterval('>= banana'), RequirementError);
  assert.throws(() => requirementInterval(''), RequirementError);
  assert.throws(() => requirementInterval('> *'), RequirementError);
});

test('affected = versions no patched/unaffected requirement allows', () => {
  const gaps = (reqs: string[]) => uncovered(reqs).map((i) => `${i.lo ? (i.lo.inclusive ? '[' : '(') + i.lo.version : '(-'},${i.hi ? i.hi.version + (i.hi.inclusive ? ']' : ')') : '+)'}`);
  assert.deepEqual(gaps(['>= 0.9.1']), ['(-,0.9.1)']);
  assert.deepEqual(gaps([]), ['(-,+)']);
  assert.deepEqual(gaps(['>= 0.11.6, < 0.12.0', '>= 0.12.1']), ['(-,0.11.6)', '[0.12.0,0.12.1)']);
  assert.deepEqual(gaps(['^0.5.7', '>= 0.6.2', '< 0.3']), ['[0.3.0,0.5.7)', '[0.6.0,0.6.2)']);
  assert.deepEqual(gaps(['> 1.2.3']), ['(-,1.2.3]']);
  assert.deepEqual(gaps(['< 0.1.0']), ['[0.1.0,+)']);
  assert.deepEqual(gaps(['>= 0.0.0']), []);
  assert.deepEqual(gaps(['*']), []);
});

/** A Cargo requirement in node-semver's syntax: a bare version is a caret requirement; comparators are ANDed by space. */
function nodeRange(req: string): string {
  return req.split(',').map((c) => c.trim().replace(/^(\d)/, '^$1').replace(/^(>=|<=|>|<|=|\^|~)\s+/, '$1')).join(' ');
}

test('intervals agree with node-semver requirement matching on every version the real RustSec database names', async (t) => {
  const { requireSharedData } = await import('../../../test/support/shared-data.ts');
  const { readdirSync, readFileSync } = await import('node:fs');
  const { parse } = await import('smol-toml');
  const crates = requireSharedData(t, 'feeds', 'osv', 'rustsec', 'crates');
  if (!crates) return;
  let checked = 0;
  for (const crate of readdirSync(crates)) {
    for (const f of readdirSync(`${crates}/${crate}`)) {
      const text = readFileSync(`${crates}/${crate}/${f}`, 'utf8');
      const toml = parse(/```toml\n([\s\S]*?)\n```/.exec(text)![1]!) as { versions?: { patched?: string[]; unaffected?: string[] } };
      const reqs = [...(toml.versions?.patched ?? []), ...(toml.versions?.unaffected ?? [])];
      const gaps = uncovered(reqs);
      // Probe every version the requirements name, and its neighbours; prereleases are left out (see requirement.ts).
      const probes = new Set<string>(['0.0.0', '0.0.1', '0.1.0', '1.0.0', '99.0.0']);
      for (const r of reqs) for (const m of r.matchAll(/\d+(?:\.\d+){0,2}/g)) {
        const v = semver.coerce(m[0])!;
        for (const p of [v.version, semver.inc(v, 'patch')!, semver.inc(v, 'minor')!, semver.inc(v, 'major')!]) probes.add(p);
        if (v.patch > 0) probes.add(`${v.major}.${v.minor}.${v.patch - 1}`);
        if (v.minor > 0) probes.add(`${v.major}.${v.minor - 1}.9`);
      }
      for (const p of probes) {
        const safe = reqs.some((r) => semver.satisfies(p, nodeRange(r)));
        const inGap = gaps.some((g) => (!g.lo || (g.lo.inclusive ? semver.gte(p, g.lo.version) : semver.gt(p, g.lo.version))) && (!g.hi || (g.hi.inclusive ? semver.lte(p, g.hi.version) : semver.lt(p, g.hi.version))));
        assert.equal(inGap, !safe, `${crate}/${f} ${JSON.stringify(reqs)} at ${p}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 10000, `${checked}`);
});
