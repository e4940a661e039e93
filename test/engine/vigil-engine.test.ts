import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VigilEngine } from '../../src/engine/vigil-engine.js';
import type { AlertEvent, LlmSpan } from '../../src/model/index.js';
import { testEngine } from '../helpers/test-engine.js';
import { BASE_TIME, makeSpan } from '../helpers/span-factory.js';

const RULES = `
rules:
  - name: slow-model
    signal: latency
    stat: p99
    groupBy: [model]
    window: 1m
    op: ">"
    threshold: 1000
    for: 20s
    severity: critical
`;

function engine(): VigilEngine {
  return testEngine(RULES, { slideMs: 10_000, windowMs: 60_000, retentionMs: 600_000, allowedLatenessMs: 5_000 });
}

// Two models, one span each every 500 ms of event time; gpt-4o is slow between minute 2 and 4.
function traffic(): LlmSpan[] {
  const spans: LlmSpan[] = [];
  for (let t = 0; t < 8 * 60_000; t += 500) {
    const slow = t >= 2 * 60_000 && t < 4 * 60_000;
    spans.push(makeSpan({ startTime: BASE_TIME + t, model: 'gpt-4o', durationMs: slow ? 5000 : 100 }));
    spans.push(makeSpan({ startTime: BASE_TIME + t + 1, model: 'claude-sonnet-4', provider: 'anthropic', durationMs: 200 }));
  }
  return spans;
}

function runAll(e: VigilEngine, spans: LlmSpan[], batchSize = 97): AlertEvent[] {
  const out: AlertEvent[] = [];
  for (let i = 0; i < spans.length; i += batchSize) out.push(...e.process({ source: 'test', spans: spans.slice(i, i + batchSize), deadLetters: [] }));
  out.push(...e.complete());
  return out;
}

// Cuts spans into batches of at most `size` per partition, each partition's batches in event order.
function partitionBatches(spans: LlmSpan[], partitionOf: (i: number) => number, partitions: number, size: number): { partition: number; spans: LlmSpan[] }[][] {
  const out: { partition: number; spans: LlmSpan[] }[][] = [];
  for (let p = 0; p < partitions; p++) {
    const own = spans.filter((_, i) => partitionOf(i) === p);
    const batches: { partition: number; spans: LlmSpan[] }[] = [];
    for (let i = 0; i < own.length; i += size) batches.push({ partition: p, spans: own.slice(i, i + size) });
    out.push(batches);
  }
  return out;
}

describe('VigilEngine', () => {
  it('a latency regression on one model fires once it has held for `for`, then resolves with the same alertId', () => {
    const alerts = runAll(engine(), traffic());
    assert.deepEqual(
      alerts.map((a) => [a.state, a.groupKey]),
      [
        ['FIRING', 'model=gpt-4o'],
        ['RESOLVED', 'model=gpt-4o'],
      ],
    );
    const [firing, resolved] = alerts;
    assert.equal(firing.alertId, resolved.alertId);
    // The first slow span lands in the sub-window [2m, 2m10s); the condition first holds at its end
    // and must hold for 20 s more.
    assert.equal(firing.episodeStart, BASE_TIME + 2 * 60_000 + 10_000);
    assert.equal(firing.windowEnd, firing.episodeStart + 20_000);
    assert.ok(firing.value > 1000 && firing.threshold === 1000);
    // Resolution needs the slow spans to leave the 1 m window: after minute 4 + 1 m.
    assert.ok(resolved.windowEnd >= BASE_TIME + 5 * 60_000, `resolved at +${(resolved.windowEnd - BASE_TIME) / 1000}s`);
  });

  it('processing the same data again yields the same alerts and ids, whatever the batch sizes', () => {
    const a = runAll(engine(), traffic(), 97);
    const b = runAll(engine(), traffic(), 1000);
    assert.deepEqual(b, a);
  });

  it('an event later than the allowed lateness is counted as late, and dead letters are counted', () => {
    const e = engine();
    e.process({ source: 't', spans: [makeSpan({ startTime: BASE_TIME + 60_000 })], deadLetters: [] });
    e.process({
      source: 't',
      spans: [makeSpan({ startTime: BASE_TIME + 2_000 }), makeSpan({ startTime: BASE_TIME + 58_000 })],
      deadLetters: [{ reason: 'durationMs: must be a finite number ≥ 0, got -1', source: 't', position: 3 }],
    });
    const s = e.status();
    assert.equal(s.eventsIn, 3);
    assert.equal(s.lateEvents, 1);
    assert.equal(s.deadLetters, 1);
  });

  it('a query answers over the window ending with the newest event, and count 0 once data slid out', () => {
    const e = engine();
    e.process({ source: 't', spans: [makeSpan({ startTime: BASE_TIME + 1_000, durationMs: 300 })], deadLetters: [] });
    const first = e.percentiles({ metric: 'latency', windowMs: 60_000, groupBy: ['model'], filter: {}, quantiles: [0.5] });
    assert.equal(first.window.end, BASE_TIME + 10_000);
    assert.equal(first.groups.length, 1);
    assert.equal(first.groups[0].count, 1);
    assert.equal(first.groups[0].quantiles.p50, 300);
    e.process({ source: 't', spans: [makeSpan({ startTime: BASE_TIME + 5 * 60_000, model: 'other' })], deadLetters: [] });
    const later = e.percentiles({ metric: 'latency', windowMs: 60_000, groupBy: ['model'], filter: { model: 'gpt-4o' }, quantiles: [0.5] });
    assert.deepEqual(later.groups, []);
  });

  it('the firing list holds an alert while it fires and not after it resolved', () => {
    const e = engine();
    const spans = traffic();
    const cut = spans.findIndex((s) => s.startTime >= BASE_TIME + 3 * 60_000);
    e.process({ source: 't', spans: spans.slice(0, cut), deadLetters: [] });
    assert.deepEqual(e.alerts('firing', 10).map((a) => a.groupKey), ['model=gpt-4o']);
    e.process({ source: 't', spans: spans.slice(cut), deadLetters: [] });
    assert.deepEqual(e.alerts('firing', 10), []);
    assert.deepEqual(e.alerts('all', 10).map((a) => a.state), ['FIRING', 'RESOLVED']);
  });

  it('two partitions delivered one whole partition after the other give the same alerts and counts as interleaved', () => {
    const [p0, p1] = partitionBatches(traffic(), (i) => (i % 5 < 2 ? 1 : 0), 2, 97);
    const interleaved = [];
    for (let i = 0; i < Math.max(p0.length, p1.length); i++) {
      if (i < p0.length) interleaved.push(p0[i]);
      if (i < p1.length) interleaved.push(p1[i]);
    }
    const run = (batches: { partition: number; spans: LlmSpan[] }[]) => {
      const e = engine();
      const alerts = e.setChannels([0, 1]);
      for (const b of batches) alerts.push(...e.process({ source: 'test', partition: b.partition, spans: b.spans, deadLetters: [] }));
      const counts = [60_000, 300_000].map((windowMs) =>
        e.percentiles({ metric: 'latency', windowMs, groupBy: ['model'], filter: {}, quantiles: [0.99] }).groups.map((g) => [g.key, g.count, g.quantiles.p99]),
      );
      alerts.push(...e.complete());
      return { alerts, counts, lateEvents: e.status().lateEvents, eventsIn: e.status().eventsIn };
    };
    const a = run(interleaved);
    const b = run([...p0, ...p1]);
    assert.equal(a.lateEvents, 0);
    assert.equal(b.lateEvents, 0);
    assert.equal(b.eventsIn, traffic().length);
    assert.deepEqual(b.counts, a.counts);
    assert.equal(a.counts[0].length, 2);
    assert.deepEqual(b.alerts, a.alerts);
    assert.deepEqual(a.alerts, runAll(engine(), traffic()), 'and the same alerts as one ordered partition');
  });

  it('a new partition holds event time back until it delivers, and dropping it releases it', () => {
    const e = engine();
    e.setChannels([0, 1]);
    e.process({ source: 't', partition: 0, spans: [makeSpan({ startTime: BASE_TIME + 1_000 }), makeSpan({ startTime: BASE_TIME + 60_000 })], deadLetters: [] });
    assert.equal(e.status().watermark, null, 'partition 1 has delivered nothing yet');
    assert.equal(e.status().maxEventTime, BASE_TIME + 60_000);
    e.setChannels([0]);
    assert.equal(e.status().watermark, BASE_TIME + 50_000);
    e.process({ source: 't', partition: 1, spans: [makeSpan({ startTime: BASE_TIME + 2_000 })], deadLetters: [] });
    assert.equal(e.status().lateEvents, 1, 'an undeclared partition behind the others is late');
  });

  it('using the engine after complete() is a clear error', () => {
    const e = engine();
    e.complete();
    assert.throws(() => e.process({ source: 't', spans: [], deadLetters: [] }), /completed/);
  });
});
