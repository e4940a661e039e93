import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedCache } from '../../../src/codec/registry/bounded-cache.js';

describe('BoundedCache', () => {
  it('evicts the least recently used entry beyond its capacity', () => {
    const cache = new BoundedCache<number, string>(2);
    cache.set(1, 'a');
    cache.set(2, 'b');
    assert.equal(cache.get(1), 'a'); // 1 is now the most recent
    cache.set(3, 'c');
    assert.equal(cache.has(2), false);
    assert.equal(cache.get(1), 'a');
    assert.equal(cache.get(3), 'c');
    assert.equal(cache.size, 2);
  });

  it('replaces a value without growing, and deletes', () => {
    const cache = new BoundedCache<string, number>(1);
    cache.set('k', 1);
    cache.set('k', 2);
    assert.equal(cache.size, 1);
    assert.equal(cache.get('k'), 2);
    cache.delete('k');
    assert.equal(cache.get('k'), undefined);
  });

  it('refuses a capacity below 1', () => {
    assert.throws(() => new BoundedCache(0), RangeError);
    assert.throws(() => new BoundedCache(1.5), RangeError);
  });
});
