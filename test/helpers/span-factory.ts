import type { LlmSpan } from '../../src/model/index.js';

/** Default start time of {@link makeSpan}: 2025-01-01T00:00:00Z, a whole minute. */
export const BASE_TIME = Date.UTC(2025, 0, 1);

let sequence = 0;

/**
 * A complete, valid {@link LlmSpan} for tests: a successful non-streaming `LLM` call of `chat-api`
 * to `openai`/`gpt-4o` at {@link BASE_TIME}, taking 100 ms, with `overrides` applied on top. Each
 * call gets fresh `traceId`/`spanId` values unless overridden; `attributes` is a fresh object.
 */
export function makeSpan(overrides: Partial<LlmSpan> = {}): LlmSpan {
  sequence++;
  return {
    traceId: `trace-${sequence}`,
    spanId: `span-${sequence}`,
    parentSpanId: null,
    kind: 'LLM',
    service: 'chat-api',
    operation: 'chat.completions',
    startTime: BASE_TIME,
    durationMs: 100,
    ttftMs: null,
    provider: 'openai',
    model: 'gpt-4o',
    inputTokens: 100,
    outputTokens: 50,
    cachedInputTokens: 0,
    costUsd: 0.001,
    status: 'OK',
    errorType: null,
    retryCount: 0,
    fallback: false,
    finishReason: 'stop',
    userId: null,
    tenantId: null,
    sessionId: null,
    inputText: null,
    outputText: null,
    expectedFormat: null,
    attributes: {},
    ...overrides,
  };
}

/** `count` spans from {@link makeSpan}; `overrides` may depend on the index `i` (0-based). */
export function makeSpans(count: number, overrides: (i: number) => Partial<LlmSpan> = () => ({})): LlmSpan[] {
  const spans: LlmSpan[] = [];
  for (let i = 0; i < count; i++) spans.push(makeSpan(overrides(i)));
  return spans;
}
