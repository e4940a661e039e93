/**
 * The Kafka source: one member of a consumer group that decodes Avro spans (and, from their own
 * topics, user feedback and eval scores) batch by batch and commits a batch's offsets only after
 * the handler has finished with it (at-least-once).
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { MAX_WATERMARK_CHANNEL } from '../../operators/event-time-watermark.js';
import { EvalCodec, FeedbackCodec, SpanCodec } from '../codec/avro-codec.js';
import { VigilError } from '../errors.js';
import type { EvalScoreEvent, FeedbackEvent, LlmSpan } from '../model/index.js';
import { deadLetterFor } from './dead-letter.js';
import { defaultLogger, kafkaClient } from './kafka-client.js';
import type { KafkaConnection } from './kafka-client.js';
import type { DeadLetter, SpanBatch } from './span-source.js';

/** What a subscribed topic carries: `LlmSpan`s, `FeedbackEvent`s or `EvalScoreEvent`s. */
export type KafkaEventKind = 'spans' | 'feedback' | 'evals';

/**
 * The topic index of each kind's topic in {@link channelOf}: the traces topic 0, the feedback topic
 * 1, the evals topic 2. Fixed, so a channel id means the same whichever optional topics are set.
 */
export const TOPIC_INDEX: Readonly<Record<KafkaEventKind, number>> = { spans: 0, feedback: 1, evals: 2 };

/**
 * Partitions per topic that channel ids tell apart: a topic may have at most 4096 partitions
 * (0…4095) for its events to reach the engine. A batch of a partition beyond that fails the source.
 */
export const MAX_PARTITIONS_PER_TOPIC = 4096;

/** Topic indexes {@link channelOf} accepts, so that every channel id fits the watermark's range. */
const MAX_TOPIC_INDEX = Math.floor((MAX_WATERMARK_CHANNEL + 1) / MAX_PARTITIONS_PER_TOPIC) - 1;

/**
 * The event-time channel of a topic-partition: `topicIndex * 4096 + partition`. The engine's
 * watermark keeps one channel per input partition; partitions of different topics (spans,
 * feedback, evals — see {@link TOPIC_INDEX}) must not share one, and channel ids must be integers in
 * `[0, 2^20 − 1]`. With the traces topic's index 0, a spans partition's channel is its number.
 *
 * @throws VigilError `VIGIL_CONFIG_INVALID` (not retriable) when `partition` is not an integer in
 *   `[0, 4095]` (the topic has more than {@link MAX_PARTITIONS_PER_TOPIC} partitions) or
 *   `topicIndex` not one in `[0, 255]`.
 */
export function channelOf(topicIndex: number, partition: number): number {
  if (!Number.isInteger(topicIndex) || topicIndex < 0 || topicIndex > MAX_TOPIC_INDEX) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `topicIndex: must be an integer in [0, ${MAX_TOPIC_INDEX}], got ${String(topicIndex)}`, {
      details: { field: 'topicIndex' },
    });
  }
  if (!Number.isInteger(partition) || partition < 0 || partition >= MAX_PARTITIONS_PER_TOPIC) {
    throw new VigilError(
      'VIGIL_CONFIG_INVALID',
      `partition: must be an integer in [0, ${MAX_PARTITIONS_PER_TOPIC - 1}] (Vigil reads at most ${MAX_PARTITIONS_PER_TOPIC} partitions per topic), got ${String(partition)}`,
      { details: { field: 'partition' } },
    );
  }
  return topicIndex * MAX_PARTITIONS_PER_TOPIC + partition;
}

/** The topic index and partition of a channel id made by {@link channelOf}. */
export function topicPartitionOfChannel(channel: number): { topicIndex: number; partition: number } {
  return { topicIndex: Math.floor(channel / MAX_PARTITIONS_PER_TOPIC), partition: channel % MAX_PARTITIONS_PER_TOPIC };
}

/**
 * A {@link SpanBatch} from one Kafka partition: a run of consecutive messages of one topic, so it
 * carries one kind of event: `spans`, `feedback` or `evals` per `kind` (the other lists are empty;
 * all three are always present). `source` is the topic; dead letters carry `partition` and `offset`.
 *
 * `partition` is the Kafka partition; the engine's event-time input channel is `channel`. Hand
 * the batch to `VigilEngine.process` as `{ ...batch, partition: batch.channel }`.
 */
export interface KafkaSpanBatch extends SpanBatch {
  topic: string;
  /** What the topic carries, hence which list holds the batch's events. */
  kind: KafkaEventKind;
  /** The Kafka partition of `topic`. */
  partition: number;
  /** The event-time channel: {@link channelOf}(topic index of `kind`, `partition`). */
  channel: number;
  feedback: FeedbackEvent[];
  evals: EvalScoreEvent[];
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
  /** Consumer group id; members of one group share the topics' partitions. */
  groupId: string;
  /** The spans (traces) topic, of Avro `LlmSpan` values; topic index 0. */
  topic: string;
  /** A topic of Avro `FeedbackEvent` values to consume as well; topic index 1. */
  feedbackTopic?: string;
  /** A topic of Avro `EvalScoreEvent` values to consume as well; topic index 2. */
  evalsTopic?: string;
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
   * Called at every group join with the event-time channels ({@link channelOf}) of the
   * topic-partitions now assigned to this member, sorted (possibly none), and the assigned
   * partitions by topic — before any batch of the new assignment reaches the handler, so event-time
   * bookkeeping can learn which channels to wait for (`engine.setChannels(channels)`). With only
   * the traces topic, channels equal its partition numbers. An exception it throws is logged and
   * ignored.
   */
  onAssignment?: (channels: readonly number[], assignment: Readonly<Record<string, readonly number[]>>) => void;
}

/** Everything a {@link KafkaSpanSource} is built from. */
export type KafkaSpanSourceOptions = KafkaConnection & KafkaSpanSourceSettings;

const DEFAULT_MAX_BATCH_SIZE = 1000;

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** One subscribed topic: what it carries and its topic index. */
interface Subscription {
  topic: string;
  kind: KafkaEventKind;
  topicIndex: number;
}

function subscriptionsOf(options: KafkaSpanSourceSettings): Subscription[] {
  const subs: Subscription[] = [{ topic: options.topic, kind: 'spans', topicIndex: TOPIC_INDEX.spans }];
  if (options.feedbackTopic !== undefined) subs.push({ topic: options.feedbackTopic, kind: 'feedback', topicIndex: TOPIC_INDEX.feedback });
  if (options.evalsTopic !== undefined) subs.push({ topic: options.evalsTopic, kind: 'evals', topicIndex: TOPIC_INDEX.evals });
  const seen = new Set<string>();
  for (const { topic, kind } of subs) {
    const field = kind === 'spans' ? 'topic' : `${kind}Topic`;
    if (typeof topic !== 'string' || topic === '') {
      throw new VigilError('VIGIL_CONFIG_INVALID', `${field}: must be a non-empty topic name`, { details: { field } });
    }
    if (seen.has(topic)) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `${field}: the topic ${topic} is already consumed for another kind of event; each kind needs its own topic`, {
        details: { field },
      });
    }
    seen.add(topic);
  }
  return subs;
}

/**
 * A consumer-group member reading Avro `LlmSpan` messages from the traces topic and, when
 * configured, Avro `FeedbackEvent`s from `feedbackTopic` and `EvalScoreEvent`s from `evalsTopic`,
 * all in one consumer (one group membership, one assignment across the topics). Each message is
 * decoded by its topic's schema.
 *
 * For each fetched batch of a topic-partition, in runs of at most `maxBatchSize` messages: every
 * message is decoded (undecodable or invalid ones become dead letters with topic, partition,
 * offset, reason and the raw value), the handler is awaited, then the run's last offset is
 * resolved and the offset after it committed explicitly for that topic-partition. Between runs it
 * heartbeats and stops early if the consumer is stopping or the partition was seeked.
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
  /** The spans (traces) topic. */
  readonly topic: string;
  /** The feedback topic, when one is consumed. */
  readonly feedbackTopic: string | undefined;
  /** The evals topic, when one is consumed. */
  readonly evalsTopic: string | undefined;
  /** Every subscribed topic: the traces topic first, then the feedback and evals topics that are set. */
  readonly topics: readonly string[];
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly settings: KafkaSpanSourceSettings;
  private readonly maxBatchSize: number;
  private readonly subscriptions: ReadonlyMap<string, Subscription>;
  private readonly spanCodec = new SpanCodec();
  private readonly feedbackCodec = new FeedbackCodec();
  private readonly evalCodec = new EvalCodec();
  private consumer: Consumer | undefined;
  private currentState: KafkaSpanSourceState = 'idle';
  private assignment = new Map<string, number[]>();
  private channels: number[] = [];
  private fatalError: VigilError | undefined;
  private readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  /**
   * A source for `options.topic` (and `feedbackTopic`, `evalsTopic` when set) in group
   * `options.groupId`; nothing connects until {@link KafkaSpanSource.start}.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` for a `maxBatchSize` below 1, an empty topic name or
   *   one topic given for two kinds of event.
   */
  constructor(options: KafkaSpanSourceOptions) {
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `maxBatchSize: must be an integer ≥ 1, got ${String(maxBatchSize)}`, {
        details: { field: 'maxBatchSize' },
      });
    }
    const subs = subscriptionsOf(options);
    this.groupId = options.groupId;
    this.topic = options.topic;
    this.feedbackTopic = options.feedbackTopic;
    this.evalsTopic = options.evalsTopic;
    this.topics = subs.map((sub) => sub.topic);
    this.subscriptions = new Map(subs.map((sub) => [sub.topic, sub]));
    this.settings = options;
    this.maxBatchSize = maxBatchSize;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'kafka-span-source', topics: this.topics, groupId: options.groupId });
    this.kafka = kafkaClient(options, this.logger, 'vigil-span-source');
  }

  /** Lifecycle state; `joined` means in the group with the current assignment. */
  get state(): KafkaSpanSourceState {
    return this.currentState;
  }

  /** True when connected, in the group and assigned at least one partition of one of its topics. */
  get ready(): boolean {
    return this.currentState === 'joined' && this.channels.length > 0;
  }

  /** The error that made the source `failed`, if it did. */
  get error(): VigilError | undefined {
    return this.fatalError;
  }

  /**
   * The partitions of `topic` (default: the traces topic) assigned to this member at the last group
   * join, sorted (empty when not joined).
   */
  assignedPartitions(topic: string = this.topic): number[] {
    return [...(this.assignment.get(topic) ?? [])];
  }

  /** The assigned partitions of every subscribed topic that has some, by topic, each sorted. */
  assignedTopicPartitions(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [topic, partitions] of this.assignment) out[topic] = [...partitions];
    return out;
  }

  /**
   * The event-time channels ({@link channelOf}) of every topic-partition assigned at the last group
   * join, sorted (empty when not joined): what the engine's watermark must wait for.
   */
  assignedChannels(): number[] {
    return [...this.channels];
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
      throw new VigilError('VIGIL_STOPPED', `Kafka source for topics ${this.topics.join(', ')} was stopped; create a new one`);
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
      await consumer.subscribe({ topics: [...this.topics], fromBeginning: this.settings.fromBeginning ?? false });
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
      const error = new VigilError('VIGIL_SOURCE_FAILED', `Cannot consume topics ${this.topics.join(', ')} as group ${this.groupId}: ${messageOf(cause)}`, {
        cause,
        details: { topic: this.topic, topics: this.topics, groupId: this.groupId },
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
      return Promise.reject(new VigilError('VIGIL_STOPPED', `Kafka source for topics ${this.topics.join(', ')} was stopped`));
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
          new VigilError('VIGIL_SOURCE_FAILED', `Kafka source for topics ${this.topics.join(', ')} not ready after ${timeoutMs} ms (state ${this.currentState})`, {
            details: { topic: this.topic, topics: this.topics, groupId: this.groupId },
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
      this.clearAssignment();
      this.currentState = 'stopped';
      this.rejectWaiters(new VigilError('VIGIL_STOPPED', `Kafka source for topics ${this.topics.join(', ')} was stopped`));
    }
  }

  private listen(consumer: Consumer): void {
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = consumer.events;
    consumer.on(GROUP_JOIN, (event) => {
      this.setAssignment(event.payload.memberAssignment);
      if (this.currentState === 'stopping' || this.currentState === 'stopped') return;
      this.currentState = 'joined';
      const assignment = this.assignedTopicPartitions();
      this.logger.debug({ assignment }, 'joined consumer group');
      try {
        this.settings.onAssignment?.([...this.channels], assignment);
      } catch (error) {
        this.logger.error({ error: messageOf(error) }, 'the onAssignment callback threw');
      }
      if (this.channels.length > 0) this.resolveWaiters();
    });
    consumer.on(REBALANCING, () => {
      if (this.currentState === 'joined') this.currentState = 'rebalancing';
    });
    consumer.on(CRASH, (event) => {
      this.clearAssignment();
      const { error, restart } = event.payload;
      if (restart) {
        this.currentState = 'restarting';
        this.logger.warn({ error: messageOf(error) }, 'Kafka consumer crashed; kafkajs restarts it');
        return;
      }
      this.currentState = 'failed';
      const fatal = new VigilError('VIGIL_SOURCE_FAILED', `Kafka consumer of topics ${this.topics.join(', ')} crashed and will not restart: ${messageOf(error)}`, {
        cause: error,
        details: { topic: this.topic, topics: this.topics, groupId: this.groupId },
      });
      this.fatalError = fatal;
      this.consumer = undefined;
      this.logger.error({ error: messageOf(error) }, 'Kafka consumer crashed and will not restart');
      this.rejectWaiters(fatal);
      this.settings.onFatalError?.(fatal);
    });
    consumer.on(STOP, () => {
      this.clearAssignment();
    });
  }

  private setAssignment(memberAssignment: Record<string, number[]>): void {
    const assignment = new Map<string, number[]>();
    const channels: number[] = [];
    for (const [topic, sub] of this.subscriptions) {
      const partitions = memberAssignment[topic];
      if (partitions === undefined || partitions.length === 0) continue;
      const sorted = [...partitions].sort((a, b) => a - b);
      assignment.set(topic, sorted);
      for (const partition of sorted) {
        try {
          channels.push(channelOf(sub.topicIndex, partition));
        } catch (error) {
          // Its batches fail the source (see onBatch); say why now.
          this.logger.error({ topic: sub.topic, partition, error: messageOf(error) }, 'partition beyond the channel range: its batches will fail the source');
        }
      }
    }
    this.assignment = assignment;
    this.channels = channels.sort((a, b) => a - b);
  }

  private clearAssignment(): void {
    this.assignment = new Map();
    this.channels = [];
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
    const sub = this.subscriptions.get(topic);
    if (sub === undefined) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `Kafka source received a batch of topic ${topic}, which it did not subscribe to`, { details: { topic } });
    }
    // Throws (not retriable, so the source fails) for a partition beyond MAX_PARTITIONS_PER_TOPIC.
    const channel = channelOf(sub.topicIndex, partition);
    for (let start = 0; start < messages.length; start += this.maxBatchSize) {
      if (!payload.isRunning() || payload.isStale()) return;
      const end = Math.min(start + this.maxBatchSize, messages.length);
      const last = end === messages.length;
      const spanBatch = this.decode(sub, partition, channel, messages, start, end, batch.highWatermark);
      await this.settings.handler(spanBatch);
      // After the last message, kafkajs resolves up to the batch's last offset (past filtered control records).
      payload.resolveOffset(messages[end - 1].offset);
      const committed = nextOffset(last ? batch.lastOffset() : messages[end - 1].offset);
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: committed }] }] });
      await payload.heartbeat();
    }
  }

  private decode(
    sub: Subscription,
    partition: number,
    channel: number,
    messages: KafkaMessage[],
    start: number,
    end: number,
    highWatermark: string,
  ): KafkaSpanBatch {
    const { topic, kind } = sub;
    const spans: LlmSpan[] = [];
    const feedback: FeedbackEvent[] = [];
    const evals: EvalScoreEvent[] = [];
    const deadLetters: DeadLetter[] = [];
    for (let i = start; i < end; i++) {
      const message = messages[i];
      const value = message.value;
      if (value === null) {
        deadLetters.push(withKey({ reason: 'message has no value (tombstone)', source: topic, partition, offset: message.offset }, message.key));
        continue;
      }
      try {
        if (kind === 'spans') spans.push(this.spanCodec.decode(value));
        else if (kind === 'feedback') feedback.push(this.feedbackCodec.decode(value));
        else evals.push(this.evalCodec.decode(value));
      } catch (error) {
        deadLetters.push(withKey(deadLetterFor(error, { source: topic, partition, offset: message.offset, payload: value }), message.key));
      }
    }
    return {
      source: topic,
      topic,
      kind,
      partition,
      channel,
      firstOffset: messages[start].offset,
      lastOffset: messages[end - 1].offset,
      highWatermark,
      spans,
      feedback,
      evals,
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
