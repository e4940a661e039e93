import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_INPUT_LIMITS, InputGuard } from '../../src/codec/input-guard.js';
import { VigilError } from '../../src/errors.js';
import type { EvalScoreEvent, FeedbackEvent } from '../../src/model/index.js';
import { deadLetterFor } from '../../src/sources/dead-letter.js';
import { BASE_TIME, makeSpan } from '../helpers/span-factory.js';

const DAY = 86_400_000;
// The wall clock the guard sees: a week after BASE_TIME.
const NOW = BASE_TIME + 7 * DAY;

function rejection(fn: () => unknown): VigilError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof VigilError);
    assert.equal(error.code, 'VIGIL_RECORD_INVALID');
    return error;
  }
  assert.fail('expected a rejection');
}

describe('input guard', () => {
  it('passes an ordinary span through unchanged and counts nothing', () => {
    const guard = new InputGuard({}, () => NOW);
    const span = makeSpan({ startTime: BASE_TIME, durationMs: 812.5, inputTokens: 1200, outputTokens: 300, costUsd: 0.02, inputText: 'hello', outputText: 'world' });
    const copy = { ...span };
    assert.equal(guard.span(span, 0), span);
    assert.deepEqual(span, copy);
    assert.deepEqual(guard.adjustments, { clamped: 0, truncated: 0, flagged: 0 });
  });

  it('clamps durations and TTFT above the cap and counts the span once as clamped', () => {
    const guard = new InputGuard({}, () => NOW);
    const span = guard.span(makeSpan({ startTime: BASE_TIME, durationMs: 9e12, ttftMs: 5e9 }), 0);
    assert.equal(span.durationMs, DEFAULT_INPUT_LIMITS.maxDurationMs);
    assert.equal(span.ttftMs, DEFAULT_INPUT_LIMITS.maxDurationMs);
    guard.span(makeSpan({ startTime: BASE_TIME, durationMs: 3_600_000 }), 0);
    assert.deepEqual(guard.adjustments, { clamped: 1, truncated: 0, flagged: 0 });
  });

  it('flags token counts above 10 M and an absurd cost, clamping them so cost sums stay bounded', () => {
    const guard = new InputGuard({}, () => NOW);
    const span = guard.span(makeSpan({ startTime: BASE_TIME, inputTokens: 2_000_000_000, outputTokens: 12, cachedInputTokens: 10_000_001, costUsd: 1e300 }), 0);
    assert.equal(span.inputTokens, 10_000_000);
    assert.equal(span.outputTokens, 12);
    assert.equal(span.cachedInputTokens, 10_000_000);
    assert.equal(span.costUsd, 1_000);
    assert.deepEqual(guard.adjustments, { clamped: 0, truncated: 0, flagged: 1 });
  });

  it('truncates texts longer than the cap to a flat copy of the cap and stops judging a cut JSON output', () => {
    const guard = new InputGuard({ maxTextChars: 1000 }, () => NOW);
    const huge = 'x'.repeat(10 * 1024 * 1024);
    const span = guard.span(makeSpan({ startTime: BASE_TIME, inputText: huge, outputText: `{"a":"${huge}"}`, expectedFormat: 'json' }), 0);
    assert.equal(span.inputText?.length, 1000);
    assert.equal(span.outputText?.length, 1000);
    assert.equal(span.expectedFormat, null);
    assert.deepEqual(guard.adjustments, { clamped: 0, truncated: 1, flagged: 0 });
  });

  it('never cuts a surrogate pair in half', () => {
    const guard = new InputGuard({ maxTextChars: 4 }, () => NOW);
    const span = guard.span(makeSpan({ startTime: BASE_TIME, outputText: 'abc😀def' }), 0);
    assert.equal(span.outputText, 'abc');
  });

  it('rejects an identifier longer than the cap, naming the field and only the length', () => {
    const guard = new InputGuard({}, () => NOW);
    const e = rejection(() => guard.span(makeSpan({ startTime: BASE_TIME, service: 's'.repeat(10_000) }), 0));
    assert.equal(e.message, 'service: must be at most 256 characters, got a string of length 10000');
    assert.equal(e.details.field, 'service');
  });

  it('rejects event times before 2000 as event_time, whatever the partition has seen', () => {
    const guard = new InputGuard({}, () => NOW);
    const e = rejection(() => guard.span(makeSpan({ startTime: Date.UTC(1999, 11, 31) }), 0));
    assert.match(e.message, /^startTime: 1999-12-31T00:00:00\.000Z is before 2000-01-01T00:00:00\.000Z$/);
    assert.equal(e.details.reasonClass, 'event_time');
    assert.equal(deadLetterFor(e, { source: 't' }).reasonClass, 'event_time');
  });

  it('rejects an event more than the skew after both its partition and the clock, even as the first one', () => {
    const guard = new InputGuard({}, () => NOW);
    const e = rejection(() => guard.span(makeSpan({ startTime: Date.UTC(2100, 0, 1) }), 3));
    assert.match(e.message, /^startTime: 2100-01-01T00:00:00\.000Z is more than 7 day\(s\) after/);
    // The rejected event did not move the partition's reference.
    assert.doesNotThrow(() => guard.span(makeSpan({ startTime: BASE_TIME }), 3));
  });

  it('rejects an event years behind its own partition but not behind another partition', () => {
    const guard = new InputGuard({}, () => NOW);
    guard.span(makeSpan({ startTime: BASE_TIME }), 0);
    const e = rejection(() => guard.span(makeSpan({ startTime: BASE_TIME - 3 * 365 * DAY }), 0));
    assert.match(e.message, /is more than 7 day\(s\) before the newest event time of its partition/);
    // Partition 1 lags as a whole (a consumer started from the beginning): that is not bogus.
    assert.doesNotThrow(() => guard.span(makeSpan({ startTime: BASE_TIME - 30 * DAY }), 1));
  });

  it('accepts a partition that resumes after a silence longer than the skew, since the clock has moved on', () => {
    let now = NOW;
    const guard = new InputGuard({}, () => now);
    guard.span(makeSpan({ startTime: BASE_TIME }), 0);
    now = BASE_TIME + 60 * DAY;
    assert.doesNotThrow(() => guard.span(makeSpan({ startTime: BASE_TIME + 59 * DAY }), 0));
  });

  it('checks feedback and eval timestamps and identifiers, and truncates a long comment', () => {
    const guard = new InputGuard({ maxTextChars: 10 }, () => NOW);
    const feedback: FeedbackEvent = {
      feedbackId: 'f1',
      traceId: null,
      timestamp: BASE_TIME,
      type: 'THUMBS_DOWN',
      service: null,
      operation: null,
      model: null,
      userId: null,
      tenantId: null,
      score: null,
      comment: 'a very long complaint',
      attributes: {},
    };
    assert.equal(guard.feedback(feedback, 4096).comment, 'a very lon');
    assert.equal(guard.adjustments.truncated, 1);
    const evaluation: EvalScoreEvent = {
      evalId: 'e1',
      traceId: null,
      timestamp: Date.UTC(1990, 0, 1),
      evaluator: 'judge',
      metric: 'faithfulness',
      score: 0.5,
      label: null,
      service: null,
      operation: null,
      model: null,
      tenantId: null,
      attributes: {},
    };
    assert.equal(rejection(() => guard.evaluation(evaluation, 8192)).details.field, 'timestamp');
    assert.equal(rejection(() => guard.evaluation({ ...evaluation, timestamp: BASE_TIME, metric: 'm'.repeat(300) }, 8192)).details.field, 'metric');
  });

  it('refuses limits that are not positive numbers, naming the config key', () => {
    assert.throws(() => new InputGuard({ maxDurationMs: 0 }), /limits\.maxDurationMs: must be a finite number > 0, got 0/);
    assert.throws(() => new InputGuard({ maxTextChars: Number.NaN }), /limits\.maxTextChars/);
  });
});
