import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/vigil-config.js';
import { DEFAULT_INCIDENTS } from '../../src/demo/traffic-generator.js';
import { createEngine, loadRules, priceTableOf } from '../../src/engine/engine-factory.js';
import type { AlertEvent, EvalScoreEvent, FeedbackEvent, LlmSpan } from '../../src/model/index.js';
import { PartitionTask } from '../../src/signals/partition-task.js';
import { channelOf } from '../../src/sources/kafka-source.js';
import { ROOT } from '../helpers/cli.js';
import { liveDemoEvents } from '../helpers/live-demo-events.js';

const START = Date.UTC(2026, 0, 1);
const TASKS = 3;
const CHUNK = 500;
const RULES = `${ROOT}/rules/demo-rules.yaml`;

function keyOf(k: string): number {
  let x = 0;
  for (let i = 0; i < k.length; i++) x = (x * 31 + k.charCodeAt(i)) >>> 0;
  return x % TASKS;
}

interface Partition {
  spans: LlmSpan[];
  feedback: FeedbackEvent[];
  evals: EvalScoreEvent[];
}

const events = liveDemoEvents({ seed: 42, startTime: START }, 30 * 60_000);
// Keyed as partitioned state needs: spans and feedback by user, else trace; evals by trace.
const partitions: Partition[] = Array.from({ length: TASKS }, (_, p) => ({
  spans: events.spans.filter((s) => keyOf(s.userId ?? s.traceId) === p),
  feedback: events.feedback.filter((f) => keyOf(f.userId ?? f.traceId ?? '') === p),
  evals: events.evals.filter((e) => keyOf(e.traceId ?? '') === p),
}));

/** Runs every task over its partitions and the group-wide engine over their output, in `order`. */
async function run(order: 'interleaved' | 'one task after another'): Promise<AlertEvent[]> {
  const config = parseConfig({ windows: { idleAdvanceAfter: '1h' }, rules: RULES }, { env: {} });
  const engine = createEngine(config, await loadRules(RULES, config), { merged: true });
  engine.setChannels(Array.from({ length: TASKS }, (_, i) => i));
  const w = config.windows;
  const tasks = Array.from(
    { length: TASKS },
    (_, p) =>
      new PartitionTask({
        task: p,
        channels: [0, 1, 2].map((topic) => channelOf(topic, p)),
        horizonMs: 70 * 60_000,
        pipeline: { slideMs: w.slide, allowedLatenessMs: w.allowedLateness, slowSubWindowMs: w.slowSubWindow, prices: priceTableOf(config), scanInjection: true, scanPii: true, requestTimeoutMs: config.signals.requestTimeout },
      }),
  );
  const alerts: AlertEvent[] = [];
  const step = (p: number, i: number): boolean => {
    let any = false;
    for (const [topic, kind] of [[0, 'spans'], [1, 'feedback'], [2, 'evals']] as const) {
      const list = partitions[p][kind].slice(i * CHUNK, (i + 1) * CHUNK);
      if (list.length === 0) continue;
      any = true;
      const out = tasks[p].process({
        topic: kind,
        channel: channelOf(topic, p),
        firstOffset: i * CHUNK,
        lastOffset: i * CHUNK + list.length - 1,
        spans: kind === 'spans' ? (list as LlmSpan[]) : [],
        feedback: kind === 'feedback' ? (list as FeedbackEvent[]) : [],
        evals: kind === 'evals' ? (list as EvalScoreEvent[]) : [],
      });
      alerts.push(...engine.merge(out.partials.map((partial) => ({ task: p, partial })), out.checkpoints));
    }
    return any;
  };
  if (order === 'interleaved') {
    for (let i = 0, any = true; any; i++) {
      any = false;
      for (let p = 0; p < TASKS; p++) any = step(p, i) || any;
    }
  } else {
    for (let p = 0; p < TASKS; p++) for (let i = 0; step(p, i); i++);
  }
  return alerts;
}

describe('the group-wide engine over partition tasks', () => {
  it('alerts on every planted incident, and the same alerts however far one task runs ahead of the others', async () => {
    const interleaved = await run('interleaved');
    const sequential = await run('one task after another');
    const key = (a: AlertEvent): string => `${a.alertId} ${a.state} ${a.windowEnd} ${a.value}`;
    assert.deepEqual(sequential.map(key), interleaved.map(key));
    for (const incident of DEFAULT_INCIDENTS) {
      const mine = interleaved.filter((a) => a.ruleName === incident.rule && a.groupKey === incident.groupKey);
      assert.deepEqual(mine.map((a) => a.state), ['FIRING', 'RESOLVED'], incident.name);
    }
    assert.equal(interleaved.length, 2 * DEFAULT_INCIDENTS.length);
  });
});
