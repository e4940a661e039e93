import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpikeRule } from '../../../operators/users/robust-baseline.js';
import {
  RobustBaseline,
  effectiveSpread,
  ewmaMeanAfterEmpty,
  ewmaSpreadAfterEmpty,
  ewmaSpreadStep,
  ewmaStep,
  spikeThreshold,
  winsorize,
} from '../../../operators/users/robust-baseline.js';

const RATE: SpikeRule = { k: 6, minValue: 30, minSpread: 1, relativeMinSpread: 0, globalCap: 120 };

function close(a: number, b: number, tol = 1e-12): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);
}

describe('robust baseline', () => {
  it('catches up n empty buckets in closed form exactly as n single steps would', () => {
    for (const alpha of [0.01, 0.05, 0.3]) {
      for (const [mean0, spread0] of [
        [12, 3],
        [0.02, 0.5],
        [5000, 0],
      ]) {
        let mean = mean0;
        let spread = spread0;
        for (let n = 1; n <= 200; n++) {
          spread = ewmaSpreadStep(mean, spread, 0, alpha);
          mean = ewmaStep(mean, 0, alpha);
          close(ewmaMeanAfterEmpty(mean0, n, alpha), mean);
          close(ewmaSpreadAfterEmpty(mean0, spread0, n, alpha), spread);
        }
      }
    }
  });

  it('matches a hand computation of two empty buckets', () => {
    // mean 10, spread 0, alpha 0.1: s1 = 0.1·10 = 1, m1 = 9; s2 = 0.9·1 + 0.1·9 = 1.8, m2 = 8.1.
    close(ewmaMeanAfterEmpty(10, 2, 0.1), 8.1);
    close(ewmaSpreadAfterEmpty(10, 0, 2, 0.1), 1.8);
    assert.equal(ewmaMeanAfterEmpty(10, 0, 0.1), 10);
    assert.equal(ewmaSpreadAfterEmpty(10, 4, 0, 0.1), 4);
  });

  it('floors the spread absolutely, relatively and by the Poisson noise of counts', () => {
    assert.equal(effectiveSpread(10, 0, RATE, false), 1);
    close(effectiveSpread(10, 0, RATE, true), Math.sqrt(10));
    assert.equal(effectiveSpread(10, 5, RATE, true), 5);
    assert.equal(effectiveSpread(5000, 100, { ...RATE, minSpread: 500, relativeMinSpread: 0.5 }, false), 2500);
  });

  it('puts the threshold at max(minValue, mean + k·spread) with history and at the global cap without', () => {
    // 10 + 6·√10 = 28.97 < 30.
    assert.equal(spikeThreshold(10, 0, RATE, true, true), 30);
    close(spikeThreshold(10, 0, { ...RATE, minValue: 0 }, true, true), 10 + 6 * Math.sqrt(10));
    assert.equal(spikeThreshold(100, 20, RATE, true, true), 220);
    assert.equal(spikeThreshold(100, 20, RATE, true, false), 120);
  });

  it('clips folded values at mean + winsorizeK·spread only once the series has history', () => {
    close(winsorize(10, 0, 200, RATE, true, true, 3), 10 + 3 * Math.sqrt(10));
    assert.equal(winsorize(10, 0, 12, RATE, true, true, 3), 12);
    assert.equal(winsorize(10, 0, 200, RATE, true, false, 3), 200);
    assert.equal(winsorize(10, 0, 0, RATE, true, true, 3), 0);
  });

  it('initialises from the first bucket, then learns a sustained change only gradually', () => {
    const b = new RobustBaseline({ alpha: 0.05, minHistoryBuckets: 10, winsorizeK: 3 }, RATE, true);
    b.close(10);
    assert.equal(b.mean, 10);
    assert.equal(b.spread, 0);
    for (let i = 0; i < 59; i++) b.close(10);
    assert.equal(b.mean, 10);
    assert.equal(b.threshold(), 30);
    b.close(200);
    // Clipped to 10 + 3·√10: mean 10 + 0.05·3√10, spread 0.05·3√10.
    close(b.mean, 10 + 0.05 * 3 * Math.sqrt(10));
    close(b.spread, 0.05 * 3 * Math.sqrt(10));
    // Each clipped step widens the spread by a factor ≈ 1 + 2·alpha, so a 20× step is learned in ≈ 30 buckets.
    for (let i = 0; i < 27; i++) b.close(200);
    assert.ok(b.threshold() < 200, 'still anomalous after 28 buckets at 20×');
    for (let i = 0; i < 12; i++) b.close(200);
    assert.ok(b.threshold() > 200, 'the new level is learned after ≈ 30 buckets');
  });

  it('counts empty buckets before the first one as the first bucket', () => {
    const b = new RobustBaseline({ alpha: 0.1, minHistoryBuckets: 2, winsorizeK: 3 }, RATE, true);
    b.closeEmpty(3);
    assert.equal(b.buckets, 3);
    assert.equal(b.mean, 0);
    assert.equal(b.spread, 0);
  });
});
