/**
 * Tests for the merging t-digest (operators/t-digest.ts).
 *
 * Every data set comes from a seeded PRNG (mulberry32), so each run checks exactly the same
 * numbers. "Exact" answers come from sorting the data.
 *
 * Bounds asserted (δ = compression, default 200; n = number of values):
 *
 * - q = 0 and q = 1 return the exact min and max. Every answer lies in [min, max], and answers
 *   never decrease as q grows.
 * - Small digests (n ≤ 10, in fact up to ~80 at δ = 200) keep one centroid per value, so
 *   `quantile(q)` is exactly the order statistic `sorted[min(n − 1, ⌊q·n⌋)]` (0-based): the
 *   digest's interpolation convention. This is equality, not "within the gap between adjacent
 *   sorted values". `cdf(x)` is the exact mid-rank `(#{< x} + ½·#{= x}) / n`.
 * - Rank bound, for every data set, size and q in {0.5, 0.9, 0.95, 0.99, 0.999}: let v be the
 *   answer, [lt, le] = [#{x < v}, #{x ≤ v}] the ranks v covers in the data, and e the distance
 *   from q·n to that interval. Then
 *       e ≤ 1 + n·q·(1 − q)·Z(n) / (2δ),   with Z(n) = 4·ln(n/δ) + 24,
 *   i.e. at most one rank plus half the largest centroid the k2 scale allows at q. The worst
 *   ratio we measured over many seeds is about 0.25 of this bound.
 * - Lognormal latencies (μ = ln 800, σ = 0.6): the p99 answer is within 0.5 % of
 *   sorted[⌊0.99·n⌋] for the seeded samples of 1k, 10k, 100k and 1M values and for 60 merged
 *   1k-value sub-windows. Across seeds this holds always at 1k (the top ~1 % is kept as single
 *   values: 0/200 seeds over), 100k (0/40) and 1M (0/8) and for merged windows in 99/100 seeds,
 *   but NOT always at 10k: there adjacent order statistics near p99 are ~0.2 % apart and 29 of
 *   200 seeds exceeded 0.5 % (mean 0.26 %, worst 0.99 %). The multi-seed test below pins that
 *   distribution down (median ≤ 0.35 %, worst ≤ 1.5 %).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { DEFAULT_COMPRESSION, TDIGEST_FORMAT_VERSION, TDIGEST_POINTS_FORMAT_VERSION, TDigest, before } from '../../operators/t-digest.js';

// ---------------------------------------------------------------------------------------------
// Seeded data
// ---------------------------------------------------------------------------------------------

/** mulberry32: tiny, fast, seeded 32-bit PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal variate (Box–Muller). */
function gaussian(rng: () => number): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const LOG_MU = Math.log(800);
const LOG_SIGMA = 0.6;

const DATASETS = [
  'lognormal',
  'bimodal',
  'uniform',
  'constant',
  'exponential',
  'sorted ascending',
  'sorted descending',
] as const;
type Dataset = (typeof DATASETS)[number];

function lognormal(n: number, rng: () => number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.exp(LOG_MU + LOG_SIGMA * gaussian(rng));
  return a;
}

function generate(kind: Dataset, n: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const a = new Float64Array(n);
  switch (kind) {
    case 'lognormal':
      return lognormal(n, rng);
    case 'bimodal': // 70 % fast path around 300 ms, 30 % slow path around 3 s
      for (let i = 0; i < n; i++) {
        a[i] = rng() < 0.7 ? Math.exp(Math.log(300) + 0.3 * gaussian(rng)) : Math.exp(Math.log(3000) + 0.4 * gaussian(rng));
      }
      return a;
    case 'uniform':
      for (let i = 0; i < n; i++) a[i] = rng() * 1000;
      return a;
    case 'constant':
      return a.fill(42.125);
    case 'exponential':
      for (let i = 0; i < n; i++) a[i] = -Math.log(1 - rng()) * 500;
      return a;
    case 'sorted ascending':
      return lognormal(n, rng).sort();
    case 'sorted descending':
      return lognormal(n, rng).sort().reverse();
  }
}

// ---------------------------------------------------------------------------------------------
// Exact references and bounds
// ---------------------------------------------------------------------------------------------

const QS = [0.5, 0.9, 0.95, 0.99, 0.999] as const;

function sorted(data: ArrayLike<number>): Float64Array {
  return Float64Array.from(data).sort();
}

/** The digest's convention for exact answers: sorted[min(n − 1, ⌊q·n⌋)]. */
function orderStat(s: Float64Array, q: number): number {
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Number of sorted values < v (strict) or ≤ v. */
function countBelow(s: Float64Array, v: number, inclusive: boolean): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid] < v || (inclusive && s[mid] === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Distance from the target rank q·n to the rank interval [#{< v}, #{≤ v}] covered by v. */
function rankError(s: Float64Array, q: number, v: number): number {
  const h = q * s.length;
  const lt = countBelow(s, v, false);
  const le = countBelow(s, v, true);
  return h < lt ? lt - h : h > le ? h - le : 0;
}

/** 1 rank + half of the largest centroid the k2 scale allows at q (see file header). */
function rankBound(n: number, q: number, delta = DEFAULT_COMPRESSION): number {
  const z = Math.max(1, 4 * Math.log(n / delta) + 24);
  return 1 + (n * q * (1 - q) * z) / (2 * delta);
}

function relErr(v: number, exact: number): number {
  return Math.abs(v / exact - 1);
}

function digestOf(data: ArrayLike<number>, compression?: number): TDigest {
  const d = new TDigest(compression);
  for (let i = 0; i < data.length; i++) d.add(data[i]);
  return d;
}

/** Asserts the general bounds (extremes exact, range, monotonicity, rank bound) for `d`. */
function assertWithinBounds(d: TDigest, s: Float64Array, label: string, delta = DEFAULT_COMPRESSION): void {
  const n = s.length;
  assert.equal(d.count, n, `${label}: count`);
  assert.equal(d.quantile(0), s[0], `${label}: q=0 must be the exact min`);
  assert.equal(d.quantile(1), s[n - 1], `${label}: q=1 must be the exact max`);
  assert.equal(d.min, s[0], `${label}: min`);
  assert.equal(d.max, s[n - 1], `${label}: max`);
  const answers = d.quantiles([0, ...QS, 1]);
  for (let i = 1; i < answers.length; i++) {
    assert.ok(answers[i] >= answers[i - 1], `${label}: quantiles must not decrease (${answers.join(', ')})`);
  }
  for (const q of QS) {
    const v = d.quantile(q);
    assert.ok(v >= s[0] && v <= s[n - 1], `${label}: q=${q} answer ${v} outside [min, max]`);
    const e = rankError(s, q, v);
    const bound = rankBound(n, q, delta);
    assert.ok(e <= bound, `${label}: q=${q} rank error ${e.toFixed(2)} exceeds bound ${bound.toFixed(2)} (v=${v}, exact=${orderStat(s, q)})`);
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

// ---------------------------------------------------------------------------------------------
// Accuracy
// ---------------------------------------------------------------------------------------------

const SIZES = [1, 2, 5, 10, 100, 1_000, 10_000, 100_000];
const MILLION_DATASETS: readonly Dataset[] = ['lognormal', 'exponential', 'sorted ascending'];

describe('TDigest accuracy against exact sorted values', () => {
  for (const [k, kind] of DATASETS.entries()) {
    const sizes = MILLION_DATASETS.includes(kind) ? [...SIZES, 1_000_000] : SIZES;
    for (const n of sizes) {
      const seed = 1000 * (k + 1) + n;
      if (n <= 10) {
        it(`returns the exact order statistic for every quantile of ${n} ${kind} value${n > 1 ? 's' : ''}`, () => {
          const data = generate(kind, n, seed);
          const s = sorted(data);
          const d = digestOf(data);
          assert.equal(d.centroidCount, n, 'one centroid per value');
          const grid = Array.from({ length: 101 }, (_, i) => i / 100);
          for (const q of [0, ...QS, 1, ...grid]) {
            assert.equal(d.quantile(q), orderStat(s, q), `q=${q}`);
          }
          assert.deepEqual(d.quantiles(grid), grid.map((q) => orderStat(s, q)));
        });
      } else {
        it(`answers quantiles of ${fmt(n)} ${kind} values within the rank bound, with exact extremes`, () => {
          const data = generate(kind, n, seed);
          const s = sorted(data);
          const d = digestOf(data);
          assertWithinBounds(d, s, `${kind} n=${n}`);
          if (kind === 'constant') {
            for (const q of [0, ...QS, 1]) assert.equal(d.quantile(q), 42.125);
            assert.equal(d.cdf(42.125), 0.5);
          }
        });
      }
    }
  }

  for (const n of [1_000, 10_000, 100_000, 1_000_000]) {
    it(`p99 of a lognormal sample of ${fmt(n)} values is within 0.5 % of the exact value`, () => {
      const data = generate('lognormal', n, 77 + n);
      const s = sorted(data);
      const d = digestOf(data);
      const err = relErr(d.quantile(0.99), orderStat(s, 0.99));
      assert.ok(err <= 0.005, `relative error ${(100 * err).toFixed(3)} %`);
    });
  }

  it('across 40 seeds, p99 of 10,000 lognormal values has a median error ≤ 0.35 % and a worst error ≤ 1.5 %', () => {
    const errs: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const data = generate('lognormal', 10_000, 9000 + seed);
      errs.push(relErr(digestOf(data).quantile(0.99), orderStat(sorted(data), 0.99)));
    }
    errs.sort((a, b) => a - b);
    assert.ok(errs[20] <= 0.0035, `median ${(100 * errs[20]).toFixed(3)} %`);
    assert.ok(errs[39] <= 0.015, `worst ${(100 * errs[39]).toFixed(3)} %`);
  });

  it('keeps every value of a 50-value digest as its own centroid, so answers are exact', () => {
    const data = generate('lognormal', 50, 5);
    const s = sorted(data);
    const d = digestOf(data);
    assert.equal(d.centroidCount, 50);
    for (let i = 0; i <= 200; i++) assert.equal(d.quantile(i / 200), orderStat(s, i / 200));
  });

  it('computes the exact mid-rank CDF for a small digest, including ties', () => {
    const data = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const s = sorted(data);
    const d = digestOf(data);
    const n = data.length;
    for (const x of [0, 1, 1.5, 2, 3, 3.5, 4, 5, 6, 8, 9, 10]) {
      const lt = countBelow(s, x, false);
      const eq = countBelow(s, x, true) - lt;
      const expected = x < s[0] ? 0 : x > s[n - 1] ? 1 : (lt + eq / 2) / n;
      assert.ok(Math.abs(d.cdf(x) - expected) < 1e-12, `cdf(${x}) = ${d.cdf(x)}, expected ${expected}`);
    }
  });

  it('keeps the CDF within the rank bound of the empirical CDF and monotone on 100k lognormal values', () => {
    const data = generate('lognormal', 100_000, 11);
    const s = sorted(data);
    const d = digestOf(data);
    const n = s.length;
    let prev = 0;
    for (const q of [0.001, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999]) {
      const x = orderStat(s, q);
      const c = d.cdf(x);
      assert.ok(c >= prev, 'cdf must not decrease');
      prev = c;
      const lt = countBelow(s, x, false);
      const le = countBelow(s, x, true);
      const r = c * n;
      const e = r < lt ? lt - r : r > le ? r - le : 0;
      assert.ok(e <= rankBound(n, q), `cdf at q=${q}: rank error ${e}`);
    }
    assert.equal(d.cdf(s[0] - 1), 0);
    assert.equal(d.cdf(s[n - 1] + 1), 1);
  });

  it('handles negative values, zero and mixed signs', () => {
    const rng = mulberry32(99);
    const data = Float64Array.from({ length: 20_000 }, (_, i) => (i % 97 === 0 ? 0 : (rng() - 0.5) * 2000));
    assertWithinBounds(digestOf(data), sorted(data), 'mixed signs');
  });

  it('sorts values that differ only in their low-order bits correctly', () => {
    // All values share their high 32 bits: the radix sort's fallback paths must kick in.
    const rng = mulberry32(7);
    const data = Float64Array.from({ length: 30_000 }, () => 1e9 + Math.floor(rng() * 1e6) * 1e-6);
    const s = sorted(data);
    assertWithinBounds(digestOf(data), s, 'low-bit values (unit weights)');
    const w = new TDigest();
    for (const x of data) w.add(x, 2);
    const ws = sorted([...data, ...data]);
    assertWithinBounds(w, ws, 'low-bit values (weight 2)');
  });

  it('estimates several quantiles in one call exactly as one-by-one calls do, in any order', () => {
    const d = digestOf(generate('bimodal', 50_000, 3));
    const qs = [0.99, 0.5, 0, 0.999, 0.9, 1, 0.5, 0.25];
    assert.deepEqual(
      d.quantiles(qs),
      qs.map((q) => d.quantile(q)),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Merging
// ---------------------------------------------------------------------------------------------

describe('TDigest merging', () => {
  for (const k of [2, 7, 30]) {
    it(`merging ${k} digests of random partitions stays within the bounds of a digest of the whole data`, () => {
      const data = generate('lognormal', 100_000, 500 + k);
      const rng = mulberry32(k);
      const parts = Array.from({ length: k }, () => new TDigest());
      for (const x of data) parts[Math.floor(rng() * k)].add(x);
      const merged = TDigest.merge(parts);
      const s = sorted(data);
      assertWithinBounds(merged, s, `merge of ${k}`);
      assertWithinBounds(digestOf(data), s, 'whole');
      assert.ok(Math.abs(merged.sum - s.reduce((a, b) => a + b, 0)) < 1e-9 * merged.sum);
      assert.ok(relErr(merged.quantile(0.99), orderStat(s, 0.99)) <= 0.005);
    });
  }

  it('merging 60 sub-window digests of 1k lognormal values gives p99 within 0.5 % of the exact value', () => {
    const data = generate('lognormal', 60_000, 2024);
    const subs: TDigest[] = [];
    for (let w = 0; w < 60; w++) subs.push(digestOf(data.subarray(1000 * w, 1000 * (w + 1))).compact());
    const merged = TDigest.merge(subs);
    const s = sorted(data);
    assertWithinBounds(merged, s, 'merge of 60 sub-windows');
    const err = relErr(merged.quantile(0.99), orderStat(s, 0.99));
    assert.ok(err <= 0.005, `relative error ${(100 * err).toFixed(3)} %`);
  });

  it('mergeFrom folds other digests in and matches the static merge', () => {
    const a = digestOf(generate('exponential', 20_000, 1));
    const b = digestOf(generate('exponential', 30_000, 2));
    const c = digestOf(generate('exponential', 10_000, 3));
    const viaStatic = TDigest.merge([a, b, c]);
    const viaInstance = a.clone().mergeFrom(b, c);
    assert.equal(viaInstance.count, 60_000);
    assert.deepEqual(viaInstance.quantiles([0, ...QS, 1]), viaStatic.quantiles([0, ...QS, 1]));
  });

  it('mergeFrom counts the digest twice when it is passed to itself', () => {
    const a = digestOf([1, 2, 3]);
    const b = digestOf([10, 20]);
    a.mergeFrom(b, a);
    assert.equal(a.count, 8);
    assert.equal(a.sum, 42);
    const s = sorted([1, 2, 3, 10, 20, 1, 2, 3]);
    for (let i = 0; i <= 16; i++) assert.equal(a.quantile(i / 16), orderStat(s, i / 16));
  });

  it('keeps tiny digests exact through a merge', () => {
    const parts = [[5, 1, 4], [2, 8], [7, 3, 6, 9]];
    const merged = TDigest.merge(parts.map((p) => digestOf(p)));
    const s = sorted(parts.flat());
    for (let i = 0; i <= 20; i++) assert.equal(merged.quantile(i / 20), orderStat(s, i / 20));
  });

  it('does not change what the inputs answer', () => {
    const a = digestOf(generate('uniform', 10_000, 4));
    const b = digestOf(generate('uniform', 10_000, 5));
    const before = [a.quantiles([...QS]), b.quantiles([...QS])];
    TDigest.merge([a, b]);
    assert.deepEqual([a.quantiles([...QS]), b.quantiles([...QS])], before);
    assert.equal(a.count, 10_000);
  });

  it('skips empty digests and returns an empty digest for an empty list', () => {
    const empty = TDigest.merge([]);
    assert.equal(empty.count, 0);
    assert.ok(Number.isNaN(empty.quantile(0.5)));
    const d = digestOf([1, 2, 3]);
    const merged = TDigest.merge([new TDigest(), d, new TDigest()]);
    assert.equal(merged.count, 3);
    assert.equal(merged.quantile(0.5), 2);
  });

  it('uses the largest input compression by default and honours an explicit one', () => {
    const a = new TDigest(100);
    const b = new TDigest(300);
    a.add(1);
    b.add(2);
    assert.equal(TDigest.merge([a, b]).compression, 300);
    assert.equal(TDigest.merge([a, b], 50).compression, 50);
  });
});

describe('TDigest merging sorted runs', () => {
  it('merging a few digests by their sorted runs orders ties, −0 and +0 exactly as the radix sort of many', () => {
    // Up to 32 digests are merged run by run, more by a radix sort of every centroid: the same
    // singleton centroids in the same concatenation order must give the same digest, bit for bit.
    const rng = mulberry32(41);
    const pool = [0, -0, 5, 5, -3, 2.5, 1e-300, -1e-300];
    const values: number[][] = [];
    for (let d = 0; d < 8; d++) {
      const vs: number[] = [];
      for (let i = 0; i < 5; i++) vs.push(rng() < 0.6 ? pool[Math.floor(rng() * pool.length)] : Math.round(rng() * 20) / 4);
      values.push(vs);
    }
    const few = values.map((vs) => {
      const d = new TDigest();
      for (const v of vs) d.add(v);
      return d.compact();
    });
    assert.ok(few.every((d) => d.centroidCount === 5), 'every value its own centroid');
    // The same centroids one digest each, in the order each digest holds them: sorted, −0 first.
    const order = (x: number, y: number): number => (before(x, y) ? -1 : before(y, x) ? 1 : 0);
    const many = values.flatMap((vs) =>
      [...vs].sort(order).map((v) => {
        const one = new TDigest();
        one.add(v);
        return one.compact();
      }),
    );
    assert.ok(few.length <= 32 && many.length > 32, `${few.length} and ${many.length} digests`);
    const a = TDigest.merge(few);
    const b = TDigest.merge(many);
    assert.deepEqual(a.toBytes(), b.toBytes());
  });
});

describe('TDigest merging serialised digests', () => {
  it('merging the bytes of 12 partitions of 100k lognormal values stays within the bounds of the whole data, with exact count, sum and extremes', () => {
    const data = generate('lognormal', 100_000, 77);
    const rng = mulberry32(12);
    const parts = Array.from({ length: 12 }, () => new TDigest());
    for (const x of data) parts[Math.floor(rng() * 12)].add(x);
    const merged = TDigest.mergeBytes(parts.map((p) => p.toBytes()), DEFAULT_COMPRESSION, null);
    const s = sorted(data);
    assertWithinBounds(merged, s, 'mergeBytes of 12');
    assert.equal(merged.count, 100_000);
    assert.equal(merged.min, s[0]);
    assert.equal(merged.max, s[s.length - 1]);
    assert.ok(Math.abs(merged.sum - s.reduce((a, b) => a + b, 0)) < 1e-9 * merged.sum);
    assert.ok(relErr(merged.quantile(0.99), orderStat(s, 0.99)) <= 0.005);
  });

  it('answers as the one-pass merge of the restored digests does', () => {
    const parts = [1, 2, 3, 4].map((seed) => digestOf(generate('exponential', 5_000, seed)));
    const viaBytes = TDigest.mergeBytes(parts.map((p) => p.toBytes()), DEFAULT_COMPRESSION, null);
    const viaDigests = TDigest.merge(parts.map((p) => TDigest.fromBytes(p.toBytes())), DEFAULT_COMPRESSION);
    assert.deepEqual(viaBytes.quantiles([0, ...QS, 1]), viaDigests.quantiles([0, ...QS, 1]));
    assert.deepEqual(viaBytes.toBytes(), viaDigests.toBytes());
  });

  it('keeps small sub-window digests exact: 12 parts of a few values merge to the exact order statistics', () => {
    const rng = mulberry32(3);
    const values = Array.from({ length: 12 }, () => Array.from({ length: 1 + Math.floor(rng() * 6) }, () => Math.round(rng() * 1000)));
    const merged = TDigest.mergeBytes(values.map((v) => digestOf(v).toBytes()), DEFAULT_COMPRESSION, null);
    const s = sorted(values.flat());
    for (let i = 0; i <= 20; i++) assert.equal(merged.quantile(i / 20), orderStat(s, i / 20));
  });

  it('restores a single part of the same compression exactly as fromBytes does', () => {
    const bytes = digestOf(generate('lognormal', 3_000, 9)).toBytes();
    assert.deepEqual(TDigest.mergeBytes([bytes], DEFAULT_COMPRESSION, null).toBytes(), TDigest.fromBytes(bytes).toBytes());
    assert.equal(TDigest.mergeBytes([bytes], 100, null).compression, 100);
  });

  it('merges into an existing digest, packed or not, counting both', () => {
    const a = digestOf([1, 2, 3]);
    const [packed] = TDigest.pack([digestOf([1, 2, 3])]);
    const b = digestOf([10, 20]).toBytes();
    for (const into of [a, packed]) {
      const out = TDigest.mergeBytes([b], DEFAULT_COMPRESSION, into);
      assert.equal(out.count, 5);
      assert.equal(out.sum, 36);
      assert.equal(out.quantile(0.5), 3);
      assert.equal(out.max, 20);
    }
    assert.equal(TDigest.mergeBytes([], DEFAULT_COMPRESSION, a), a);
  });

  it('rejects a corrupt part with a RangeError and leaves the digest merged into unchanged', () => {
    const into = digestOf([1, 2, 3]);
    const good = digestOf([4, 5]).toBytes();
    // Points format: flip the sign and exponent of the second sample (out of order).
    const badPoints = digestOf([6, 7]).toBytes();
    assert.equal(badPoints[0], TDIGEST_POINTS_FORMAT_VERSION);
    badPoints[24 + 8 + 7] ^= 0xff;
    // Centroids format: the second mean.
    const badCentroids = digestOf(generate('uniform', 5000, 3)).toBytes();
    assert.equal(badCentroids[0], TDIGEST_FORMAT_VERSION);
    badCentroids[80 + 7] ^= 0xff;
    for (const bad of [badPoints, badCentroids]) {
      assert.throws(() => TDigest.mergeBytes([good, bad], DEFAULT_COMPRESSION, into), RangeError);
      assert.equal(into.count, 3);
      assert.deepEqual(into.quantiles([0, 0.5, 1]), [1, 2, 3]);
    }
  });

  it('writes a digest of single samples in the points format (24 + 8n bytes) and restores and merges it as the same digest', () => {
    const cases: number[][] = [[42], [3, 1, 2], [5, 5, 1, 9, 9, 9], [-0, 0, 1], [-2.5, 1e-300, 7e300, -7e300], [0, -0, 4], Array.from(generate('lognormal', 40, 4))];
    const qs = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1];
    for (const values of cases) {
      const d = digestOf(values);
      const bytes = d.toBytes();
      assert.equal(bytes[0], TDIGEST_POINTS_FORMAT_VERSION, `${values.length} samples`);
      assert.equal(bytes.length, 24 + 8 * values.length);
      const r = TDigest.fromBytes(bytes);
      assert.equal(r.count, d.count);
      assert.ok(Object.is(r.sum, d.sum));
      assert.ok(Object.is(r.min, d.min) && Object.is(r.max, d.max));
      assert.equal(r.compression, d.compression);
      assert.equal(r.centroidCount, d.centroidCount);
      assert.deepEqual(r.quantiles(qs), d.quantiles(qs));
      for (const x of values) assert.equal(r.cdf(x), d.cdf(x));
      // The restored digest serialises to the same bytes, and merging the bytes equals merging the digests.
      assert.deepEqual(r.toBytes(), bytes);
      const other = digestOf(generate('uniform', 2000, 5));
      const viaBytes = TDigest.mergeBytes([bytes, other.toBytes()], DEFAULT_COMPRESSION, null);
      const direct = TDigest.merge([d, other], DEFAULT_COMPRESSION);
      assert.deepEqual(viaBytes.toBytes(), direct.toBytes());
      assert.equal(TDigest.countOfBytes(bytes), values.length);
    }
  });

  it('orders a short buffer of values exactly as Float64Array#sort does: ties, −0 before +0, extremes (500 random buffers of 1–40 values)', () => {
    const pool = [0, -0, 5, 5, -3, 2.5, 1e-300, -1e-300, 1e300, -1e300, 7];
    let seed = 11;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let withBothZeros = 0;
    for (let k = 0; k < 500; k++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 40) }, () => pool[Math.floor(random() * pool.length)]);
      if (values.some((v) => Object.is(v, -0)) && values.some((v) => Object.is(v, 0))) withBothZeros++;
      const bytes = digestOf(values).toBytes();
      assert.equal(bytes[0], TDIGEST_POINTS_FORMAT_VERSION);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const sorted = Float64Array.from(values).sort();
      for (let i = 0; i < values.length; i++) assert.ok(Object.is(view.getFloat64(24 + 8 * i, true), sorted[i]), `buffer ${k}, sample ${i}`);
    }
    assert.ok(withBothZeros > 50, `${withBothZeros} buffers held both zeros`);
  });

  it('keeps the centroids format where centroids are not single samples of weight 1: weighted values, merged centroids, no values', () => {
    const weighted = new TDigest();
    weighted.add(1, 2);
    weighted.add(3);
    const merged = digestOf(generate('uniform', 5000, 6));
    for (const d of [weighted, merged, new TDigest()]) {
      const bytes = d.toBytes();
      assert.equal(bytes[0], TDIGEST_FORMAT_VERSION);
      const r = TDigest.fromBytes(bytes);
      assert.ok(Object.is(r.min, d.min) || (d.count === 0 && Number.isNaN(r.min)));
      assert.equal(r.count, d.count);
      assert.deepEqual(r.toBytes(), bytes);
    }
  });

  it('rejects a points payload of the wrong length, flags, order or compression, naming what is wrong', () => {
    const good = digestOf([1, 2, 3]).toBytes();
    const cut = good.slice(0, good.length - 1);
    assert.throws(() => TDigest.fromBytes(cut), /length 47 does not match 3 samples/);
    const flags = good.slice();
    flags[1] = 1;
    assert.throws(() => TDigest.fromBytes(flags), /unknown flags 0x1/);
    const order = good.slice();
    new DataView(order.buffer).setFloat64(32, 5, true); // 1, 5, 3
    assert.throws(() => TDigest.fromBytes(order), /out of order or range/);
    const empty = good.slice(0, 24);
    new DataView(empty.buffer).setUint32(4, 0, true);
    assert.throws(() => TDigest.fromBytes(empty), /payload too short|does not match 0 samples/);
    const delta = good.slice();
    new DataView(delta.buffer).setFloat64(8, 5, true);
    assert.throws(() => TDigest.fromBytes(delta), /compression must be in \[10, 10000\]/);
  });

  it('takeBytes gives the bytes toBytes gives, pending values or not, and leaves the digest empty and usable', () => {
    for (const n of [0, 1, 7, 300, 20_000]) {
      const data = generate('lognormal', n, 40 + n);
      const a = digestOf(data);
      const b = digestOf(data);
      assert.deepEqual(b.takeBytes(), a.toBytes(), `${n} values`);
      assert.equal(b.count, 0);
      b.add(5);
      assert.equal(b.quantile(0.5), 5);
    }
    const flushed = digestOf(generate('uniform', 500, 1));
    const copy = TDigest.fromBytes(flushed.toBytes());
    assert.deepEqual(copy.takeBytes(), flushed.toBytes());
  });

  it('countOfBytes validates as fromBytes does and returns the count', () => {
    assert.equal(TDigest.countOfBytes(digestOf([1, 2, 3, 4]).toBytes()), 4);
    assert.equal(TDigest.countOfBytes(new TDigest().toBytes()), 0);
    const bad = digestOf([1, 2]).toBytes();
    bad[0] = 9;
    assert.throws(() => TDigest.countOfBytes(bad), /unsupported format version 9/);
  });
});

// ---------------------------------------------------------------------------------------------
// Compaction, memory and serialisation
// ---------------------------------------------------------------------------------------------

describe('TDigest compaction and serialisation', () => {
  it('a compacted digest of 10k lognormal values reports byteSize() ≤ 2048', () => {
    const d = digestOf(generate('lognormal', 10_000, 8));
    const before = d.byteSize();
    const q = d.quantiles([...QS]);
    d.compact();
    assert.ok(d.byteSize() <= 2048, `byteSize ${d.byteSize()} (centroids: ${d.centroidCount})`);
    assert.ok(d.byteSize() < before, 'compaction must release memory');
    assert.deepEqual(d.quantiles([...QS]), q, 'compaction must not change answers');
  });

  it('toBytes/fromBytes round-trips to the same quantiles and statistics', () => {
    const d = digestOf(generate('bimodal', 100_000, 9));
    const bytes = d.toBytes();
    assert.equal(bytes.length, 72 + 12 * d.centroidCount);
    const r = TDigest.fromBytes(bytes);
    const qs = [0, 0.001, 0.01, ...QS, 1];
    assert.deepEqual(r.quantiles(qs), d.quantiles(qs));
    assert.equal(r.count, d.count);
    assert.equal(r.sum, d.sum);
    assert.equal(r.min, d.min);
    assert.equal(r.max, d.max);
    assert.equal(r.compression, d.compression);
    assert.equal(r.centroidCount, d.centroidCount);
    for (const x of [200, 300, 1000, 3000, 5000]) assert.equal(r.cdf(x), d.cdf(x));
    // Works from a Node Buffer view at a non-zero offset too.
    const padded = Buffer.alloc(bytes.length + 3);
    padded.set(bytes, 3);
    assert.deepEqual(TDigest.fromBytes(padded.subarray(3)).quantiles(qs), d.quantiles(qs));
  });

  it('round-trips empty and single-value digests', () => {
    const e = TDigest.fromBytes(new TDigest().toBytes());
    assert.equal(e.count, 0);
    assert.ok(Number.isNaN(e.quantile(0.5)));
    const one = TDigest.fromBytes(digestOf([12.5]).toBytes());
    assert.equal(one.quantile(0.3), 12.5);
    assert.equal(one.count, 1);
  });

  it('rejects malformed payloads with a RangeError', () => {
    const good = digestOf(generate('uniform', 1000, 10)).toBytes();
    const badVersion = good.slice();
    badVersion[0] = 99;
    assert.throws(() => TDigest.fromBytes(badVersion), RangeError);
    assert.throws(() => TDigest.fromBytes(good.subarray(0, good.length - 1)), RangeError);
    assert.throws(() => TDigest.fromBytes(new Uint8Array(10)), RangeError);
    const nanMean = good.slice();
    new DataView(nanMean.buffer).setFloat64(72 + 8 * 5, NaN, true);
    assert.throws(() => TDigest.fromBytes(nanMean), RangeError);
    const unsorted = good.slice();
    new DataView(unsorted.buffer).setFloat64(72 + 8 * 5, -1, true);
    assert.throws(() => TDigest.fromBytes(unsorted), RangeError);
    const badCount = good.slice();
    new DataView(badCount.buffer).setFloat64(16, 5, true);
    assert.throws(() => TDigest.fromBytes(badCount), RangeError);
  });

  it('a compacted digest still accepts values and merges', () => {
    const data = generate('lognormal', 20_000, 12);
    const d = digestOf(data.subarray(0, 10_000)).compact();
    for (const x of data.subarray(10_000)) d.add(x);
    assertWithinBounds(d, sorted(data), 'compacted then fed');
    d.compact();
    const other = digestOf(generate('lognormal', 5_000, 13)).compact();
    const merged = TDigest.merge([d, other]);
    assert.equal(merged.count, 25_000);
    assert.equal(d.mergeFrom(other).count, 25_000);
  });

  it('clone() is independent of the original', () => {
    const d = digestOf([1, 2, 3]);
    const c = d.clone();
    c.add(100);
    assert.equal(d.count, 3);
    assert.equal(d.max, 3);
    assert.equal(c.count, 4);
    assert.equal(c.quantile(1), 100);
  });

  it('reset() empties the digest for reuse', () => {
    const d = digestOf(generate('uniform', 5000, 14));
    d.reset();
    assert.equal(d.count, 0);
    assert.ok(Number.isNaN(d.quantile(0.5)));
    d.add(7);
    assert.equal(d.quantile(0.5), 7);
    assert.equal(d.mean, 7);
  });
});

// ---------------------------------------------------------------------------------------------
// Cross-check against the npm `tdigest` package (a sanity reference only)
// ---------------------------------------------------------------------------------------------

interface NpmDigest {
  push(x: number): void;
  percentile(p: number): number;
}
const { TDigest: NpmTDigest } = createRequire(import.meta.url)('tdigest') as {
  TDigest: new (delta?: number) => NpmDigest;
};

describe('TDigest cross-check against the npm tdigest package', () => {
  it('both digests stay within bounds on the same 50k lognormal values', () => {
    const data = generate('lognormal', 50_000, 31);
    const s = sorted(data);
    const ours = digestOf(data);
    const npm = new NpmTDigest(); // npm defaults: delta 0.01 (≈ compression 100)
    for (const x of data) npm.push(x);
    assertWithinBounds(ours, s, 'ours');
    for (const q of QS) {
      const exact = orderStat(s, q);
      const theirs = npm.percentile(q);
      const mine = ours.quantile(q);
      assert.ok(rankError(s, q, theirs) <= rankBound(s.length, q), `npm tdigest q=${q}: ${theirs} vs ${exact}`);
      assert.ok(relErr(mine, exact) <= 0.01, `ours q=${q}: ${mine} vs ${exact}`);
      assert.ok(relErr(theirs, exact) <= 0.01, `npm tdigest q=${q}: ${theirs} vs ${exact}`);
    }
    assert.ok(relErr(ours.quantile(0.99), orderStat(s, 0.99)) <= 0.005);
  });
});

// ---------------------------------------------------------------------------------------------
// Edge cases
// ---------------------------------------------------------------------------------------------

describe('TDigest edge cases', () => {
  it('an empty digest answers NaN and reports count 0', () => {
    const d = new TDigest();
    assert.equal(d.count, 0);
    assert.equal(d.sum, 0);
    assert.equal(d.centroidCount, 0);
    assert.ok(Number.isNaN(d.quantile(0.5)));
    assert.ok(Number.isNaN(d.quantile(0)));
    assert.ok(d.quantiles([0.1, 0.9]).every(Number.isNaN));
    assert.ok(Number.isNaN(d.cdf(1)));
    assert.ok(Number.isNaN(d.min));
    assert.ok(Number.isNaN(d.max));
    assert.ok(Number.isNaN(d.mean));
  });

  it('add() rejects NaN and infinities with a TypeError naming the value, leaving the digest intact', () => {
    const d = digestOf([1, 2, 3]);
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(
        () => d.add(bad),
        (e: unknown) => e instanceof TypeError && e.message.includes(String(bad)),
      );
    }
    assert.throws(() => d.add('5' as unknown as number), TypeError);
    assert.throws(() => d.add(NaN, 2), TypeError);
    assert.equal(d.count, 3);
    assert.deepEqual(d.quantiles([0, 0.5, 1]), [1, 2, 3]);
    assert.equal(d.mean, 2);
  });

  it('add() rejects non-positive and non-finite weights', () => {
    const d = new TDigest();
    for (const w of [0, -1, NaN, Infinity]) {
      assert.throws(() => d.add(1, w), (e: unknown) => e instanceof TypeError && e.message.includes(String(w)));
    }
    assert.equal(d.count, 0);
  });

  it('quantile() rejects q outside [0, 1]', () => {
    const d = digestOf([1]);
    for (const q of [-0.1, 1.1, NaN]) assert.throws(() => d.quantile(q), RangeError);
    assert.throws(() => d.quantiles([0.5, 2]), RangeError);
    assert.throws(() => d.cdf(NaN), TypeError);
  });

  it('rejects an out-of-range compression or buffer size', () => {
    assert.throws(() => new TDigest(5), RangeError);
    assert.throws(() => new TDigest(NaN), RangeError);
    assert.throws(() => new TDigest(100, { bufferSize: 3 }), RangeError);
  });

  it('tracks exact count, sum, mean, min and max with integer weights', () => {
    const d = new TDigest();
    d.add(10, 3);
    d.add(20);
    d.add(40, 4);
    assert.equal(d.count, 8);
    assert.equal(d.sum, 30 + 20 + 160);
    assert.equal(d.mean, 210 / 8);
    assert.equal(d.min, 10);
    assert.equal(d.max, 40);
    // The samples at the extremes carry their weight: ranks [0, 3) are 10, ranks [4, 8) are 40.
    assert.equal(d.quantile(0.3), 10);
    assert.equal(d.quantile(0.5), 40);
  });

  it('weighted values answer like the same values repeated, within the rank bound', () => {
    const rng = mulberry32(21);
    const d = new TDigest();
    const expanded: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x = Math.exp(LOG_MU + LOG_SIGMA * gaussian(rng));
      const w = 1 + Math.floor(rng() * 5);
      d.add(x, w);
      for (let k = 0; k < w; k++) expanded.push(x);
    }
    assertWithinBounds(d, sorted(expanded), 'weighted');
  });

  it('scaling every weight by a power of two changes no answer', () => {
    const data = generate('lognormal', 30_000, 22);
    const unit = digestOf(data);
    const half = new TDigest();
    for (const x of data) half.add(x, 0.5);
    assert.equal(half.count, 15_000);
    const qs = [0, 0.001, ...QS, 1];
    assert.deepEqual(half.quantiles(qs), unit.quantiles(qs));
  });

  it('reports exact min, max and sum before any flush', () => {
    const d = new TDigest();
    for (const x of [5, -2, 9, 0.5]) d.add(x);
    d.add(11, 2);
    assert.equal(d.min, -2);
    assert.equal(d.max, 11);
    assert.equal(d.sum, 5 - 2 + 9 + 0.5 + 22);
    assert.equal(d.count, 6);
  });
});
