import type { OperatorFunction, SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { Observable, asyncScheduler } from 'rxjs';
import { VigilError } from '../src/errors.js';
import type { SignalSnapshot } from '../src/model/signal-snapshot.js';
import type { EventTimeWatermark } from './event-time-watermark.js';

/**
 * The synchronous state machine under {@link slidingSignals}: it counts chunks of events in its
 * windows and, for every slide boundary its watermark closes, emits the snapshots of its views.
 */
export interface WindowedPipeline<I> {
  /** The pipeline's event-time clock; the operator's idle check reads and advances it. */
  readonly watermark: EventTimeWatermark;
  /** Counts one chunk, emitting the snapshots of each boundary closed along the way. */
  ingest(chunk: I, emit: (snapshot: SignalSnapshot) => void): void;
  /** Emits the snapshots of boundaries closed outside `ingest` (channel declarations, idle advance). */
  emitClosed(emit: (snapshot: SignalSnapshot) => void): void;
  /** End of input: closes the windows up to the last event and emits their snapshots. */
  complete(emit: (snapshot: SignalSnapshot) => void): void;
}

/** Options of {@link slidingSignals}. */
export interface SlidingSignalsOptions {
  /**
   * Keeps windows closing when inputs fall quiet. Every `afterMs` of scheduler time the operator calls
   * `watermark.markSilentChannelsIdle()`: each channel that delivered nothing since the previous check
   * is marked idle, so a silent partition stops holding the others back. When every channel is then
   * idle, it moves event time forward by the scheduler time elapsed since the previous check, so the
   * clock never runs ahead of the real silence. Nothing advances before the first event. The only
   * processing-time element; leave it unset when replaying recorded data.
   */
  idle?: {
    /** Check period, ms; positive. */
    afterMs: number;
    /** Clock and timer of the idle check (default `asyncScheduler`); tests pass a virtual-time one. */
    scheduler?: SchedulerLike;
  };
}

/**
 * Sliding event-time windows over a stream of event chunks: a thin RxJS wrapper around a
 * {@link WindowedPipeline}, which does all the counting. Each chunk first emits the boundaries
 * closed outside the operator, then is ingested. On completion the pipeline closes its remaining
 * windows and the output completes; an empty source completes without snapshots. Upstream errors
 * pass through; an exception inside the pipeline goes downstream as an error and the source is
 * unsubscribed. Unsubscribing tears down the idle timer. The pipeline is stateful: subscribe once.
 */
export function slidingSignals<I>(pipeline: WindowedPipeline<I>, options: SlidingSignalsOptions = {}): OperatorFunction<I, SignalSnapshot> {
  const { idle } = options;
  if (idle !== undefined && !(idle.afterMs > 0 && Number.isFinite(idle.afterMs))) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `idle.afterMs must be a positive number, got ${String(idle.afterMs)}`, {
      details: { key: 'idle.afterMs' },
    });
  }
  const watermark = pipeline.watermark;

  return (source) =>
    new Observable<SignalSnapshot>((subscriber) => {
      let idleTimer: Subscription | undefined;
      const emit = (snapshot: SignalSnapshot): void => subscriber.next(snapshot);

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
            pipeline.emitClosed(emit);
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
            pipeline.emitClosed(emit);
            pipeline.ingest(chunk, emit);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          if (subscriber.closed) return;
          try {
            pipeline.complete(emit);
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
