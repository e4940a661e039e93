import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FamilyWindowStore } from '../../operators/family-window-store.js';
import type { FamilyQueryOptions, FamilyWindowStoreOptions } from '../../operators/family-window-store.js';
import { PSI_EPSILON } from '../../operators/population-stability.js';
import type { SignalFamily } from '../../operators/signal-family.js';
import type { TDigest } from '../../operators/t-digest.js';
import { OVERFLOW_KEY } from '../../operators/sub-window-ring.js';
import { WindowDigestTree } from '../../operators/window-digest-tree.js';
import { isVigilError } from '../../src/errors.js';
import { DIMENSIONS, dimensionValue, groupKeyOf } from '../../src/model/dimensions.js';
import type { Dimension, GroupLabels } from '../../src/model/dimensions.js';
import type { LlmSpan } from '../../src/model/llm-span.js';
import type { SignalSnapshot, SignalView } from '../../src/model/signal-snapshot.js';
import { BASE_TIME, makeSpan } from '../helpers/span-factory.js';

/** A toy event: a call in a region and tier that succeeded or failed, used tokens and took some time. */
interface Call {
  region: string | null;
  tier: string | null;
  time: number;
  failed: boolean;
  tokens: number;
  latency: number | null;
  /** The family leaves test traffic out. */
  test: boolean;
}

/**
 * Two dimensions, two counter signals (`outcomes`: ok, failed; `usage`: tokens — three counters laid
 * out ok, failed, tokens) and one distribution (`latency`).
 */
const CALLS: SignalFamily<Call> = {
  name: 'calls',
  dimensions: ['region', 'tier'],
  dimension: (call, index) => (index === 0 ? call.region : call.tier),
  time: (call) => call.time,
  counterSignals: [
    { signal: 'outcomes', counters: ['ok', 'failed'], description: 'calls by outcome' },
    { signal: 'usage', counters: ['tokens'], unit: 'tokens', description: 'tokens used' },
  ],
  count(call, c) {
    if (call.test) return false;
    if (call.failed) c[1] += 1;
    else c[0] += 1;
    c[2] += call.tokens;
    return true;
  },
  distributions: [{ signal: 'latency', unit: 'ms', description: 'call latency', value: (call) => call.latency }],
};

const SUB = 10_000;
const MINUTE = 60_000;
const RETENTION = 10 * MINUTE;
// A whole hour, so minute windows align with sub-windows.
const T0 = Date.UTC(2025, 0, 1);

function newStore(extra: Partial<FamilyWindowStoreOptions<Call>> = {}): FamilyWindowStore<Call> {
  return new FamilyWindowStore({ family: CALLS, subWindowMs: SUB, retentionMs: RETENTION, ...extra });
}

function call(overrides: Partial<Call> = {}): Call {
  return { region: 'eu', tier: 'gold', time: T0, failed: false, tokens: 0, latency: 100, test: false, ...overrides };
}

function view(overrides: Partial<SignalView> = {}): SignalView {
  return { id: 'v', signal: 'outcomes', groupBy: [], windowMs: MINUTE, filter: {}, stats: ['count'], ...overrides };
}

function ask(store: FamilyWindowStore<Call>, overrides: Partial<FamilyQueryOptions> = {}) {
  return store.query({
    signal: 'outcomes',
    windowMs: MINUTE,
    end: T0 + MINUTE,
    groupBy: [],
    filter: {},
    stats: ['count'],
    ...overrides,
  });
}

/** The values of the group with `key`; fails when there is none. */
function valuesOf(snapshot: { groups: readonly { key: string; values: Record<string, number> }[] }, key: string): Record<string, number> {
  const group = snapshot.groups.find((g) => g.key === key);
  assert.ok(group, `no group ${key} in ${snapshot.groups.map((g) => g.key).join(', ')}`);
  return group.values;
}

function assertClose(actual: number, expected: number, tolerance = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

function assertQueryError(fn: () => unknown, param: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isVigilError(err, 'VIGIL_QUERY_INVALID'), String(err));
    assert.equal(err.details.param, param, err.message);
    return true;
  });
}

/**
 * Six calls in the first minute (eu/gold: ok 100, ok 200, failed 50 tokens; us/gold: failed 10,
 * failed 30; us/free: ok 5), spread over its sub-windows.
 */
function firstMinute(store: FamilyWindowStore<Call>): void {
  store.add(call({ time: T0, tokens: 100 }));
  store.add(call({ time: T0 + 15_000, tokens: 200 }));
  store.add(call({ time: T0 + 59_999, failed: true, tokens: 50 }));
  store.add(call({ region: 'us', time: T0 + 20_000, failed: true, tokens: 10 }));
  store.add(call({ region: 'us', time: T0 + 30_000, failed: true, tokens: 30 }));
  store.add(call({ region: 'us', tier: 'free', time: T0 + 40_000, tokens: 5 }));
}

// Deterministic PRNG (mulberry32) so distribution tests are reproducible.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function lognormal(random: () => number, mu: number, sigma: number): number {
  const u = 1 - random();
  const v = random();
  return Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

describe('FamilyWindowStore counter signals', () => {
  it('sums counters, counts events and divides by the window in minutes', () => {
    const store = newStore();
    firstMinute(store);
    const stats = ['count', 'ok', 'failed', 'failed_rate', 'ok_per_min', 'count_per_min'];
    const one = store.snapshot(view({ stats }), T0 + MINUTE);
    assert.deepEqual(one.groups, [
      { key: '*', labels: {}, count: 6, values: { count: 6, ok: 3, failed: 3, failed_rate: 0.5, ok_per_min: 3, count_per_min: 6 } },
    ]);
    // Two minutes, the second empty: per-minute figures halve, sums stay.
    const two = store.snapshot(view({ stats, windowMs: 2 * MINUTE }), T0 + 2 * MINUTE);
    assert.deepEqual(valuesOf(two, '*'), { count: 6, ok: 3, failed: 3, failed_rate: 0.5, ok_per_min: 1.5, count_per_min: 3 });
  });

  it('answers a second counter signal from its own slice of the counter layout', () => {
    const store = newStore();
    firstMinute(store);
    const usage = store.snapshot(view({ signal: 'usage', stats: ['count', 'tokens', 'tokens_rate', 'tokens_per_min'] }), T0 + MINUTE);
    // 100 + 200 + 50 + 10 + 30 + 5 = 395 tokens over 6 calls.
    assert.deepEqual(valuesOf(usage, '*'), { count: 6, tokens: 395, tokens_rate: 395 / 6, tokens_per_min: 395 });
  });

  it('computes ratios of sums, with several denominators, and NaN when the denominator is 0', () => {
    const store = newStore();
    firstMinute(store);
    const stats = ['failed/ok', 'failed/(ok+failed)', 'ok/(ok+failed)'];
    const snapshot = store.snapshot(view({ stats, groupBy: ['region', 'tier'] }), T0 + MINUTE);
    assert.deepEqual(
      snapshot.groups.map((g) => g.key),
      ['region=eu,tier=gold', 'region=us,tier=free', 'region=us,tier=gold'],
    );
    for (const g of snapshot.groups) assert.equal(g.key, groupKeyOf(g.labels, ['region', 'tier']));
    // eu/gold: ok 2, failed 1.
    assert.deepEqual(valuesOf(snapshot, 'region=eu,tier=gold'), { 'failed/ok': 0.5, 'failed/(ok+failed)': 1 / 3, 'ok/(ok+failed)': 2 / 3 });
    // us/free: ok 1, failed 0.
    assert.deepEqual(valuesOf(snapshot, 'region=us,tier=free'), { 'failed/ok': 0, 'failed/(ok+failed)': 0, 'ok/(ok+failed)': 1 });
    // us/gold: ok 0, failed 2 — failed/ok divides by 0.
    const usGold = valuesOf(snapshot, 'region=us,tier=gold');
    assert.ok(Number.isNaN(usGold['failed/ok']));
    assert.equal(usGold['failed/(ok+failed)'], 1);
    assert.equal(usGold['ok/(ok+failed)'], 0);
  });

  it('groups by a dimension, filters by another, and labels groups with the family’s dimension names', () => {
    const store = newStore();
    firstMinute(store);
    const byRegion = store.snapshot(view({ stats: ['count', 'failed'], groupBy: ['region'] }), T0 + MINUTE);
    assert.deepEqual(byRegion.groups, [
      { key: 'region=eu', labels: { region: 'eu' }, count: 3, values: { count: 3, failed: 1 } },
      { key: 'region=us', labels: { region: 'us' }, count: 3, values: { count: 3, failed: 2 } },
    ]);
    const gold = store.snapshot(
      view({ stats: ['count'], groupBy: ['region'], filter: { tier: 'gold' } }),
      T0 + MINUTE,
    );
    assert.deepEqual(
      gold.groups.map((g) => [g.key, g.count]),
      [
        ['region=eu', 3],
        ['region=us', 2],
      ],
    );
    const query = ask(store, { groupBy: ['tier'], filter: { region: 'us' }, stats: ['ok', 'failed'] });
    assert.deepEqual(query, {
      windowStart: T0,
      windowEnd: T0 + MINUTE,
      groups: [
        { key: 'tier=free', labels: { tier: 'free' }, count: 1, values: { ok: 1, failed: 0 } },
        { key: 'tier=gold', labels: { tier: 'gold' }, count: 2, values: { ok: 0, failed: 2 } },
      ],
    });
  });

  it('leaves events without a groupBy value out of snapshots but keeps them in queries and ungrouped', () => {
    const store = newStore();
    store.add(call({ region: null }));
    store.add(call({ region: null, tier: null, failed: true }));
    store.add(call({ region: 'eu' }));
    const byRegion = store.snapshot(view({ groupBy: ['region'] }), T0 + MINUTE);
    assert.deepEqual(
      byRegion.groups.map((g) => [g.key, g.count]),
      [['region=eu', 1]],
    );
    assert.equal(store.snapshot(view(), T0 + MINUTE).groups[0].count, 3);
    const query = ask(store, { groupBy: ['region'], stats: ['count', 'failed'] });
    assert.deepEqual(query.groups, [
      { key: 'region=(none)', labels: { region: '(none)' }, count: 2, values: { count: 2, failed: 1 } },
      { key: 'region=eu', labels: { region: 'eu' }, count: 1, values: { count: 1, failed: 0 } },
    ]);
    // `(none)` filters for a null value, in snapshots too.
    const none = store.snapshot(view({ filter: { tier: '(none)' } }), T0 + MINUTE);
    assert.deepEqual(
      none.groups.map((g) => g.count),
      [1],
    );
  });

  it('slides sub-windows out of the window and gives no groups for a window without events', () => {
    const store = newStore();
    store.add(call({ time: T0 + 5_000 }));
    store.add(call({ time: T0 + MINUTE + 5_000 }));
    store.add(call({ time: T0 + MINUTE + 15_000 }));
    const counts = (end: number, windowMs = MINUTE): number[] =>
      store.snapshot(view({ windowMs }), end).groups.map((g) => g.count);
    assert.deepEqual(counts(T0 + MINUTE), [1]);
    // [T0+10s, T0+70s): the first call's sub-window slid out, the second call's came in.
    assert.deepEqual(counts(T0 + MINUTE + SUB), [1]);
    assert.deepEqual(counts(T0 + MINUTE + 2 * SUB), [2]);
    assert.deepEqual(counts(T0 + 2 * MINUTE), [2]);
    assert.deepEqual(counts(T0 + 2 * MINUTE + SUB), [1]);
    assert.deepEqual(counts(T0 + 3 * MINUTE), []);
    assert.deepEqual(counts(T0), []);
    assert.deepEqual(counts(T0 + 2 * MINUTE, 2 * MINUTE), [3]);
    store.evictBefore(T0 + MINUTE);
    assert.deepEqual(counts(T0 + 2 * MINUTE, 2 * MINUTE), [2]);
    assert.equal(store.stats().subWindows, 2);
  });

  it('excludes an event the family’s count leaves out, creating nothing for it', () => {
    const store = newStore();
    assert.equal(store.add(call({ test: true, region: 'lab', latency: 5 })), false);
    assert.equal(store.stats().keys, 0);
    assert.equal(store.stats().labelCombinations, 0);
    assert.deepEqual(store.snapshot(view(), T0 + MINUTE).groups, []);
    assert.deepEqual(store.snapshot(view({ signal: 'latency' }), T0 + MINUTE).groups, []);
    assert.equal(store.add(call()), true);
    assert.equal(store.snapshot(view(), T0 + MINUTE).groups[0].count, 1);
  });

  it('rejects an event with a non-finite time and counts it as invalid', () => {
    const store = newStore();
    assert.equal(store.add(call({ time: NaN })), false);
    assert.deepEqual(store.stats(), {
      subWindows: 0,
      keys: 0,
      labelCombinations: 0,
      digests: 0,
      approxBytes: 0,
      overflowCount: 0,
      invalidValues: 1,
    });
  });
});

describe('FamilyWindowStore distribution signals', () => {
  it('computes count, sum, mean, min, max and percentiles of the values in the window', () => {
    const store = newStore();
    for (const [i, latency] of [40, 10, 30, 20, 50].entries()) store.add(call({ time: T0 + i * SUB, latency }));
    store.add(call({ latency: null }));
    const snapshot = store.snapshot(view({ signal: 'latency', stats: ['count', 'sum', 'mean', 'min', 'max', 'p50', 'p80'] }), T0 + MINUTE);
    // The digest's order statistic x₍⌊q·n⌋₎ of 10, 20, 30, 40, 50: p50 → x₍₂₎ = 30, p80 → x₍₄₎ = 50.
    assert.deepEqual(snapshot.groups, [
      { key: '*', labels: {}, count: 5, values: { count: 5, sum: 150, mean: 30, min: 10, max: 50, p50: 30, p80: 50 } },
    ]);
  });

  it('gives no group to events without a value and skips non-finite values as invalid', () => {
    const store = newStore();
    store.add(call({ region: 'eu', latency: null }));
    store.add(call({ region: 'us', latency: Number.POSITIVE_INFINITY }));
    store.add(call({ region: 'us', latency: 7 }));
    const snapshot = store.snapshot(view({ signal: 'latency', stats: ['count', 'max'], groupBy: ['region'] }), T0 + MINUTE);
    assert.deepEqual(snapshot.groups, [{ key: 'region=us', labels: { region: 'us' }, count: 1, values: { count: 1, max: 7 } }]);
    assert.equal(store.stats().invalidValues, 1);
    // The events still count in the counter signals.
    assert.equal(store.snapshot(view(), T0 + MINUTE).groups[0].count, 3);
  });

  it('estimates the p99 of a lognormal over a merged hour of sub-windows within 1 % of the exact value', () => {
    const store = new FamilyWindowStore({ family: CALLS, subWindowMs: MINUTE, retentionMs: 60 * MINUTE });
    const random = rng(42);
    const values: number[] = [];
    const regions = ['eu', 'us', 'ap'];
    for (let minute = 0; minute < 60; minute++) {
      for (let i = 0; i < 500; i++) {
        const latency = lognormal(random, 5, 0.6);
        values.push(latency);
        store.add(call({ region: regions[i % 3], tier: i % 2 === 0 ? 'gold' : 'free', time: T0 + minute * MINUTE + i, latency }));
      }
      store.closeThrough(T0 + (minute + 1) * MINUTE);
    }
    values.sort((a, b) => a - b);
    const exact = (q: number): number => values[Math.min(values.length - 1, Math.floor(q * values.length))];
    const snapshot = store.snapshot(view({ signal: 'latency', windowMs: 60 * MINUTE, stats: ['p50', 'p99', 'p99.9'] }), T0 + 60 * MINUTE);
    const got = valuesOf(snapshot, '*');
    // Bound: 1 % relative at p99 (the t-digest's own target at δ = 200 is 0.5 %). Measured 0.15 %
    // here (0.07–0.36 % over four seeds); p50 within 0.2 %, p99.9 within 1 %.
    assert.ok(Math.abs(got.p99 / exact(0.99) - 1) < 0.01, `p99 ${got.p99} vs ${exact(0.99)}`);
    assert.ok(Math.abs(got.p50 / exact(0.5) - 1) < 0.01, `p50 ${got.p50} vs ${exact(0.5)}`);
    assert.ok(Math.abs(got['p99.9'] / exact(0.999) - 1) < 0.02, `p99.9 ${got['p99.9']} vs ${exact(0.999)}`);
  });
});

describe('FamilyWindowStore baselines', () => {
  /** Latency 100, 200 in the baseline minute [T0, T0+1m); 120, 240, 300 in the current one. */
  function twoMinutes(): FamilyWindowStore<Call> {
    const store = newStore();
    store.add(call({ time: T0, latency: 100, failed: true }));
    store.add(call({ time: T0 + 30_000, latency: 200 }));
    store.add(call({ time: T0 + MINUTE, latency: 120 }));
    store.add(call({ time: T0 + MINUTE + 10_000, latency: 240, failed: true }));
    store.add(call({ time: T0 + MINUTE + 50_000, latency: 300, failed: true }));
    return store;
  }

  it('compares each stat with the window before as a difference, a ratio or a relative change', () => {
    const store = twoMinutes();
    const stats = ['mean', 'count', 'max'];
    const at = (compare: 'difference' | 'ratio' | 'relative'): SignalSnapshot =>
      store.snapshot(view({ signal: 'latency', stats, baseline: { windowMs: MINUTE, compare } }), T0 + 2 * MINUTE);
    // Means: current (120 + 240 + 300) / 3 = 220, baseline (100 + 200) / 2 = 150.
    const difference = at('difference');
    assert.equal(difference.groups[0].count, 3);
    assert.deepEqual(difference.groups[0].values, { mean: 70, count: 1, max: 100 });
    const ratio = at('ratio').groups[0].values;
    assertClose(ratio.mean, 220 / 150);
    assertClose(ratio.count, 3 / 2);
    assertClose(ratio.max, 300 / 200);
    const relative = at('relative').groups[0].values;
    assertClose(relative.mean, 70 / 150);
    assertClose(relative.count, 0.5);
    assertClose(relative.max, 0.5);
  });

  it('compares counter stats, normalising per-minute figures by each window’s own length', () => {
    const store = twoMinutes();
    store.add(call({ time: T0 + 3 * MINUTE }));
    store.add(call({ time: T0 + 3 * MINUTE + 1 }));
    store.add(call({ time: T0 + 3 * MINUTE + 2, failed: true }));
    // Current: [T0+3m, T0+4m) — 3 calls, 1 failed. Baseline: [T0, T0+3m) — 5 calls, 3 failed, in 3 minutes.
    const snapshot = store.snapshot(
      view({ stats: ['count_per_min', 'failed_rate', 'failed'], baseline: { windowMs: 3 * MINUTE, compare: 'ratio' } }),
      T0 + 4 * MINUTE,
    );
    assert.equal(snapshot.groups[0].count, 3);
    const values = snapshot.groups[0].values;
    assertClose(values.count_per_min, 3 / (5 / 3));
    assertClose(values.failed_rate, 1 / 3 / (3 / 5));
    assertClose(values.failed, 1 / 3);
  });

  it('gives NaN ratios against an empty or zero baseline and leaves out groups with baseline events only', () => {
    const store = newStore();
    store.add(call({ region: 'eu', time: T0 }));
    store.add(call({ region: 'us', time: T0 + MINUTE }));
    store.add(call({ region: 'ap', time: T0 }));
    store.add(call({ region: 'ap', time: T0 + MINUTE, failed: true }));
    const snapshot = store.snapshot(
      view({
        stats: ['count', 'failed'],
        groupBy: ['region'],
        baseline: { windowMs: MINUTE, compare: 'relative' },
      }),
      T0 + 2 * MINUTE,
    );
    // eu had calls only in the baseline: absent. us had none there: NaN. ap failed 0 → 1: NaN, count 1 → 1: 0.
    assert.deepEqual(
      snapshot.groups.map((g) => g.key),
      ['region=ap', 'region=us'],
    );
    assert.equal(valuesOf(snapshot, 'region=ap').count, 0);
    assert.ok(Number.isNaN(valuesOf(snapshot, 'region=ap').failed));
    assert.ok(Number.isNaN(valuesOf(snapshot, 'region=us').count));
    const difference = store.snapshot(
      view({ stats: ['failed'], groupBy: ['region'], baseline: { windowMs: MINUTE, compare: 'difference' } }),
      T0 + 2 * MINUTE,
    );
    assert.equal(valuesOf(difference, 'region=us').failed, 0);
    assert.equal(valuesOf(difference, 'region=ap').failed, 1);
  });

  it('computes psi between the baseline’s values and the current ones, uncompared', () => {
    const store = newStore();
    // Baseline minute: 10 × 100 ms and 10 × 200 ms; current minute: 6 × 100 ms and 14 × 200 ms.
    for (let i = 0; i < 20; i++) store.add(call({ time: T0 + i * 1000, latency: i < 10 ? 100 : 200 }));
    for (let i = 0; i < 20; i++) store.add(call({ time: T0 + MINUTE + i * 1000, latency: i < 6 ? 100 : 200 }));
    const snapshot = store.snapshot(
      view({ signal: 'latency', stats: ['psi', 'count'], baseline: { windowMs: MINUTE, compare: 'ratio' } }),
      T0 + 2 * MINUTE,
    );
    // Two bins, 50/50 against 30/70: 0.2·ln(5/3) + 0.2·ln(7/5) ≈ 0.16946; the PSI_EPSILON
    // smoothing shifts it by less than 1e-4.
    const smooth = (f: number): number => (f + PSI_EPSILON) / (1 + 2 * PSI_EPSILON);
    const term = (b: number, c: number): number => (smooth(c) - smooth(b)) * Math.log(smooth(c) / smooth(b));
    const expected = term(0.5, 0.3) + term(0.5, 0.7);
    assertClose(expected, 0.16946, 1e-4);
    assertClose(valuesOf(snapshot, '*').psi, expected, 1e-9);
    assert.equal(valuesOf(snapshot, '*').count, 1);
  });

  it('gives psi 0 for an unchanged distribution and NaN without baseline values', () => {
    const store = newStore();
    for (const minute of [0, 1]) {
      for (let i = 0; i < 20; i++) store.add(call({ time: T0 + minute * MINUTE + i * 1000, latency: i < 6 ? 100 : 200 }));
    }
    const psiView = view({ signal: 'latency', stats: ['psi'], baseline: { windowMs: MINUTE, compare: 'ratio' } });
    assert.equal(valuesOf(store.snapshot(psiView, T0 + 2 * MINUTE), '*').psi, 0);
    assert.ok(Number.isNaN(valuesOf(store.snapshot(psiView, T0 + MINUTE), '*').psi));
  });

  it('answers a query with a baseline the same way', () => {
    const store = twoMinutes();
    const result = ask(store, {
      signal: 'latency',
      stats: ['mean'],
      end: T0 + 2 * MINUTE,
      baseline: { windowMs: MINUTE, compare: 'difference' },
    });
    assert.deepEqual(result.groups, [{ key: '*', labels: {}, count: 3, values: { mean: 70 } }]);
    assert.equal(result.windowStart, T0 + MINUTE);
  });
});

describe('FamilyWindowStore validation', () => {
  it('names the bad parameter of a snapshot or query', () => {
    const store = newStore();
    const snap = (overrides: Partial<SignalView>, end = T0 + MINUTE) => () => store.snapshot(view(overrides), end);
    assertQueryError(snap({ windowMs: 15_000 }), 'window');
    assertQueryError(snap({ windowMs: 0 }), 'window');
    assertQueryError(snap({ windowMs: RETENTION + SUB }), 'window');
    assertQueryError(snap({}, T0 + 5_000), 'end');
    assertQueryError(snap({ baseline: { windowMs: 15_000, compare: 'ratio' } }), 'baseline');
    assertQueryError(snap({ baseline: { windowMs: RETENTION, compare: 'ratio' } }), 'baseline');
    assertQueryError(snap({ baseline: { windowMs: MINUTE, compare: 'quotient' as 'ratio' } }), 'baseline');
    assertQueryError(snap({ signal: 'errors' }), 'signal');
    assertQueryError(snap({ stats: ['p99'] }), 'stats');
    assertQueryError(snap({ stats: ['missing_rate'] }), 'stats');
    assertQueryError(snap({ signal: 'latency', stats: ['failed'] }), 'stats');
    assertQueryError(snap({ signal: 'latency', stats: ['psi'] }), 'stats');
    assertQueryError(snap({ groupBy: ['model'] }), 'groupBy');
    assertQueryError(snap({ groupBy: ['region', 'region'] }), 'groupBy');
    assertQueryError(snap({ filter: { model: 'gpt-4o' } }), 'filter');
    assertQueryError(() => ask(store, { windowMs: 7 }), 'window');
    assertQueryError(() => ask(store, { signal: 'latency', stats: ['psi'] }), 'stats');
    assertQueryError(() => ask(store, { groupBy: ['service'] }), 'groupBy');
    // Window plus baseline equal to the retention is fine.
    store.snapshot(view({ windowMs: MINUTE, baseline: { windowMs: RETENTION - MINUTE, compare: 'ratio' } }), T0 + MINUTE);
  });

  it('explains the stats a signal answers in the error', () => {
    const store = newStore();
    assert.throws(() => store.snapshot(view({ stats: ['errors'] }), T0 + MINUTE), /ok_rate/);
    assert.throws(() => store.snapshot(view({ signal: 'latency', stats: ['p100'] }), T0 + MINUTE), /p99\.9/);
    assert.throws(() => store.snapshot(view({ signal: 'nope' }), T0 + MINUTE), /outcomes, usage, latency/);
  });

  it('rejects a family with repeated or malformed names', () => {
    const bad = (family: Partial<SignalFamily<Call>>) => () => newStore({ family: { ...CALLS, ...family } });
    const config = (err: unknown): boolean => isVigilError(err, 'VIGIL_CONFIG_INVALID') && err.details.key === 'family';
    assert.throws(bad({ dimensions: ['region', 'region'] }), config);
    assert.throws(bad({ counterSignals: [{ signal: 'outcomes', counters: ['ok', 'ok'], description: '' }] }), config);
    assert.throws(bad({ counterSignals: [{ signal: 'outcomes', counters: ['count'], description: '' }] }), config);
    assert.throws(bad({ counterSignals: [{ signal: 'outcomes', counters: ['a/b'], description: '' }] }), config);
    assert.throws(bad({ counterSignals: [{ signal: 'latency', counters: ['ok'], description: '' }] }), config);
    assert.throws(() => newStore({ subWindowMs: 7000 }), (err: unknown) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
    assert.throws(() => newStore({ compression: 1 }), RangeError);
  });
});

describe('FamilyWindowStore catalogue', () => {
  it('lists the family’s signals with their kind, unit, description and counters', () => {
    assert.deepEqual(newStore().signals(), [
      { name: 'outcomes', kind: 'counter', description: 'calls by outcome', counters: ['ok', 'failed'] },
      { name: 'usage', kind: 'counter', unit: 'tokens', description: 'tokens used', counters: ['tokens'] },
      { name: 'latency', kind: 'distribution', unit: 'ms', description: 'call latency' },
    ]);
  });

  it('tells which stats a signal answers and hints at them', () => {
    const store = newStore();
    assert.equal(store.isValidStat('outcomes', 'failed/(ok+failed)'), true);
    assert.equal(store.isValidStat('outcomes', 'tokens'), false);
    assert.equal(store.isValidStat('usage', 'tokens_per_min'), true);
    assert.equal(store.isValidStat('latency', 'p99.9'), true);
    assert.equal(store.isValidStat('latency', 'psi'), true);
    assert.equal(store.isValidStat('latency', 'ok'), false);
    assert.equal(store.isValidStat('nope', 'count'), false);
    assert.match(store.statHint('outcomes'), /ok, failed/);
    assert.match(store.statHint('latency'), /psi/);
    assert.match(store.statHint('nope'), /outcomes, usage, latency/);
  });
});

describe('FamilyWindowStore memory', () => {
  it('sends keys beyond the per-sub-window limit to one overflow group and forgets them', () => {
    const store = newStore({ maxKeysPerSubWindow: 2 });
    for (const region of ['a', 'b', 'c', 'd']) store.add(call({ region, failed: region === 'd' }));
    store.add(call({ region: 'a' }));
    const query = ask(store, { groupBy: ['region'], stats: ['count', 'failed'] });
    assert.deepEqual(
      query.groups.map((g) => [g.key, g.count, g.values.failed]),
      [
        [`region=${encodeURIComponent(OVERFLOW_KEY)}`, 2, 1],
        ['region=a', 2, 0],
        ['region=b', 1, 0],
      ],
    );
    assert.deepEqual(query.groups[0].labels, { region: OVERFLOW_KEY });
    const stats = store.stats();
    assert.equal(stats.overflowCount, 2);
    assert.equal(stats.keys, 3);
    assert.equal(stats.labelCombinations, 2);
    // A fresh sub-window has room again.
    store.add(call({ region: 'c', time: T0 + SUB }));
    assert.equal(store.stats().labelCombinations, 3);
  });

  it('compacts digests of closed sub-windows and forgets keys when their sub-windows are evicted', () => {
    const store = newStore();
    for (let i = 0; i < 1000; i++) store.add(call({ region: i % 2 === 0 ? 'eu' : 'us', time: T0 + (i % 20) * 1000, latency: i }));
    const open = store.stats();
    assert.equal(open.subWindows, 2);
    assert.equal(open.keys, 4);
    assert.equal(open.digests, 4);
    assert.equal(open.labelCombinations, 2);
    store.closeThrough(T0 + 2 * SUB);
    const closed = store.stats();
    assert.ok(closed.approxBytes < open.approxBytes, `${closed.approxBytes} < ${open.approxBytes}`);
    // Compaction changes nothing a query sees.
    const p50 = valuesOf(store.snapshot(view({ signal: 'latency', stats: ['count', 'p50'] }), T0 + MINUTE), '*');
    assert.equal(p50.count, 1000);
    store.evictBefore(T0 + SUB);
    assert.deepEqual([store.stats().subWindows, store.stats().keys, store.stats().labelCombinations], [1, 2, 2]);
    store.evictBefore(T0 + 2 * SUB);
    assert.deepEqual(store.stats(), {
      subWindows: 0,
      keys: 0,
      labelCombinations: 0,
      digests: 0,
      approxBytes: 0,
      overflowCount: 0,
      invalidValues: 0,
    });
  });

  it('interns a family without dimensions as one key', () => {
    const flat: SignalFamily<Call> = { ...CALLS, dimensions: [], dimension: () => null };
    const store = newStore({ family: flat });
    store.add(call({ region: 'eu' }));
    store.add(call({ region: 'us' }));
    assert.equal(store.stats().labelCombinations, 1);
    const groups = store.snapshot(view({ stats: ['count'] }), T0 + MINUTE).groups;
    assert.deepEqual(groups, [{ key: '*', labels: {}, count: 2, values: { count: 2 } }]);
  });
});

/**
 * The latency and ttft distributions of the engine's span family (`src/signals/span-family.ts`) over
 * its five dimensions, without its counters and enrichment: what the percentile store used to answer.
 */
const SPAN_TIMINGS: SignalFamily<LlmSpan> = {
  name: 'spans',
  dimensions: DIMENSIONS,
  dimension(span, index) {
    switch (index) {
      case 0:
        return span.service;
      case 1:
        return span.operation;
      case 2:
        return span.model;
      case 3:
        return span.provider;
      default:
        return span.tenantId;
    }
  },
  time: (span) => span.startTime,
  counterSignals: [],
  count: () => true,
  distributions: [
    { signal: 'latency', unit: 'ms', description: 'span durationMs', value: (span) => span.durationMs },
    { signal: 'ttft', unit: 'ms', description: 'time to first token of streaming spans', value: (span) => span.ttftMs },
  ],
};

describe('FamilyWindowStore over spans: latency and ttft', () => {
  const SLIDE = 1000;
  const SPAN_RETENTION = 10_000;

  function spanStore(extra: Partial<FamilyWindowStoreOptions<LlmSpan>> = {}): FamilyWindowStore<LlmSpan> {
    return new FamilyWindowStore({ family: SPAN_TIMINGS, subWindowMs: SLIDE, retentionMs: SPAN_RETENTION, ...extra });
  }

  function askSpans(store: FamilyWindowStore<LlmSpan>, overrides: Partial<FamilyQueryOptions> = {}) {
    return store.query({
      signal: 'latency',
      windowMs: 5000,
      end: BASE_TIME + 5000,
      groupBy: [],
      filter: {},
      stats: ['count', 'min', 'max'],
      ...overrides,
    });
  }

  function spanView(overrides: Partial<SignalView> = {}): SignalView {
    return { id: 'v', signal: 'latency', groupBy: [], windowMs: 5000, filter: {}, stats: ['count'], ...overrides };
  }

  /** Exact quantile as the lower order statistic of rank ceil(q·n). */
  function exactQuantile(sorted: readonly number[], q: number): number {
    return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
  }

  /** Fraction of values strictly below x and at or below x: the rank interval x occupies. */
  function rankOf(sorted: readonly number[], x: number): [number, number] {
    let below = 0;
    let atOrBelow = 0;
    for (const v of sorted) {
      if (v < x) below++;
      if (v <= x) atOrBelow++;
    }
    return [below / sorted.length, atOrBelow / sorted.length];
  }

  it('sub-windows expire: a value leaves the window once it slides past', () => {
    const store = spanStore();
    store.add(makeSpan({ startTime: BASE_TIME + 999, durationMs: 500 }));
    store.add(makeSpan({ startTime: BASE_TIME + 1000, durationMs: 7 }));
    assert.equal(askSpans(store, { windowMs: 2000, end: BASE_TIME + 2000 }).groups[0].count, 2);
    const slid = askSpans(store, { windowMs: 2000, end: BASE_TIME + 3000 });
    assert.equal(slid.groups[0].count, 1);
    assert.equal(slid.groups[0].values.max, 7, 'the 500 ms span slid out');
  });

  it('a window with no events answers no groups, not stale numbers', () => {
    const store = spanStore();
    store.add(makeSpan({ startTime: BASE_TIME + 100, durationMs: 900 }));
    store.add(makeSpan({ startTime: BASE_TIME + 100, ttftMs: 90 }));
    assert.equal(askSpans(store, { windowMs: 1000, end: BASE_TIME + 1000 }).groups.length, 1);
    assert.deepEqual(askSpans(store, { windowMs: 1000, end: BASE_TIME + 2000 }).groups, []);
    assert.deepEqual(askSpans(store, { signal: 'ttft', windowMs: 1000, end: BASE_TIME + 2000 }).groups, []);
    const snap = store.snapshot(spanView({ windowMs: 3000, stats: ['count', 'p99'] }), BASE_TIME + 4000);
    assert.deepEqual(snap.groups, []);
    store.evictBefore(BASE_TIME + 1000);
    assert.deepEqual(askSpans(store, { windowMs: 1000, end: BASE_TIME + 1000 }).groups, [], 'evicted data is gone too');
    assert.equal(store.stats().subWindows, 0);
  });

  it('a view grouped by a dimension leaves out spans without a value for it, while a query shows them as (none)', () => {
    const store = spanStore();
    store.add(makeSpan({ startTime: BASE_TIME, model: 'gpt-4o', durationMs: 10 }));
    store.add(makeSpan({ startTime: BASE_TIME, model: null, kind: 'PIPELINE', durationMs: 20 }));
    const snap = store.snapshot(spanView({ groupBy: ['model'], windowMs: 1000 }), BASE_TIME + 1000);
    assert.deepEqual(
      snap.groups.map((g) => g.key),
      ['model=gpt-4o'],
    );
    const ungrouped = store.snapshot(spanView({ windowMs: 1000 }), BASE_TIME + 1000);
    assert.equal(ungrouped.groups[0].count, 2);
    const query = askSpans(store, { windowMs: 1000, end: BASE_TIME + 1000, groupBy: ['model'] });
    assert.deepEqual(
      query.groups.map((g) => [g.key, g.labels, g.values.max]),
      [
        ['model=(none)', { model: '(none)' }, 20],
        ['model=gpt-4o', { model: 'gpt-4o' }, 10],
      ],
    );
    const none = askSpans(store, { windowMs: 1000, end: BASE_TIME + 1000, filter: { model: '(none)' } });
    assert.deepEqual(
      none.groups.map((g) => g.values.max),
      [20],
      '(none) filters for a null model',
    );
  });

  it('takes ttft only from streaming spans', () => {
    const store = spanStore();
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 1000, ttftMs: 120 }));
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 2000, ttftMs: 80 }));
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 3000, ttftMs: null }));
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 4000, model: 'embed-3', ttftMs: null }));
    const latency = askSpans(store, { groupBy: ['model'] });
    assert.deepEqual(
      latency.groups.map((g) => [g.key, g.count]),
      [
        ['model=embed-3', 1],
        ['model=gpt-4o', 3],
      ],
    );
    const ttft = askSpans(store, { signal: 'ttft', groupBy: ['model'] });
    assert.equal(ttft.groups.length, 1, 'a model without streaming spans has no ttft group');
    assert.deepEqual(ttft.groups[0], { key: 'model=gpt-4o', labels: { model: 'gpt-4o' }, count: 2, values: { count: 2, min: 80, max: 120 } });
  });

  it('groups by any combination of dimensions and filters like a brute-force count', () => {
    const random = rng(7);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
    const store = spanStore();
    const spans: LlmSpan[] = [];
    for (let i = 0; i < 600; i++) {
      const span = makeSpan({
        startTime: BASE_TIME + Math.floor(random() * 8000),
        durationMs: 1 + Math.floor(random() * 1000),
        service: pick(['chat-api', 'search', 'a,b=c']),
        operation: pick(['chat', 'embed']),
        model: pick(['gpt-4o', 'claude', null]),
        provider: pick(['openai', 'anthropic', null]),
        tenantId: pick(['t1', 't2', null]),
      });
      spans.push(span);
      store.add(span);
    }
    const end = BASE_TIME + 7000;
    const windowMs = 5000;
    const inWindow = spans.filter((s) => s.startTime >= end - windowMs && s.startTime < end);
    const filters: GroupLabels[] = [{}, { tenant: 't1' }, { model: '(none)', service: 'search' }, { service: 'a,b=c' }];
    let combinations = 0;
    for (let mask = 0; mask < 1 << DIMENSIONS.length; mask++) {
      const groupBy = DIMENSIONS.filter((_d, i) => (mask & (1 << i)) !== 0);
      for (const filter of filters) {
        const expected = new Map<string, { count: number; min: number; max: number }>();
        for (const s of inWindow) {
          if (!(Object.keys(filter) as Dimension[]).every((d) => dimensionValue(s, d) === filter[d])) continue;
          const labels: GroupLabels = {};
          for (const d of groupBy) labels[d] = dimensionValue(s, d);
          const key = groupKeyOf(labels, groupBy);
          const e = expected.get(key) ?? { count: 0, min: Infinity, max: -Infinity };
          e.count++;
          e.min = Math.min(e.min, s.durationMs);
          e.max = Math.max(e.max, s.durationMs);
          expected.set(key, e);
        }
        const result = askSpans(store, { windowMs, end, groupBy, filter });
        const actual = new Map(result.groups.map((g) => [g.key, { count: g.count, min: g.values.min, max: g.values.max }]));
        assert.deepEqual(actual, expected, `groupBy=${groupBy.join(',')} filter=${JSON.stringify(filter)}`);
        const keys = result.groups.map((g) => g.key);
        assert.deepEqual(keys, [...keys].sort(), 'groups are sorted by key');
        for (const g of result.groups) {
          assert.deepEqual(Object.keys(g.labels), [...groupBy], 'labels are the groupBy values');
          assert.equal(g.key, groupKeyOf(g.labels, groupBy));
        }
        combinations++;
      }
    }
    assert.equal(combinations, 32 * filters.length);
  });

  it('orders a group key by the groupBy order', () => {
    const store = spanStore();
    store.add(makeSpan({ startTime: BASE_TIME, tenantId: 'acme' }));
    assert.equal(askSpans(store, { groupBy: ['tenant', 'model'] }).groups[0].key, 'tenant=acme,model=gpt-4o');
    assert.equal(askSpans(store, { groupBy: ['model', 'tenant'] }).groups[0].key, 'model=gpt-4o,tenant=acme');
  });

  it('p99 of 20k lognormal latencies over merged sub-windows and keys is within 2.5 % of value and 0.001 of rank of the exact p99', () => {
    // Bound stated for δ = 100 on data spread over 5 sub-windows × 4 fine keys (20 digests, merged
    // into the window's aligned blocks at 2δ, then the window): the estimate's rank lies within
    // ±0.001 of q for p99 and p99.9 and ±0.005 for p50 and p90; its value within 2.5 % of the exact
    // order statistic up to p99 (p99.9 sits in the sparse tail — 20 values above it — where only the
    // rank bound is meaningful). Over 20 seeds of this shape the worst value error measured 1.7 %
    // (p90), against 1.8 % (p99) for one flat merge of the 20 digests.
    const random = rng(42);
    const store = spanStore({ compression: 100 });
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const durationMs = lognormal(random, Math.log(300), 0.8);
      values.push(durationMs);
      store.add(makeSpan({ startTime: BASE_TIME + (i % 5) * 1000 + (i % 997), durationMs, tenantId: `t${i % 4}` }));
    }
    assert.equal(store.stats().keys, 20);
    store.closeThrough(BASE_TIME + 5000);
    values.sort((a, b) => a - b);
    const stats = ['p50', 'p90', 'p99', 'p99.9'];
    const qs = [0.5, 0.9, 0.99, 0.999];
    const rankBound = [0.005, 0.005, 0.001, 0.001];
    const [g] = askSpans(store, { stats: ['count', 'min', 'max', ...stats] }).groups;
    assert.equal(g.count, values.length);
    assert.equal(g.values.min, values[0]);
    assert.equal(g.values.max, values[values.length - 1]);
    qs.forEach((q, i) => {
      const estimate = g.values[stats[i]];
      const exact = exactQuantile(values, q);
      const [lo, hi] = rankOf(values, estimate);
      assert.ok(lo - rankBound[i] <= q && q <= hi + rankBound[i], `q=${q}: estimate ${estimate} has rank [${lo}, ${hi}]`);
      if (q <= 0.99) assert.ok(Math.abs(estimate - exact) / exact <= 0.025, `q=${q}: estimate ${estimate} vs exact ${exact}`);
    });
  });

  it('rejects a window that is not a positive multiple of the sub-window within the retention, naming window', () => {
    const store = spanStore();
    for (const windowMs of [0, -1000, 1500, SPAN_RETENTION + SLIDE, Number.NaN]) {
      assert.throws(
        () => askSpans(store, { windowMs }),
        (err) => isVigilError(err, 'VIGIL_QUERY_INVALID') && err.details.param === 'window' && /\bwindow\b/.test(err.message),
        `windowMs=${windowMs}`,
      );
      assertQueryError(() => store.snapshot(spanView({ signal: 'ttft', windowMs }), BASE_TIME + 5000), 'window');
    }
    assert.equal(askSpans(store, { windowMs: SPAN_RETENTION, end: BASE_TIME + SPAN_RETENTION }).groups.length, 0);
  });

  it('snapshots a latency view by model with its window, groups and stats in the order asked', () => {
    const store = spanStore();
    for (const durationMs of [100, 200, 300]) store.add(makeSpan({ startTime: BASE_TIME + 1000, durationMs }));
    store.add(makeSpan({ startTime: BASE_TIME + 2000, durationMs: 50, model: 'claude', ttftMs: 5 }));
    const v = spanView({ id: 'lat-by-model', groupBy: ['model'], stats: ['p50', 'count', 'min', 'max', 'mean', 'p99.9'] });
    const snap = store.snapshot(v, BASE_TIME + 5000);
    assert.equal(snap.viewId, 'lat-by-model');
    assert.equal(snap.signal, 'latency');
    assert.equal(snap.windowStart, BASE_TIME);
    assert.equal(snap.windowEnd, BASE_TIME + 5000);
    assert.equal(snap.windowMs, 5000);
    assert.deepEqual(snap.groupBy, ['model']);
    assert.deepEqual(
      snap.groups.map((g) => [g.key, g.labels, g.count]),
      [
        ['model=claude', { model: 'claude' }, 1],
        ['model=gpt-4o', { model: 'gpt-4o' }, 3],
      ],
    );
    const gpt = snap.groups[1].values;
    assert.deepEqual(Object.keys(gpt), ['p50', 'count', 'min', 'max', 'mean', 'p99.9']);
    assert.deepEqual(gpt, { p50: 200, count: 3, min: 100, max: 300, mean: 200, 'p99.9': 300 });
    const ttft = store.snapshot(spanView({ signal: 'ttft', stats: ['max'] }), BASE_TIME + 5000);
    assert.deepEqual(ttft.groups, [{ key: '*', labels: {}, count: 1, values: { max: 5 } }]);
  });

  it('routes fine keys beyond maxKeysPerSubWindow to an (overflow) group that matches no filter, and forgets flooded keys', () => {
    const store = spanStore({ maxKeysPerSubWindow: 2 });
    for (const tenantId of ['a', 'b', 'c', 'd']) store.add(makeSpan({ startTime: BASE_TIME, tenantId }));
    assert.deepEqual(
      askSpans(store, { groupBy: ['tenant'] }).groups.map((g) => [g.key, g.count]),
      [
        [`tenant=${encodeURIComponent(OVERFLOW_KEY)}`, 2],
        ['tenant=a', 1],
        ['tenant=b', 1],
      ],
    );
    assert.equal(store.stats().overflowCount, 2);
    assert.equal(askSpans(store, { filter: { tenant: 'c' } }).groups.length, 0, 'overflowed spans match no filter value');
    for (let i = 0; i < 1000; i++) store.add(makeSpan({ startTime: BASE_TIME, tenantId: `flood-${i}` }));
    assert.equal(store.stats().labelCombinations, 2, 'a flood of overflowed keys leaves no trace');
    store.add(makeSpan({ startTime: BASE_TIME + 1000, tenantId: 'c' }));
    store.evictBefore(BASE_TIME + 1000);
    assert.deepEqual(
      [store.stats().labelCombinations, store.stats().keys, askSpans(store, { groupBy: ['tenant'] }).groups[0].key],
      [1, 1, 'tenant=c'],
    );
  });
});

describe('FamilyWindowStore views over closed sub-windows', () => {
  const views: SignalView[] = [
    view({ id: 'p', signal: 'latency', groupBy: ['region'], stats: ['p50', 'p99', 'count', 'mean', 'max'] }),
    view({ id: 'psi', signal: 'latency', groupBy: ['tier'], windowMs: 2 * MINUTE, stats: ['psi', 'p90'], baseline: { windowMs: 3 * MINUTE, compare: 'ratio' } }),
    view({ id: 'eu', signal: 'latency', filter: { region: 'eu' }, stats: ['p99.9', 'min'], baseline: { windowMs: MINUTE, compare: 'difference' } }),
    view({ id: 'outcomes', signal: 'outcomes', groupBy: ['region', 'tier'], stats: ['count', 'failed_rate', 'ok/(ok+failed)', 'count_per_min'] }),
    view({ id: 'tokens', signal: 'usage', groupBy: ['tier'], windowMs: 2 * MINUTE, stats: ['tokens', 'tokens_per_min', 'tokens_rate'], baseline: { windowMs: 2 * MINUTE, compare: 'relative' } }),
    view({ id: 'us', signal: 'outcomes', filter: { region: 'us' }, stats: ['failed'] }),
  ];

  /** What the full path answers: a query, without the `(none)` groups a view leaves out. */
  function expected(store: FamilyWindowStore<Call>, v: SignalView, end: number) {
    const q = store.query({ signal: v.signal, windowMs: v.windowMs, end, groupBy: v.groupBy, filter: v.filter, stats: v.stats, baseline: v.baseline });
    return q.groups.filter((g) => !Object.values(g.labels).includes('(none)'));
  }

  function traffic(random: () => number, store: FamilyWindowStore<Call>, from: number, to: number, tokenScale = 1): void {
    for (let t = from; t < to; t += 50 + Math.floor(random() * 400)) {
      const r = random();
      store.add(
        call({
          time: t,
          region: r < 0.45 ? 'eu' : r < 0.9 ? 'us' : null,
          tier: random() < 0.7 ? 'free' : 'gold',
          latency: random() < 0.05 ? null : Math.round(lognormal(random, 6, 0.5)),
          failed: random() < 0.1,
          tokens: tokenScale * Math.floor(random() * 2000),
        }),
      );
    }
  }

  it('answer each boundary with exactly the figures of the full merge, as windows slide, jump and evict', (t) => {
    // A tree read again at a later boundary is a view's kept tree (a query builds a fresh one).
    let slid = 0;
    const read = new WeakSet<WindowDigestTree>();
    const proto = WindowDigestTree.prototype;
    const window = Object.getOwnPropertyDescriptor(proto, 'window')?.value as (this: WindowDigestTree, from: number, to: number) => TDigest | null;
    t.mock.method(proto, 'window', function (this: WindowDigestTree, from: number, to: number) {
      if (read.has(this)) slid++;
      read.add(this);
      return window.call(this, from, to);
    });
    const random = rng(11);
    const store = newStore();
    let end = T0;
    let steps = 0;
    while (end < T0 + 25 * MINUTE) {
      // Mostly one sub-window per step; sometimes several, or more than a whole window and baseline.
      const step = random() < 0.8 ? SUB : random() < 0.7 ? 3 * SUB : 7 * MINUTE;
      traffic(random, store, end, end + step);
      end += step;
      store.closeThrough(end);
      for (const v of views) {
        const snapshot = store.snapshot(v, end);
        assert.deepEqual(snapshot.groups, expected(store, v, end), `view ${v.id} at +${(end - T0) / SUB} sub-windows`);
      }
      store.evictBefore(end - RETENTION);
      steps++;
    }
    assert.ok(steps > 20, `${steps} steps`);
    // And the figures did come from the sliding windows (not only from the full merge).
    assert.ok(slid > steps, `${slid} sliding merges in ${steps} steps`);
  });

  it('sum counters that are not whole numbers in the order of the full path', () => {
    const random = rng(21);
    const store = newStore();
    for (let end = T0 + SUB; end <= T0 + 8 * MINUTE; end += SUB) {
      // Tenths do not add up exactly in a double: only the aggregate-by-aggregate order gives the same sums.
      traffic(random, store, end - SUB, end, end > T0 + 3 * MINUTE && end < T0 + 5 * MINUTE ? 0.1 : 1);
      store.closeThrough(end);
      for (const v of views) assert.deepEqual(store.snapshot(v, end).groups, expected(store, v, end), v.id);
    }
  });

  it('notice an event added into a closed sub-window and answer with it', () => {
    const random = rng(5);
    const store = newStore();
    traffic(random, store, T0, T0 + 6 * MINUTE);
    store.closeThrough(T0 + 6 * MINUTE);
    for (const v of views) store.snapshot(v, T0 + 6 * MINUTE);
    store.add(call({ time: T0 + 5 * MINUTE, latency: 1e6 }));
    store.add(call({ time: T0 + 4 * MINUTE, region: 'nowhere', latency: 3 }));
    for (const v of views) assert.deepEqual(store.snapshot(v, T0 + 6 * MINUTE).groups, expected(store, v, T0 + 6 * MINUTE), v.id);
    assert.equal(valuesOf(store.snapshot(views[0], T0 + 6 * MINUTE), 'region=eu').max, 1e6);
  });

  it('answer a window reaching into open sub-windows from the digests as they are', () => {
    const random = rng(9);
    const store = newStore();
    traffic(random, store, T0, T0 + 3 * MINUTE);
    store.closeThrough(T0 + 2 * MINUTE);
    for (const v of views) assert.deepEqual(store.snapshot(v, T0 + 3 * MINUTE).groups, expected(store, v, T0 + 3 * MINUTE), v.id);
    for (const v of views) assert.deepEqual(store.snapshot(v, T0 + 2 * MINUTE).groups, expected(store, v, T0 + 2 * MINUTE), v.id);
  });
});

describe('FamilyWindowStore repeated queries', () => {
  it('answer a repeated query again without sharing objects, and see every change to the store', () => {
    const store = newStore();
    firstMinute(store);
    const options = { groupBy: ['region'], stats: ['count', 'failed'], signal: 'outcomes' };
    const first = ask(store, options);
    first.groups[0].values.count = 999;
    (first.groups[0].labels as Record<string, string>).region = 'mars';
    const second = ask(store, options);
    assert.notEqual(second, first);
    assert.deepEqual(valuesOf(second, 'region=eu'), { count: 3, failed: 1 });
    store.add(call({ time: T0 + 1000, failed: true }));
    assert.deepEqual(valuesOf(ask(store, options), 'region=eu'), { count: 4, failed: 2 });
    // The same question in other words (a filter with an undefined value) is the same answer.
    assert.deepEqual(ask(store, { ...options, filter: { tier: undefined } }), ask(store, options));
    store.evictBefore(T0 + MINUTE);
    assert.deepEqual(ask(store, options).groups, []);
  });
});
