/**
 * Feedback and eval-score fixtures shared by the codec, source and integration tests.
 */
import type { EvalScoreEvent, FeedbackEvent } from '../../src/model/index.js';

/** A user's free-text comment that must never appear in an error message. */
export const COMMENT = 'The answer leaked my colleague Jane Roe home address, 12 Elm Street, and was rude';

/** A feedback event with every field set to a non-default value. */
export function fullFeedback(overrides: Partial<FeedbackEvent> = {}): FeedbackEvent {
  return {
    feedbackId: 'fb-0001',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    timestamp: 1735689660123,
    type: 'THUMBS_DOWN',
    service: 'chat-api',
    operation: 'chat',
    model: 'gpt-4o',
    userId: 'user-8812',
    tenantId: 'acme',
    score: 1.5,
    comment: COMMENT,
    attributes: { channel: 'web', 'ui.version': '3.2' },
    ...overrides,
  };
}

/** The required feedback fields only, as JSON producers send them. */
export function minimalFeedbackJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { feedbackId: 'fb-min', timestamp: 1735689600000, type: 'THUMBS_UP', ...overrides };
}

/** An eval score with every field set to a non-default value. */
export function fullEval(overrides: Partial<EvalScoreEvent> = {}): EvalScoreEvent {
  return {
    evalId: 'ev-0001',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    timestamp: 1735689600500,
    evaluator: 'llm-judge-v3',
    metric: 'faithfulness',
    score: 0.82,
    label: 'pass',
    service: 'chat-api',
    operation: 'chat',
    model: 'gpt-4o',
    tenantId: 'acme',
    attributes: { rubric: 'v2' },
    ...overrides,
  };
}

/** The required eval fields only, as JSON producers send them. */
export function minimalEvalJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { evalId: 'ev-min', timestamp: 1735689600000, evaluator: 'exact-match', metric: 'correctness', score: 1, ...overrides };
}

/** A series of distinct valid feedback events, one a second from `start`. */
export function feedbackSeries(count: number, start = 1735689600000): FeedbackEvent[] {
  const types = ['THUMBS_UP', 'THUMBS_DOWN', 'CORRECTION', 'REGENERATE', 'ABANDON'] as const;
  return Array.from({ length: count }, (_, i) =>
    fullFeedback({ feedbackId: `fb-${i}`, timestamp: start + i * 1000, type: types[i % types.length], score: i % 2 === 0 ? null : i, comment: i % 3 === 0 ? null : COMMENT }),
  );
}

/** A series of distinct valid eval scores, one a second from `start`. */
export function evalSeries(count: number, start = 1735689600000): EvalScoreEvent[] {
  return Array.from({ length: count }, (_, i) =>
    fullEval({ evalId: `ev-${i}`, timestamp: start + i * 1000, score: i / 10, label: i % 2 === 0 ? 'pass' : null }),
  );
}
