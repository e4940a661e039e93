/**
 * The shape every source delivers: batches of valid spans, feedback events and eval scores, plus
 * the records that were not valid, so that nothing read is silently dropped.
 */
import type { EvalScoreEvent, FeedbackEvent, LlmSpan } from '../model/index.js';

/**
 * A record a source could not turn into a valid span, feedback event or eval score, kept with the reason so it can be written
 * to a dead-letter path instead of being lost.
 *
 * `reason` names the field and the problem but never the value of a text field, so it is safe to
 * log. `payload` (and `key`) are the raw bytes as received and may contain prompt, output or user
 * text: store them, never log them.
 */
export interface DeadLetter {
  /** Why the record was rejected, e.g. `durationMs: must be a finite number ≥ 0, got -3`. */
  reason: string;
  /** The field at fault when validation named one (`details.field` of the error), else absent. */
  field?: string;
  /** What kind of problem it was; absent means `invalid_field` (see `deadLetterClassOf`). */
  reasonClass?: DeadLetterClass;
  /** Where the record came from: the Kafka topic, the file path, or the memory source's name. */
  source: string;
  /** Kafka partition, for records from Kafka. */
  partition?: number;
  /** Kafka offset (a decimal string, as kafkajs gives it), for records from Kafka. */
  offset?: string;
  /**
   * 1-based position within the source: the line number in a JSONL file, the record number in
   * an Avro file, the element number within one `push` to a memory source.
   */
  position?: number;
  /** The record's raw bytes: the Kafka message value, the JSONL line, the re-encoded Avro record. */
  payload?: Buffer;
  /** The Kafka message key, when there was one. */
  key?: Buffer;
  /** The Kafka message's timestamp (epoch ms), for records from Kafka. */
  timestamp?: number;
}

/**
 * The kind of problem that made a record a dead letter, for counting and routing:
 * - `undecodable`: the bytes are not a record of the expected schema (truncated, trailing data, a
 *   bad union or enum index — typically a record written with another schema);
 * - `wrong_schema`: the message declares another schema in its `vigil-schema` header;
 * - `invalid_field`: it decoded, but a field breaks the contract (missing, wrong type, negative or
 *   NaN, unknown enum symbol, an identifier too long);
 * - `event_time`: its event time is before 2000 or years away from its partition's and the clock's;
 * - `empty`: a message with no value (a tombstone);
 * - `unexpected`: anything else (a bug; the record is kept all the same).
 */
export type DeadLetterClass = 'undecodable' | 'wrong_schema' | 'invalid_field' | 'event_time' | 'empty' | 'unexpected';

/**
 * One delivery from a source: the events that passed validation, by kind and each in source
 * order, and the records that did not. A batch may carry any mix of kinds (a replay file can mix
 * them; a Kafka batch comes from one topic and so carries one kind); any list may be empty, but a
 * source never delivers a batch with no record at all.
 *
 * `feedback` and `evals` are optional so that span-only producers need not set them: absent
 * means none.
 */
export interface SpanBatch {
  /** Where the batch came from: the Kafka topic, the file path, or the memory source's name. */
  source: string;
  /** The valid spans, in the order the source holds them. */
  spans: LlmSpan[];
  /** The valid user feedback events, in the order the source holds them; absent means none. */
  feedback?: FeedbackEvent[];
  /** The valid evaluation scores, in the order the source holds them; absent means none. */
  evals?: EvalScoreEvent[];
  /** The rejected records, in the order the source holds them. */
  deadLetters: DeadLetter[];
}
