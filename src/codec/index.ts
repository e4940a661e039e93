/**
 * Avro contracts, codecs and record validation (spans, feedback, eval scores).
 */
export { SCHEMA_FILES, qualifiedSchemaName, packageRoot, schemasDir, readSchemaJson, schemaType } from './schemas.js';
export type { SchemaName } from './schemas.js';
export { validateSpan, SPAN_KINDS, SPAN_STATUSES, ERROR_TYPES, AVRO_INT_MAX } from './span-validation.js';
export type { LlmSpanInput, RequiredSpanField } from './span-validation.js';
export { validateFeedback, validateEval, FEEDBACK_TYPES } from './event-validation.js';
export type { FeedbackEventInput, EvalScoreEventInput, RequiredFeedbackField, RequiredEvalField } from './event-validation.js';
export { SpanCodec, AlertCodec, FeedbackCodec, EvalCodec } from './avro-codec.js';
export type { CodecOptions } from './avro-codec.js';
export { InputGuard, DEFAULT_INPUT_LIMITS } from './input-guard.js';
export type { InputLimits, InputAdjustments } from './input-guard.js';
export { DeadLetterCodec, toDeadLetterRecord, classSymbol } from './dead-letter-codec.js';
export type { DeadLetterRecord, DeadLetterContext, DeadLetterClassSymbol } from './dead-letter-codec.js';
export {
  encodeSubWindowPartial,
  decodeSubWindowPartial,
  subWindowPartialType,
  SUB_WINDOW_PARTIAL_SCHEMA_FILE,
  SUB_WINDOW_PARTIAL_V1_SCHEMA_FILE,
  SUB_WINDOW_PARTIAL_RECORD,
  SUB_WINDOW_PARTIAL_V1_RECORD,
} from './sub-window-partial-codec.js';
export type { SubWindowPartialVersion } from './sub-window-partial-codec.js';
export * from './registry/index.js';
