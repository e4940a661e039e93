import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SchedulerAction, SchedulerLike } from 'rxjs';
import { catchError, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { EventTimeWatermark } from '../../operators/event-time-watermark.js';
import { PercentileWindowStore } from '../../operators/percentile-window-store.js';
import { slidingPercentiles } from '../../operators/sliding-percentiles.js';
import type { SlidingPercentilesOptions } from '../../operators/sliding-percentiles.js';
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

function newTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

function setup(
  overrides: { allowedLatenessMs?: number; slideMs?: number; views?: readonly SignalView[] } = {},
  idle?: SlidingPercentilesOptions['idle'],
) {
  const slideMs = overrides.slideMs ?? 1000;
  const store = new PercentileWindowStore({ slideMs, retentionMs: 5 * slideMs });
  const watermark = new EventTimeWatermark({
    slideMs,
    allowedLatenessMs: overrides.allowedLatenessMs ?? 0,
    retentionMs: 5 * slideMs,
  });
  const operator = slidingPercentiles({ store, watermark, views: overrides.views ?? [LATENCY], idle });
  return { store, watermark, operator };
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

describe('slidingPercentiles', () => {
  it('emits one snapshot per view at each boundary the watermark closes, in view order', () => {
    const { operator } = setup({ views: [LATENCY, TTFT] });
    newTestScheduler().run(({ cold, expectObservable }) => {
      const spans: Record<string, LlmSpan> = {
        a: makeSpan({ startTime: T0 + 100, durationMs: 30, ttftMs: 3 }),
        b: makeSpan({ startTime: T0 + 1100, durationMs: 10 }),
        c: makeSpan({ startTime: T0 + 2500, durationMs: 20 }),
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
      expectObservable(cold<LlmSpan>('|').pipe(operator)).toBe('|');
      expectObservable(cold<LlmSpan>('---|').pipe(operator)).toBe('---|');
    });
  });

  it('flushes the windows still open when the source completes', () => {
    const { operator } = setup({ allowedLatenessMs: 60_000 });
    newTestScheduler().run(({ cold, expectObservable }) => {
      const spans = {
        a: makeSpan({ startTime: T0 + 100, durationMs: 5 }),
        b: makeSpan({ startTime: T0 + 1200, durationMs: 7 }),
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
        a: makeSpan({ startTime: T0 + 1600, durationMs: 5 }),
        b: makeSpan({ startTime: T0 + 1200, durationMs: 6 }), // within the lateness: counted
        c: makeSpan({ startTime: T0 + 900, durationMs: 999 }), // [T0, T0+1000) is closed: late
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
      const source = cold('-a-#', { a: makeSpan({ startTime: T0 }) }, failure);
      expectObservable(source.pipe(operator)).toBe('---#', undefined, failure);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('sends an exception thrown inside downstream as an error and unsubscribes the source', () => {
    const bad: SignalView = { ...LATENCY, id: 'bad', signal: 'cost' };
    const { operator } = setup({ views: [bad] });
    newTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', {
        a: makeSpan({ startTime: T0 }),
        b: makeSpan({ startTime: T0 + 1000 }),
        c: makeSpan({ startTime: T0 + 2000 }),
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
      const source = hot<LlmSpan>('-a', { a: makeSpan({ startTime: 1005, durationMs: 42 }) });
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
      expectObservable(hot<LlmSpan>('---').pipe(operator), '^ 49ms !').toBe('');
    });
    assert.deepEqual(runs, [10, 20, 30, 40]);
    assert.equal(watermark.maxEventTime, -Infinity);
  });

  it('uses asyncScheduler by default, which virtual time drives under TestScheduler.run', () => {
    const view: SignalView = { ...LATENCY, windowMs: 10 };
    const { operator } = setup({ slideMs: 10, views: [view] }, { afterMs: 10 });
    newTestScheduler().run(({ hot, expectObservable }) => {
      const source = hot<LlmSpan>('-a', { a: makeSpan({ startTime: 1005, durationMs: 42 }) });
      expectObservable(source.pipe(operator), '^ 24ms !').toBe('20ms x', {
        x: snapshot(view, 1010, total(1, { count: 1, max: 42 })),
      });
    });
  });

  it('stops emitting when unsubscribed', () => {
    const { operator } = setup();
    newTestScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-|', {
        a: makeSpan({ startTime: T0 }),
        b: makeSpan({ startTime: T0 + 1000 }),
        c: makeSpan({ startTime: T0 + 2000 }),
        d: makeSpan({ startTime: T0 + 3000 }),
      });
      expectObservable(source.pipe(operator), '^----!').toBe('---x-', {
        x: snapshot(LATENCY, T0 + 1000, total(1, { count: 1, max: 100 })),
      });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('refuses a store and watermark with different slides', () => {
    const store = new PercentileWindowStore({ slideMs: 1000, retentionMs: 5000 });
    const watermark = new EventTimeWatermark({ slideMs: 500, allowedLatenessMs: 0 });
    assert.throws(
      () => slidingPercentiles({ store, watermark, views: [LATENCY] }),
      (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'),
    );
  });
});
