import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OTHER_LABEL, topGroups, type MetricGroup } from '../../src/api/top-groups.js';

const group = (model: string, count: number, values: Record<string, number>): MetricGroup => ({ labels: { model }, count, values });

describe('topGroups', () => {
  it('keeps every group when there are no more than the cap', () => {
    const groups = [group('a', 1, { v: 1 }), group('b', 2, { v: 2 })];
    assert.deepEqual(topGroups(groups, 2), groups);
  });

  it('keeps the groups with the most events and folds the rest into one other group', () => {
    const groups = [group('a', 5, { usd: 1, p99: 100 }), group('b', 50, { usd: 2, p99: 300 }), group('c', 7, { usd: 4, p99: 900 }), group('d', 30, { usd: 8, p99: 200 })];
    const out = topGroups(groups, 2, (v) => (v === 'p99' ? 'max' : 'sum'));
    assert.deepEqual(
      out.map((g) => g.labels.model),
      ['b', 'd', OTHER_LABEL],
    );
    assert.deepEqual(out[2], { labels: { model: OTHER_LABEL }, count: 12, values: { usd: 5, p99: 900 } });
  });

  it('breaks ties by labels, so the kept set does not flap between scrapes', () => {
    const groups = [group('z', 3, {}), group('m', 3, {}), group('a', 3, {})];
    assert.deepEqual(
      topGroups(groups, 2).map((g) => g.labels.model),
      ['a', 'm', OTHER_LABEL],
    );
  });

  it('leaves non-finite values out of a fold and answers NaN when none is left', () => {
    const out = topGroups([group('a', 9, { r: 1 }), group('b', 1, { r: NaN, s: 2 }), group('c', 1, { r: NaN, s: NaN })], 1);
    assert.ok(Number.isNaN(out[1].values.r));
    assert.equal(out[1].values.s, 2);
  });
});
