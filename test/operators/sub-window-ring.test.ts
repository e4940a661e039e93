import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OVERFLOW_KEY, SubWindowRing } from '../../operators/sub-window-ring.js';
import { isVigilError } from '../../src/errors.js';

interface Counter {
  n: number;
  closed: boolean;
}

function counterRing(maxKeysPerSubWindow?: number): {
  ring: SubWindowRing<Counter>;
  created: string[];
  evicted: string[];
} {
  const created: string[] = [];
  const evicted: string[] = [];
  const ring = new SubWindowRing<Counter>({
    slideMs: 100,
    retentionMs: 300,
    maxKeysPerSubWindow,
    create: (key, start) => {
      created.push(`${start}:${key}`);
      return { n: 0, closed: false };
    },
    onClose: (agg) => {
      agg.closed = true;
    },
    onEvict: (_agg, key, start) => evicted.push(`${start}:${key}`),
  });
  return { ring, created, evicted };
}

function sumInRange(ring: SubWindowRing<Counter>, start: number, end: number): Record<string, number> {
  const out: Record<string, number> = {};
  ring.forEachInRange(start, end, (key, agg) => {
    out[key] = (out[key] ?? 0) + agg.n;
  });
  return out;
}

describe('SubWindowRing', () => {
  it('creates one aggregate per key and sub-window, lazily, and returns it again', () => {
    const { ring, created } = counterRing();
    ring.get(1000, 'a').n++;
    ring.get(1099, 'a').n++;
    ring.get(1050, 'b').n++;
    ring.get(1100, 'a').n++;
    assert.deepEqual(created, ['1000:a', '1000:b', '1100:a']);
    assert.equal(ring.subWindowCount, 2);
    assert.equal(ring.keyCount, 3);
    assert.equal(ring.get(1001, 'a').n, 2);
  });

  it('visits sub-windows wholly inside a range, in start order even when created out of order', () => {
    const { ring } = counterRing();
    ring.get(1250, 'x').n += 3;
    ring.get(1050, 'x').n += 1;
    ring.get(1150, 'x').n += 2;
    const starts: number[] = [];
    ring.forEachInRange(1000, 1300, (_key, _agg, start) => starts.push(start));
    assert.deepEqual(starts, [1000, 1100, 1200]);
    assert.deepEqual(sumInRange(ring, 1100, 1300), { x: 5 });
    assert.deepEqual(sumInRange(ring, 1100, 1250), { x: 2 }, 'a partly covered sub-window is left out');
  });

  it('sub-windows expire: a value leaves the window once it slides past', () => {
    const { ring, evicted } = counterRing();
    ring.get(1000, 'a').n++;
    ring.get(1100, 'b').n++;
    assert.deepEqual(sumInRange(ring, 1000, 1300), { a: 1, b: 1 });
    ring.evictBefore(1100);
    assert.deepEqual(evicted, ['1000:a']);
    assert.deepEqual(sumInRange(ring, 1000, 1300), { b: 1 });
    assert.equal(ring.subWindowCount, 1);
    assert.equal(ring.keyCount, 1);
    ring.get(1000, 'a').n++; // a fresh aggregate, not the evicted one
    assert.deepEqual(sumInRange(ring, 1000, 1100), { a: 1 });
  });

  it('closes sub-windows once each, up to a boundary', () => {
    const { ring } = counterRing();
    const a = ring.get(1000, 'a');
    const b = ring.get(1100, 'b');
    ring.closeThrough(1100);
    assert.equal(a.closed, true);
    assert.equal(b.closed, false);
    a.closed = false;
    ring.closeThrough(1200);
    assert.equal(a.closed, false, 'already closed: onClose is not called again');
    assert.equal(b.closed, true);
  });

  it('sends keys beyond maxKeysPerSubWindow to the overflow key and counts them', () => {
    const { ring, created } = counterRing(2);
    ring.get(1000, 'a').n++;
    ring.get(1000, 'b').n++;
    ring.get(1000, 'c').n++;
    ring.get(1000, 'd').n++;
    ring.get(1000, 'a').n++;
    ring.get(1100, 'c').n++; // another sub-window has its own budget
    assert.deepEqual(sumInRange(ring, 1000, 1100), { a: 2, b: 1, [OVERFLOW_KEY]: 2 });
    assert.equal(ring.overflowCount, 2);
    assert.deepEqual(created, ['1000:a', '1000:b', `1000:${OVERFLOW_KEY}`, '1100:c']);
  });

  it('rejects a retention that is not a multiple of the slide', () => {
    assert.throws(
      () => new SubWindowRing<number>({ slideMs: 100, retentionMs: 250, create: () => 0 }),
      (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'),
    );
  });
});
