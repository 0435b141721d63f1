import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affected, affectedByEntry, type OsvEvent } from './osv-range.ts';
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

test('osv: ties between events at one version are read as an empty or single-version range', () => {
  check([{ fixed: '1.0.0' }, { introduced: '1.0.0' }], { '1.0.0': false, '0.9.0': false, '1.1.0': false });
  check([{ last_affected: '1.0.0' }, { introduced: '1.0.0' }], { '1.0.0': true, '0.9.0': false, '1.0.1': false });
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
