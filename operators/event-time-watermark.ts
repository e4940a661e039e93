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
  /**
   * Judge lateness by each channel's own event time as well: an event older than its own channel's
   * newest minus the allowed lateness (floored to a boundary) is late even while a lagging channel
   * still holds its sub-window open. Then whether an event counts depends only on its own channel's
   * order, not on how the channels' deliveries interleave — what a partition task replayed by a new
   * owner needs to come out the same. Default false: late only once its sub-window closed.
   */
  perChannelLateness?: boolean;
}

/** One input channel of an {@link EventTimeWatermark}, as {@link EventTimeWatermark.channelStates} reports it. */
export interface WatermarkChannelState {
  /** The channel id (e.g. a Kafka partition). */
  channel: number;
  /** Largest event time accepted from the channel; `-Infinity` while it has delivered none. */
  maxEventTime: number;
  /** True while the channel is excluded from the minimum (see {@link EventTimeWatermark.markIdle}). */
  idle: boolean;
}

/** Largest channel id an {@link EventTimeWatermark} accepts; channels index small arrays. */
export const MAX_WATERMARK_CHANNEL = 2 ** 20 - 1;

const ABSENT = 0;
const ACTIVE = 1;
const IDLE = 2;

/**
 * Event-time clock of one stream fed by several input *channels* (a channel is an input partition,
 * e.g. a Kafka partition: an integer in `[0, MAX_WATERMARK_CHANNEL]`): decides which events are late
 * and which slide boundaries are closed. Pure and synchronous; the time of an event is its span's
 * `startTime` in epoch ms.
 *
 * Channels. Each channel keeps its own maximum: the largest event time accepted from it (`-Infinity`
 * until it delivers one). A channel is *active* or *idle*; it becomes idle by {@link markIdle} or
 * {@link markSilentChannelsIdle} and active again as soon as it delivers an event (any event handed
 * to {@link observe}, even a late or invalid one). The set of channels is either declared by
 * {@link declareChannels} (e.g. the partitions assigned to a consumer; a declared channel starts
 * active with maximum `-Infinity`, so it holds everything back until it delivers or is marked idle),
 * or built up by {@link observe}, which registers an unknown channel on its first event — also after
 * a declaration, until the next declaration drops it. A stream with one channel (replay, demo: channel
 * 0) behaves exactly like a single-partition clock.
 *
 * Definitions (`s` = `slideMs`, `L` = `allowedLatenessMs`):
 * - The *combined event time* {@link eventTime} is the largest value ever reached by: the minimum of
 *   the active channels' maxima — or, when no channel is active, the maximum of all channels' maxima —
 *   and the times given to {@link advanceTo}. It never decreases: a channel that joins or rejoins behind
 *   it holds it where it is until the channel catches up (the per-partition minimum of Flink, with
 *   idle partitions excluded as by its `withIdleness`).
 * - The watermark is `eventTime - L`. A boundary `b` (a multiple of `s`) is *closed* once
 *   `eventTime - L >= b`; {@link lastClosedBoundary} is the largest closed boundary.
 * - {@link maxEventTime} is the largest event time accepted from any channel (or set by
 *   {@link advanceTo}); queries answer as of it. It is `>= eventTime`.
 * - An event at `t` belongs to the sub-window `[floor(t/s)*s, floor(t/s)*s + s)`. It is *late* when
 *   that sub-window ends at or before {@link lastClosedBoundary} (equivalently `t < lastClosedBoundary`),
 *   whichever channel it comes from. A channel that holds the combined time back is therefore never
 *   late within `L` of its own maximum. A late event is rejected by {@link observe}, counted in
 *   {@link lateCount}, and moves no clock.
 *
 * Closed boundaries are handed out once each, in increasing order, by {@link pollClosedBoundary}.
 * The first boundary handed out is the end of the earliest sub-window that received an accepted event.
 *
 * Cost: {@link observe} allocates nothing; when the channel differs from the previous call's it does
 * one slow-path step (registration, rejoin), else it reads and writes one array slot, and recomputes
 * the minimum over the channels only when the channel holding it moves past the next-lowest one.
 */
export class EventTimeWatermark {
  /** Sub-window length and boundary spacing, in ms. */
  readonly slideMs: number;
  /** Allowed lateness, in ms. */
  readonly allowedLatenessMs: number;
  /** Longest window a consumer asks about, in ms; `undefined` when boundary compression is off. */
  readonly retentionMs: number | undefined;

  private readonly perChannel: boolean;
  private maxTime = -Infinity;
  private clock = -Infinity;
  private closedUpTo = -Infinity;
  private next = Infinity;
  private started = false;
  // Largest event time that can lie in a window of a pending boundary: the maximum before the latest
  // advance of the closed boundary, since anything accepted afterwards lies after that boundary.
  private dataBound = -Infinity;
  private late = 0;
  private invalid = 0;
  private skipped = 0;

  // Per channel, indexed by channel id and kept packed up to the largest id seen: ABSENT, ACTIVE or
  // IDLE; the largest accepted event time; whether an event came since the last silence sweep.
  private readonly state: number[] = [];
  private readonly channelMax: number[] = [];
  private readonly heard: boolean[] = [];
  // The ids whose state is not ABSENT, so minima do not scan the holes.
  private members: number[] = [];
  // Channel of the previous observe, known active and heard; NaN when that may have changed.
  private current = Number.NaN;
  // The minimum over the active channels, the channel holding it (-1 when none is active), and a
  // lower bound of the minimum over the other active channels: when the holder moves, a new value
  // up to that bound is still the minimum without a scan.
  private low = -Infinity;
  private lowChannel = -1;
  private lowRest = Infinity;

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
    this.perChannel = options.perChannelLateness === true;
  }

  /**
   * Largest accepted event time over all channels (or the time set by {@link advanceTo});
   * `-Infinity` before the first.
   */
  get maxEventTime(): number {
    return this.maxTime;
  }

  /** The combined event time that closes boundaries (see the class notes); `-Infinity` before it is known. */
  get eventTime(): number {
    return this.clock;
  }

  /** `eventTime - allowedLatenessMs`; `-Infinity` before the combined event time is known. */
  get watermark(): number {
    return this.clock - this.allowedLatenessMs;
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
   * Registers an event at time `t` from `channel` and advances the clocks. Returns `true` when the
   * event must be counted, `false` when it is late (counted in {@link lateCount}) or `t` is not finite
   * (counted in {@link invalidCount}); a rejected event moves no clock. Either way the channel counts
   * as delivering: an unknown channel is registered, an idle one becomes active again.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` when `channel` is not an integer in
   *   `[0, MAX_WATERMARK_CHANNEL]`.
   */
  observe(t: number, channel = 0): boolean {
    if (channel !== this.current) this.select(channel);
    if (!Number.isFinite(t)) {
      this.invalid++;
      return false;
    }
    if (t < this.closedUpTo) {
      this.late++;
      return false;
    }
    if (this.perChannel) {
      const own = this.channelMax[channel] - this.allowedLatenessMs;
      if (t < own && t < Math.floor(own / this.slideMs) * this.slideMs) {
        this.late++;
        return false;
      }
    }
    if (!this.started) {
      const end = Math.floor(t / this.slideMs) * this.slideMs + this.slideMs;
      if (end < this.next) this.next = end;
    }
    if (t > this.channelMax[channel]) {
      this.channelMax[channel] = t;
      if (channel === this.lowChannel) {
        if (t <= this.lowRest) this.low = t;
        else this.recompute();
        this.raise(this.low);
      }
    }
    if (t > this.maxTime) this.maxTime = t;
    return true;
  }

  /**
   * Sets the channels: every id in `ids` not yet known is added active and not yet seen (maximum
   * `-Infinity`, holding the combined event time back until it delivers or is marked idle); known
   * ones keep their maximum and idleness; channels not in `ids` are dropped (their events stay in
   * {@link maxEventTime}). Dropping the channel that held the combined event time back can close
   * boundaries. A new channel counts as heard from for {@link markSilentChannelsIdle}.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID`, before changing anything, when an id is not an integer
   *   in `[0, MAX_WATERMARK_CHANNEL]`.
   */
  declareChannels(ids: readonly number[]): void {
    for (const id of ids) checkChannel(id);
    const wanted = new Set(ids);
    for (const c of this.members) {
      if (wanted.has(c)) continue;
      this.state[c] = ABSENT;
      this.channelMax[c] = -Infinity;
      this.heard[c] = false;
    }
    this.members = this.members.filter((c) => wanted.has(c));
    for (const c of wanted) if (this.stateOf(c) === ABSENT) this.add(c);
    this.current = Number.NaN;
    this.recompute();
    this.raise(this.low);
  }

  /**
   * Excludes `channel` from the minimum until it delivers again — a partition with nothing to say
   * must not hold the others back. When every channel is idle the combined event time follows the
   * largest channel maximum. Can close boundaries. No effect on an unknown or already idle channel.
   */
  markIdle(channel: number): void {
    if (this.stateOf(channel) !== ACTIVE) return;
    this.state[channel] = IDLE;
    this.current = Number.NaN;
    this.recompute();
    this.raise(this.low);
  }

  /**
   * Marks idle, as by {@link markIdle}, every active channel that received no event since the
   * previous call (a channel registered or declared since then counts as having received one), and
   * returns whether every channel is now idle — `true` also when there are none. Called periodically
   * it notices silence between one and two periods after a channel's last event. Can close boundaries.
   */
  markSilentChannelsIdle(): boolean {
    let changed = false;
    let anyActive = false;
    const members = this.members;
    for (let i = 0; i < members.length; i++) {
      const c = members[i];
      if (this.state[c] !== ACTIVE) continue;
      if (this.heard[c]) {
        this.heard[c] = false;
        anyActive = true;
      } else {
        this.state[c] = IDLE;
        changed = true;
      }
    }
    this.current = Number.NaN;
    if (changed) {
      this.recompute();
      this.raise(this.low);
    }
    return !anyActive;
  }

  /** Every channel, by increasing id, with its maximum and idleness. Allocates; for status pages and tests. */
  channelStates(): WatermarkChannelState[] {
    return [...this.members]
      .sort((a, b) => a - b)
      .map((channel) => ({ channel, maxEventTime: this.channelMax[channel], idle: this.state[channel] === IDLE }));
  }

  /**
   * Moves the whole event-time clock forward to `t` as if every channel had reached `t`, without
   * counting an event — the engine calls it when every channel has been idle, so windows keep
   * closing. The combined event time becomes `t` (boundaries up to `t - allowedLatenessMs` close) and
   * {@link maxEventTime} at least `t`; the channels' own maxima do not change. No effect when
   * `t <= eventTime` or `t` is not finite.
   */
  advanceTo(t: number): void {
    if (!(t > this.clock) || !Number.isFinite(t)) return;
    this.raise(t);
    if (t > this.maxTime) this.maxTime = t;
  }

  /**
   * End of input: no more events will come, so every sub-window holding an accepted event closes,
   * regardless of the allowed lateness and of lagging channels — boundaries up to the end of the
   * sub-window of `maxEventTime`, i.e. `floor(maxEventTime/slide)*slide + slide`. (Not `ceil(...)`:
   * an event exactly on a boundary opens the sub-window that starts there.) No effect before the
   * first event.
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

  // Slow path of observe: the channel differs from the previous call's, or its state may have changed.
  private select(channel: number): void {
    const st = this.stateOf(channel);
    if (st === ABSENT) {
      checkChannel(channel);
      this.add(channel);
      this.recompute();
    } else if (st === IDLE) {
      this.state[channel] = ACTIVE;
      this.recompute();
    }
    this.heard[channel] = true;
    this.current = channel;
  }

  private stateOf(channel: number): number {
    const st = this.state[channel];
    return st === undefined ? ABSENT : st;
  }

  private add(channel: number): void {
    // Pushing keeps the arrays packed, so the hot path reads them without hole checks.
    while (this.state.length <= channel) {
      this.state.push(ABSENT);
      this.channelMax.push(-Infinity);
      this.heard.push(false);
    }
    this.state[channel] = ACTIVE;
    this.channelMax[channel] = -Infinity;
    this.heard[channel] = true;
    this.members.push(channel);
  }

  private recompute(): void {
    let low = Infinity;
    let lowChannel = -1;
    let rest = Infinity;
    let all = -Infinity;
    const members = this.members;
    for (let i = 0; i < members.length; i++) {
      const c = members[i];
      const m = this.channelMax[c];
      if (m > all) all = m;
      if (this.state[c] !== ACTIVE) continue;
      if (m < low) {
        rest = low;
        low = m;
        lowChannel = c;
      } else if (m < rest) {
        rest = m;
      }
    }
    this.low = lowChannel === -1 ? all : low;
    this.lowChannel = lowChannel;
    this.lowRest = rest;
  }

  // Moves the combined event time up to `time` and closes the boundaries that passes.
  private raise(time: number): void {
    if (!(time > this.clock)) return;
    this.clock = time;
    const closed = Math.floor((time - this.allowedLatenessMs) / this.slideMs) * this.slideMs;
    if (closed > this.closedUpTo) {
      this.dataBound = this.maxTime;
      this.closedUpTo = closed;
    }
  }
}

function checkChannel(channel: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > MAX_WATERMARK_CHANNEL) {
    throw new VigilError(
      'VIGIL_CONFIG_INVALID',
      `a watermark channel must be an integer in [0, ${MAX_WATERMARK_CHANNEL}], got ${String(channel)}`,
      { details: { key: 'channel' } },
    );
  }
}
