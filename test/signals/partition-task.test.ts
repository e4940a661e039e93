import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPriceTable } from '../../operators/cost/price-table.js';
import { TrafficGenerator } from '../../src/demo/traffic-generator.js';
import type { LlmSpan } from '../../src/model/index.js';
import { PartitionTask, type PartitionTaskOptions, type TaskOutput } from '../../src/signals/partition-task.js';
import { SignalPipeline, type TaskCheckpoint, type TaskPartial } from '../../src/signals/signal-pipeline.js';

const START = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const prices = loadPriceTable();
const pipeline = {
  slideMs: 10_000,
  allowedLatenessMs: 30_000,
  slowSubWindowMs: MINUTE,
  prices,
  scanInjection: true,
  scanPii: true,
  requestTimeoutMs: 5 * MINUTE,
};
const HORIZON = 70 * MINUTE;

function taskOptions(task: number, publishedThrough?: number): PartitionTaskOptions {
  return { task, channels: [task], pipeline, horizonMs: HORIZON, publishedThrough };
}

/** Demo traffic split into partitions by user (as a producer keying by user id does), each cut into runs. */
function partitions(minutes: number, count: number, rps = 8): LlmSpan[][] {
  const spans = new TrafficGenerator({ seed: 11, startTime: START, requestsPerSecond: rps }).spansUntil(START + minutes * MINUTE);
  const out: LlmSpan[][] = Array.from({ length: count }, () => []);
  for (const s of spans) out[hash(s.userId ?? s.traceId) % count].push(s);
  return out;
}

function hash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return h;
}

const RUN = 97;

function runAt(spans: readonly LlmSpan[], task: number, first: number) {
  const slice = spans.slice(first, first + RUN);
  return { topic: 'traces', channel: task, firstOffset: first, lastOffset: first + slice.length - 1, spans: slice, feedback: [], evals: [] };
}

/** What a task published, keyed the way the partials topic keys it (a republished key replaces). */
class Published {
  readonly partials = new Map<string, TaskPartial>();
  readonly checkpoints = new Map<number, TaskCheckpoint>();
  /** Keeps what a task published and acknowledges it, as the partials topic does. */
  add(task: number, out: TaskOutput, from?: PartitionTask): TaskOutput {
    for (const partial of out.partials) this.partials.set(`${task}/${partial.family}/${partial.start}`, { task, partial });
    for (const c of out.checkpoints) {
      this.checkpoints.set(c.boundary, c);
      from?.acknowledge(c.boundary);
    }
    return out;
  }
}

function uninterrupted(spans: readonly LlmSpan[], task: number): Published {
  const t = new PartitionTask(taskOptions(task));
  const published = new Published();
  for (let first = 0; first < spans.length; first += RUN) published.add(task, t.process(runAt(spans, task, first)), t);
  return published;
}

function comparable(p: TaskPartial): unknown {
  return { ...p.partial, entries: p.partial.entries.map((e) => ({ ...e, counters: [...e.counters], digests: e.digests.map((d) => (d === null ? null : [...d])) })) };
}

describe('PartitionTask', () => {
  it('a task restored from its restore offset publishes exactly what an uninterrupted task publishes', () => {
    const [spans] = partitions(95, 1);
    const expected = uninterrupted(spans, 0);
    assert.ok(expected.partials.size > 500, `expected many partials, got ${expected.partials.size}`);
    for (const crashAfterRuns of [40, Math.floor(spans.length / RUN) - 30]) {
      const published = new Published();
      const first = new PartitionTask(taskOptions(0));
      let offset = 0;
      for (let r = 0; r < crashAfterRuns; r++, offset += RUN) published.add(0, first.process(runAt(spans, 0, offset)), first);
      // The crash loses whatever the task held; the new owner starts from the committed restore offset.
      const restoreFrom = first.restoreOffset('traces');
      assert.ok(restoreFrom !== undefined && restoreFrom % RUN === 0);
      const second = new PartitionTask(taskOptions(0, first.checkpoint));
      const republished = new Published();
      for (let o = restoreFrom; o < spans.length; o += RUN) republished.add(0, second.process(runAt(spans, 0, o)), second);
      for (const key of republished.partials.keys()) assert.ok(!published.partials.has(key), `partial ${key} was published twice`);
      for (const [k, v] of republished.partials) published.partials.set(k, v);
      for (const [k, v] of republished.checkpoints) published.checkpoints.set(k, v);
      assert.deepEqual([...published.partials.keys()].sort(), [...expected.partials.keys()].sort());
      for (const [key, p] of expected.partials) assert.deepEqual(comparable(published.partials.get(key)!), comparable(p), `partial ${key}`);
      assert.deepEqual([...published.checkpoints.keys()].sort(), [...expected.checkpoints.keys()].sort());
      for (const [b, c] of expected.checkpoints) assert.deepEqual(published.checkpoints.get(b), c, `checkpoint ${b}`);
    }
  });

  it('a late crash replays only the horizon before the last checkpoint, not the whole partition', () => {
    const [spans] = partitions(95, 1);
    const task = new PartitionTask(taskOptions(0));
    const published = new Published();
    for (let o = 0; o < spans.length; o += RUN) published.add(0, task.process(runAt(spans, 0, o)), task);
    const from = task.restoreOffset('traces')!;
    assert.ok(from > 0, 'the restore offset moved past the start');
    // Every span from the horizon on lies at or after it; the run before it holds none.
    const cut = task.checkpoint - HORIZON;
    for (let i = 0; i < from; i++) assert.ok(spans[i].startTime < cut, `span ${i} at ${spans[i].startTime} lies within the horizon`);
  });

  it('until its checkpoint is acknowledged, the restore offset stays where a crash must replay from', () => {
    const [spans] = partitions(95, 1);
    const task = new PartitionTask(taskOptions(0));
    const checkpoints: number[] = [];
    for (let o = 0; o < spans.length; o += RUN) for (const c of task.process(runAt(spans, 0, o)).checkpoints) checkpoints.push(c.boundary);
    assert.equal(task.restoreOffset('traces'), 0, 'nothing acknowledged: replay everything');
    task.acknowledge(checkpoints[checkpoints.length - 1]);
    assert.ok(task.restoreOffset('traces')! > 0);
  });

  it('a run the task already applied is not applied again', () => {
    const [spans] = partitions(5, 1);
    const task = new PartitionTask(taskOptions(0));
    for (let o = 0; o < 10 * RUN; o += RUN) task.process(runAt(spans, 0, o));
    const before = task.pipeline.status().spans;
    task.process(runAt(spans, 0, 5 * RUN));
    assert.equal(task.pipeline.status().spans, before);
    assert.equal(task.nextOffset('traces'), 10 * RUN);
  });

  it('a task that never had an event reports itself idle once', () => {
    const task = new PartitionTask(taskOptions(3));
    assert.deepEqual(task.idleCheck(30_000).checkpoints, []);
    const out = task.idleCheck(30_000);
    assert.equal(out.checkpoints.length, 1);
    assert.equal(out.checkpoints[0].idle, true);
    assert.equal(task.idleCheck(30_000).checkpoints.length, 0);
  });

  it('the merged partials of every partition answer span percentiles as one pipeline over all spans does', () => {
    // In event-time order: lateness is judged per partition here and over all of them there.
    const parts = partitions(20, 4, 12).map((spans) => spans.sort((a, b) => a.startTime - b.startTime));
    const merged = new SignalPipeline({ ...pipeline, allowedLatenessMs: 0, retentionMs: 60 * MINUTE, slowRetentionMs: 120 * MINUTE, views: [], merged: true });
    merged.setChannels([0, 1, 2, 3]);
    const whole = new SignalPipeline({ ...pipeline, retentionMs: 60 * MINUTE, slowRetentionMs: 120 * MINUTE, views: [] });
    const all = parts.flat().sort((a, b) => a.startTime - b.startTime);
    whole.ingest({ channel: 0, spans: all }, () => undefined);
    const outputs = parts.map((spans, task) => uninterrupted(spans, task));
    for (const published of outputs) merged.ingest({ channel: 0, spans: [], partials: [...published.partials.values()], checkpoints: [] }, () => undefined);
    const last = Math.min(...outputs.map((o) => Math.max(...o.checkpoints.keys())));
    merged.ingest({ channel: 0, spans: [], checkpoints: outputs.map((o) => o.checkpoints.get(last)!) }, () => undefined);
    assert.equal(merged.watermark.lastClosedBoundary, last);
    const query = { signal: 'latency', windowMs: 10 * MINUTE, end: last, groupBy: ['model'], filter: {}, stats: ['count', 'min', 'max', 'p50', 'p99'] };
    const a = merged.spans.query(query);
    const b = whole.spans.query(query);
    assert.deepEqual(a.groups.map((g) => g.key), b.groups.map((g) => g.key));
    for (let i = 0; i < a.groups.length; i++) {
      const [ga, gb] = [a.groups[i], b.groups[i]];
      assert.equal(ga.count, gb.count, ga.key);
      assert.equal(ga.values.min, gb.values.min);
      assert.equal(ga.values.max, gb.values.max);
      // Merged digests: within 2 % of the single digest's answer at p50 and p99 (the digest's bound here).
      for (const q of ['p50', 'p99']) assert.ok(Math.abs(ga.values[q] - gb.values[q]) <= 0.02 * gb.values[q], `${ga.key} ${q}: ${ga.values[q]} vs ${gb.values[q]}`);
    }
    const errors = { signal: 'errors', windowMs: 10 * MINUTE, end: last, groupBy: ['service'], filter: {}, stats: ['count', 'error_rate', 'timeout', 'retries'] };
    assert.deepEqual(merged.spans.query(errors), whole.spans.query(errors));
  });
});
