import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SchedulerAction, SchedulerLike } from 'rxjs';
import { catchError, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { EventTimeWatermark } from '../../operators/event-time-watermark.js';
import { FamilyWindowStore } from '../../operators/family-window-store.js';
import type { SignalFamily } from '../../operators/signal-family.js';
import { slidingSignals } from '../../operators/sliding-signals.js';
import type { SlidingSignalsOptions, WindowedPipeline } from '../../operators/sliding-signals.js';
import { isVigilError } from '../../src/errors.js';
import type { LlmSpan } from '../../src/model/llm-span.js';
import type { SignalSnapshot, SignalView, SnapshotGroup } from '../../src/model/signal-snapshot.js';
import { BASE_TIME as T0, makeSpan } from '../helpers/span-factory.js';

const LATENCY: SignalView = {
  id: 'latency-max',
  signal: 'latency',
  groupBy: [],
  windowMs: 2000,
  filter: {},
  stats: ['count', 'max'],
};
const TTFT: SignalView = { id: 'ttft-max', signal: 'ttft', groupBy: [], windowMs: 1000, filter: {}, stats: ['max'] };

/** A toy family: span latency and ttft by service and model. */
const TIMINGS: SignalFamily<LlmSpan> = {
  name: 'timings',
  dimensions: ['service', 'model'],
  dimension: (span, index) => (index === 0 ? span.service : span.model),
  time: (span) => span.startTime,
  counterSignals: [],
  count: () => true,
  distributions: [
    { signal: 'latency', unit: 'ms', description: 'span durationMs', value: (span) => span.durationMs },
    { signal: 'ttft', unit: 'ms', description: 'time to first token', value: (span) => span.ttftMs },
  ],
};

/** A batch of spans from one input channel (a partition), as the engine's pipeline takes them. */
interface SpanChunk {
  channel: number;
  spans: readonly LlmSpan[];
}

/**
 * A minimal {@link WindowedPipeline}, counted the way `SignalPipeline` counts spans: per span in
 * order, `watermark.observe` decides lateness, an on-time span goes into the store, then every
 * boundary closed so far is emitted (store closed through it, one snapshot per view, old
 * sub-windows evicted) — so the output does not depend on how spans are cut into chunks.
 */
class TimingPipeline implements WindowedPipeline<SpanChunk> {
  readonly watermark: EventTimeWatermark;
  readonly store: FamilyWindowStore<LlmSpan>;

  constructor(
    private readonly views: readonly SignalView[],
    slideMs: number,
    allowedLatenessMs: number,
  ) {
    this.watermark = new EventTimeWatermark({ slideMs, allowedLatenessMs, retentionMs: 5 * slideMs });
    this.store = new FamilyWindowStore({ family: TIMINGS, subWindowMs: slideMs, retentionMs: 5 * slideMs });
  }

  ingest(chunk: SpanChunk, emit: (snapshot: SignalSnapshot) => void): void {
    for (const span of chunk.spans) {
      if (this.watermark.observe(span.startTime, chunk.channel)) this.store.add(span);
      this.emitClosed(emit);
    }
  }

  emitClosed(emit: (snapshot: SignalSnapshot) => void): void {
    const wm = this.watermark;
    for (let b = wm.pollClosedBoundary(); b !== undefined; b = wm.pollClosedBoundary()) {
      this.store.closeThrough(b);
      for (const view of this.views) emit(this.store.snapshot(view, b));
      this.store.evictBefore(b - this.store.retentionMs);
    }
  }

  complete(emit: (snapshot: SignalSnapshot) => void): void {
    this.watermark.flush();
    this.emitClosed(emit);
  }
}

function newTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

function setup(
  overrides: { allowedLatenessMs?: number; slideMs?: number; views?: readonly SignalView[] } = {},
  idle?: SlidingSignalsOptions['idle'],
) {
  const pipeline = new TimingPipeline(overrides.views ?? [LATENCY], overrides.slideMs ?? 1000, overrides.allowedLatenessMs ?? 0);
  const operator = slidingSignals(pipeline, idle === undefined ? {} : { idle });
  return { pipeline, watermark: pipeline.watermark, operator };
}

/** A chunk of `spans` from input channel `channel`. */
function on(channel: number, ...spans: LlmSpan[]): SpanChunk {
  return { channel, spans };
}

/** A chunk from channel 0 holding one span made from `overrides`. */
function one(overrides: Partial<LlmSpan>): SpanChunk {
  return on(0, makeSpan(overrides));
}

function snapshot(view: SignalView, end: number, groups: SnapshotGroup[]): SignalSnapshot {
  return {
    viewId: view.id,
    signal: view.signal,
    windowStart: end - view.windowMs,
    windowEnd: end,
    windowMs: view.windowMs,
    groupBy: view.groupBy,
    groups,
  };
}

function total(count: number, values: Record<string, number>): SnapshotGroup[] {
  return [{ key: '*', labels: {}, count, values }];
}

/**
 * Wraps a virtual-time scheduler to record the frame of every run of scheduled work, and to fail
 * loudly instead of spinning forever should a periodic timer outlive its subscription.
 */
function recordingScheduler(scheduler: TestScheduler, runs: number[]): SchedulerLike {
  return {
    now: () => scheduler.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T) {
      return scheduler.schedule<T>(
        function (this: SchedulerAction<T>, s?: T) {
          runs.push(scheduler.now());
          if (runs.length > 1000) throw new Error('idle timer still running');
          work.call(this, s);
        },
        delay,
        state,
      );
    },
  };
}

describe('slidingSignals', () => {
  it('emits one snapshot per view at each boundary the watermark closes, in view order', () => {
    const { operator } = setup({ views: [LATENCY, TTFT] });
    newTestScheduler().run(({ cold, expectObservable }) => {
      const spans: Record<string, SpanChunk> = {
        a: one({ startTime: T0 + 100, durationMs: 30, ttftMs: 3 }),
        b: one({ startTime: T0 + 1100, durationMs: 10 }),
        c: one({ startTime: T0 + 2500, durationMs: 20 }),
      };
      expectObservable(cold('-a 9ms b 9ms c 9ms |', spans).pipe(operator)).toBe('11ms (xX) 6ms (yY) 6ms (zZ|)', {
        x: snapshot(LATENCY, T0 + 1000, total(1, { count: 1, max: 30 })),
        X: snapshot(TTFT, T0 + 1000, total(1, { max: 3 })),
        y: snapshot(LATENCY, T0 + 2000, total(2, { count: 2, max: 30 })),
        Y: snapshot(TTFT, T0 + 2000, []),
        z: snapshot(LATENCY, T0 + 3000, total(2, { count: 2, max: 20 })),
        Z: snapshot(TTFT, T0 + 3000, []),
      });
    });
  });

  it('completes without snapshots when the source is empty', () => {
    const { operator } = setup();
    newTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<SpanChunk>('|').pipe(operator)).toBe('|');
      expectObservable(cold<SpanChunk>('---|').pipe(operator)).toBe('---|');
    });
  });

  it('flushes the windows still open when the source completes', () => {
    const { operator } = setup({ allowedLatenessMs: 60_000 });
    newTestScheduler().run(({ cold, expectObservable }) => {
      const spans = {
        a: one({ startTime: T0 + 100, durationMs: 5 }),
        b: one({ startTime: T0 + 1200, durationMs: 7 }),
      };
      expectObservable(cold('-a-b--|', spans).pipe(operator)).toBe('------(xy|)', {
        x: snapshot(LATENCY, T0 + 1000, total(1, { count: 1, max: 5 })),
        y: snapshot(LATENCY, T0 + 2000, total(2, { count: 2, max: 7 })),
      });
    });
  });

  it('counts an event later than the allowed lateness as late and does not add it', () => {
    const { operator, watermark } = setup({ allowedLatenessMs: 500 });
    newTestScheduler().run(({ cold, expectObservable }) => {
      const spans = {
        a: one({ startTime: T0 + 1600, durationMs: 5 }),
        b: one({ startTime: T0 + 1200, durationMs: 6 }), // within the lateness: counted
        c: one({ startTime: T0 + 900, durationMs: 999 }), // [T0, T0+1000) is closed: late
      };
      expectObservable(cold('-a-b-c|', spans).pipe(operator)).toBe('------(x|)', {
        x: snapshot(LATENCY, T0 + 2000, total(2, { count: 2, max: 6 })),
      });
    });
    assert.equal(watermark.lateCount, 1);
  });

  it('passes an upstream error through', () => {
    const { operator } = setup();
    const failure = new Error('broker gone');
    newTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', { a: one({ startTime: T0 }) }, failure);
      expectObservable(source.pipe(operator)).toBe('---#', undefined, failure);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('sends an exception thrown inside downstream as an error and unsubscribes the source', () => {
    const bad: SignalView = { ...LATENCY, id: 'bad', signal: 'cost' };
    const { operator } = setup({ views: [bad] });
    newTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', {
        a: one({ startTime: T0 }),
        b: one({ startTime: T0 + 1000 }),
        c: one({ startTime: T0 + 2000 }),
      });
      const result = source.pipe(
        operator,
        catchError((err: unknown) => of(isVigilError(err, 'VIGIL_QUERY_INVALID') ? 'query-invalid' : String(err))),
      );
      expectObservable(result).toBe('---(e|)', { e: 'query-invalid' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('advances the watermark on an idle stream in scheduler time so windows keep closing', () => {
    const testScheduler = newTestScheduler();
    const view: SignalView = { ...LATENCY, windowMs: 10 };
    const runs: number[] = [];
    const { operator } = setup(
      { slideMs: 10, views: [view] },
      { afterMs: 10, scheduler: recordingScheduler(testScheduler, runs) },
    );
    testScheduler.run(({ hot, expectObservable }) => {
      // Event time 1005 arrives at frame 1. The check at 10 sees it; the one at 20 finds the stream
      // idle and moves the clock 10 ms to 1015, closing 1010; at 30 it reaches 1025, closing 1020,
      // whose window is empty — so an alert on it can resolve.
      const source = hot<SpanChunk>('-a', { a: one({ startTime: 1005, durationMs: 42 }) });
      expectObservable(source.pipe(operator), '^ 34ms !').toBe('20ms x 9ms y', {
        x: snapshot(view, 1010, total(1, { count: 1, max: 42 })),
        y: snapshot(view, 1020, []),
      });
    });
    assert.deepEqual(runs, [10, 20, 30], 'unsubscribing at 35 stopped the idle timer');
    assert.equal(testScheduler.actions.length, 0);
  });

  it('does not advance on idleness before the first span', () => {
    const testScheduler = newTestScheduler();
    const runs: number[] = [];
    const { operator, watermark } = setup({ slideMs: 10 }, { afterMs: 10, scheduler: recordingScheduler(testScheduler, runs) });
    testScheduler.run(({ hot, expectObservable }) => {
      expectObservable(hot<SpanChunk>('---').pipe(operator), '^ 49ms !').toBe('');
    });
    assert.deepEqual(runs, [10, 20, 30, 40]);
    assert.equal(watermark.maxEventTime, -Infinity);
  });

  it('uses asyncScheduler by default, which virtual time drives under TestScheduler.run', () => {
    const view: SignalView = { ...LATENCY, windowMs: 10 };
    const { operator } = setup({ slideMs: 10, views: [view] }, { afterMs: 10 });
    newTestScheduler().run(({ hot, expectObservable }) => {
      const source = hot<SpanChunk>('-a', { a: one({ startTime: 1005, durationMs: 42 }) });
      expectObservable(source.pipe(operator), '^ 24ms !').toBe('20ms x', {
        x: snapshot(view, 1010, total(1, { count: 1, max: 42 })),
      });
    });
  });

  it('stops emitting when unsubscribed', () => {
    const { operator } = setup();
    newTestScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-|', {
        a: one({ startTime: T0 }),
        b: one({ startTime: T0 + 1000 }),
        c: one({ startTime: T0 + 2000 }),
        d: one({ startTime: T0 + 3000 }),
      });
      expectObservable(source.pipe(operator), '^----!').toBe('---x-', {
        x: snapshot(LATENCY, T0 + 1000, total(1, { count: 1, max: 100 })),
      });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('emits within a chunk of several spans exactly what it emits for the same spans one per chunk', () => {
    const spans = [T0 + 100, T0 + 900, T0 + 1100, T0 + 2500, T0 + 2600, T0 + 4100].map((t, i) => makeSpan({ startTime: t, durationMs: 10 * (i + 1) }));
    const all: SignalSnapshot[] = [];
    const each: SignalSnapshot[] = [];
    of(on(0, ...spans)).pipe(setup().operator).subscribe((s) => all.push(s));
    of(...spans.map((span) => on(0, span))).pipe(setup().operator).subscribe((s) => each.push(s));
    assert.equal(all.length, 5);
    assert.deepEqual(all, each);
  });

  it("a lagging partition's events are not late while it holds the watermark back", () => {
    const { operator, watermark } = setup();
    watermark.declareChannels([0, 1]);
    newTestScheduler().run(({ cold, expectObservable }) => {
      const chunks = {
        // Partition 0 is two seconds ahead before partition 1 delivers anything.
        a: on(
          0,
          makeSpan({ startTime: T0 + 100, durationMs: 10 }),
          makeSpan({ startTime: T0 + 1100, durationMs: 20 }),
          makeSpan({ startTime: T0 + 2100, durationMs: 30 }),
        ),
        b: on(1, makeSpan({ startTime: T0 + 200, durationMs: 40 }), makeSpan({ startTime: T0 + 1200, durationMs: 50 })),
        c: on(1, makeSpan({ startTime: T0 + 2200, durationMs: 60 })),
      };
      expectObservable(cold('-a-b-c|', chunks).pipe(operator)).toBe('---x-y(z|)', {
        x: snapshot(LATENCY, T0 + 1000, total(2, { count: 2, max: 40 })),
        y: snapshot(LATENCY, T0 + 2000, total(4, { count: 4, max: 50 })),
        z: snapshot(LATENCY, T0 + 3000, total(4, { count: 4, max: 60 })),
      });
    });
    assert.equal(watermark.lateCount, 0);
  });

  it('a declared partition that never delivers holds the watermark until it is marked idle', () => {
    const testScheduler = newTestScheduler();
    const view: SignalView = { ...LATENCY, windowMs: 10 };
    const runs: number[] = [];
    const { operator, watermark } = setup({ slideMs: 10, views: [view] }, { afterMs: 10, scheduler: recordingScheduler(testScheduler, runs) });
    watermark.declareChannels([0, 1]);
    testScheduler.run(({ hot, expectObservable }) => {
      // Partition 1 never delivers. The check at 10 counts its declaration as news; the one at 20
      // finds it silent and marks it idle, so partition 0's event time 1015 closes 1010. Partition 0
      // itself is never idle, so the clock is not advanced: 1020 closes with its own next span.
      const source = hot<SpanChunk>('-a 10ms b 9ms c', {
        a: one({ startTime: 1005, durationMs: 42 }),
        b: one({ startTime: 1015, durationMs: 43 }),
        c: one({ startTime: 1025, durationMs: 44 }),
      });
      expectObservable(source.pipe(operator), '^ 24ms !').toBe('20ms x 1ms y', {
        x: snapshot(view, 1010, total(1, { count: 1, max: 42 })),
        y: snapshot(view, 1020, total(1, { count: 1, max: 43 })),
      });
    });
    assert.deepEqual(
      watermark.channelStates().map((c) => [c.channel, c.idle]),
      [
        [0, false],
        [1, true],
      ],
    );
    assert.equal(watermark.maxEventTime, 1025);
  });

  it('an idle partition rejoins the minimum when it delivers again', () => {
    const testScheduler = newTestScheduler();
    const view: SignalView = { ...LATENCY, windowMs: 10 };
    const runs: number[] = [];
    const { operator, watermark } = setup({ slideMs: 10, views: [view] }, { afterMs: 10, scheduler: recordingScheduler(testScheduler, runs) });
    watermark.declareChannels([0, 1]);
    testScheduler.run(({ hot, expectObservable }) => {
      // Partition 1 falls silent after frame 1 and is idle from the check at 20, so partition 0
      // closes 1010 and 1020 alone. Partition 1 delivers 1021 at 25 and rejoins: partition 0 at 1035
      // no longer closes 1030, so partition 1's 1028 at 33 is on time; its 1031 at 36 closes 1030.
      const source = hot<SpanChunk>('-a 9ms b 9ms c 3ms d 5ms e 1ms f 2ms g', {
        a: on(0, makeSpan({ startTime: 1003 }), makeSpan({ startTime: 1002 })),
        b: one({ startTime: 1013 }),
        c: one({ startTime: 1023 }),
        d: on(1, makeSpan({ startTime: 1021 })),
        e: one({ startTime: 1035 }),
        f: on(1, makeSpan({ startTime: 1028 })),
        g: on(1, makeSpan({ startTime: 1031 })),
      });
      expectObservable(source.pipe(operator), '^ 37ms !').toBe('20ms x y 14ms z', {
        x: snapshot(view, 1010, total(2, { count: 2, max: 100 })),
        y: snapshot(view, 1020, total(1, { count: 1, max: 100 })),
        z: snapshot(view, 1030, total(3, { count: 3, max: 100 })),
      });
    });
    assert.equal(watermark.lateCount, 0);
  });

  it('an empty chunk emits the boundaries a declaration closed outside the operator', () => {
    const { operator, watermark } = setup();
    watermark.declareChannels([0, 1]);
    const testScheduler = newTestScheduler();
    testScheduler.run(({ hot, expectObservable }) => {
      // Partition 1 is revoked at frame 2: partition 0 alone closes T0+1000, emitted with the next input.
      testScheduler.schedule(() => watermark.declareChannels([0]), 2);
      const source = hot<SpanChunk>('-a-b', {
        a: on(0, makeSpan({ startTime: T0 + 500, durationMs: 5 }), makeSpan({ startTime: T0 + 1500, durationMs: 7 })),
        b: on(1),
      });
      expectObservable(source.pipe(operator), '^ 4ms !').toBe('---x', { x: snapshot(LATENCY, T0 + 1000, total(1, { count: 1, max: 5 })) });
    });
    assert.deepEqual(
      watermark.channelStates().map((c) => c.channel),
      [0],
      'a chunk without spans registers no channel',
    );
  });

  it('refuses an idle period that is not a positive number', () => {
    const pipeline = new TimingPipeline([LATENCY], 1000, 0);
    for (const afterMs of [0, -10, Number.NaN, Infinity]) {
      assert.throws(
        () => slidingSignals(pipeline, { idle: { afterMs } }),
        (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID') && err.details.key === 'idle.afterMs',
        `afterMs=${afterMs}`,
      );
    }
  });
});
