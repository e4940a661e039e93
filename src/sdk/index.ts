/**
 * The producer SDK: typed, validated, batched `LlmSpan` events from Node services to Kafka, as
 * plain Avro or in the Confluent Schema Registry wire format (`encodeWireFormat` of the codec).
 */
export { createVigilProducer, SPAN_CONTENT_TYPE, SPAN_SCHEMA_HEADER } from './vigil-producer.js';
export type { VigilProducer, VigilProducerOptions, VigilProducerSettings, VigilProducerStats, BatchSettings, ProducerRegistryOptions } from './vigil-producer.js';
export { spanMessageKey, SPAN_KEY_STRATEGIES } from './span-key.js';
export type { SpanKeyStrategy } from './span-key.js';
export { SchemaRegistryClient } from './registry-client.js';
export type { SchemaRegistryOptions } from './registry-client.js';
