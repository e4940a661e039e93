/**
 * Avro contracts, codecs and span validation.
 */
export { SCHEMA_FILES, qualifiedSchemaName, packageRoot, schemasDir, readSchemaJson, schemaType } from './schemas.js';
export type { SchemaName } from './schemas.js';
export { validateSpan, SPAN_KINDS, SPAN_STATUSES, ERROR_TYPES, AVRO_INT_MAX } from './span-validation.js';
export type { LlmSpanInput, RequiredSpanField } from './span-validation.js';
export { SpanCodec, AlertCodec } from './avro-codec.js';
export type { CodecOptions } from './avro-codec.js';
