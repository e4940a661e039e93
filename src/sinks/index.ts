/**
 * Alert sinks (Kafka, JSON Lines, memory) and dead-letter sinks (Kafka, log).
 */
export type { AlertSink } from './alert-sink.js';
export { KafkaAlertSink, alertMessageKey, valueSubject, ALERT_CONTENT_TYPE, ALERT_CONTENT_TYPE_REGISTRY, ALERT_SCHEMA_HEADER } from './kafka-alert-sink.js';
export type { KafkaAlertSinkOptions, KafkaAlertSinkSettings } from './kafka-alert-sink.js';
export { JsonlAlertSink } from './jsonl-alert-sink.js';
export type { JsonlAlertSinkOptions } from './jsonl-alert-sink.js';
export { MemoryAlertSink } from './memory-alert-sink.js';
export type { DeadLetterSink } from './dead-letter-sink.js';
export { LogDeadLetterSink } from './dead-letter-sink.js';
export { KafkaDeadLetterSink, DEAD_LETTER_SCHEMA_HEADER, DEFAULT_DEAD_LETTER_MAX_BYTES } from './kafka-dead-letter-sink.js';
export type { KafkaDeadLetterSinkOptions, KafkaDeadLetterSinkSettings } from './kafka-dead-letter-sink.js';
