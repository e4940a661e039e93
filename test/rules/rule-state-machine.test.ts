import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertEvent, SignalView } from '../../src/model/index.js';
import { alertIdOf, RuleStateMachine, ruleViewOf, type RuleDefinition, type RuleState } from '../../src/rules/index.js';
import { boundary, makeSnapshot, type GroupSpec } from '../helpers/snapshot-factory.js';
import { EVAL_SLIDE_MS, evalDropRule, ruleOf, type RuleFields } from './rule-fixtures.js';

const GPT = { model: 'gpt-4o' };
const CLAUDE = { model: 'claude' };

/** One evaluation's input: the p99 of gpt-4o with 100 events, or null when the group is absent. */
type Point = number | null | GroupSpec[];

interface Run {
  machine: RuleStateMachine;
  view: SignalView;
  /** Events by evaluation index. */
  events: Array<{ at: number; event: AlertEvent }>;
}

function machineOf(fields: RuleFields): { rule: RuleDefinition; machine: RuleStateMachine; view: SignalView } {
  const rule = ruleOf(fields);
  return { rule, machine: new RuleStateMachine(rule), view: ruleViewOf(rule) };
}

/** Feeds one snapshot per point at consecutive 10 s boundaries from `from`, collecting the events. */
function feed(machine: RuleStateMachine, view: SignalView, points: readonly Point[], from = 0): Run {
  const events: Run['events'] = [];
  points.forEach((p, i) => {
    const groups = p === null ? [] : Array.isArray(p) ? p : [{ labels: GPT, count: 100, value: p }];
    for (const event of machine.evaluate(makeSnapshot(view, boundary(from + i), groups))) events.push({ at: from + i, event });
  });
  return { machine, view, events };
}

function run(fields: RuleFields, points: readonly Point[]): Run {
  const { machine, view } = machineOf(fields);
  return feed(machine, view, points);
}

const states = (r: Run): string[] => r.events.map((e) => `${e.at}:${e.event.state}:${e.event.groupKey}`);

describe('RuleStateMachine', () => {
  it('with for: 1m on a 10 s slide, fires only once the condition has held for 60 s: the evaluation after six holding ones', () => {
    const r = run({ for: '1m' }, [9000, 9000, 9000, 9000, 9000, 9000, 9000, 9000]);
    assert.deepEqual(states(r), ['6:FIRING:model=gpt-4o']);
    const firing = r.events[0].event;
    assert.equal(firing.episodeStart, boundary(0));
    assert.equal(firing.windowEnd - firing.episodeStart, 60_000);
  });

  it('with for: 1m, does not fire when the condition breaks before a minute, and starts the episode over', () => {
    const r = run({ for: '1m' }, [9000, 9000, 9000, 9000, 9000, 9000, 100, 9000, 9000, 9000, 9000, 9000, 9000, 9000]);
    assert.deepEqual(states(r), ['13:FIRING:model=gpt-4o']);
    assert.equal(r.events[0].event.episodeStart, boundary(7));
    assert.deepEqual(run({ for: '1m' }, [9000, 9000, 9000, 9000, 9000, 9000, null, 9000]).events, [], 'an absent group breaks it too');
  });

  it('with for: 0, fires at the first evaluation where the condition holds', () => {
    const r = run({}, [100, 9000]);
    assert.deepEqual(states(r), ['1:FIRING:model=gpt-4o']);
    assert.equal(r.events[0].event.episodeStart, boundary(1));
  });

  it('emits FIRING then RESOLVED with the same alertId and episodeStart, and readable messages', () => {
    const r = run({ name: 'model-p99-latency', for: '1m' }, [9000, 9000, 9000, 9000, 9000, 9000, 9412, 3100]);
    assert.deepEqual(states(r), ['6:FIRING:model=gpt-4o', '7:RESOLVED:model=gpt-4o']);
    const [firing, resolved] = r.events.map((e) => e.event);
    assert.deepEqual(firing, {
      alertId: alertIdOf('model-p99-latency', 'model=gpt-4o', boundary(0)),
      ruleName: 'model-p99-latency',
      state: 'FIRING',
      severity: 'CRITICAL',
      signal: 'latency',
      stat: 'p99',
      groupKey: 'model=gpt-4o',
      groupLabels: { model: 'gpt-4o' },
      comparator: '>',
      value: 9412,
      threshold: 8000,
      windowMs: 300_000,
      windowStart: boundary(6) - 300_000,
      windowEnd: boundary(6),
      episodeStart: boundary(0),
      sampleCount: 100,
      message: 'p99 latency by model=gpt-4o is 9,412 ms (> 8,000) over 5m [critical]',
    });
    assert.equal(resolved.alertId, firing.alertId);
    assert.equal(resolved.episodeStart, firing.episodeStart);
    assert.equal(resolved.value, 3100);
    assert.equal(resolved.windowEnd, boundary(7));
    assert.equal(resolved.message, 'RESOLVED: p99 latency by model=gpt-4o back to 3,100 ms (threshold 8,000) over 5m');
    assert.deepEqual(r.machine.activeAlerts(), []);
  });

  it('gives a new episode a new alertId', () => {
    const r = run({}, [9000, 100, 9000]);
    assert.deepEqual(states(r), ['0:FIRING:model=gpt-4o', '1:RESOLVED:model=gpt-4o', '2:FIRING:model=gpt-4o']);
    assert.notEqual(r.events[0].event.alertId, r.events[2].event.alertId);
  });

  it('does not resolve while the value is below the threshold but inside the hysteresis band', () => {
    // threshold 8000, hysteresis 0.1: it clears only at or below 7200.
    const r = run({}, [9000, 7900, 7500, 7201, 7200]);
    assert.deepEqual(states(r), ['0:FIRING:model=gpt-4o', '4:RESOLVED:model=gpt-4o']);
  });

  it('does not flap while the value oscillates around the threshold', () => {
    const r = run({}, [8100, 7900, 8200, 7800, 8050, 7300, 8400, 7950]);
    assert.deepEqual(states(r), ['0:FIRING:model=gpt-4o']);
    assert.equal(r.machine.activeAlerts().length, 1);
    assert.equal(r.machine.activeAlerts()[0].value, 8100, 'active alert is the FIRING event');
  });

  it('with hysteresis 0, resolves as soon as the condition stops holding', () => {
    assert.deepEqual(states(run({ hysteresis: 0 }, [8001, 8000])), ['0:FIRING:model=gpt-4o', '1:RESOLVED:model=gpt-4o']);
    assert.deepEqual(states(run({ hysteresis: 0, op: '>=' }, [8000, 7999.9])), ['0:FIRING:model=gpt-4o', '1:RESOLVED:model=gpt-4o']);
  });

  it('resolves only once the clear condition has held for resolveFor, restarting when it is interrupted', () => {
    const r = run({ resolveFor: '30s' }, [9000, 100, 100, 100, 9000, 100, 100, 100, 100]);
    assert.deepEqual(states(r), ['0:FIRING:model=gpt-4o', '8:RESOLVED:model=gpt-4o']);
    assert.deepEqual(states(run({ resolveFor: '30s' }, [9000, 100, 100, 7500, 100, 100, 100])), ['0:FIRING:model=gpt-4o'], 'the band interrupts too');
  });

  it('resolves a group that disappears from the snapshot, reporting value 0 and no events', () => {
    const r = run({}, [9000, null]);
    assert.deepEqual(states(r), ['0:FIRING:model=gpt-4o', '1:RESOLVED:model=gpt-4o']);
    const resolved = r.events[1].event;
    assert.equal(resolved.value, 0);
    assert.equal(resolved.sampleCount, 0);
    assert.deepEqual(resolved.groupLabels, GPT);
    assert.equal(resolved.message, 'RESOLVED: p99 latency by model=gpt-4o had no events over 5m (threshold 8,000)');
  });

  it('never fires for a group with fewer than minCount events, and resolves one that falls below it', () => {
    const few = (count: number, value: number): GroupSpec[] => [{ labels: GPT, count, value }];
    assert.deepEqual(run({ minCount: 20 }, [few(19, 20_000), few(1, 90_000)]).events, []);
    const r = run({ minCount: 20 }, [few(20, 20_000), few(5, 20_000)]);
    assert.deepEqual(states(r), ['0:FIRING:model=gpt-4o', '1:RESOLVED:model=gpt-4o']);
    assert.equal(r.events[1].event.value, 20_000, 'the value at resolution');
    assert.equal(r.events[1].event.sampleCount, 5);
    assert.match(r.events[1].event.message, /had 5 events over 5m, fewer than minCount 20/);
  });

  it('fires a < rule when a count falls below its threshold, and resolves past the band above it', () => {
    const count = (n: number): GroupSpec[] => [{ labels: { service: 'chat-api' }, count: n, value: n }];
    const r = run({ stat: 'count', groupBy: ['service'], op: '<', threshold: 10 }, [count(100), count(3), count(10), count(10.5), count(11), count(2)]);
    assert.deepEqual(states(r), ['1:FIRING:service=chat-api', '4:RESOLVED:service=chat-api', '5:FIRING:service=chat-api']);
    assert.equal(r.events[0].event.message, 'count latency by service=chat-api is 3 (< 10) over 5m [critical]');
  });

  it('reads the count stat from the group count when the snapshot has no value for it', () => {
    const { machine, view } = machineOf({ stat: 'count', op: '>', threshold: 50 });
    const events = machine.evaluate({ ...makeSnapshot(view, boundary(0)), groups: [{ key: 'model=gpt-4o', labels: GPT, count: 60, values: {} }] });
    assert.equal(events[0]?.value, 60);
  });

  it('keeps groups independent', () => {
    const r = run({}, [
      [
        { labels: GPT, count: 10, value: 9000 },
        { labels: CLAUDE, count: 10, value: 100 },
      ],
      [
        { labels: GPT, count: 10, value: 9000 },
        { labels: CLAUDE, count: 10, value: 9500 },
      ],
      [
        { labels: GPT, count: 10, value: 100 },
        { labels: CLAUDE, count: 10, value: 9500 },
      ],
      [{ labels: CLAUDE, count: 10, value: 9500 }],
    ]);
    assert.deepEqual(states(r), ['0:FIRING:model=gpt-4o', '1:FIRING:model=claude', '2:RESOLVED:model=gpt-4o']);
    assert.notEqual(r.events[0].event.alertId, r.events[1].event.alertId);
    assert.deepEqual(
      r.machine.activeAlerts().map((a) => a.groupKey),
      ['model=claude'],
    );
  });

  it('forgets groups that are not pending or firing, so memory stays bounded', () => {
    const { machine, view } = machineOf({ for: '1m' });
    const many = (value: number): GroupSpec[] => Array.from({ length: 1000 }, (_, i) => ({ labels: { model: `m${i}` }, count: 5, value }));
    feed(machine, view, [many(100), many(100)]);
    assert.equal(machine.getState().groups.length, 0);
    feed(machine, view, [many(9000)], 2);
    assert.equal(machine.getState().groups.length, 1000, 'pending');
    feed(machine, view, [many(100)], 3);
    assert.equal(machine.getState().groups.length, 0, 'pending that stopped holding is dropped without an alert');
    const r = feed(machine, view, [many(9000), many(9000), many(9000), many(9000), many(9000), many(9000), many(9000), null], 4);
    assert.equal(r.events.filter((e) => e.event.state === 'FIRING').length, 1000);
    assert.equal(r.events.filter((e) => e.event.state === 'RESOLVED').length, 1000);
    assert.equal(machine.getState().groups.length, 0);
  });

  it('ignores snapshots of other views and snapshots not later than the last one evaluated', () => {
    const { machine, view } = machineOf({});
    assert.deepEqual(machine.evaluate(makeSnapshot({ ...view, id: 'other' }, boundary(0), [{ labels: GPT, count: 9, value: 9000 }])), []);
    assert.equal(machine.evaluate(makeSnapshot(view, boundary(1), [{ labels: GPT, count: 9, value: 9000 }])).length, 1);
    assert.deepEqual(machine.evaluate(makeSnapshot(view, boundary(1), [])), [], 'a replayed boundary');
    assert.deepEqual(machine.evaluate(makeSnapshot(view, boundary(0), [])), [], 'an earlier boundary');
    assert.equal(machine.activeAlerts().length, 1);
  });

  it('stays FIRING when the group has enough events but no value for the stat', () => {
    const { machine, view } = machineOf({});
    machine.evaluate(makeSnapshot(view, boundary(0), [{ labels: GPT, count: 9, value: 9000 }]));
    assert.deepEqual(machine.evaluate(makeSnapshot(view, boundary(1), [{ labels: GPT, count: 9, values: { p99: Number.NaN } }])), []);
    assert.equal(machine.activeAlerts().length, 1);
  });

  it('puts the filter in the message and no stray unit on counts', () => {
    const r = run({ filter: { service: 'chat-api' }, groupBy: ['model', 'provider'], severity: 'info' }, [
      [{ labels: { model: 'gpt-4o', provider: 'openai' }, count: 3, value: 8000.5 }],
    ]);
    assert.equal(r.events[0].event.message, 'p99 latency where service=chat-api by model=gpt-4o, provider=openai is 8,001 ms (> 8,000) over 5m [info]');
  });

  it('fires and resolves a baseline rule on the compared value its view delivers, describing the change', () => {
    const rule = evalDropRule();
    const machine = new RuleStateMachine(rule);
    const view = ruleViewOf(rule);
    const judge = (value: number): GroupSpec[] => [{ labels: { evaluator: 'judge', metric: 'faithfulness' }, count: 40, value }];
    const events = [-0.05, -0.14, -0.12, -0.02].flatMap((v, i) => machine.evaluate(makeSnapshot(view, boundary(i, EVAL_SLIDE_MS), judge(v))));
    assert.deepEqual(
      events.map((e) => [e.state, e.groupKey, e.value, e.windowMs, e.message]),
      [
        [
          'FIRING',
          'evaluator=judge,metric=faithfulness',
          -0.14,
          900_000,
          'mean eval_score by evaluator=judge, metric=faithfulness dropped by 0.14 vs the previous 24h (< -0.1) over 15m [warning]',
        ],
        [
          'RESOLVED',
          'evaluator=judge,metric=faithfulness',
          -0.02,
          900_000,
          'RESOLVED: mean eval_score by evaluator=judge, metric=faithfulness back to a drop of 0.02 vs the previous 24h (threshold -0.1) over 15m',
        ],
      ],
    );
  });

  it('does not read a baseline count rule\'s value from the group\'s event count', () => {
    const { machine, view } = machineOf({ stat: 'count', baseline: { window: '30m' }, op: '>', threshold: 50 });
    const group = { key: 'model=gpt-4o', labels: GPT, count: 600, values: {} };
    assert.deepEqual(machine.evaluate({ ...makeSnapshot(view, boundary(0)), groups: [group] }), [], 'no compared value, no alert');
    const events = machine.evaluate({ ...makeSnapshot(view, boundary(1)), groups: [{ ...group, values: { count: 120 } }] });
    assert.equal(events[0]?.value, 120);
    assert.equal(events[0]?.message, 'count latency by model=gpt-4o rose by 120 vs the previous 30m (> 50) over 5m [critical]');
  });

  it('exports its state as plain data and continues identically after restoring it in a fresh machine', () => {
    const points: Point[] = [9000, 9000, 9000, 9000, 9000, 9000, 9000, 7500, 100, 100, 100, 100];
    const fields = { for: '1m', resolveFor: '20s' };
    const whole = run(fields, points);
    const first = run(fields, points.slice(0, 8));
    const saved = JSON.parse(JSON.stringify(first.machine.getState())) as RuleState;
    assert.equal(saved.groups[0].phase, 'FIRING');
    const { machine, view } = machineOf(fields);
    machine.restoreState(saved);
    assert.deepEqual(machine.activeAlerts(), first.machine.activeAlerts());
    const rest = feed(machine, view, points.slice(8), 8);
    assert.deepEqual([...first.events, ...rest.events], whole.events);
    assert.deepEqual(states(whole), ['6:FIRING:model=gpt-4o', '10:RESOLVED:model=gpt-4o']);
  });
});
