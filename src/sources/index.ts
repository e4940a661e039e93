/**
 * Span sources: Kafka, replay files and in-memory pushes, all delivering {@link SpanBatch}es.
 */
export type { SpanBatch, DeadLetter } from './span-source.js';
export { readSpanFile, writeSpanFile, spanFileFormat } from './file-source.js';
export type { SpanFileFormat, ReadSpanFileOptions, WriteSpanFileOptions } from './file-source.js';
export { MemorySpanSource } from './memory-source.js';
export type { MemorySpanSourceOptions } from './memory-source.js';
export { KafkaSpanSource } from './kafka-source.js';
export type {
  KafkaSpanBatch,
  KafkaSpanBatchHandler,
  KafkaSpanSourceOptions,
  KafkaSpanSourceSettings,
  KafkaSpanSourceState,
} from './kafka-source.js';
export type { KafkaConnection } from './kafka-client.js';
