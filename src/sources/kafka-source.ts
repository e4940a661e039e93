/**
 * The Kafka span source: one member of a consumer group that decodes Avro spans batch by batch
 * and commits a batch's offsets only after the handler has finished with it (at-least-once).
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { SpanCodec } from '../codec/avro-codec.js';
import { VigilError } from '../errors.js';
import { deadLetterFor } from './dead-letter.js';
import { defaultLogger, kafkaClient } from './kafka-client.js';
import type { KafkaConnection } from './kafka-client.js';
import type { DeadLetter, SpanBatch } from './span-source.js';

/**
 * A {@link SpanBatch} from one Kafka partition: a run of consecutive messages. `source` is the
 * topic; dead letters carry `partition` and `offset`.
 */
export interface KafkaSpanBatch extends SpanBatch {
  topic: string;
  partition: number;
  /** Offset of the first message of the run. */
  firstOffset: string;
  /**
   * Offset of the last message of the run. The offset committed after the handler resolves is
   * `lastOffset + 1` (or past any transaction control records that end the fetched batch).
   */
  lastOffset: string;
  /** The partition's high watermark when the messages were fetched. */
  highWatermark: string;
}

/**
 * Processes one batch. It must resolve only when everything the batch caused (alerts, dead
 * letters) is durably delivered, because the batch's offsets are committed as soon as it
 * resolves. If it rejects, nothing is committed and the batch is delivered again.
 */
export type KafkaSpanBatchHandler = (batch: KafkaSpanBatch) => Promise<void>;

/** Lifecycle state of a {@link KafkaSpanSource}. */
export type KafkaSpanSourceState = 'idle' | 'starting' | 'joined' | 'rebalancing' | 'restarting' | 'stopping' | 'stopped' | 'failed';

/** Options of a {@link KafkaSpanSource}, besides how to reach Kafka. */
export interface KafkaSpanSourceSettings {
  /** Consumer group id; members of one group share the topic's partitions. */
  groupId: string;
  /** The spans topic. */
  topic: string;
  /** Where a group without committed offsets starts: the earliest offset (true) or the end (false, default). */
  fromBeginning?: boolean;
  /** Receives every batch; see {@link KafkaSpanBatchHandler}. */
  handler: KafkaSpanBatchHandler;
  /** Logger for the source and for kafkajs (warn and above); default pino at warn to stderr. */
  logger?: Logger;
  /**
   * Most messages per handler call (default 1000). A larger kafkajs fetch is split into runs of
   * this size, each handled and committed in turn, with a heartbeat between runs.
   */
  maxBatchSize?: number;
  /** Partitions processed in parallel by this member (kafkajs `partitionsConsumedConcurrently`); default 1. */
  partitionsConsumedConcurrently?: number;
  /** Further kafkajs consumer settings (session timeout, fetch sizes, retry). `groupId` is ignored. */
  consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
  /**
   * Called when the consumer crashed and kafkajs will not restart it (the handler threw a
   * non-retriable error, or a fatal Kafka error). The source is then in state `failed`.
   */
  onFatalError?: (error: VigilError) => void;
  /**
   * Called at every group join with the topic's partitions now assigned to this member, sorted
   * (possibly none), before any batch of the new assignment reaches the handler — so event-time
   * bookkeeping can learn which partitions to wait for. An exception it throws is logged and ignored.
   */
  onAssignment?: (partitions: readonly number[]) => void;
}

/** Everything a {@link KafkaSpanSource} is built from. */
export type KafkaSpanSourceOptions = KafkaConnection & KafkaSpanSourceSettings;

const DEFAULT_MAX_BATCH_SIZE = 1000;

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/**
 * A consumer-group member reading Avro `LlmSpan` messages from one topic.
 *
 * For each fetched batch of a partition, in runs of at most `maxBatchSize` messages: every
 * message is decoded (undecodable or invalid ones become dead letters with topic, partition,
 * offset, reason and the raw value), the handler is awaited, then the run's last offset is
 * resolved and the offset after it committed explicitly. Between runs it heartbeats and stops
 * early if the consumer is stopping or the partition was seeked.
 *
 * Delivery is at-least-once: when the handler rejects, nothing of that run is committed, kafkajs
 * fetches the partition again from the last committed offset and the handler sees the same
 * messages again (kafkajs retries with backoff, then restarts the consumer). A handler error
 * whose `retriable` is `false`, or a `TypeError`/`RangeError`/`ReferenceError`/`SyntaxError`, makes
 * kafkajs give up instead: the consumer stops, the source goes to state `failed` and
 * `onFatalError` is called. Records processed but not committed before a crash or rebalance are
 * delivered again, so downstream effects must be idempotent (alert ids are deterministic).
 */
export class KafkaSpanSource {
  /** The consumer group id. */
  readonly groupId: string;
  /** The spans topic. */
  readonly topic: string;
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly settings: KafkaSpanSourceSettings;
  private readonly maxBatchSize: number;
  private readonly codec = new SpanCodec();
  private consumer: Consumer | undefined;
  private currentState: KafkaSpanSourceState = 'idle';
  private partitions: number[] = [];
  private fatalError: VigilError | undefined;
  private readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  /** A source for `options.topic` in group `options.groupId`; nothing connects until {@link KafkaSpanSource.start}. */
  constructor(options: KafkaSpanSourceOptions) {
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `maxBatchSize: must be an integer ≥ 1, got ${String(maxBatchSize)}`, {
        details: { field: 'maxBatchSize' },
      });
    }
    this.groupId = options.groupId;
    this.topic = options.topic;
    this.settings = options;
    this.maxBatchSize = maxBatchSize;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'kafka-span-source', topic: options.topic, groupId: options.groupId });
    this.kafka = kafkaClient(options, this.logger, 'vigil-span-source');
  }

  /** Lifecycle state; `joined` means in the group with the current assignment. */
  get state(): KafkaSpanSourceState {
    return this.currentState;
  }

  /** True when connected, in the group and assigned at least one partition of the topic. */
  get ready(): boolean {
    return this.currentState === 'joined' && this.partitions.length > 0;
  }

  /** The error that made the source `failed`, if it did. */
  get error(): VigilError | undefined {
    return this.fatalError;
  }

  /** The topic's partitions assigned to this member at the last group join (empty when not joined). */
  assignedPartitions(): number[] {
    return [...this.partitions];
  }

  /**
   * Connects, subscribes and joins the group; resolves once the first join completed (a fresh
   * broker can take a few seconds) and batches start flowing to the handler.
   *
   * @throws VigilError `VIGIL_SOURCE_FAILED` if the broker cannot be reached or the topic does not
   *   exist; `VIGIL_STOPPED` if the source was stopped.
   */
  async start(): Promise<void> {
    if (this.currentState === 'stopping' || this.currentState === 'stopped') {
      throw new VigilError('VIGIL_STOPPED', `Kafka span source for topic ${this.topic} was stopped; create a new one`);
    }
    if (this.consumer !== undefined) return;
    this.currentState = 'starting';
    this.fatalError = undefined;
    const consumer = this.kafka.consumer({
      allowAutoTopicCreation: false,
      ...this.settings.consumerConfig,
      groupId: this.groupId,
    });
    this.consumer = consumer;
    this.listen(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: this.settings.fromBeginning ?? false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (cause) {
      this.currentState = 'failed';
      this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      const error = new VigilError('VIGIL_SOURCE_FAILED', `Cannot consume topic ${this.topic} as group ${this.groupId}: ${messageOf(cause)}`, {
        cause,
        details: { topic: this.topic, groupId: this.groupId },
      });
      this.fatalError = error;
      this.rejectWaiters(error);
      throw error;
    }
    // The CRASH listener sets it while run() awaits the first join; TypeScript cannot see that.
    const crashed = this.fatalError as VigilError | undefined;
    if (crashed !== undefined) throw crashed;
  }

  /**
   * Resolves when {@link KafkaSpanSource.ready} is true.
   *
   * @throws VigilError `VIGIL_SOURCE_FAILED` after `timeoutMs` (default 30 s) or if the source fails
   *   first; `VIGIL_STOPPED` if it is or gets stopped.
   */
  whenReady(timeoutMs = 30_000): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.fatalError !== undefined) return Promise.reject(this.fatalError);
    if (this.currentState === 'stopping' || this.currentState === 'stopped') {
      return Promise.reject(new VigilError('VIGIL_STOPPED', `Kafka span source for topic ${this.topic} was stopped`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        reject(
          new VigilError('VIGIL_SOURCE_FAILED', `Kafka span source for topic ${this.topic} not ready after ${timeoutMs} ms (state ${this.currentState})`, {
            details: { topic: this.topic, groupId: this.groupId },
          }),
        );
      }, timeoutMs);
      this.readyWaiters.push(waiter);
    });
  }

  /**
   * Stops fetching, lets the batch in flight finish and be committed, leaves the group and
   * disconnects. Messages fetched but not yet handled are not committed; the group's next member
   * receives them. Idempotent.
   */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    if (consumer === undefined || this.currentState === 'stopped') {
      this.currentState = 'stopped';
      return;
    }
    this.currentState = 'stopping';
    try {
      await consumer.disconnect();
    } finally {
      this.consumer = undefined;
      this.partitions = [];
      this.currentState = 'stopped';
      this.rejectWaiters(new VigilError('VIGIL_STOPPED', `Kafka span source for topic ${this.topic} was stopped`));
    }
  }

  private listen(consumer: Consumer): void {
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = consumer.events;
    consumer.on(GROUP_JOIN, (event) => {
      this.partitions = [...(event.payload.memberAssignment[this.topic] ?? [])].sort((a, b) => a - b);
      if (this.currentState === 'stopping' || this.currentState === 'stopped') return;
      this.currentState = 'joined';
      this.logger.debug({ partitions: this.partitions }, 'joined consumer group');
      try {
        this.settings.onAssignment?.([...this.partitions]);
      } catch (error) {
        this.logger.error({ error: messageOf(error) }, 'the onAssignment callback threw');
      }
      if (this.partitions.length > 0) this.resolveWaiters();
    });
    consumer.on(REBALANCING, () => {
      if (this.currentState === 'joined') this.currentState = 'rebalancing';
    });
    consumer.on(CRASH, (event) => {
      this.partitions = [];
      const { error, restart } = event.payload;
      if (restart) {
        this.currentState = 'restarting';
        this.logger.warn({ error: messageOf(error) }, 'Kafka consumer crashed; kafkajs restarts it');
        return;
      }
      this.currentState = 'failed';
      const fatal = new VigilError('VIGIL_SOURCE_FAILED', `Kafka consumer of topic ${this.topic} crashed and will not restart: ${messageOf(error)}`, {
        cause: error,
        details: { topic: this.topic, groupId: this.groupId },
      });
      this.fatalError = fatal;
      this.consumer = undefined;
      this.logger.error({ error: messageOf(error) }, 'Kafka consumer crashed and will not restart');
      this.rejectWaiters(fatal);
      this.settings.onFatalError?.(fatal);
    });
    consumer.on(STOP, () => {
      this.partitions = [];
    });
  }

  private resolveWaiters(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private rejectWaiters(error: Error): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition, messages } = batch;
    for (let start = 0; start < messages.length; start += this.maxBatchSize) {
      if (!payload.isRunning() || payload.isStale()) return;
      const end = Math.min(start + this.maxBatchSize, messages.length);
      const last = end === messages.length;
      const spanBatch = this.decode(topic, partition, messages, start, end, batch.highWatermark);
      await this.settings.handler(spanBatch);
      // After the last message, kafkajs resolves up to the batch's last offset (past filtered control records).
      payload.resolveOffset(messages[end - 1].offset);
      const committed = nextOffset(last ? batch.lastOffset() : messages[end - 1].offset);
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: committed }] }] });
      await payload.heartbeat();
    }
  }

  private decode(topic: string, partition: number, messages: KafkaMessage[], start: number, end: number, highWatermark: string): KafkaSpanBatch {
    const spans = [];
    const deadLetters: DeadLetter[] = [];
    for (let i = start; i < end; i++) {
      const message = messages[i];
      const value = message.value;
      if (value === null) {
        deadLetters.push(withKey({ reason: 'message has no value (tombstone)', source: topic, partition, offset: message.offset }, message.key));
        continue;
      }
      try {
        spans.push(this.codec.decode(value));
      } catch (error) {
        deadLetters.push(withKey(deadLetterFor(error, { source: topic, partition, offset: message.offset, payload: value }), message.key));
      }
    }
    return {
      source: topic,
      topic,
      partition,
      firstOffset: messages[start].offset,
      lastOffset: messages[end - 1].offset,
      highWatermark,
      spans,
      deadLetters,
    };
  }
}

function withKey(deadLetter: DeadLetter, key: Buffer | null): DeadLetter {
  if (key !== null) deadLetter.key = key;
  return deadLetter;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
