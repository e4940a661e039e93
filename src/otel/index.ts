/**
 * The OpenTelemetry bridge: an OTLP/HTTP trace receiver mapping GenAI semantic-convention spans to
 * `LlmSpan`s, and its parts (decoding, mapping, error classification).
 */
export { startOtelReceiver, OTLP_TRACES_PATH, OTLP_HTTP_PORT, OTLP_DEAD_LETTER_SOURCE } from './otel-receiver.js';
export type { OtelReceiver, OtelReceiverOptions, OtelReceiverStats, SpanRecorder } from './otel-receiver.js';
export { mapOtelSpan, DEFAULT_TENANT_ATTRIBUTE, DROPPED_ATTRIBUTES_KEY } from './genai-span-mapping.js';
export type { GenAiMappingOptions } from './genai-span-mapping.js';
export { decodeExportRequest, spansOfRequest } from './otlp-decode.js';
export type { OtlpEncoding } from './otlp-decode.js';
export { classifyErrorType } from './error-type.js';
export { messagesText } from './message-text.js';
export { OTLP_STATUS_UNSET, OTLP_STATUS_OK, OTLP_STATUS_ERROR } from './otlp-span.js';
export type { OtlpSpan, OtlpEvent, OtlpValue, OtlpAttributes } from './otlp-span.js';
