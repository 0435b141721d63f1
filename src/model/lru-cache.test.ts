import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LruCache } from './lru-cache.ts';

test('LruCache forgets the least recently used entry', () => {
  const c = new LruCache<string, number>(2);
  c.set('a', 1);
  c.set('b', 2);
  assert.equal(c.get('a'), 1); // a is now the most recent
  c.set('c', 3);
  assert.equal(c.get('b'), undefined);
  assert.deepEqual([c.get('a'), c.get('c'), c.size], [1, 3, 2]);
  c.set('a', 10);
  assert.equal(c.get('a'), 10);
  assert.equal(c.size, 2);
});

test('LruCache with a weight: bounded by the total weight, the least recent out first; an entry over the bound kept alone', () => {
  const c = new LruCache<string, string>(10, (s) => s.length);
  c.set('a', 'xxxx');
  c.set('b', 'yyyy');
  assert.equal(c.get('a'), 'xxxx'); // b is now the least recent
  c.set('c', 'zzz');
  assert.deepEqual([c.get('b'), c.get('a'), c.get('c'), c.size], [undefined, 'xxxx', 'zzz', 2]);
  c.set('a', 'x'); // replacing an entry replaces its weight: 1 + 3
  c.set('d', 'dddddd');
  assert.deepEqual([c.get('a'), c.get('c'), c.get('d'), c.size], ['x', 'zzz', 'dddddd', 3]);
  c.set('e', 'e'.repeat(25));
  assert.deepEqual([c.get('e')?.length, c.size], [25, 1]);
  c.delete('e');
  c.set('f', 'ffffffffff');
  assert.deepEqual([c.get('f'), c.size], ['ffffffffff', 1]);
});
