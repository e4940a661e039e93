import type { OperatorFunction, SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { Observable, asyncScheduler } from 'rxjs';
import { VigilError } from '../src/errors.js';
import type { LlmSpan } from '../src/model/llm-span.js';
import type { SignalSnapshot, SignalView } from '../src/model/signal-snapshot.js';
import type { EventTimeWatermark } from './event-time-watermark.js';
import type { PercentileWindowStore } from './percentile-window-store.js';

/** Options of {@link slidingPercentiles}. */
export interface SlidingPercentilesOptions {
  /** Where spans are counted and windows read. Its `slideMs` must equal the watermark's. */
  store: PercentileWindowStore;
  /** Decides lateness and closes boundaries; its late count is the operator's late count. */
  watermark: EventTimeWatermark;
  /** Views emitted at every closed boundary, in this order; signals `latency` or `ttft`. */
  views: readonly SignalView[];
  /**
   * Keeps windows closing on a quiet stream. Every `afterMs` of scheduler time the operator checks
   * whether a span arrived since the previous check; if none did, it moves the watermark's event-time
   * clock forward by the scheduler time elapsed since that check and emits the boundaries that closes.
   * So idleness is noticed between `afterMs` and `2 × afterMs` after the last span, and the clock never
   * runs ahead of the real silence. Nothing advances before the first span. The only processing-time
   * element of the operator; leave it unset when replaying recorded data.
   */
  idle?: {
    /** Check period, ms; positive. */
    afterMs: number;
    /** Clock and timer of the idle check (default `asyncScheduler`); tests pass a virtual-time one. */
    scheduler?: SchedulerLike;
  };
}

/**
 * Sliding-window latency and TTFT percentiles of a span stream.
 *
 * For each span: `watermark.observe(span.startTime)`; if the span is not late, `store.add(span)`
 * (a late span is only counted in `watermark.lateCount`). Then, for each boundary `b` the watermark
 * closed, in increasing order: `store.closeThrough(b)`, one `store.snapshot(view, b)` per view in
 * `views` order, then `store.evictBefore(b - store.retentionMs)`. On completion the watermark is
 * flushed, the remaining boundaries are emitted likewise, then the output completes. An empty source
 * completes without snapshots. Upstream errors pass through; an exception inside (e.g. a view the
 * store rejects) is sent downstream as an error and the source is unsubscribed. Unsubscribing tears
 * down the idle timer.
 *
 * The store and watermark are owned by the subscription: subscribe the result once.
 */
export function slidingPercentiles(options: SlidingPercentilesOptions): OperatorFunction<LlmSpan, SignalSnapshot> {
  const { store, watermark, views, idle } = options;
  if (store.slideMs !== watermark.slideMs) {
    throw new VigilError(
      'VIGIL_CONFIG_INVALID',
      `store and watermark slides differ: ${store.slideMs} ms vs ${watermark.slideMs} ms`,
      { details: { key: 'slideMs' } },
    );
  }
  if (idle !== undefined && !(idle.afterMs > 0 && Number.isFinite(idle.afterMs))) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `idle.afterMs must be a positive number, got ${String(idle.afterMs)}`, {
      details: { key: 'idle.afterMs' },
    });
  }
  const retentionMs = store.retentionMs;

  return (source) =>
    new Observable<SignalSnapshot>((subscriber) => {
      let sawSpan = false;
      let idleTimer: Subscription | undefined;

      const emitClosed = (): void => {
        for (let b = watermark.pollClosedBoundary(); b !== undefined; b = watermark.pollClosedBoundary()) {
          store.closeThrough(b);
          for (let i = 0; i < views.length; i++) subscriber.next(store.snapshot(views[i], b));
          store.evictBefore(b - retentionMs);
        }
      };

      if (idle !== undefined) {
        const scheduler = idle.scheduler ?? asyncScheduler;
        const afterMs = idle.afterMs;
        let lastCheck = scheduler.now();
        idleTimer = scheduler.schedule(function check(this: SchedulerAction<undefined>) {
          const now = scheduler.now();
          if (sawSpan) {
            sawSpan = false;
          } else if (watermark.maxEventTime !== -Infinity) {
            try {
              watermark.advanceTo(watermark.maxEventTime + (now - lastCheck));
              emitClosed();
            } catch (err) {
              subscriber.error(err);
              return;
            }
          }
          lastCheck = now;
          if (!subscriber.closed) this.schedule(undefined, afterMs);
        }, afterMs);
      }

      const upstream = source.subscribe({
        next: (span) => {
          // A synchronous source keeps pushing after we errored downstream until its subscribe returns.
          if (subscriber.closed) return;
          sawSpan = true;
          try {
            if (watermark.observe(span.startTime)) store.add(span);
            emitClosed();
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          if (subscriber.closed) return;
          try {
            watermark.flush();
            emitClosed();
          } catch (err) {
            subscriber.error(err);
            return;
          }
          subscriber.complete();
        },
      });

      return () => {
        upstream.unsubscribe();
        idleTimer?.unsubscribe();
      };
    });
}
