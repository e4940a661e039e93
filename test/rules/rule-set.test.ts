import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigilError } from '../../src/errors.js';
import type { AlertEvent, SignalSnapshot, SignalView } from '../../src/model/index.js';
import { RuleSet, type RuleSetState } from '../../src/rules/index.js';
import { boundary, makeSnapshot, type GroupSpec } from '../helpers/snapshot-factory.js';
import { rulesOf } from './rule-fixtures.js';

const GPT = { model: 'gpt-4o' };
const CLAUDE = { model: 'claude' };

function viewOf(set: RuleSet, ruleName: string): SignalView {
  const rule = set.rules.find((r) => r.name === ruleName);
  const view = set.views.find((v) => v.id === rule?.viewId);
  assert.ok(view, `view of ${ruleName}`);
  return view;
}

/** The two views of {@link tieredRules}, one snapshot of each per boundary, for `p99` and `p50` series. */
function scenario(set: RuleSet, series: ReadonlyArray<[p99: GroupSpec[], p50: GroupSpec[]]>): SignalSnapshot[] {
  const byModel = viewOf(set, 'p99-warning');
  const byService = viewOf(set, 'p50-service');
  return series.flatMap(([p99, p50], i) => [makeSnapshot(byModel, boundary(i), p99), makeSnapshot(byService, boundary(i), p50)]);
}

function tieredRules() {
  return rulesOf([
    { name: 'p99-warning', threshold: 5000, severity: 'warning' },
    { name: 'p99-critical', threshold: 8000, for: '20s' },
    { name: 'p50-service', stat: 'p50', groupBy: ['service'], threshold: 3000, severity: 'warning' },
  ]);
}

const SERIES: ReadonlyArray<[GroupSpec[], GroupSpec[]]> = [
  [[{ labels: GPT, count: 50, value: 9000 }], [{ labels: { service: 'chat-api' }, count: 50, value: 100 }]],
  [[{ labels: GPT, count: 50, value: 9000 }, { labels: CLAUDE, count: 50, value: 6000 }], [{ labels: { service: 'chat-api' }, count: 50, value: 3500 }]],
  [[{ labels: GPT, count: 50, value: 9000 }, { labels: CLAUDE, count: 50, value: 6000 }], []],
  [[{ labels: CLAUDE, count: 50, value: 1000 }], []],
  [[], []],
];

const summary = (alerts: readonly AlertEvent[]): string[] => alerts.map((a) => `${a.ruleName}:${a.state}:${a.groupKey}`);

describe('RuleSet', () => {
  it('asks for each distinct view once', () => {
    const set = new RuleSet(tieredRules());
    assert.equal(set.views.length, 2);
    assert.deepEqual(
      set.views.map((v) => [v.groupBy, v.stats]),
      [
        [['model'], ['p99']],
        [['service'], ['p50']],
      ],
    );
  });

  it('evaluates a snapshot with every rule on its view, rules in file order', () => {
    const set = new RuleSet(tieredRules());
    const out = scenario(set, SERIES).map((s) => summary(set.evaluate(s)));
    assert.deepEqual(out, [
      ['p99-warning:FIRING:model=gpt-4o'],
      [],
      ['p99-warning:FIRING:model=claude'],
      ['p50-service:FIRING:service=chat-api'],
      ['p99-critical:FIRING:model=gpt-4o'],
      ['p50-service:RESOLVED:service=chat-api'],
      // Groups in the snapshot come first, then tracked groups absent from it.
      ['p99-warning:RESOLVED:model=claude', 'p99-warning:RESOLVED:model=gpt-4o', 'p99-critical:RESOLVED:model=gpt-4o'],
      [],
      [],
      [],
    ]);
  });

  it('lists the firing alerts by rule, and yields nothing for a view no rule reads', () => {
    const set = new RuleSet(tieredRules());
    const snapshots = scenario(set, SERIES.slice(0, 3));
    for (const s of snapshots) set.evaluate(s);
    assert.deepEqual(summary(set.firing()), ['p99-warning:FIRING:model=gpt-4o', 'p99-warning:FIRING:model=claude', 'p99-critical:FIRING:model=gpt-4o']);
    assert.deepEqual(set.evaluate({ ...snapshots[0], viewId: 'nobody-reads-this', windowEnd: boundary(99) }), []);
  });

  it('keeps a bounded history of emitted alerts, oldest first', () => {
    const set = new RuleSet(tieredRules(), { historySize: 3 });
    const emitted = scenario(set, SERIES).flatMap((s) => set.evaluate(s));
    assert.equal(emitted.length, 8);
    assert.deepEqual(set.recent(), emitted.slice(-3));
    assert.deepEqual(set.recent(2), emitted.slice(-2));
    assert.deepEqual(set.recent(0), []);
    assert.deepEqual(new RuleSet(tieredRules()).recent(), []);
  });

  it('yields identical alerts when a fresh rule set is fed the same snapshots', () => {
    const runOnce = (): AlertEvent[] => {
      const set = new RuleSet(tieredRules());
      return scenario(set, SERIES).flatMap((s) => set.evaluate(s));
    };
    const a = runOnce();
    assert.ok(a.length > 0);
    assert.deepEqual(runOnce(), a);
  });

  it('restores every rule state by rule name and carries on as if never stopped', () => {
    const reference = new RuleSet(tieredRules());
    const snapshots = scenario(reference, SERIES);
    const expected = snapshots.map((s) => reference.evaluate(s));
    const before = new RuleSet(tieredRules());
    for (const s of snapshots.slice(0, 6)) before.evaluate(s);
    const saved = JSON.parse(JSON.stringify(before.getState())) as RuleSetState;

    const after = new RuleSet(tieredRules());
    after.restoreState(saved);
    assert.deepEqual(after.firing(), before.firing());
    assert.deepEqual(
      snapshots.slice(6).map((s) => after.evaluate(s)),
      expected.slice(6),
    );
    assert.ok(expected.slice(6).flat().length > 0);
  });

  it('refuses two rules with the same name and a history size that is not a positive whole number', () => {
    const [a] = rulesOf([{ name: 'same' }]);
    assert.throws(() => new RuleSet([a, a]), (err) => isVigilError(err, 'VIGIL_RULES_INVALID'));
    assert.throws(() => new RuleSet([a], { historySize: 0 }), (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
  });
});
