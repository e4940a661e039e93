/**
 * The Kafka dead-letter sink: every record Vigil could not use, as an Avro `vigil.v1.DeadLetter`
 * on the dead-letter topic, written by an idempotent producer and acknowledged by all in-sync
 * replicas.
 */
import { Partitioners } from 'kafkajs';
import type { Kafka, Message, Producer, ProducerConfig } from 'kafkajs';
import type { Logger } from 'pino';
import { DeadLetterCodec, toDeadLetterRecord } from '../codec/dead-letter-codec.js';
import { qualifiedSchemaName } from '../codec/schemas.js';
import { VigilError } from '../errors.js';
import { defaultLogger, kafkaClient } from '../sources/kafka-client.js';
import type { KafkaConnection } from '../sources/kafka-client.js';
import type { DeadLetter } from '../sources/span-source.js';
import type { DeadLetterSink } from './dead-letter-sink.js';

/** Value of the `vigil-schema` header of every dead-letter message. */
export const DEAD_LETTER_SCHEMA_HEADER = qualifiedSchemaName('DeadLetter');

/** Default cap of key plus value bytes kept per dead letter: 512 KiB, well under Kafka's 1 MB default message size. */
export const DEFAULT_DEAD_LETTER_MAX_BYTES = 512 * 1024;

/** Options of a {@link KafkaDeadLetterSink}, besides how to reach Kafka. */
export interface KafkaDeadLetterSinkSettings {
  /** The dead-letter topic; it must exist (the producer does not create topics). */
  topic: string;
  /** The consumer group written into every record. */
  consumerGroup: string;
  /** Most bytes of original key plus value kept per record (default {@link DEFAULT_DEAD_LETTER_MAX_BYTES}). */
  maxBytes?: number;
  /** Logger for kafkajs (warn and above); default pino at warn to stderr. */
  logger?: Logger;
  /** Wall clock for the records' `time` (default `Date.now`). */
  clock?: () => number;
  /** Further kafkajs producer settings; idempotence and one request in flight are always set. */
  producerConfig?: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests' | 'transactionalId'>;
}

/** Everything a {@link KafkaDeadLetterSink} is built from. */
export type KafkaDeadLetterSinkOptions = KafkaConnection & KafkaDeadLetterSinkSettings;

/**
 * Sends dead letters to a Kafka topic as Avro `vigil.v1.DeadLetter` values keyed by the original
 * message key, with headers `content-type: avro/binary` and `vigil-schema: vigil.v1.DeadLetter`.
 * Original key and value are cut to `maxBytes` together (the message key is the original key when
 * it is at most half of that, else none), and one `send` is split into produce requests of about
 * `maxBytes` each (a larger record goes alone), so a run of large rejected records never exceeds the
 * broker's batch size limit (1 MB by default; the default cap leaves room for the key and fields). `send` resolves once the broker acknowledged every record
 * (`acks: -1`).
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  /** The dead-letter topic. */
  readonly topic: string;
  private readonly producer: Producer;
  private readonly kafka: Kafka;
  private readonly codec = new DeadLetterCodec();
  private readonly consumerGroup: string;
  private readonly maxBytes: number;
  private readonly clock: () => number;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  /**
   * A sink for `options.topic`; nothing connects until the first send.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` for a `maxBytes` below 1024.
   */
  constructor(options: KafkaDeadLetterSinkOptions) {
    this.topic = options.topic;
    this.consumerGroup = options.consumerGroup;
    this.maxBytes = options.maxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1024) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `kafka.deadLetterMaxBytes: must be an integer ≥ 1024, got ${String(options.maxBytes)}`, {
        details: { key: 'kafka.deadLetterMaxBytes' },
      });
    }
    this.clock = options.clock ?? Date.now;
    const logger = (options.logger ?? defaultLogger()).child({ component: 'kafka-dead-letter-sink', topic: options.topic });
    const kafka: Kafka = kafkaClient(options, logger, 'vigil-dead-letter-sink');
    this.kafka = kafka;
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      ...options.producerConfig,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: options.producerConfig?.createPartitioner ?? Partitioners.DefaultPartitioner,
    });
  }

  /**
   * Connects the producer (also done by the first `send`).
   *
   * @throws VigilError `VIGIL_SINK_FAILED` (retriable) when the brokers cannot be reached.
   */
  async connect(): Promise<void> {
    if (this.closed) throw this.closedError();
    this.connecting ??= this.producer.connect().catch((cause: unknown) => {
      this.connecting = undefined;
      throw new VigilError('VIGIL_SINK_FAILED', `Cannot connect the dead-letter producer for topic ${this.topic}: ${messageOf(cause)}`, {
        cause,
        details: { topic: this.topic },
      });
    });
    return this.connecting;
  }

  /**
   * Checks that the topic exists, so a missing one fails the start instead of holding every batch
   * with a dead letter in retries.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` naming `kafka.deadLetterTopic` when it does not exist;
   *   `VIGIL_SINK_FAILED` when the brokers cannot be asked.
   */
  async verifyTopic(): Promise<void> {
    const admin = this.kafka.admin();
    let topics: string[];
    try {
      await admin.connect();
      topics = await admin.listTopics();
    } catch (cause) {
      throw new VigilError('VIGIL_SINK_FAILED', `Cannot check the dead-letter topic ${this.topic}: ${messageOf(cause)}`, { cause, details: { topic: this.topic } });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (!topics.includes(this.topic)) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `kafka.deadLetterTopic: topic ${this.topic} does not exist; create it (Vigil does not create topics)`, {
        details: { key: 'kafka.deadLetterTopic', topic: this.topic },
      });
    }
  }

  /**
   * Encodes and sends the dead letters in order; resolves when all are acknowledged.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` for a dead letter without partition or offset
   *   (nothing is sent); `VIGIL_SINK_FAILED` (retriable) if delivery failed; `VIGIL_STOPPED` after
   *   `close`.
   */
  async send(deadLetters: readonly DeadLetter[]): Promise<void> {
    if (this.closed) throw this.closedError();
    if (deadLetters.length === 0) return;
    const time = this.clock();
    const chunks: Message[][] = [[]];
    let chunkBytes = 0;
    for (const dl of deadLetters) {
      const value = this.codec.encode(toDeadLetterRecord(dl, { consumerGroup: this.consumerGroup, time, maxBytes: this.maxBytes }));
      const key = dl.key !== undefined && dl.key.length <= this.maxBytes / 2 ? dl.key : null;
      const size = value.length + (key?.length ?? 0);
      if (chunkBytes > 0 && chunkBytes + size > this.maxBytes) {
        chunks.push([]);
        chunkBytes = 0;
      }
      chunks[chunks.length - 1].push({ key, value, headers: { 'content-type': 'avro/binary', 'vigil-schema': DEAD_LETTER_SCHEMA_HEADER } });
      chunkBytes += size;
    }
    await this.connect();
    for (const messages of chunks) {
      const sending = this.producer.send({ topic: this.topic, acks: -1, messages });
      this.inFlight.add(sending);
      try {
        await sending;
      } catch (cause) {
        throw new VigilError('VIGIL_SINK_FAILED', `Could not deliver ${messages.length} dead letter(s) to topic ${this.topic}: ${messageOf(cause)}`, {
          cause,
          details: { topic: this.topic, count: messages.length },
        });
      } finally {
        this.inFlight.delete(sending);
      }
    }
  }

  /** Waits for sends in flight and disconnects the producer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.connecting === undefined) return;
    await this.connecting.catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.producer.disconnect();
  }

  private closedError(): VigilError {
    return new VigilError('VIGIL_STOPPED', `Kafka dead-letter sink for topic ${this.topic} is closed`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
