/**
 * Schema registry support on the consumer side: the Confluent wire format, a registry client and
 * the decoder that resolves each record's writer schema to Vigil's reader schema.
 */
export { WIRE_MAGIC_BYTE, WIRE_HEADER_LENGTH, encodeWireFormat, readWireFormat } from './wire-format.js';
export type { WireFormatValue } from './wire-format.js';
export { BoundedCache } from './bounded-cache.js';
export { RegistryClient, DEFAULT_REGISTRY_CACHE_SIZE } from './registry-client.js';
export type { RegistryClientOptions, RegisteredSchema } from './registry-client.js';
export { ResolvingDecoder } from './resolving-decoder.js';
export type { RecordDecoder, ResolvingDecoderOptions, WriterSchemaSource } from './resolving-decoder.js';
