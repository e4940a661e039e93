import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PERCENTILE_SIGNALS, PercentileWindowStore, parseStat } from '../../operators/percentile-window-store.js';
import type { PercentileQueryOptions } from '../../operators/percentile-window-store.js';
import { OVERFLOW_KEY } from '../../operators/sub-window-ring.js';
import { isVigilError } from '../../src/errors.js';
import { DIMENSIONS, dimensionValue, groupKeyOf } from '../../src/model/dimensions.js';
import type { Dimension, GroupLabels } from '../../src/model/dimensions.js';
import type { LlmSpan } from '../../src/model/llm-span.js';
import type { SignalView } from '../../src/model/signal-snapshot.js';
import { BASE_TIME, makeSpan } from '../helpers/span-factory.js';

const SLIDE = 1000;
const RETENTION = 10_000;

function newStore(extra: { maxKeysPerSubWindow?: number } = {}): PercentileWindowStore {
  return new PercentileWindowStore({ slideMs: SLIDE, retentionMs: RETENTION, ...extra });
}

function ask(store: PercentileWindowStore, overrides: Partial<PercentileQueryOptions> = {}) {
  return store.query({
    metric: 'latency',
    windowMs: 5000,
    end: BASE_TIME + 5000,
    groupBy: [],
    filter: {},
    quantiles: [0.5],
    ...overrides,
  });
}

function view(overrides: Partial<SignalView> = {}): SignalView {
  return { id: 'v', signal: 'latency', groupBy: [], windowMs: 5000, filter: {}, stats: ['count'], ...overrides };
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
    for (const name of ['p0', 'p100', 'p050', 'p99.90', 'p999', 'p', 'p.5', 'p-1', 'P99', 'p99 ', 'median', 'sum', '']) {
      assert.equal(parseStat(name), undefined, name);
    }
  });

  it('names the signals the store answers', () => {
    assert.deepEqual([...PERCENTILE_SIGNALS], ['latency', 'ttft']);
  });
});

describe('PercentileWindowStore', () => {
  it('answers count, min, max, mean and quantiles of the spans in the window', () => {
    const store = newStore();
    for (const durationMs of [10, 20, 30, 40]) store.add(makeSpan({ startTime: BASE_TIME + 100, durationMs }));
    const result = ask(store, { quantiles: [0, 1] });
    assert.equal(result.windowStart, BASE_TIME);
    assert.equal(result.windowEnd, BASE_TIME + 5000);
    assert.equal(result.groups.length, 1);
    const [g] = result.groups;
    assert.equal(g.key, '*');
    assert.deepEqual(g.labels, {});
    assert.equal(g.count, 4);
    assert.equal(g.min, 10);
    assert.equal(g.max, 40);
    assert.equal(g.mean, 25);
    assert.deepEqual(g.quantiles, [10, 40]);
  });

  it('sub-windows expire: a value leaves the window once it slides past', () => {
    const store = newStore();
    store.add(makeSpan({ startTime: BASE_TIME + 999, durationMs: 500 }));
    store.add(makeSpan({ startTime: BASE_TIME + 1000, durationMs: 7 }));
    assert.equal(ask(store, { windowMs: 2000, end: BASE_TIME + 2000 }).groups[0].count, 2);
    const slid = ask(store, { windowMs: 2000, end: BASE_TIME + 3000 });
    assert.equal(slid.groups[0].count, 1);
    assert.equal(slid.groups[0].max, 7, 'the 500 ms span slid out');
  });

  it('a window with no events answers count 0, not stale numbers', () => {
    const store = newStore();
    store.add(makeSpan({ startTime: BASE_TIME + 100, durationMs: 900 }));
    store.add(makeSpan({ startTime: BASE_TIME + 100, ttftMs: 90 }));
    assert.equal(ask(store, { windowMs: 1000, end: BASE_TIME + 1000 }).groups.length, 1);
    assert.deepEqual(ask(store, { windowMs: 1000, end: BASE_TIME + 2000 }).groups, []);
    assert.deepEqual(ask(store, { metric: 'ttft', windowMs: 1000, end: BASE_TIME + 2000 }).groups, []);
    const snap = store.snapshot(view({ windowMs: 3000, stats: ['count', 'p99'] }), BASE_TIME + 4000);
    assert.deepEqual(snap.groups, []);
    store.evictBefore(BASE_TIME + 1000);
    assert.deepEqual(ask(store, { windowMs: 1000, end: BASE_TIME + 1000 }).groups, [], 'evicted data is gone too');
    assert.equal(store.stats().subWindows, 0);
  });

  it('a view grouped by a dimension leaves out spans without a value for it, while a query shows them as (none)', () => {
    const store = newStore();
    store.add(makeSpan({ startTime: BASE_TIME, model: 'gpt-4o', durationMs: 10 }));
    store.add(makeSpan({ startTime: BASE_TIME, model: null, kind: 'PIPELINE', durationMs: 20 }));
    const snap = store.snapshot(view({ groupBy: ['model'], windowMs: 1000 }), BASE_TIME + 1000);
    assert.deepEqual(snap.groups.map((g) => g.key), ['model=gpt-4o']);
    const ungrouped = store.snapshot(view({ windowMs: 1000 }), BASE_TIME + 1000);
    assert.equal(ungrouped.groups[0].count, 2);
    assert.deepEqual(ask(store, { windowMs: 1000, end: BASE_TIME + 1000, groupBy: ['model'] }).groups.map((g) => g.key), ['model=(none)', 'model=gpt-4o']);
  });

  it('takes ttft only from streaming spans', () => {
    const store = newStore();
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 1000, ttftMs: 120 }));
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 2000, ttftMs: 80 }));
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 3000, ttftMs: null }));
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 4000, model: 'embed-3', ttftMs: null }));
    const latency = ask(store, { groupBy: ['model'] });
    assert.deepEqual(
      latency.groups.map((g) => [g.key, g.count]),
      [
        ['model=embed-3', 1],
        ['model=gpt-4o', 3],
      ],
    );
    const ttft = ask(store, { metric: 'ttft', groupBy: ['model'], quantiles: [] });
    assert.equal(ttft.groups.length, 1, 'a model without streaming spans has no ttft group');
    assert.equal(ttft.groups[0].key, 'model=gpt-4o');
    assert.equal(ttft.groups[0].count, 2);
    assert.equal(ttft.groups[0].min, 80);
    assert.equal(ttft.groups[0].max, 120);
  });

  it('groups by any combination of dimensions and filters like a brute-force count', () => {
    const random = rng(7);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
    const store = newStore();
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
        const result = store.query({ metric: 'latency', windowMs, end, groupBy, filter, quantiles: [] });
        const actual = new Map(result.groups.map((g) => [g.key, { count: g.count, min: g.min, max: g.max }]));
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
    const store = newStore();
    store.add(makeSpan({ startTime: BASE_TIME, tenantId: 'acme' }));
    assert.equal(ask(store, { groupBy: ['tenant', 'model'] }).groups[0].key, 'tenant=acme,model=gpt-4o');
    assert.equal(ask(store, { groupBy: ['model', 'tenant'] }).groups[0].key, 'model=gpt-4o,tenant=acme');
  });

  it('query p99 equals the exact p99 of 20k lognormal latencies within 1 % of value and 0.001 of rank', () => {
    // Bound stated for δ = 100 on data spread over 5 sub-windows × 4 fine keys (20 digests merged in
    // one TDigest.merge): the estimate's rank lies within ±0.001 of q for p99 and p99.9 and ±0.005 for
    // p50 and p90; its value within 1 % of the exact order statistic up to p99 (p99.9 sits in the
    // sparse tail — 20 values above it — where only the rank bound is meaningful).
    const random = rng(42);
    const store = newStore();
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const durationMs = lognormal(random, Math.log(300), 0.8);
      values.push(durationMs);
      store.add(
        makeSpan({
          startTime: BASE_TIME + (i % 5) * 1000 + (i % 997),
          durationMs,
          tenantId: `t${i % 4}`,
        }),
      );
    }
    values.sort((a, b) => a - b);
    const qs = [0.5, 0.9, 0.99, 0.999];
    const rankBound = [0.005, 0.005, 0.001, 0.001];
    const [g] = ask(store, { quantiles: qs }).groups;
    assert.equal(g.count, values.length);
    assert.equal(g.min, values[0]);
    assert.equal(g.max, values[values.length - 1]);
    qs.forEach((q, i) => {
      const estimate = g.quantiles[i];
      const exact = exactQuantile(values, q);
      const [lo, hi] = rankOf(values, estimate);
      assert.ok(lo - rankBound[i] <= q && q <= hi + rankBound[i], `q=${q}: estimate ${estimate} has rank [${lo}, ${hi}]`);
      if (q <= 0.99) assert.ok(Math.abs(estimate - exact) / exact <= 0.01, `q=${q}: estimate ${estimate} vs exact ${exact}`);
    });
  });

  it('rejects a window that is not a positive multiple of the slide within the retention, naming window', () => {
    const store = newStore();
    for (const windowMs of [0, -1000, 1500, RETENTION + SLIDE, Number.NaN]) {
      assert.throws(
        () => ask(store, { windowMs }),
        (err) =>
          isVigilError(err, 'VIGIL_QUERY_INVALID') && err.details.param === 'window' && /\bwindow\b/.test(err.message),
        `windowMs=${windowMs}`,
      );
      assert.throws(
        () => store.snapshot(view({ windowMs }), BASE_TIME + 5000),
        (err) => isVigilError(err, 'VIGIL_QUERY_INVALID') && err.details.param === 'window',
      );
    }
    assert.equal(ask(store, { windowMs: RETENTION, end: BASE_TIME + RETENTION }).groups.length, 0);
  });

  it('rejects other malformed query parameters, naming each', () => {
    const store = newStore();
    const cases: [Partial<PercentileQueryOptions>, string][] = [
      [{ end: BASE_TIME + 1500 }, 'end'],
      [{ metric: 'cost' as 'latency' }, 'metric'],
      [{ groupBy: ['region' as Dimension] }, 'groupBy'],
      [{ groupBy: ['model', 'model'] }, 'groupBy'],
      [{ filter: { region: 'eu' } as GroupLabels }, 'filter'],
      [{ quantiles: [1.5] }, 'quantiles'],
    ];
    for (const [overrides, param] of cases) {
      assert.throws(
        () => ask(store, overrides),
        (err) => isVigilError(err, 'VIGIL_QUERY_INVALID') && err.details.param === param,
        param,
      );
    }
  });

  it('snapshots a view with its stats, groups and window', () => {
    const store = newStore();
    for (const durationMs of [100, 200, 300]) store.add(makeSpan({ startTime: BASE_TIME + 1000, durationMs }));
    store.add(makeSpan({ startTime: BASE_TIME + 2000, durationMs: 50, model: 'claude', ttftMs: 5 }));
    const v = view({ id: 'lat-by-model', groupBy: ['model'], stats: ['p50', 'count', 'min', 'max', 'mean', 'p99.9'] });
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
    assert.equal(gpt.count, 3);
    assert.equal(gpt.min, 100);
    assert.equal(gpt.max, 300);
    assert.equal(gpt.mean, 200);
    assert.equal(gpt.p50, 200);
    assert.equal(gpt['p99.9'], 300);
    const ttft = store.snapshot(view({ signal: 'ttft', stats: ['max'] }), BASE_TIME + 5000);
    assert.deepEqual(ttft.groups, [{ key: '*', labels: {}, count: 1, values: { max: 5 } }]);
  });

  it('rejects a view of another signal or with an unknown stat', () => {
    const store = newStore();
    assert.throws(
      () => store.snapshot(view({ signal: 'cost' }), BASE_TIME + 5000),
      (err) => isVigilError(err, 'VIGIL_QUERY_INVALID') && err.details.param === 'signal',
    );
    assert.throws(
      () => store.snapshot(view({ stats: ['p100'] }), BASE_TIME + 5000),
      (err) => isVigilError(err, 'VIGIL_QUERY_INVALID') && err.details.param === 'stats' && /p100/.test(err.message),
    );
  });

  it('routes fine keys beyond maxKeysPerSubWindow to an (overflow) group and counts them', () => {
    const store = newStore({ maxKeysPerSubWindow: 2 });
    for (const tenantId of ['a', 'b', 'c', 'd']) store.add(makeSpan({ startTime: BASE_TIME, tenantId }));
    const groups = ask(store, { groupBy: ['tenant'] }).groups;
    assert.deepEqual(
      groups.map((g) => [g.key, g.count]),
      [
        [`tenant=${encodeURIComponent(OVERFLOW_KEY)}`, 2],
        ['tenant=a', 1],
        ['tenant=b', 1],
      ],
    );
    assert.equal(store.stats().overflowCount, 2);
    assert.equal(ask(store, { filter: { tenant: 'c' } }).groups.length, 0, 'overflowed spans match no filter value');
    for (let i = 0; i < 1000; i++) store.add(makeSpan({ startTime: BASE_TIME, tenantId: `flood-${i}` }));
    assert.equal(store.stats().labelCombinations, 2, 'a flood of overflowed keys leaves no trace');
    store.add(makeSpan({ startTime: BASE_TIME + 1000, tenantId: 'c' }));
    store.evictBefore(BASE_TIME + 1000);
    assert.deepEqual(
      [store.stats().labelCombinations, store.stats().keys, ask(store, { groupBy: ['tenant'] }).groups[0].key],
      [1, 1, 'tenant=c'],
    );
  });

  it('skips and counts non-finite values instead of poisoning a digest', () => {
    const store = newStore();
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: Number.NaN, ttftMs: Infinity }));
    store.add(makeSpan({ startTime: BASE_TIME, durationMs: 10 }));
    assert.equal(ask(store).groups[0].count, 1);
    assert.equal(store.stats().invalidValues, 2);
  });

  it('reports sub-windows, keys, digests and approximate bytes, and compacts closed sub-windows', () => {
    const store = newStore();
    for (let i = 0; i < 5000; i++) {
      store.add(makeSpan({ startTime: BASE_TIME + (i % 2) * 1000, durationMs: i, ttftMs: i % 2 === 0 ? i : null }));
    }
    const open = store.stats();
    assert.equal(open.subWindows, 2);
    assert.equal(open.keys, 2);
    assert.equal(open.digests, 3);
    assert.ok(open.approxBytes > 0);
    store.closeThrough(BASE_TIME + 2000);
    const closed = store.stats();
    assert.ok(closed.approxBytes <= open.approxBytes, `${closed.approxBytes} <= ${open.approxBytes}`);
    assert.equal(ask(store, { quantiles: [] }).groups[0].count, 5000, 'compaction keeps every value');
  });
});
