/**
 * Alert sinks: Kafka, JSON Lines and memory.
 */
export type { AlertSink } from './alert-sink.js';
export { KafkaAlertSink, alertMessageKey, ALERT_CONTENT_TYPE, ALERT_SCHEMA_HEADER } from './kafka-alert-sink.js';
export type { KafkaAlertSinkOptions, KafkaAlertSinkSettings } from './kafka-alert-sink.js';
export { JsonlAlertSink } from './jsonl-alert-sink.js';
export type { JsonlAlertSinkOptions } from './jsonl-alert-sink.js';
export { MemoryAlertSink } from './memory-alert-sink.js';
