import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeStats, parseCounterStat, parseDistributionStat, parseStat } from '../../operators/signal-stats.js';

const COUNTERS = ['error', 'timeout', 'rate_limit'] as const;

describe('parseStat', () => {
  it('parses count, mean, min, max and p-percentiles in (0, 100)', () => {
    assert.deepEqual(parseStat('count'), { kind: 'count' });
    assert.deepEqual(parseStat('mean'), { kind: 'mean' });
    assert.deepEqual(parseStat('min'), { kind: 'min' });
    assert.deepEqual(parseStat('max'), { kind: 'max' });
    assert.deepEqual(parseStat('p50'), { kind: 'quantile', q: 0.5 });
    assert.deepEqual(parseStat('p99'), { kind: 'quantile', q: 0.99 });
    assert.deepEqual(parseStat('p1'), { kind: 'quantile', q: 0.01 });
    assert.equal(parseStat('p0.1')?.kind, 'quantile');
    const p999 = parseStat('p99.9');
    assert.ok(p999?.kind === 'quantile' && Math.abs(p999.q - 0.999) < 1e-12);
  });

  it('rejects names outside the grammar so each quantile has one spelling', () => {
    for (const name of ['p0', 'p100', 'p050', 'p99.90', 'p999', 'p', 'p.5', 'p-1', 'P99', 'p99 ', 'median', 'sum', 'psi', '']) {
      assert.equal(parseStat(name), undefined, name);
    }
  });
});

describe('parseCounterStat', () => {
  it('parses count and a counter name as its sum', () => {
    assert.deepEqual(parseCounterStat('count', COUNTERS), { kind: 'count' });
    assert.deepEqual(parseCounterStat('error', COUNTERS), { kind: 'sum', counter: 0 });
    assert.deepEqual(parseCounterStat('rate_limit', COUNTERS), { kind: 'sum', counter: 2 });
  });

  it('parses <counter>_rate as the counter per event', () => {
    assert.deepEqual(parseCounterStat('timeout_rate', COUNTERS), { kind: 'rate', counter: 1 });
    assert.deepEqual(parseCounterStat('rate_limit_rate', COUNTERS), { kind: 'rate', counter: 2 });
  });

  it('parses a/b and a/(b+c+…) as ratios of sums', () => {
    assert.deepEqual(parseCounterStat('timeout/error', COUNTERS), { kind: 'ratio', numerator: 1, denominators: [0] });
    assert.deepEqual(parseCounterStat('error/(timeout+rate_limit)', COUNTERS), {
      kind: 'ratio',
      numerator: 0,
      denominators: [1, 2],
    });
    assert.deepEqual(parseCounterStat('error/(error+timeout+rate_limit)', COUNTERS), {
      kind: 'ratio',
      numerator: 0,
      denominators: [0, 1, 2],
    });
  });

  it('parses <counter>_per_min and count_per_min', () => {
    assert.deepEqual(parseCounterStat('error_per_min', COUNTERS), { kind: 'per_min', counter: 0 });
    assert.deepEqual(parseCounterStat('count_per_min', COUNTERS), { kind: 'per_min', counter: null });
  });

  it('prefers a counter named like a suffix form over the suffix form', () => {
    assert.deepEqual(parseCounterStat('x_rate', ['x', 'x_rate']), { kind: 'sum', counter: 1 });
    assert.deepEqual(parseCounterStat('x_per_min', ['x', 'x_per_min']), { kind: 'sum', counter: 1 });
  });

  it('rejects unknown counters, malformed ratios and other forms', () => {
    for (const name of [
      'errors',
      'count_rate',
      'missing_rate',
      'missing_per_min',
      'error/',
      '/error',
      'error/missing',
      'missing/error',
      'error/(timeout)',
      'error/(timeout+timeout)',
      'error/(timeout+missing)',
      'error/(timeout+)',
      'error/timeout+rate_limit',
      'error / timeout',
      'error/count',
      'p99',
      'mean',
      '',
    ]) {
      assert.equal(parseCounterStat(name, COUNTERS), undefined, name);
    }
  });
});

describe('parseDistributionStat', () => {
  it('parses count, sum, mean, min, max, p-percentiles and psi', () => {
    assert.deepEqual(parseDistributionStat('count'), { kind: 'count' });
    assert.deepEqual(parseDistributionStat('sum'), { kind: 'sum' });
    assert.deepEqual(parseDistributionStat('mean'), { kind: 'mean' });
    assert.deepEqual(parseDistributionStat('min'), { kind: 'min' });
    assert.deepEqual(parseDistributionStat('max'), { kind: 'max' });
    assert.deepEqual(parseDistributionStat('p50'), { kind: 'quantile', q: 0.5 });
    assert.deepEqual(parseDistributionStat('p99'), { kind: 'quantile', q: 0.99 });
    const p999 = parseDistributionStat('p99.9');
    assert.equal(p999?.kind, 'quantile');
    assert.ok(p999?.kind === 'quantile' && Math.abs(p999.q - 0.999) < 1e-12);
    assert.deepEqual(parseDistributionStat('psi'), { kind: 'psi' });
  });

  it('rejects what the percentile grammar rejects and counter forms', () => {
    for (const name of ['p100', 'p0', 'p050', 'p99.90', 'p999', 'median', 'count_per_min', 'sum_rate', 'PSI', '']) {
      assert.equal(parseDistributionStat(name), undefined, name);
    }
  });
});

describe('describeStats', () => {
  it('lists the counter grammar with the signal’s own counters', () => {
    const hint = describeStats('counter', COUNTERS);
    assert.match(hint, /error, timeout, rate_limit/);
    assert.match(hint, /error_rate/);
    assert.match(hint, /<a>\/\(<b>\+<c>\+…\)/);
    assert.match(hint, /count_per_min/);
  });

  it('lists the distribution grammar and says psi needs a baseline', () => {
    const hint = describeStats('distribution');
    assert.match(hint, /p99\.9/);
    assert.match(hint, /psi \(needs a baseline\)/);
  });
});
