/** What a span's step does (`vigil.v1.SpanKind`). */
export type SpanKind = 'PIPELINE' | 'LLM' | 'EMBEDDING' | 'RETRIEVAL' | 'TOOL' | 'GUARDRAIL' | 'OTHER';

/** Outcome of a span (`vigil.v1.SpanStatus`). */
export type SpanStatus = 'OK' | 'ERROR';

/** Class of failure of a span (`vigil.v1.ErrorType`). */
export type ErrorType =
  | 'TIMEOUT'
  | 'RATE_LIMIT'
  | 'MODEL_ERROR'
  | 'CONTENT_FILTER'
  | 'INVALID_REQUEST'
  | 'NETWORK'
  | 'OTHER';

/**
 * One trace span as every service produces it: the TypeScript face of `schemas/llm-span.avsc`
 * (record `vigil.v1.LlmSpan`). Field names are the contract; see the schema's `doc`s.
 */
export interface LlmSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  kind: SpanKind;
  service: string;
  operation: string;
  /** Event time, epoch milliseconds. */
  startTime: number;
  durationMs: number;
  ttftMs: number | null;
  provider: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedInputTokens: number | null;
  costUsd: number | null;
  status: SpanStatus;
  errorType: ErrorType | null;
  retryCount: number;
  fallback: boolean;
  finishReason: string | null;
  userId: string | null;
  tenantId: string | null;
  sessionId: string | null;
  inputText: string | null;
  outputText: string | null;
  expectedFormat: string | null;
  attributes: Record<string, string>;
}
