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
   * Keeps windows closing when inputs fall quiet. Every `afterMs` of scheduler time the operator calls
   * `watermark.markSilentChannelsIdle()`: each channel that delivered no span since the previous check
   * is marked idle, so a silent partition stops holding the others back (idleness is noticed between
   * `afterMs` and `2 × afterMs` after a channel's last span, or after its declaration). When every
   * channel is then idle, it moves the watermark's event-time clock forward by the scheduler time
   * elapsed since the previous check, so the clock never runs ahead of the real silence. It emits the
   * boundaries either step closes. Nothing advances before the first span. The only processing-time
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
 * A batch of spans from one input channel — the operator's input unit. The channel is the input
 * partition the spans came from (a Kafka partition; 0 for a single input such as a file), as the
 * watermark counts channels: see `EventTimeWatermark`. A chunk without spans changes no channel; it
 * only emits the boundaries closed since the last input (e.g. by `watermark.declareChannels`).
 */
export interface SpanChunk {
  /** The input partition of the spans: an integer in `[0, MAX_WATERMARK_CHANNEL]`. */
  channel: number;
  /** The spans, in the order the channel delivered them. */
  spans: readonly LlmSpan[];
}

/**
 * Sliding-window latency and TTFT percentiles of a stream of span chunks.
 *
 * For each chunk, first the boundaries already closed outside the operator (by
 * `watermark.declareChannels` or `markIdle`) are emitted; then for each span in order:
 * `watermark.observe(span.startTime, chunk.channel)`; if the span is not late, `store.add(span)` (a
 * late span is only counted in `watermark.lateCount`); then, for each boundary `b` the watermark
 * closed, in increasing order: `store.closeThrough(b)`, one `store.snapshot(view, b)` per view in
 * `views` order, then `store.evictBefore(b - store.retentionMs)`. So the output does not depend on
 * how a channel's spans are cut into chunks. On completion the watermark is flushed, the remaining
 * boundaries are emitted likewise, then the output completes. An empty source completes without
 * snapshots. Upstream errors pass through; an exception inside (e.g. a view the store rejects, a bad
 * channel) is sent downstream as an error and the source is unsubscribed. Unsubscribing tears down
 * the idle timer.
 *
 * The store and watermark are owned by the subscription: subscribe the result once.
 */
export function slidingPercentiles(options: SlidingPercentilesOptions): OperatorFunction<SpanChunk, SignalSnapshot> {
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
          try {
            if (watermark.markSilentChannelsIdle() && watermark.maxEventTime !== -Infinity) {
              watermark.advanceTo(watermark.maxEventTime + (now - lastCheck));
            }
            emitClosed();
          } catch (err) {
            subscriber.error(err);
            return;
          }
          lastCheck = now;
          if (!subscriber.closed) this.schedule(undefined, afterMs);
        }, afterMs);
      }

      const upstream = source.subscribe({
        next: (chunk) => {
          // A synchronous source keeps pushing after we errored downstream until its subscribe returns.
          if (subscriber.closed) return;
          try {
            emitClosed();
            const spans = chunk.spans;
            const channel = chunk.channel;
            for (let i = 0; i < spans.length; i++) {
              const span = spans[i];
              if (watermark.observe(span.startTime, channel)) store.add(span);
              emitClosed();
              if (subscriber.closed) return;
            }
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
