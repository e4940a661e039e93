import { VigilError } from '../src/errors.js';

/** Options of an {@link EventTimeWatermark}. */
export interface EventTimeWatermarkOptions {
  /** Length of a sub-window and distance between slide boundaries, in ms. A positive integer. */
  slideMs: number;
  /** How far behind the newest event time an event may still arrive and be counted, in ms. `>= 0`. */
  allowedLatenessMs: number;
  /**
   * Longest window any consumer asks about, in ms (a multiple of `slideMs`). When set, a jump of the
   * watermark over a long stretch without events does not produce one boundary per slide: see
   * {@link EventTimeWatermark.pollClosedBoundary}. When omitted every boundary is produced, however
   * many there are — only safe when event times are trusted not to jump far ahead.
   */
  retentionMs?: number;
}

/**
 * Event-time clock of one stream: decides which events are late and which slide boundaries are
 * closed. Pure and synchronous; the time of an event is its span's `startTime` in epoch ms.
 *
 * Definitions (`s` = `slideMs`, `L` = `allowedLatenessMs`):
 * - `maxEventTime` is the largest event time accepted so far (or set by {@link advanceTo});
 *   the watermark is `maxEventTime - L`.
 * - A boundary `b` (a multiple of `s`) is *closed* once `maxEventTime - L >= b`;
 *   {@link lastClosedBoundary} is the largest closed boundary.
 * - An event at `t` belongs to the sub-window `[floor(t/s)*s, floor(t/s)*s + s)`. It is *late* when
 *   that sub-window ends at or before {@link lastClosedBoundary} (equivalently `t < lastClosedBoundary`),
 *   which implies `t < maxEventTime - L`: an event within the allowed lateness is never late.
 *   A late event is rejected by {@link observe} and counted in {@link lateCount}.
 *
 * Closed boundaries are handed out once each, in increasing order, by {@link pollClosedBoundary}.
 * The first boundary handed out is the end of the earliest sub-window that received an accepted event.
 */
export class EventTimeWatermark {
  /** Sub-window length and boundary spacing, in ms. */
  readonly slideMs: number;
  /** Allowed lateness, in ms. */
  readonly allowedLatenessMs: number;
  /** Longest window a consumer asks about, in ms; `undefined` when boundary compression is off. */
  readonly retentionMs: number | undefined;

  private maxTime = -Infinity;
  private closedUpTo = -Infinity;
  private next = Infinity;
  private started = false;
  // Largest event time that can lie in a window of a pending boundary: the maximum before the latest
  // advance of the closed boundary, since anything accepted afterwards lies after that boundary.
  private dataBound = -Infinity;
  private late = 0;
  private invalid = 0;
  private skipped = 0;

  constructor(options: EventTimeWatermarkOptions) {
    const { slideMs, allowedLatenessMs, retentionMs } = options;
    if (!Number.isSafeInteger(slideMs) || slideMs <= 0) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `slideMs must be a positive integer, got ${String(slideMs)}`, {
        details: { key: 'slideMs' },
      });
    }
    if (!Number.isFinite(allowedLatenessMs) || allowedLatenessMs < 0) {
      throw new VigilError(
        'VIGIL_CONFIG_INVALID',
        `allowedLatenessMs must be a finite number >= 0, got ${String(allowedLatenessMs)}`,
        { details: { key: 'allowedLatenessMs' } },
      );
    }
    if (retentionMs !== undefined && (!Number.isSafeInteger(retentionMs) || retentionMs <= 0 || retentionMs % slideMs !== 0)) {
      throw new VigilError(
        'VIGIL_CONFIG_INVALID',
        `retentionMs must be a positive multiple of slideMs (${slideMs}), got ${String(retentionMs)}`,
        { details: { key: 'retentionMs' } },
      );
    }
    this.slideMs = slideMs;
    this.allowedLatenessMs = allowedLatenessMs;
    this.retentionMs = retentionMs;
  }

  /** Largest accepted event time (or the time set by {@link advanceTo}); `-Infinity` before the first. */
  get maxEventTime(): number {
    return this.maxTime;
  }

  /** `maxEventTime - allowedLatenessMs`; `-Infinity` before the first event. */
  get watermark(): number {
    return this.maxTime - this.allowedLatenessMs;
  }

  /** Largest closed slide boundary; `-Infinity` before anything closed. Events before it are late. */
  get lastClosedBoundary(): number {
    return this.closedUpTo;
  }

  /** Events rejected by {@link observe} as later than the allowed lateness, since construction. */
  get lateCount(): number {
    return this.late;
  }

  /** Events rejected by {@link observe} because their time was not a finite number. */
  get invalidCount(): number {
    return this.invalid;
  }

  /** Boundaries {@link pollClosedBoundary} jumped over because their windows could hold no event. */
  get skippedBoundaryCount(): number {
    return this.skipped;
  }

  /**
   * Registers an event at time `t` and advances the clock. Returns `true` when the event must be
   * counted, `false` when it is late (counted in {@link lateCount}) or `t` is not finite (counted in
   * {@link invalidCount}); a rejected event does not move the clock.
   */
  observe(t: number): boolean {
    if (!Number.isFinite(t)) {
      this.invalid++;
      return false;
    }
    if (t < this.closedUpTo) {
      this.late++;
      return false;
    }
    if (!this.started) {
      const end = Math.floor(t / this.slideMs) * this.slideMs + this.slideMs;
      if (end < this.next) this.next = end;
    }
    if (t > this.maxTime) this.advanceTo(t);
    return true;
  }

  /**
   * Moves the event-time clock forward to `t` as if an event at `t` had been seen, without counting
   * one — the engine calls it when the stream has been idle, so windows keep closing. Boundaries up
   * to `t - allowedLatenessMs` close. No effect when `t <= maxEventTime` or `t` is not finite.
   */
  advanceTo(t: number): void {
    if (!(t > this.maxTime) || !Number.isFinite(t)) return;
    const closed = Math.floor((t - this.allowedLatenessMs) / this.slideMs) * this.slideMs;
    if (closed > this.closedUpTo) {
      this.dataBound = this.maxTime;
      this.closedUpTo = closed;
    }
    this.maxTime = t;
  }

  /**
   * End of input: no more events will come, so every sub-window holding an accepted event closes,
   * regardless of the allowed lateness — boundaries up to the end of the sub-window of
   * `maxEventTime`, i.e. `floor(maxEventTime/slide)*slide + slide`. (Not `ceil(...)`: an event exactly
   * on a boundary opens the sub-window that starts there.) No effect before the first event.
   */
  flush(): void {
    if (this.maxTime === -Infinity) return;
    const end = Math.floor(this.maxTime / this.slideMs) * this.slideMs + this.slideMs;
    if (end > this.closedUpTo) {
      this.dataBound = this.maxTime;
      this.closedUpTo = end;
    }
  }

  /**
   * The next closed boundary not handed out yet, or `undefined` when there is none; allocation-free,
   * so the hot path can call it after every event: `for (let b; (b = w.pollClosedBoundary()) !== undefined;)`.
   *
   * Jumps: when `retentionMs` is set and the clock leapt over a long stretch without events, a window
   * of at most `retentionMs` ending at a boundary `b > floor(d/slide)*slide + retentionMs + slide`
   * (`d` the latest event time before the leap) can hold no event. Of such a run of guaranteed-empty
   * boundaries only the first (so consumers see the data slide out) and the last (the current one) are
   * handed out; the ones between are skipped and counted in {@link skippedBoundaryCount}. So one leap
   * yields at most about `(allowedLatenessMs + retentionMs) / slideMs + 3` boundaries, however long.
   */
  pollClosedBoundary(): number | undefined {
    let b = this.next;
    if (b > this.closedUpTo) return undefined;
    this.started = true;
    if (this.retentionMs !== undefined && b < this.closedUpTo) {
      const firstEmpty = Math.floor(this.dataBound / this.slideMs) * this.slideMs + this.retentionMs + this.slideMs;
      if (b > firstEmpty) {
        this.skipped += (this.closedUpTo - b) / this.slideMs;
        b = this.closedUpTo;
      }
    }
    this.next = b + this.slideMs;
    return b;
  }

  /** Every pending closed boundary, in order, as by repeated {@link pollClosedBoundary}. Allocates. */
  takeClosedBoundaries(): number[] {
    const out: number[] = [];
    for (let b = this.pollClosedBoundary(); b !== undefined; b = this.pollClosedBoundary()) out.push(b);
    return out;
  }
}
