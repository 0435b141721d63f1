import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { decodeText, encodeText, InflatedTexts } from './stored-text.ts';

test('stored texts: deflated and inflated back exactly, escapes, the name mark and non-ASCII included', () => {
  const texts = [
    '[0,0]',
    JSON.stringify(['', 'https://security-tracker.debian.org/tracker/\u0001']),
    JSON.stringify(['Unsafe "quotes" \\ and\nnewlines, ɸ-unicode 漢字 🙂', 'https://rustsec.org/advisories/\u0001.html https://github.com/advisories/GHSA-xxxx-yyyy-zzzz']),
    JSON.stringify(['A flaw in the parser. '.repeat(2000), 0]),
  ];
  for (const t of texts) assert.equal(decodeText(encodeText(t)), t);
  // A text stored before texts were deflated (a string from the database) reads as it is; a stream deflated
  // without the dictionary still reads (raw inflate: back-references never reach before the start).
  assert.equal(decodeText(texts[1]!), texts[1]);
  assert.equal(decodeText(deflateRawSync(texts[2]!)), texts[2]);
});

test('stored texts: the dictionary is part of the stored format (these bytes must keep reading back)', () => {
  const t = JSON.stringify(['A flaw allows remote attackers to cause a denial of service via a crafted file.', 'https://security-tracker.debian.org/tracker/\u0001 https://nvd.nist.gov/vuln/detail/CVE-2024-1234']);
  const stored = '8b56728414e078da4ea072275521114b9b09b55195969993aa87643a31c93ea6d4c0c0c090582f1b99e81a1a199b28c50200';
  // (Deflated with this TEXT_DICTIONARY; inflated with another, they read as another text. Only reading is pinned:
  // another zlib may deflate differently, which is harmless, texts being found by the hash of their plain form.)
  assert.equal(decodeText(Buffer.from(stored, 'hex')), t, 'a change of TEXT_DICTIONARY needs a migration rewriting every text');
});

test('inflated texts: bounded by their total length, least recently used out first', () => {
  const c = new InflatedTexts(10);
  c.set(1, 'aaaa');
  c.set(2, 'bbbb');
  assert.equal(c.get(1), 'aaaa'); // 2 is now the least recently used
  c.set(3, 'cccc');
  assert.equal(c.get(2), undefined);
  assert.equal(c.get(1), 'aaaa');
  assert.equal(c.get(3), 'cccc');
  c.set(4, 'x'.repeat(50)); // over the bound alone: kept, the others out
  assert.deepEqual([c.get(1), c.get(3), c.get(4)?.length], [undefined, undefined, 50]);
});

test('InflatedTexts.lookup: cached texts found, the others listed once, 0 (no text) left out; keep decodes and caches', () => {
  const c = new InflatedTexts();
  c.set(1, 'one');
  const { found, missing } = c.lookup([0, 1, 2, 2, 3, 1]);
  assert.deepEqual([...found], [[1, 'one']]);
  assert.deepEqual(missing, [2, 3]);
  c.keep(found, 2, encodeText('two'));
  assert.deepEqual([found.get(2), c.get(2)], ['two', 'two']);
});
