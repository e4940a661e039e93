import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
