import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPriceTable } from '../../operators/cost/price-table.js';
import { TrafficGenerator } from '../../src/demo/traffic-generator.js';
import { PartitionTask, type TaskOutput } from '../../src/signals/partition-task.js';
import { SignalPipeline, type TaskCheckpoint } from '../../src/signals/signal-pipeline.js';
import { emptyUserReport } from '../../src/signals/user-report.js';

const START = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const settings = { slideMs: 10_000, allowedLatenessMs: 30_000, slowSubWindowMs: MINUTE, prices: loadPriceTable(), scanInjection: false, scanPii: false, requestTimeoutMs: 5 * MINUTE };

function merged(tasks: number): SignalPipeline {
  const p = new SignalPipeline({ ...settings, allowedLatenessMs: 0, retentionMs: 60 * MINUTE, slowRetentionMs: 120 * MINUTE, views: [], merged: true });
  p.setChannels(Array.from({ length: tasks }, (_, i) => i));
  return p;
}

function taskOutput(task: number, minutes: number): TaskOutput {
  const spans = new TrafficGenerator({ seed: task + 1, startTime: START, requestsPerSecond: 5 }).spansUntil(START + minutes * MINUTE).sort((a, b) => a.startTime - b.startTime);
  const t = new PartitionTask({ task, channels: [task], pipeline: settings, horizonMs: 70 * MINUTE });
  return t.process({ topic: 't', channel: task, firstOffset: 0, lastOffset: spans.length - 1, spans, feedback: [], evals: [] });
}

const checkpoint = (task: number, boundary: number, idle = false): TaskCheckpoint => ({ task, boundary, idle, users: emptyUserReport() });
const ignore = (): void => undefined;

describe('a merged SignalPipeline', () => {
  it('closes a boundary only once every task has checkpointed past it', () => {
    const p = merged(2);
    p.ingest({ channel: 0, spans: [], checkpoints: [checkpoint(0, START + 60_000)] }, ignore);
    assert.equal(p.watermark.lastClosedBoundary, -Infinity);
    p.ingest({ channel: 0, spans: [], checkpoints: [checkpoint(1, START + 30_000)] }, ignore);
    assert.equal(p.watermark.lastClosedBoundary, START + 30_000);
  });

  it('a task that reports itself idle does not hold the group back', () => {
    const p = merged(2);
    p.ingest({ channel: 0, spans: [], checkpoints: [checkpoint(0, START + 60_000), checkpoint(1, 0, true)] }, ignore);
    assert.equal(p.watermark.lastClosedBoundary, START + 60_000);
  });

  it('a republished partial is ignored and counted, so nothing is counted twice', () => {
    const p = merged(1);
    const out = taskOutput(0, 3);
    const partials = out.partials.map((partial) => ({ task: 0, partial }));
    p.ingest({ channel: 0, spans: [], partials, checkpoints: out.checkpoints }, ignore);
    const end = p.watermark.lastClosedBoundary;
    const query = { signal: 'latency', windowMs: 2 * MINUTE, end, groupBy: [], filter: {}, stats: ['count'] };
    const before = p.spans.query(query).groups[0].count;
    p.ingest({ channel: 0, spans: [], partials }, ignore);
    assert.equal(p.spans.query(query).groups[0].count, before);
    assert.equal(p.partialStatus().duplicate, partials.length);
  });

  it('a partial arriving after the group closed its sub-window still counts in queries and is reported late', () => {
    const p = merged(2);
    const out = taskOutput(1, 3);
    p.ingest({ channel: 0, spans: [], checkpoints: [checkpoint(0, START + 3 * MINUTE), checkpoint(1, START + 3 * MINUTE)] }, ignore);
    p.ingest({ channel: 0, spans: [], partials: out.partials.filter((x) => x.family === 'spans').map((partial) => ({ task: 1, partial })) }, ignore);
    assert.ok(p.partialStatus().late > 0);
    const counted = p.spans.query({ signal: 'latency', windowMs: 3 * MINUTE, end: START + 3 * MINUTE, groupBy: [], filter: {}, stats: ['count'] }).groups[0].count;
    const published = out.partials.filter((x) => x.family === 'spans' && x.start + x.subWindowMs <= START + 3 * MINUTE).reduce((n, x) => n + x.entries.reduce((m, e) => m + e.count, 0), 0);
    assert.equal(counted, published);
  });

  it('refuses partials unless it is a merged pipeline', () => {
    const plain = new SignalPipeline({ ...settings, retentionMs: 60 * MINUTE, slowRetentionMs: 120 * MINUTE, views: [] });
    assert.throws(() => plain.ingest({ channel: 0, spans: [], partials: [] }, ignore), /merged/);
  });
});
