import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlidingCentroids } from '../../operators/sliding-centroids.js';
import { PackedDigest, TDigest } from '../../operators/t-digest.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A compacted digest of `n` values; `coarse` rounds them so that equal means recur across digests. */
function digest(random: () => number, n: number, coarse: boolean): TDigest {
  const d = new TDigest();
  for (let i = 0; i < n; i++) {
    const x = Math.exp(6 + random());
    d.add(coarse ? Math.round(x / 50) * 50 : x);
  }
  return d.compact();
}

function sameDigest(actual: TDigest, expected: TDigest): void {
  assert.deepEqual(actual.toBytes(), expected.toBytes());
  assert.equal(actual.sum, expected.sum);
  assert.deepEqual(actual.quantiles([0, 0.5, 0.9, 0.99, 1]), expected.quantiles([0, 0.5, 0.9, 0.99, 1]));
}

describe('TDigest.sortCentroidsInto and mergeSorted', () => {
  it('give what merge gives, bit for bit, including zero, −0 and repeated means', () => {
    const random = rng(1);
    const ds = [digest(random, 40, true), digest(random, 3000, false), new TDigest(), digest(random, 500, true)];
    const special = new TDigest();
    for (const x of [0, -0, 0, 5, 5, -0]) special.add(x);
    ds.push(special.compact());
    const n = ds.reduce((a, d) => a + d.centroidCount, 0);
    const m = new Float64Array(n);
    const w = new Float64Array(n);
    assert.equal(TDigest.sortCentroidsInto(ds, m, w), n);
    sameDigest(TDigest.mergeSorted(ds, m, w, n), TDigest.merge(ds));
    sameDigest(TDigest.mergeSorted(ds, m, w, n, 100), TDigest.merge(ds, 100));
    assert.equal(TDigest.mergeSorted([], m, w, 0).count, 0);
    assert.throws(() => TDigest.mergeSorted(ds, m, w, n - 1), RangeError);
    assert.throws(() => TDigest.sortCentroidsInto(ds, m.subarray(1), w), RangeError);
  });
});

describe('TDigest.pack', () => {
  function digests(): TDigest[] {
    const random = rng(17);
    const weighted = new TDigest(100);
    for (let i = 0; i < 50; i++) weighted.add(random() * 10, 1 + Math.floor(random() * 4));
    const zeros = new TDigest();
    for (const x of [0, -0, 0, 5]) zeros.add(x);
    const pending = new TDigest();
    for (let i = 0; i < 20; i++) pending.add(i);
    const fractional = new TDigest();
    for (let i = 0; i < 30; i++) fractional.add(i, 0.25 + i);
    const heavy = new TDigest();
    heavy.add(7, 1000);
    return [digest(random, 3000, false), new TDigest(), weighted, zeros, digest(random, 40, true), pending, fractional, heavy];
  }

  it('keeps every digest exactly: statistics, centroids, and what it merges into', () => {
    const live = digests();
    const packed = TDigest.pack(live);
    assert.equal(packed.length, live.length);
    for (let i = 0; i < live.length; i++) {
      const p = packed[i];
      const d = live[i];
      assert.ok(p instanceof PackedDigest);
      assert.deepEqual([p.count, p.sum, p.min, p.max, p.mean, p.centroidCount, p.compression], [d.count, d.sum, d.min, d.max, d.mean, d.centroidCount, d.compression]);
      sameDigest(p.thaw(), d.clone().compact());
      assert.ok(p.byteSize() < d.byteSize() || d.centroidCount === 0);
    }
    sameDigest(TDigest.merge(packed), TDigest.merge(live));
    sameDigest(TDigest.merge([packed[0], live[2], packed[3]], 150), TDigest.merge([live[0], live[2], live[3]], 150));
    const n = live.reduce((a, d) => a + d.centroidCount, 0);
    const m = new Float64Array(n);
    const w = new Float64Array(n);
    TDigest.sortCentroidsInto(packed, m, w);
    sameDigest(TDigest.mergeSorted(packed, m, w, n), TDigest.merge(live));
  });

  it('recycles the emptied buffers of the digests it packs, unseen by them and by new digests', () => {
    const random = rng(23);
    for (let round = 0; round < 5; round++) {
      // Packed digests whose buffers held large values…
      const old = Array.from({ length: 50 }, () => {
        const d = new TDigest();
        for (let i = 0, n = 1 + Math.floor(random() * 200); i < n; i++) d.add(1e9 + random());
        return d;
      });
      const twins = old.map((d) => d.clone());
      TDigest.pack(old);
      // …go on as if packing had only flushed them,
      for (let k = 0; k < old.length; k++) {
        twins[k].quantile(0.5);
        for (let i = 0; i < 70; i++) {
          const x = random();
          old[k].add(x);
          twins[k].add(x);
        }
        sameDigest(old[k], twins[k]);
      }
      // and new digests (taking those buffers) see only their own values.
      for (let n = 1; n <= 70; n += 23) {
        const values = Array.from({ length: n }, () => Math.floor(random() * 1000));
        const d = new TDigest();
        for (const v of values) d.add(v);
        const sorted = [...values].sort((a, b) => a - b);
        assert.deepEqual([d.count, d.min, d.max], [n, sorted[0], sorted[n - 1]]);
        assert.deepEqual(d.quantiles([0.25, 0.5, 0.9]), [0.25, 0.5, 0.9].map((q) => sorted[Math.min(n - 1, Math.floor(q * n))]));
      }
    }
  });

  it('thaws into a digest that goes on exactly as the original would', () => {
    const live = digests();
    const thawed = TDigest.pack(live).map((p) => p.thaw());
    for (let i = 0; i < live.length; i++) {
      const a = live[i].compact();
      const b = thawed[i];
      for (let k = 0; k < 500; k++) {
        a.add(k * 1.5);
        b.add(k * 1.5);
      }
      sameDigest(b, a);
    }
  });
});

describe('SlidingCentroids', () => {
  it('merges a sliding window of segments exactly as TDigest.merge merges their digests', () => {
    const random = rng(7);
    const window = new SlidingCentroids();
    const all: { start: number; digests: TDigest[] }[] = [];
    for (let s = 0; s < 60; s++) {
      const digests = Array.from({ length: 1 + Math.floor(random() * 5) }, () => digest(random, 1 + Math.floor(random() * 300), random() < 0.5));
      all.push({ start: s * 10, digests });
    }
    const width = 12;
    let next = 0;
    for (let end = 10; end <= 600; end += 10 * (1 + Math.floor(random() * 3))) {
      const added = [];
      while (next < all.length && all[next].start < end) added.push(all[next++]);
      window.slide(end - width * 10, added);
      const expected = all.filter((s) => s.start >= end - width * 10 && s.start < end).flatMap((s) => s.digests);
      assert.deepEqual(window.digests(), expected);
      sameDigest(window.merged(), TDigest.merge(expected));
    }
  });

  it('stays exact when its window is read only now and then, and over packed digests', () => {
    const random = rng(11);
    for (let trial = 0; trial < 20; trial++) {
      const window = new SlidingCentroids();
      const all: { start: number; digests: (TDigest | PackedDigest)[] }[] = [];
      for (let s = 0; s < 40; s++) {
        const live = Array.from({ length: Math.floor(random() * 4) }, () => digest(random, 1 + Math.floor(random() * 120), random() < 0.5));
        all.push({ start: s * 10, digests: random() < 0.5 ? TDigest.pack(live) : live });
      }
      const width = 1 + Math.floor(random() * 15);
      let next = 0;
      for (let end = 10; end <= 400; end += 10 * (1 + Math.floor(random() * 4))) {
        const added = [];
        while (next < all.length && all[next].start < end) added.push(all[next++]);
        window.slide(end - width * 10, added);
        const expected = all.filter((s) => s.start >= end - width * 10 && s.start < end).flatMap((s) => s.digests);
        assert.equal(window.size, expected.reduce((n, d) => n + d.centroidCount, 0));
        if (random() < 0.4) continue;
        assert.deepEqual(window.digests(), expected);
        sameDigest(window.merged(), TDigest.merge(expected));
        // Reading it again without a slide gives the same.
        if (random() < 0.3) sameDigest(window.merged(), TDigest.merge(expected));
      }
    }
  });

  it('returns the segments it drops and ignores added ones already before the cutoff', () => {
    const random = rng(3);
    const window = new SlidingCentroids();
    const a = { start: 0, digests: [digest(random, 10, false)] };
    const b = { start: 10, digests: [digest(random, 10, false)] };
    const c = { start: 20, digests: [digest(random, 10, false)] };
    assert.deepEqual(window.slide(0, [a, b]), []);
    assert.deepEqual(window.slide(10, [c]), [a]);
    assert.deepEqual(window.slide(30, []), [b, c]);
    assert.ok(window.isEmpty);
    assert.equal(window.size, 0);
    window.slide(15, [a, b, c]);
    assert.deepEqual(window.digests(), c.digests);
    sameDigest(window.merged(), TDigest.merge(c.digests));
  });
});
