/**
 * Plausibility limits applied to every decoded event before it reaches the engine: records whose
 * event time is years away or whose identifiers are absurdly long are rejected (they go to the
 * dead-letter path), absurd-but-valid values are clamped so they cannot poison a digest, a sum or
 * the request assembler. Pure and synchronous: a few comparisons per event on the hot path.
 */
import { VigilError } from '../errors.js';
import type { EvalScoreEvent, FeedbackEvent, LlmSpan } from '../model/index.js';
import { describe } from './field-checks.js';

/** The limits an {@link InputGuard} applies. */
export interface InputLimits {
  /** `durationMs` and `ttftMs` above this are clamped to it (counted as `clamped`), ms. */
  maxDurationMs: number;
  /** `inputText` and `outputText` longer than this many characters are cut to it (counted as `truncated`). */
  maxTextChars: number;
  /** Token counts above this are clamped to it (counted as `flagged`). */
  maxTokens: number;
  /** A `costUsd` above this is clamped to it (counted as `flagged`), USD per event. */
  maxCostUsd: number;
  /** Identifier and dimension strings (service, model, userId…) longer than this reject the record. */
  maxIdentifierChars: number;
  /**
   * An event time more than this before the newest event time accepted from the same channel
   * (partition), or more than this after both that and the wall clock, rejects the record, ms.
   */
  maxEventTimeSkewMs: number;
  /** An event time before this rejects the record (default 2000-01-01T00:00:00Z), epoch ms. */
  minEventTime: number;
}

/** Defaults: durations 1 h, texts 64 Ki characters, 10 M tokens, 1000 USD, identifiers 256 characters, 7 days skew, not before 2000. */
export const DEFAULT_INPUT_LIMITS: Readonly<InputLimits> = {
  maxDurationMs: 3_600_000,
  maxTextChars: 65_536,
  maxTokens: 10_000_000,
  maxCostUsd: 1_000,
  maxIdentifierChars: 256,
  maxEventTimeSkewMs: 7 * 86_400_000,
  minEventTime: Date.UTC(2000, 0, 1),
};

/** How many accepted events an {@link InputGuard} changed, by kind of change, since it was built. */
export interface InputAdjustments {
  /** Events whose `durationMs` or `ttftMs` was clamped to `maxDurationMs`. */
  clamped: number;
  /** Events whose `inputText` or `outputText` was cut to `maxTextChars`. */
  truncated: number;
  /** Events whose token counts or `costUsd` were implausibly large and clamped to the caps. */
  flagged: number;
}

/** The `details.reasonClass` of an event-time rejection, see `DeadLetterClass`. */
export const EVENT_TIME_REASON = 'event_time';

const SPAN_IDENTIFIERS = ['traceId', 'spanId', 'parentSpanId', 'service', 'operation', 'provider', 'model', 'finishReason', 'userId', 'tenantId', 'sessionId', 'expectedFormat'] as const;
const FEEDBACK_IDENTIFIERS = ['feedbackId', 'traceId', 'service', 'operation', 'model', 'userId', 'tenantId'] as const;
const EVAL_IDENTIFIERS = ['evalId', 'traceId', 'evaluator', 'metric', 'label', 'service', 'operation', 'model', 'tenantId'] as const;

function positiveNumber(name: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `limits.${name}: must be a finite number > 0, got ${String(value)}`, { details: { key: `limits.${name}` } });
  }
}

/**
 * Applies {@link InputLimits} to decoded events, in place (the validators return fresh objects, so
 * nothing shared is touched). A rejection throws a `VIGIL_RECORD_INVALID` naming the field, like the
 * validators; the source turns it into a dead letter. Keeps, per channel (an input partition), the
 * newest event time it accepted: a producer writes in roughly event-time order to a partition, so
 * an event years behind its own partition is bogus, while a partition that lags the others as a
 * whole (a consumer started from the beginning) is not. The future bound also follows the wall
 * clock, so a partition that resumes after a long silence is accepted and a first event from the
 * far future is not.
 */
export class InputGuard {
  /** The limits in force. */
  readonly limits: Readonly<InputLimits>;
  private readonly clock: () => number;
  private readonly newest = new Map<number, number>();
  private lastChannel = -1;
  private lastNewest: number | undefined = undefined;
  private readonly counts: InputAdjustments = { clamped: 0, truncated: 0, flagged: 0 };

  /**
   * A guard with `limits` (missing ones take {@link DEFAULT_INPUT_LIMITS}) and the wall clock
   * `clock` (default `Date.now`) for the future bound.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` when a limit is not a finite positive number.
   */
  constructor(limits: Partial<InputLimits> = {}, clock: () => number = Date.now) {
    const merged = { ...DEFAULT_INPUT_LIMITS, ...limits };
    for (const [name, value] of Object.entries(merged)) if (name !== 'minEventTime') positiveNumber(name, value);
    if (!Number.isSafeInteger(merged.minEventTime)) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `limits.minEventTime: must be integer epoch milliseconds, got ${String(merged.minEventTime)}`, {
        details: { key: 'limits.minEventTime' },
      });
    }
    this.limits = merged;
    this.clock = clock;
  }

  /** Events changed so far, by kind of change. */
  get adjustments(): Readonly<InputAdjustments> {
    return { ...this.counts };
  }

  /**
   * Checks and adjusts one span from `channel`; returns it.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` (`details.reasonClass` `event_time` for the time
   *   bounds) naming the field at fault, never showing a text value.
   */
  span(span: LlmSpan, channel: number): LlmSpan {
    const l = this.limits;
    const max = l.maxIdentifierChars;
    // One pass of plain comparisons on the hot path; the field list only to name the culprit.
    if (
      span.traceId.length > max ||
      span.spanId.length > max ||
      span.service.length > max ||
      span.operation.length > max ||
      longer(span.parentSpanId, max) ||
      longer(span.provider, max) ||
      longer(span.model, max) ||
      longer(span.finishReason, max) ||
      longer(span.userId, max) ||
      longer(span.tenantId, max) ||
      longer(span.sessionId, max) ||
      longer(span.expectedFormat, max)
    ) {
      this.identifiers(span as unknown as Record<string, unknown>, SPAN_IDENTIFIERS);
    }
    this.eventTime('startTime', span.startTime, channel);
    let clamped = false;
    if (span.durationMs > l.maxDurationMs) {
      span.durationMs = l.maxDurationMs;
      clamped = true;
    }
    if (span.ttftMs !== null && span.ttftMs > l.maxDurationMs) {
      span.ttftMs = l.maxDurationMs;
      clamped = true;
    }
    if (clamped) this.counts.clamped++;
    let flagged = false;
    if (span.inputTokens !== null && span.inputTokens > l.maxTokens) {
      span.inputTokens = l.maxTokens;
      flagged = true;
    }
    if (span.outputTokens !== null && span.outputTokens > l.maxTokens) {
      span.outputTokens = l.maxTokens;
      flagged = true;
    }
    if (span.cachedInputTokens !== null && span.cachedInputTokens > l.maxTokens) {
      span.cachedInputTokens = l.maxTokens;
      flagged = true;
    }
    if (span.costUsd !== null && span.costUsd > l.maxCostUsd) {
      span.costUsd = l.maxCostUsd;
      flagged = true;
    }
    if (flagged) this.counts.flagged++;
    let truncated = false;
    if (span.inputText !== null && span.inputText.length > l.maxTextChars) {
      span.inputText = cut(span.inputText, l.maxTextChars);
      truncated = true;
    }
    if (span.outputText !== null && span.outputText.length > l.maxTextChars) {
      span.outputText = cut(span.outputText, l.maxTextChars);
      // A cut JSON document no longer parses; not judging it beats counting it as broken.
      if (span.expectedFormat === 'json') span.expectedFormat = null;
      truncated = true;
    }
    if (truncated) this.counts.truncated++;
    this.accept(span.startTime, channel);
    return span;
  }

  /**
   * Checks one feedback event from `channel` (identifiers, `timestamp`); returns it.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` as {@link InputGuard.span}.
   */
  feedback(event: FeedbackEvent, channel: number): FeedbackEvent {
    this.identifiers(event as unknown as Record<string, unknown>, FEEDBACK_IDENTIFIERS);
    this.eventTime('timestamp', event.timestamp, channel);
    if (event.comment !== null && event.comment.length > this.limits.maxTextChars) {
      event.comment = cut(event.comment, this.limits.maxTextChars);
      this.counts.truncated++;
    }
    this.accept(event.timestamp, channel);
    return event;
  }

  /**
   * Checks one eval score from `channel` (identifiers, `timestamp`); returns it.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` as {@link InputGuard.span}.
   */
  evaluation(event: EvalScoreEvent, channel: number): EvalScoreEvent {
    this.identifiers(event as unknown as Record<string, unknown>, EVAL_IDENTIFIERS);
    this.eventTime('timestamp', event.timestamp, channel);
    this.accept(event.timestamp, channel);
    return event;
  }

  private identifiers(o: Record<string, unknown>, fields: readonly string[]): void {
    const max = this.limits.maxIdentifierChars;
    for (let i = 0; i < fields.length; i++) {
      const v = o[fields[i]];
      if (typeof v === 'string' && v.length > max) {
        throw new VigilError('VIGIL_RECORD_INVALID', `${fields[i]}: must be at most ${max} characters, got ${describe(v)}`, { details: { field: fields[i] } });
      }
    }
  }

  private eventTime(field: string, t: number, channel: number): void {
    const l = this.limits;
    const skew = l.maxEventTimeSkewMs;
    if (t < l.minEventTime) this.rejectTime(field, t, `is before ${new Date(l.minEventTime).toISOString()}`);
    const newest = this.newestOf(channel);
    if (newest !== undefined) {
      if (t < newest - skew) {
        this.rejectTime(field, t, `is more than ${formatDays(skew)} before the newest event time of its partition (${new Date(newest).toISOString()})`);
      }
      // The common case: close to what the partition delivered; no need to read the clock.
      if (t <= newest + skew) return;
    }
    const reference = newest === undefined ? this.clock() : Math.max(newest, this.clock());
    if (t > reference + skew) {
      this.rejectTime(field, t, `is more than ${formatDays(skew)} after the newest event time of its partition and the clock (${new Date(reference).toISOString()})`);
    }
  }

  // Batches come one partition at a time: the last channel's newest time is kept out of the map.
  private newestOf(channel: number): number | undefined {
    if (channel === this.lastChannel) return this.lastNewest;
    return this.newest.get(channel);
  }

  private accept(t: number, channel: number): void {
    if (channel !== this.lastChannel) {
      if (this.lastChannel !== -1 && this.lastNewest !== undefined) this.newest.set(this.lastChannel, this.lastNewest);
      this.lastChannel = channel;
      this.lastNewest = this.newest.get(channel);
    }
    if (this.lastNewest === undefined || t > this.lastNewest) this.lastNewest = t;
  }

  private rejectTime(field: string, t: number, problem: string): never {
    const shown = Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : String(t);
    throw new VigilError('VIGIL_RECORD_INVALID', `${field}: ${shown} ${problem}`, { details: { field, reasonClass: EVENT_TIME_REASON } });
  }
}

function longer(text: string | null, max: number): boolean {
  return text !== null && text.length > max;
}

// A slice of a huge string keeps the whole string alive; a flat copy lets it go.
function cut(text: string, max: number): string {
  let end = max;
  // Never split a surrogate pair.
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return Buffer.from(text.slice(0, end), 'utf16le').toString('utf16le');
}

function formatDays(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000} day(s)` : ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${ms} ms`;
}
