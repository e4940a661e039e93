import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UserAnomaly } from '../../operators/users/user-activity-tracker.js';
import { MergedUserReports, emptyUserReport, type UserReport } from '../../src/signals/user-report.js';

function anomaly(userId: string, value: number, kind: UserAnomaly['kind'] = 'rate_spike'): UserAnomaly {
  return { userId, kind, time: 1, value, baseline: 2, threshold: 10, global: false };
}

function report(tracked: number, anomalous: UserAnomaly[]): UserReport {
  const r = emptyUserReport();
  r.tracked = tracked;
  r.anomalous = anomalous;
  for (const a of anomalous) r.counts[a.kind]++;
  return r;
}

describe('MergedUserReports', () => {
  it('lists the anomalous users of every task, most severe first, and adds up the counts', () => {
    const merged = new MergedUserReports();
    merged.set(0, report(10, [anomaly('a', 20), anomaly('b', 50, 'token_spike')]));
    merged.set(1, report(5, [anomaly('c', 40)]));
    assert.deepEqual(merged.anomalous('rate_spike', 10).map((a) => a.userId), ['c', 'a']);
    assert.deepEqual(merged.anomalous('rate_spike', 1).map((a) => a.userId), ['c']);
    assert.deepEqual(merged.anomalousCounts(), { rate_spike: 2, token_spike: 1, cost_spike: 0, probing: 0, session_spread: 0 });
    assert.equal(merged.size, 15);
  });

  it('a task’s newer report replaces its older one', () => {
    const merged = new MergedUserReports();
    merged.set(0, report(10, [anomaly('a', 20)]));
    merged.set(0, report(11, []));
    assert.deepEqual(merged.anomalous('rate_spike', 10), []);
    assert.equal(merged.size, 11);
  });

  it('a report of a boundary the group has not reached waits for it, so each boundary sees every task as it was there', () => {
    const merged = new MergedUserReports();
    merged.advanceTo(10);
    merged.set(0, report(1, [anomaly('a', 20)]), 20);
    merged.set(0, report(1, []), 30);
    assert.deepEqual(merged.anomalous('rate_spike', 10), []);
    merged.advanceTo(20);
    assert.deepEqual(merged.anomalous('rate_spike', 10).map((a) => a.userId), ['a']);
    merged.advanceTo(30);
    assert.deepEqual(merged.anomalous('rate_spike', 10), []);
  });

  it('a profile comes from the local tasks, or not at all', () => {
    const merged = new MergedUserReports();
    assert.equal(merged.profile('a'), undefined);
    merged.setLocalProfiles((id) => (id === 'a' ? { userId: 'a' } as never : undefined));
    assert.equal(merged.profile('a')?.userId, 'a');
    assert.equal(merged.profile('b'), undefined);
  });
});
