/**
 * Event sources: Kafka, replay files and in-memory pushes, all delivering {@link SpanBatch}es
 * (spans, and from Kafka and replay files also user feedback and eval scores).
 */
export type { SpanBatch, DeadLetter, DeadLetterClass } from './span-source.js';
export { deadLetterFor, deadLetterClassOf, emptyDeadLetterCounts, DEAD_LETTER_CLASSES } from './dead-letter.js';
export { readSpanFile, writeSpanFile, writeEventFile, spanFileFormat } from './file-source.js';
export type { SpanFileFormat, ReadSpanFileOptions, WriteSpanFileOptions, EventFileContents, EventFileCounts } from './file-source.js';
export { MemorySpanSource } from './memory-source.js';
export type { MemorySpanSourceOptions } from './memory-source.js';
export { KafkaSpanSource, channelOf, topicPartitionOfChannel, TOPIC_INDEX, MAX_PARTITIONS_PER_TOPIC } from './kafka-source.js';
export type {
  KafkaEventKind,
  KafkaSpanBatch,
  KafkaSpanBatchHandler,
  KafkaSpanSourceOptions,
  KafkaSpanSourceSettings,
  KafkaSpanSourceState,
} from './kafka-source.js';
export type { KafkaConnection } from './kafka-client.js';
export { createCoPartitionedAssigner, coPartitioningProblems } from './copartitioned-assigner.js';
export type { CoPartitionedAssignerOptions } from './copartitioned-assigner.js';
export { assignTasks } from './task-assignment.js';
export type { TaskMember } from './task-assignment.js';
