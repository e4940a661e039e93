/**
 * The producer SDK: a typed, batching Kafka producer of `LlmSpan` events for Node services.
 */
import { Partitioners } from 'kafkajs';
import type { CompressionTypes, Message, Producer, ProducerConfig } from 'kafkajs';
import type { Logger } from 'pino';
import { SpanCodec } from '../codec/avro-codec.js';
import { qualifiedSchemaName, readSchemaJson } from '../codec/schemas.js';
import { encodeWireFormat } from '../codec/registry/wire-format.js';
import { validateSpan } from '../codec/span-validation.js';
import type { LlmSpanInput } from '../codec/span-validation.js';
import { VigilError } from '../errors.js';
import type { LlmSpan } from '../model/index.js';
import { defaultLogger, kafkaClient } from '../sources/kafka-client.js';
import type { KafkaConnection } from '../sources/kafka-client.js';
import { SchemaRegistryClient } from './registry-client.js';
import type { SchemaRegistryOptions } from './registry-client.js';
import { SPAN_KEY_STRATEGIES, spanMessageKey } from './span-key.js';
import type { SpanKeyStrategy } from './span-key.js';

/** Value of the `content-type` header of spans sent as plain Avro binary (no registry). */
export const SPAN_CONTENT_TYPE = 'avro/binary';

/** Value of the `vigil-schema` header of every span message. */
export const SPAN_SCHEMA_HEADER = qualifiedSchemaName('LlmSpan');

/** When a batch is sent: at `maxSpans` spans, or `lingerMs` after its first span, whichever is first. */
export interface BatchSettings {
  /** Spans per produce request; default 500. */
  maxSpans?: number;
  /** Longest wait for a batch to fill, in ms; default 20. */
  lingerMs?: number;
}

/** Where to register and look up the `LlmSpan` schema; values are then Confluent-framed. */
export interface ProducerRegistryOptions extends SchemaRegistryOptions {
  /** The subject; default `<topic>-value` (TopicNameStrategy). */
  subject?: string;
}

/** Everything about a {@link VigilProducer} besides how to reach Kafka. */
export interface VigilProducerSettings {
  /** The traces topic; it must exist. */
  topic: string;
  /** Batching; see {@link BatchSettings}. */
  batch?: BatchSettings;
  /** Message key: `user` (default; the trace id for spans without a user) or `trace`. */
  keyBy?: SpanKeyStrategy;
  /**
   * A Confluent-compatible schema registry: the `LlmSpan` schema is registered (or looked up) under
   * `<topic>-value` and every value is framed as magic byte 0, 4-byte schema id, Avro binary.
   * Without it values are plain Avro binary.
   */
  registry?: ProducerRegistryOptions;
  /** Most spans waiting to be delivered before `record` refuses more; default 100 000. */
  maxBufferedSpans?: number;
  /**
   * Called once per batch that could not be delivered, with the error and the batch's spans (to
   * store or retry them). Failures also reject the promises `record` returned for those spans and
   * the next `flush` or `close`.
   */
  onError?: (error: VigilError, spans: readonly LlmSpan[]) => void;
  /** Logger for kafkajs (warn and above) and delivery failures; default pino at warn to stderr. */
  logger?: Logger;
  /** Compression of produce requests; default none. */
  compression?: CompressionTypes;
  /**
   * Further kafkajs producer settings (retry, metadata age). Idempotence, one request in flight
   * and the Java-compatible partitioner are always set.
   */
  producerConfig?: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests' | 'transactionalId'>;
}

/** Everything {@link createVigilProducer} takes: how to reach Kafka (`brokers` or `kafka`) and the settings. */
export type VigilProducerOptions = KafkaConnection & VigilProducerSettings;

/** Counters of a {@link VigilProducer}. */
export interface VigilProducerStats {
  /** Spans accepted by `record`. */
  recorded: number;
  /** Spans acknowledged by the brokers. */
  delivered: number;
  /** Spans whose delivery failed. */
  failed: number;
  /** Spans accepted and not yet delivered or failed. */
  buffered: number;
}

/** A batching producer of `LlmSpan` events. */
export interface VigilProducer {
  /** The traces topic. */
  readonly topic: string;
  /**
   * Validates the span (missing optional fields take the schema's defaults), encodes it and
   * buffers it; returns at once. The returned promise settles when the span's batch is
   * acknowledged by all in-sync replicas or has failed; it may be ignored, as failures also reach
   * `onError` and the next `flush` or `close`.
   *
   * @throws VigilError synchronously: `VIGIL_RECORD_INVALID` naming the field at fault (see
   *   `validateSpan`); `VIGIL_SINK_FAILED` when `maxBufferedSpans` spans are waiting;
   *   `VIGIL_STOPPED` after `close`.
   */
  record(span: LlmSpanInput | LlmSpan): Promise<void>;
  /**
   * Sends what is buffered and resolves when every span recorded before the call has been
   * delivered or has failed.
   *
   * @throws VigilError `VIGIL_SINK_FAILED` summarising every delivery failure since the previous
   *   `flush` (each failure is reported by one `flush` or `close` only).
   */
  flush(): Promise<void>;
  /**
   * Connects to Kafka and, with a registry, resolves the schema id; optional, the first batch
   * does the same.
   *
   * @throws VigilError `VIGIL_SINK_FAILED` when the brokers or the registry cannot be reached.
   */
  connect(): Promise<void>;
  /**
   * Stops accepting spans, flushes, and disconnects. Idempotent.
   *
   * @throws VigilError `VIGIL_SINK_FAILED` like {@link flush}, after disconnecting.
   */
  close(): Promise<void>;
  /** The counters so far. */
  stats(): VigilProducerStats;
}

interface Entry {
  key: string;
  payload: Buffer;
  span: LlmSpan;
}

interface Batch {
  entries: Entry[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: VigilError) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: VigilError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may ignore the promise record() returns: failures also reach onError and flush().
  void promise.catch(() => undefined);
  return { entries: [], promise, resolve, reject };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function positiveInt(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${name}: must be an integer ≥ ${min}, got ${String(value)}`, { details: { key: name } });
  }
  return value;
}

class KafkaVigilProducer implements VigilProducer {
  readonly topic: string;
  private readonly producer: Producer;
  private readonly codec = new SpanCodec();
  private readonly logger: Logger;
  private readonly maxSpans: number;
  private readonly lingerMs: number;
  private readonly maxBuffered: number;
  private readonly keyBy: SpanKeyStrategy;
  private readonly compression: CompressionTypes | undefined;
  private readonly onError: VigilProducerSettings['onError'];
  private readonly registry: SchemaRegistryClient | undefined;
  private readonly subject: string;
  private readonly headers: Record<string, string>;
  private schemaText: string | undefined;

  private open: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly sealed: Batch[] = [];
  private inFlight: Batch | undefined;
  private pumping = false;
  private connecting: Promise<void> | undefined;
  private failures: VigilError[] = [];
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly counters = { recorded: 0, delivered: 0, failed: 0, buffered: 0 };

  constructor(options: VigilProducerOptions) {
    if (typeof options.topic !== 'string' || options.topic === '') {
      throw new VigilError('VIGIL_CONFIG_INVALID', 'topic: must be a non-empty string', { details: { key: 'topic' } });
    }
    const keyBy = options.keyBy ?? 'user';
    if (!SPAN_KEY_STRATEGIES.includes(keyBy)) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `keyBy: must be one of ${SPAN_KEY_STRATEGIES.join(', ')}`, { details: { key: 'keyBy' } });
    }
    this.topic = options.topic;
    this.keyBy = keyBy;
    this.maxSpans = positiveInt('batch.maxSpans', options.batch?.maxSpans, 500, 1);
    this.lingerMs = positiveInt('batch.lingerMs', options.batch?.lingerMs, 20, 0);
    this.maxBuffered = positiveInt('maxBufferedSpans', options.maxBufferedSpans, 100_000, 1);
    this.compression = options.compression;
    this.onError = options.onError;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'vigil-producer', topic: options.topic });
    this.registry = options.registry === undefined ? undefined : new SchemaRegistryClient(options.registry);
    this.subject = options.registry?.subject ?? `${options.topic}-value`;
    // The magic byte marks framed values; the content-type header is for plain Avro only.
    this.headers = this.registry === undefined ? { 'content-type': SPAN_CONTENT_TYPE, 'vigil-schema': SPAN_SCHEMA_HEADER } : { 'vigil-schema': SPAN_SCHEMA_HEADER };
    this.producer = kafkaClient(options, this.logger, 'vigil-producer').producer({
      allowAutoTopicCreation: false,
      ...options.producerConfig,
      // kafkajs requires a single request in flight for an idempotent producer.
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: options.producerConfig?.createPartitioner ?? Partitioners.DefaultPartitioner,
    });
  }

  record(span: LlmSpanInput | LlmSpan): Promise<void> {
    if (this.closed) throw this.stoppedError();
    const valid = validateSpan(span);
    if (this.counters.buffered >= this.maxBuffered) {
      throw new VigilError('VIGIL_SINK_FAILED', `Producer for topic ${this.topic}: ${this.maxBuffered} spans are waiting for delivery; try again later`, {
        details: { topic: this.topic, buffered: this.counters.buffered },
      });
    }
    const payload = this.codec.type.toBuffer(valid);
    if (this.open === undefined) {
      this.open = newBatch();
      this.timer = setTimeout(() => this.seal(), this.lingerMs);
    }
    const batch = this.open;
    batch.entries.push({ key: spanMessageKey(valid, this.keyBy), payload, span: valid });
    this.counters.recorded++;
    this.counters.buffered++;
    if (batch.entries.length >= this.maxSpans) this.seal();
    return batch.promise;
  }

  async flush(): Promise<void> {
    this.seal();
    const pending = [...this.sealed, ...(this.inFlight === undefined ? [] : [this.inFlight])];
    await Promise.allSettled(pending.map((b) => b.promise));
    const failures = this.failures;
    this.failures = [];
    if (failures.length > 0) throw this.summary(failures);
  }

  async connect(): Promise<void> {
    if (this.closed) throw this.stoppedError();
    await this.ready();
    if (this.registry !== undefined) await this.schemaId(this.registry);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  stats(): VigilProducerStats {
    return { ...this.counters };
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    let failure: VigilError | undefined;
    try {
      await this.flush();
    } catch (error) {
      failure = error as VigilError;
    }
    if (this.connecting !== undefined) {
      await this.connecting.catch(() => undefined);
      await this.producer.disconnect();
    }
    if (failure !== undefined) throw failure;
  }

  private ready(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((cause: unknown) => {
      // The next batch tries again.
      this.connecting = undefined;
      throw new VigilError('VIGIL_SINK_FAILED', `Cannot connect the span producer for topic ${this.topic}: ${messageOf(cause)}`, {
        cause,
        details: { topic: this.topic },
      });
    });
    return this.connecting;
  }

  private schemaId(registry: SchemaRegistryClient): Promise<number> {
    this.schemaText ??= JSON.stringify(readSchemaJson('LlmSpan'));
    return registry.schemaId(this.subject, this.schemaText);
  }

  private seal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.open === undefined) return;
    this.sealed.push(this.open);
    this.open = undefined;
    if (!this.pumping) void this.pump();
  }

  // One produce request at a time keeps the batches in order (the producer is idempotent with a
  // single request in flight anyway); batches sealed meanwhile wait in `sealed`.
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (let batch = this.sealed.shift(); batch !== undefined; batch = this.sealed.shift()) {
        this.inFlight = batch;
        await this.deliver(batch);
        this.inFlight = undefined;
      }
    } finally {
      this.pumping = false;
    }
  }

  private async deliver(batch: Batch): Promise<void> {
    const count = batch.entries.length;
    try {
      await this.ready();
      const schemaId = this.registry === undefined ? undefined : await this.schemaId(this.registry);
      const messages: Message[] = batch.entries.map((e) => ({
        key: e.key,
        value: schemaId === undefined ? e.payload : encodeWireFormat(schemaId, e.payload),
        headers: this.headers,
      }));
      await this.producer.send({ topic: this.topic, acks: -1, compression: this.compression, messages });
      this.counters.delivered += count;
      batch.resolve();
    } catch (cause) {
      const error =
        cause instanceof VigilError && cause.code === 'VIGIL_SINK_FAILED'
          ? new VigilError('VIGIL_SINK_FAILED', `Could not deliver ${count} span(s) to topic ${this.topic}: ${cause.message}`, { cause, details: { ...cause.details, topic: this.topic, count } })
          : new VigilError('VIGIL_SINK_FAILED', `Could not deliver ${count} span(s) to topic ${this.topic}: ${messageOf(cause)}`, { cause, details: { topic: this.topic, count } });
      this.counters.failed += count;
      this.failures.push(error);
      batch.reject(error);
      this.logger.error({ count, error: error.message }, 'spans not delivered');
      if (this.onError !== undefined) {
        try {
          this.onError(error, batch.entries.map((e) => e.span));
        } catch (callbackError) {
          this.logger.error({ error: messageOf(callbackError) }, 'onError callback threw');
        }
      }
    } finally {
      this.counters.buffered -= count;
    }
  }

  private summary(failures: VigilError[]): VigilError {
    const count = failures.reduce((n, f) => n + (typeof f.details.count === 'number' ? f.details.count : 0), 0);
    const first = failures[0];
    return new VigilError('VIGIL_SINK_FAILED', `${count} span(s) in ${failures.length} batch(es) could not be delivered to topic ${this.topic}; first: ${first.message}`, {
      cause: first,
      details: { topic: this.topic, count, batches: failures.length },
    });
  }

  private stoppedError(): VigilError {
    return new VigilError('VIGIL_STOPPED', `Span producer for topic ${this.topic} is closed`);
  }
}

/**
 * A batching, validating producer of `LlmSpan` events to `options.topic` (Avro values, keyed by
 * user or trace, idempotent, `acks=all`). Nothing connects until the first batch or
 * {@link VigilProducer.connect}.
 *
 * ```ts
 * const vigil = createVigilProducer({ brokers: ['kafka:9092'], topic: 'llm-traces' });
 * vigil.record({ traceId, spanId, kind: 'LLM', service: 'chat-api', operation: 'chat',
 *                startTime: Date.now(), durationMs: 812, status: 'OK', model: 'gpt-4o', userId });
 * await vigil.close();
 * ```
 *
 * @throws VigilError `VIGIL_CONFIG_INVALID` for a bad topic, `keyBy` or batch setting.
 */
export function createVigilProducer(options: VigilProducerOptions): VigilProducer {
  return new KafkaVigilProducer(options);
}
