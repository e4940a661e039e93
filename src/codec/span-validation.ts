/**
 * Hand-written validation of one span against the `vigil.v1.LlmSpan` contract. It runs once per
 * event, so it is plain `typeof` checks and no schema library.
 */
import {
  attributesOf,
  booleanOr,
  checkInt,
  eventTime,
  nonNegativeNumber,
  optionalCount,
  optionalEnum,
  optionalNonNegativeNumber,
  optionalString,
  recordOf,
  requiredEnum,
  requiredString,
} from './field-checks.js';
import type { ErrorType, LlmSpan, SpanKind, SpanStatus } from '../model/index.js';

/** The symbols of `vigil.v1.SpanKind`, in schema order. */
export const SPAN_KINDS: readonly SpanKind[] = ['PIPELINE', 'LLM', 'EMBEDDING', 'RETRIEVAL', 'TOOL', 'GUARDRAIL', 'OTHER'];

/** The symbols of `vigil.v1.SpanStatus`, in schema order. */
export const SPAN_STATUSES: readonly SpanStatus[] = ['OK', 'ERROR'];

/** The symbols of `vigil.v1.ErrorType`, in schema order. */
export const ERROR_TYPES: readonly ErrorType[] = [
  'TIMEOUT',
  'RATE_LIMIT',
  'MODEL_ERROR',
  'CONTENT_FILTER',
  'INVALID_REQUEST',
  'NETWORK',
  'OTHER',
];

export { AVRO_INT_MAX } from './field-checks.js';

/** The fields of `LlmSpan` that have no default in the schema and must always be present. */
export type RequiredSpanField = 'traceId' | 'spanId' | 'kind' | 'service' | 'operation' | 'startTime' | 'durationMs' | 'status';

/**
 * What {@link validateSpan} accepts from JSON or an embedding application: the required fields, any
 * of the optional ones (missing ones take the schema's defaults), and `startTime` either as epoch
 * milliseconds or as an ISO-8601 date-time string with a time zone.
 */
export type LlmSpanInput = Pick<LlmSpan, Exclude<RequiredSpanField, 'startTime'>> &
  Partial<Omit<LlmSpan, RequiredSpanField>> & { startTime: number | string };

const KINDS = new Set<string>(SPAN_KINDS);
const STATUSES = new Set<string>(SPAN_STATUSES);
const ERROR_TYPE_SET = new Set<string>(ERROR_TYPES);

/**
 * Checks one decoded Avro record or parsed JSON object against the `LlmSpan` contract and returns
 * a fresh plain {@link LlmSpan}. Optional fields that are missing (or `undefined`) take the schema's
 * defaults: `null`, `retryCount` 0, `fallback` false, `attributes` `{}`. `startTime` may also be an
 * ISO-8601 date-time string with a time zone; it is returned as epoch milliseconds. Unknown
 * fields are ignored, as an Avro reader ignores fields its schema does not have. The result shares
 * the input's `attributes` object rather than copying it.
 *
 * Whether `startTime` is plausible (not in 1970, not next year) is the engine's concern, not this
 * function's.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the first field at fault in its message and in
 *   `details.field`; the message never contains the value of a text field.
 */
export function validateSpan(obj: unknown): LlmSpan {
  const o = recordOf(obj, 'span');
  // Keys in schema order so every span shares one hidden class and compares equal field by field.
  return {
    traceId: requiredString(o, 'traceId'),
    spanId: requiredString(o, 'spanId'),
    parentSpanId: optionalString(o, 'parentSpanId'),
    kind: requiredEnum(o, 'kind', KINDS, SPAN_KINDS),
    service: requiredString(o, 'service'),
    operation: requiredString(o, 'operation'),
    startTime: eventTime(o, 'startTime'),
    durationMs: nonNegativeNumber(o, 'durationMs'),
    ttftMs: optionalNonNegativeNumber(o, 'ttftMs'),
    provider: optionalString(o, 'provider'),
    model: optionalString(o, 'model'),
    inputTokens: optionalCount(o, 'inputTokens'),
    outputTokens: optionalCount(o, 'outputTokens'),
    cachedInputTokens: optionalCount(o, 'cachedInputTokens'),
    costUsd: optionalNonNegativeNumber(o, 'costUsd'),
    status: requiredEnum(o, 'status', STATUSES, SPAN_STATUSES),
    errorType: optionalEnum(o, 'errorType', ERROR_TYPE_SET, ERROR_TYPES),
    retryCount: o.retryCount === undefined ? 0 : checkInt('retryCount', o.retryCount, false),
    fallback: booleanOr(o, 'fallback', false),
    finishReason: optionalString(o, 'finishReason'),
    userId: optionalString(o, 'userId'),
    tenantId: optionalString(o, 'tenantId'),
    sessionId: optionalString(o, 'sessionId'),
    inputText: optionalString(o, 'inputText'),
    outputText: optionalString(o, 'outputText'),
    expectedFormat: optionalString(o, 'expectedFormat'),
    attributes: attributesOf(o),
  };
}
