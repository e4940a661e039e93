/**
 * The Kafka message key of a span, which decides its partition.
 */
import type { LlmSpan } from '../model/index.js';

/**
 * How spans are keyed: `user` puts one user's spans on one partition (the per-user signals need
 * them together) and falls back to the trace id for spans without a user; `trace` keeps each trace
 * together.
 */
export type SpanKeyStrategy = 'user' | 'trace';

/** The symbols of {@link SpanKeyStrategy}. */
export const SPAN_KEY_STRATEGIES: readonly SpanKeyStrategy[] = ['user', 'trace'];

/** The message key of `span` under `keyBy`. */
export function spanMessageKey(span: LlmSpan, keyBy: SpanKeyStrategy): string {
  return keyBy === 'user' ? (span.userId ?? span.traceId) : span.traceId;
}
