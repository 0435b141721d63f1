import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { affected, affectedByEntry, type OsvEvent, type OsvRange } from './osv-range.ts';
import { requireSharedData } from '../../test/support/shared-data.ts';
import { go } from './go.ts';
import { npm } from './npm.ts';
import { pypi } from './pypi.ts';
import { isClairError } from '../model/errors.ts';

// Case by case against the OSV schema's "Evaluation" pseudocode and its examples (docs/schema.md).

const check = (events: OsvEvent[], cases: Record<string, boolean>, scheme = npm) => {
  for (const [v, want] of Object.entries(cases)) assert.equal(affected(v, events, scheme), want, `${v} in ${JSON.stringify(events)}`);
};

test('osv: unfixed vulnerability, introduced "0" = every version', () => {
  check([{ introduced: '0' }], { '0.0.0': true, '0.0.0-alpha': true, '1.0.0': true, '999.0.0': true });
});

test('osv: fixed vulnerability example: everything before 1.0.2', () => {
  check([{ introduced: '0' }, { fixed: '1.0.2' }], { '0.0.1': true, '1.0.1': true, '1.0.2-rc.1': true, '1.0.2': false, '2.0.0': false });
});

test('osv: multiple range example: [1.0.0, 1.0.2) and [3.0.0, 3.2.5)', () => {
  const events: OsvEvent[] = [{ introduced: '1.0.0' }, { fixed: '1.0.2' }, { introduced: '3.0.0' }, { fixed: '3.2.5' }];
  check(events, { '0.9.0': false, '1.0.0': true, '1.0.1': true, '1.0.2': false, '2.5.0': false, '3.0.0': true, '3.2.4': true, '3.2.5': false, '4.0.0': false });
  // Events out of order in the record are sorted first.
  check([events[3], events[1], events[2], events[0]] as OsvEvent[], { '1.0.1': true, '2.0.0': false, '3.1.0': true, '3.2.5': false });
});

test('osv: last_affected includes its version; fixed excludes it', () => {
  check([{ introduced: '0' }, { last_affected: '2.1.214' }], { '2.1.213': true, '2.1.214': true, '2.1.215': false }, pypi);
  check([{ introduced: '0' }, { fixed: '2.1.214' }], { '2.1.213': true, '2.1.214': false }, pypi);
});

test('osv: limit caps the range; several limits widen it; "*" is infinity', () => {
  check([{ introduced: '1.0.0' }, { limit: '2.0.0' }], { '0.5.0': false, '1.5.0': true, '2.0.0': false, '3.0.0': false });
  check([{ introduced: '1.0.0' }, { limit: '2.0.0' }, { limit: '3.0.0' }], { '2.5.0': true, '3.0.0': false });
  check([{ introduced: '1.0.0' }, { limit: '*' }], { '99.0.0': true, '0.1.0': false });
  check([{ introduced: '0' }, { fixed: '1.5.0' }, { limit: '2.0.0' }], { '1.0.0': true, '1.5.0': false });
});

test('osv: a fixed and an introduced at one version cancel out (adjacent ranges, empty ranges)', () => {
  // PYSEC-2022-236 (real): [0, 3.1.1), [3.2.0, 3.2.2), [3.1.1, 3.1.3); the record lists 3.1.1 and 3.1.2 as affected.
  const pysec236: OsvEvent[] = [{ introduced: '0' }, { fixed: '3.1.1' }, { introduced: '3.2.0' }, { fixed: '3.2.2' }, { introduced: '3.1.1' }, { fixed: '3.1.3' }];
  check(pysec236, { '3.1.0': true, '3.1.1': true, '3.1.2': true, '3.1.3': false, '3.2.1': true, '3.2.2': false }, pypi);
  // PYSEC-2022-42972 (real): the same adjacency written the other way round, introduced 0.13.0 before fixed 0.13.0.
  const pysec42972: OsvEvent[] = [{ introduced: '0.13.0' }, { fixed: '0.14.0rc1' }, { introduced: '0.12.2' }, { fixed: '0.13.0' }];
  check(pysec42972, { '0.12.1': false, '0.12.2': true, '0.13.0': true, '0.13.5': true, '0.14.0rc1': false }, pypi);
  // A lone introduced/fixed pair at one version is empty, in either order; with last_affected it holds that version.
  check([{ introduced: '1.0.0' }, { fixed: '1.0.0' }], { '1.0.0': false, '0.9.0': false, '1.1.0': false });
  check([{ fixed: '1.0.0' }, { introduced: '1.0.0' }], { '1.0.0': false, '1.1.0': false });
  check([{ last_affected: '1.0.0' }, { introduced: '1.0.0' }], { '1.0.0': true, '0.9.0': false, '1.0.1': false });
  // [0, 1.0.0] and [1.0.0, 2.0.0): continuous through 1.0.0.
  check([{ introduced: '0' }, { last_affected: '1.0.0' }, { introduced: '1.0.0' }, { fixed: '2.0.0' }], { '1.0.0': true, '1.5.0': true, '2.0.0': false });
});

test('osv: ECOSYSTEM ranges use the scheme: PEP 440 pre-releases and post-releases', () => {
  const events: OsvEvent[] = [{ introduced: '2.0' }, { fixed: '2.3.1' }];
  check(events, { '2.0rc1': false, '2.0': true, '2.0.0': true, '2.3.1rc1': true, '2.3.1': false, '2.3.0.post1': true, '2.3.1.post1': false }, pypi);
});

test('osv: Go ranges are written without v and compared with v-prefixed module versions', () => {
  const events: OsvEvent[] = [{ introduced: '0' }, { fixed: '1.6.0' }];
  check(events, { 'v1.5.9': true, 'v1.6.0': false, 'v1.6.0-rc.1': true, 'v0.0.0-20200101000000-abcdefabcdef': true, 'v2.0.0+incompatible': false }, go);
});

test('osv: versions list and ranges together; GIT ranges are skipped', () => {
  const entry = {
    ranges: [
      { type: 'GIT', events: [{ introduced: '0123456789abcdef0123456789abcdef01234567' }] },
      { type: 'ECOSYSTEM', events: [{ introduced: '3.0' }, { fixed: '3.1' }] },
    ],
    versions: ['1.0', '2.0.1', 'not-a-version'],
  };
  assert.equal(affectedByEntry('1.0.0', entry, pypi), true); // equal to a listed version as PEP 440 orders them
  assert.equal(affectedByEntry('2.0.1', entry, pypi), true);
  assert.equal(affectedByEntry('2.0.2', entry, pypi), false);
  assert.equal(affectedByEntry('3.0.5', entry, pypi), true);
  assert.equal(affectedByEntry('3.1', entry, pypi), false);
  assert.equal(affectedByEntry('0.5', { ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] }, pypi), false);
});

test('osv: bad versions and malformed events are bad-input errors naming the string', () => {
  const badInput = (re: RegExp) => (e: unknown) => isClairError(e) && e.code === 'bad-input' && re.test(e.message);
  assert.throws(() => affected('1.0', [{ introduced: '0' }], npm), badInput(/invalid npm version "1.0"/));
  assert.throws(() => affected('1.0.0', [{ introduced: '0' }, { fixed: 'next' }], npm), badInput(/"next"/));
  assert.throws(() => affected('1.0.0', [{ introduced: '0', fixed: '1.0.1' } as unknown as OsvEvent], npm), badInput(/exactly one/));
  assert.throws(() => affected('1.0.0', [{ introduced: '' }], npm), badInput(/not a version string/));
});

test('osv: PyPA records: the versions osv.dev listed from each ECOSYSTEM range are in that range', (t) => {
  // osv.dev expands PyPA's ranges into `versions` with packaging; evaluating the ranges here must give the
  // same versions back. The few that do not are the records' own inconsistencies, listed with the reason.
  const root = requireSharedData(t, 'feeds', 'osv', 'pypa', 'vulns');
  if (!root) return;
  let listed = 0;
  const outside: string[] = [];
  for (const dir of readdirSync(root)) {
    if (!statSync(join(root, dir)).isDirectory()) continue;
    for (const f of readdirSync(join(root, dir))) {
      const rec = parseYaml(readFileSync(join(root, dir, f), 'utf8')) as { id: string; affected?: Array<{ ranges?: OsvRange[]; versions?: unknown[] }> };
      for (const a of rec.affected ?? []) {
        const ranges = (a.ranges ?? []).filter((r) => r.type === 'ECOSYSTEM');
        if (ranges.length === 0) continue;
        for (const v of (a.versions ?? []).map(String)) {
          if (!pypi.isValid(v)) continue; // legacy (pre-PEP 440) versions: packaging rejects them too
          listed++;
          if (!ranges.some((r) => affected(v, r.events, pypi))) outside.push(`${rec.id} ${v}`);
        }
      }
    }
  }
  assert.ok(listed > 100000, `only ${listed} listed versions`);
  assert.deepEqual(outside.sort(), [
    // overlapping ranges in one events list ([2.11, 2.11.7) written beside [0, 2.11.6)): the schema's walk
    // (and osv-scanner's) leaves 2.11.6 out, osv.dev's expansion has it; affectedByEntry finds it in `versions`
    'PYSEC-2021-114 2.11.6',
    // introduced 3.2 / 4.2: their own pre-releases sort before them under PEP 440
    'PYSEC-2023-177 23.9.0', 'PYSEC-2023-177 23.9.0.post1', // listed although fixed is 23.9.0
    'PYSEC-2023-61 3.2a1', 'PYSEC-2023-61 3.2b1', 'PYSEC-2023-61 3.2rc1', 'PYSEC-2023-61 4.2a1', 'PYSEC-2023-61 4.2b1', 'PYSEC-2023-61 4.2rc1',
  ].sort());
});

test('osv: Go vulnerability database: every SEMVER range holds its introduced versions and not its fixed ones', (t) => {
  const root = requireSharedData(t, 'feeds', 'osv', 'go-vulndb', 'data', 'osv');
  if (!root) return;
  let ranges = 0;
  const wrong: string[] = [];
  for (const f of readdirSync(root)) {
    const rec = JSON.parse(readFileSync(join(root, f), 'utf8')) as { id: string; affected?: Array<{ ranges?: OsvRange[] }> };
    for (const a of rec.affected ?? []) {
      for (const r of a.ranges ?? []) {
        if (r.type !== 'SEMVER') continue;
        ranges++;
        for (const e of r.events) {
          // Module versions carry the `v` the records leave out; the scheme compares both forms alike.
          if ('fixed' in e && affected(`v${e.fixed}`, r.events, go)) wrong.push(`${rec.id}: fixed ${e.fixed} affected`);
          if ('introduced' in e && e.introduced !== '0' && !affected(`v${e.introduced}`, r.events, go)) wrong.push(`${rec.id}: introduced ${e.introduced} not affected`);
        }
      }
    }
  }
  assert.ok(ranges > 4000, `only ${ranges} ranges`);
  assert.deepEqual(wrong, []);
});
