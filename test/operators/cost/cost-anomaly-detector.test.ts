import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CostAnomalyDetector } from '../../../operators/cost/cost-anomaly-detector.js';
import type { CostCheck } from '../../../operators/cost/cost-anomaly-detector.js';
import { isVigilError } from '../../../src/errors.js';
import { BASE_TIME as T } from '../../helpers/span-factory.js';

/** Deterministic uniform [0, 1) generator (mulberry32). */
function mulberry32(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lognormal costs with median `median` and log-standard-deviation `sigma` (Box–Muller). */
function lognormal(seed: number, median: number, sigma: number): () => number {
  const u = mulberry32(seed);
  return () => median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

const MIN = 60_000;

describe('CostAnomalyDetector', () => {
  it('flags almost nothing in a steady lognormal cost stream', () => {
    const d = new CostAnomalyDetector();
    const cost = lognormal(42, 0.002, 0.5);
    let anomalies = 0;
    // One request per second for 10 000 s: 300 per 5-minute bucket.
    for (let i = 0; i < 10_000; i++) if (d.check('chat|answer', T + i * 1000, cost()).anomalous) anomalies++;
    // Measured: 5 of 10 000 (0.05 %); expected for σ = 0.5: P(Z > ln 5 / 0.5) ≈ 0.064 %.
    assert.ok(anomalies <= 20, `${anomalies} false positives in 10 000 requests (at most 0.2 % allowed)`);
  });

  it('flags a request costing 20 times the median', () => {
    const d = new CostAnomalyDetector();
    const cost = lognormal(7, 0.002, 0.5);
    for (let i = 0; i < 2000; i++) d.check('chat|answer', T + i * 1000, cost());
    const verdict = d.check('chat|answer', T + 2000 * 1000, 0.04);
    assert.equal(verdict.anomalous, true);
    // σ = 0.5: p95/p50 = e^(1.645·0.5) ≈ 2.28, so p50 + 3·(p95 − p50) ≈ 4.8·p50 < 5·p50: the ratio floor decides.
    assert.ok(verdict.threshold > 0.008 && verdict.threshold < 0.012, `threshold ${verdict.threshold}`);
    assert.equal(d.check('chat|answer', T + 2001 * 1000, 0.004).anomalous, false);
  });

  it('judges nothing before the trailing buckets hold minHistory requests', () => {
    const d = new CostAnomalyDetector({ bucketMs: MIN, baselineMs: 10 * MIN });
    for (let i = 0; i < 99; i++) assert.equal(d.check('a', T + i, 1).anomalous, false);
    for (let i = 0; i < 100; i++) d.check('b', T + i, 1);
    // Within the first bucket nothing trails yet, however large the cost.
    assert.deepEqual({ ...d.check('b', T + 500, 1000) }, { anomalous: false, threshold: Infinity });
    assert.deepEqual({ ...d.check('a', T + MIN, 1000) }, { anomalous: false, threshold: Infinity });
    // Key b: 101 trailing costs, 100 of them 1 → p50 = p95 = 1, threshold = max(1 + 3·0, 5·1) = 5.
    assert.deepEqual({ ...d.check('b', T + MIN, 1000) }, { anomalous: true, threshold: 5 });
    assert.equal(d.check('b', T + MIN + 1, 5).anomalous, false);
    assert.equal(d.check('b', T + MIN + 2, 5.01).anomalous, true);
  });

  it('judges against the trailing buckets only, not the bucket being filled', () => {
    const d = new CostAnomalyDetector({ bucketMs: MIN, baselineMs: 10 * MIN });
    for (let i = 0; i < 100; i++) d.check('k', T + i, 1);
    for (let i = 0; i < 500; i++) d.check('k', T + MIN + i, 100);
    // The 500 expensive requests of bucket 1 do not raise bucket 1's own threshold.
    assert.equal(d.check('k', T + MIN + 999, 100).threshold, 5);
  });

  it('forgets buckets older than the baseline', () => {
    const d = new CostAnomalyDetector({ bucketMs: MIN, baselineMs: 10 * MIN });
    for (let i = 0; i < 100; i++) d.check('k', T + i, 1);
    assert.equal(d.check('k', T + 10 * MIN, 1000).threshold, 5);
    assert.deepEqual({ ...d.check('k', T + 12 * MIN, 1000) }, { anomalous: false, threshold: Infinity });
  });

  it('computes a threshold once per key and bucket, not per request', () => {
    const d = new CostAnomalyDetector();
    const cost = lognormal(1, 0.01, 0.4);
    for (let i = 0; i < 10_000; i++) d.check('k', T + i * 1000, cost());
    // 10 000 s span buckets 0…33 (BASE_TIME is 5-minute aligned): 33 rolls, each with ≥ 100 trailing requests.
    assert.deepEqual([d.stats().checks, d.stats().thresholdComputations], [10_000, 33]);
  });

  it('records a late request in its own bucket while that is still in the baseline', () => {
    const d = new CostAnomalyDetector({ bucketMs: MIN, baselineMs: 10 * MIN, minHistory: 1 });
    d.check('k', T + 5 * MIN, 1);
    d.check('k', T + 3 * MIN, 1);
    d.check('k', T - 20 * MIN, 1);
    assert.equal(d.stats().tooOld, 1);
    assert.equal(d.check('k', T + 6 * MIN, 1).threshold, 5);
  });

  it('fills the object it is given', () => {
    const d = new CostAnomalyDetector();
    const out: CostCheck = { anomalous: true, threshold: 0 };
    assert.equal(d.check('k', T, 1, out), out);
    assert.deepEqual(out, { anomalous: false, threshold: Infinity });
  });

  it('ignores non-finite times and negative costs', () => {
    const d = new CostAnomalyDetector();
    assert.equal(d.check('k', NaN, 1).anomalous, false);
    assert.equal(d.check('k', T, -1).anomalous, false);
    assert.deepEqual([d.stats().invalid, d.stats().checks, d.keyCount], [2, 0, 0]);
  });

  it('drops the least recently rolled key beyond maxKeys', () => {
    const d = new CostAnomalyDetector({ maxKeys: 2 });
    d.check('a', T, 1);
    d.check('b', T, 1);
    d.check('a', T + 5 * MIN, 1);
    d.check('c', T + 5 * MIN, 1);
    assert.deepEqual([d.keyCount, d.stats().evictedKeys], [2, 1]);
    // 'b' was dropped: a fresh 'b' has no history.
    assert.equal(d.check('b', T + 10 * MIN, 1).threshold, Infinity);
  });

  it('rejects out-of-range options as config errors', () => {
    for (const [key, options] of [
      ['baselineMs', { baselineMs: 7 * MIN }],
      ['bucketMs', { bucketMs: 0 }],
      ['k', { k: -1 }],
      ['minRatio', { minRatio: NaN }],
      ['minHistory', { minHistory: 0 }],
      ['maxKeys', { maxKeys: 0 }],
    ] as const) {
      assert.throws(
        () => new CostAnomalyDetector(options),
        (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID') && err.details.key === key,
      );
    }
  });
});
