import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentSet } from '../../src/forwarders/recent-set.js';

describe('RecentSet', () => {
  it('remembers keys up to its capacity and forgets the oldest first', () => {
    const set = new RecentSet(2);
    set.add('a');
    set.add('b');
    set.add('c');
    assert.equal(set.has('a'), false);
    assert.equal(set.has('b'), true);
    assert.equal(set.has('c'), true);
    assert.equal(set.size, 2);
  });

  it('counts a key added again as the newest', () => {
    const set = new RecentSet(2);
    set.add('a');
    set.add('b');
    set.add('a');
    set.add('c');
    assert.equal(set.has('a'), true);
    assert.equal(set.has('b'), false);
  });

  it('refuses a capacity below one', () => {
    assert.throws(() => new RecentSet(0), RangeError);
  });
});
