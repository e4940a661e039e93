/**
 * The Kafka source: one member of a consumer group that decodes Avro spans (and, from their own
 * topics, user feedback and eval scores) batch by batch and commits a batch's offsets only after
 * the handler has finished with it (at-least-once).
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import type { Logger } from 'pino';
import { MAX_WATERMARK_CHANNEL } from '../../operators/event-time-watermark.js';
import type { InputGuard } from '../codec/input-guard.js';
import type { WriterSchemaSource } from '../codec/registry/resolving-decoder.js';
import { qualifiedSchemaName } from '../codec/schemas.js';
import { VigilError } from '../errors.js';
import type { EvalScoreEvent, FeedbackEvent, LlmSpan } from '../model/index.js';
import { deadLetterFor } from './dead-letter.js';
import { KAFKA_FETCH_DEFAULTS } from './kafka-fetch-defaults.js';
import { EventDecoders } from './event-decoders.js';
import type { RunDecoders } from './event-decoders.js';
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
  /**
   * With `checkKeys`: spans and feedback whose message key is not their user id (else their trace
   * id), so they may sit on another partition than the rest of their user's events.
   */
  keyViolations: number;
}

/**
 * Processes one batch. It must resolve only when everything the batch caused (alerts, dead
 * letters) is durably delivered, because the batch's offsets are committed as soon as it
 * resolves. If it rejects, nothing is committed and the batch is delivered again.
 */
export type KafkaSpanBatchHandler = (batch: KafkaSpanBatch, control: KafkaBatchControl) => Promise<void>;

/** What a {@link KafkaSpanBatchHandler} may do while it holds a batch, e.g. waiting for a slow sink. */
export interface KafkaBatchControl {
  /** Heartbeats the group (throttled by kafkajs), so a long wait does not cost the membership. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was seeked: waiting longer is pointless. */
  isRunning(): boolean;
}

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
  /**
   * Most milliseconds between offset commits (default 0: commit after every run). A run's offsets
   * are still committed only after the handler resolved for it; with an interval they go out with
   * the first commit after it — by a later run once the interval has passed, else by a timer at the
   * end of the interval (so a quiet stream leaves nothing uncommitted for longer), and before the
   * source leaves the group on {@link KafkaSpanSource.stop}. Batches then wait for one commit round
   * trip per interval instead of one per run, which speeds up reading a backlog and shortens the
   * fetch cycle of a live stream; a crash or rebalance delivers up to an interval's runs again.
   */
  commitIntervalMs?: number;
  /**
   * The offset to commit for a topic-partition once a run of it is handled, instead of the next
   * one to read: a partition task commits where a new owner must start replaying to rebuild its
   * state (see `PartitionTask.restoreOffset`). Undefined: the next offset; null: nothing (the
   * partition's state is gone, so the last committed offset must stand).
   */
  commitOffset?: (topic: string, partition: number) => number | null | undefined;
  /**
   * Messages of a topic-partition below this offset are already applied (a redelivery after a
   * rebalance, or a replay from a restore offset the state has passed): they are not decoded nor
   * handed to the handler. Undefined: none are skipped.
   */
  skipBelow?: (topic: string, partition: number) => number | undefined;
  /**
   * Count, per batch, the spans and feedback events not keyed by their user id (else trace id), the
   * keying partitioned state needs (`keyViolations`). Default false.
   */
  checkKeys?: boolean;
  /** Partitions processed in parallel by this member (kafkajs `partitionsConsumedConcurrently`); default 1. */
  partitionsConsumedConcurrently?: number;
  /** Further kafkajs consumer settings (session timeout, fetch sizes, retry). `groupId` is ignored. */
  consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
  /**
   * The kafkajs partition assigners the member offers, in order of preference (kafkajs
   * `partitionAssigners`; takes precedence over one in `consumerConfig`), e.g.
   * `[createCoPartitionedAssigner({ ownedTasks })]` so that partition p of every subscribed topic
   * lands on the same member. Every member of the group must offer a common one. Default: kafkajs'
   * round-robin assigner.
   */
  partitionAssigners?: PartitionAssigner[];
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
  /**
   * Plausibility limits applied to every decoded event (event-time bounds, identifier lengths,
   * clamping); a record it rejects becomes a dead letter. None: only the schema's contract is checked.
   */
  guard?: InputGuard;
  /**
   * A schema registry (e.g. a `RegistryClient`): values in the Confluent wire format (magic byte 0,
   * schema id) are decoded with the writer schema it holds for their id, resolved to the shipped
   * reader schema; other values stay plain Avro. An unknown id or an incompatible writer schema is
   * a dead letter; a registry that cannot be reached fails the run (retriable), which is fetched
   * again. None: every value is plain Avro.
   */
  registry?: WriterSchemaSource;
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
 * resolved and the offset after it committed explicitly for that topic-partition (with
 * `commitIntervalMs`, together with other runs' at most that often, see there).
 * Between runs it heartbeats and stops early if the consumer is stopping or the partition was seeked.
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
  private readonly decoders: EventDecoders;
  private consumer: Consumer | undefined;
  private currentState: KafkaSpanSourceState = 'idle';
  private assignment = new Map<string, number[]>();
  private channels: number[] = [];
  private fatalError: VigilError | undefined;
  private isPaused = false;
  private readonly commitIntervalMs: number;
  /** Offsets (the next to read) of handled runs not yet committed, by topic and partition. */
  private pendingCommits = new Map<string, Map<number, string>>();
  /** Commits run one after the other, so a later one never lands before an earlier one. */
  private commitChain: Promise<void> = Promise.resolve();
  private lastCommitAt = 0;
  private commitTimer: NodeJS.Timeout | undefined;
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
    this.commitIntervalMs = options.commitIntervalMs ?? 0;
    this.decoders = new EventDecoders(options.registry);
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

  /** True while fetching is paused by {@link KafkaSpanSource.pause}. */
  get paused(): boolean {
    return this.isPaused;
  }

  /**
   * Stops fetching from every subscribed topic (kafkajs `consumer.pause`) until
   * {@link KafkaSpanSource.resume}; the batch in flight finishes, the group membership is kept and
   * fetching later resumes from the last resolved offset. Used when a sink falls behind.
   */
  pause(): void {
    this.isPaused = true;
    this.applyPause();
  }

  /** Resumes fetching after {@link KafkaSpanSource.pause}. */
  resume(): void {
    this.isPaused = false;
    this.applyPause();
  }

  // kafkajs refuses before run() and forgets the pause when it restarts a crashed consumer, so the
  // wish is kept here and applied again at every group join.
  private applyPause(): void {
    const topics = this.topics.map((topic) => ({ topic }));
    try {
      if (this.isPaused) this.consumer?.pause(topics);
      else this.consumer?.resume(topics);
    } catch (error) {
      this.logger.debug({ error: messageOf(error) }, 'pause/resume deferred to the next group join');
    }
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
      ...KAFKA_FETCH_DEFAULTS.consumer,
      ...this.settings.consumerConfig,
      ...(this.settings.partitionAssigners === undefined ? {} : { partitionAssigners: this.settings.partitionAssigners }),
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
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently ?? KAFKA_FETCH_DEFAULTS.partitionsConsumedConcurrently,
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
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    try {
      // Runs handled since the last commit (commitIntervalMs) are committed before the group is left;
      // a batch still in flight commits its own runs as it finishes them.
      await this.commitPending((topics) => consumer.commitOffsets(flattenOffsets(topics))).catch(
        (error: unknown) => this.logger.warn({ error: messageOf(error) }, 'committing handled offsets at stop failed; they will be delivered again'),
      );
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
      if (this.isPaused) this.applyPause();
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
    // A new generation reads its partitions again from their committed offsets.
    this.pendingCommits = new Map();
  }

  private clearAssignment(): void {
    this.assignment = new Map();
    this.channels = [];
    this.pendingCommits = new Map();
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
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
    const control: KafkaBatchControl = { heartbeat: () => payload.heartbeat(), isRunning: () => payload.isRunning() && !payload.isStale() };
    let first = 0;
    const skip = this.settings.skipBelow?.(topic, partition);
    if (skip !== undefined) while (first < messages.length && Number(messages[first].offset) < skip) first++;
    if (first === messages.length && messages.length > 0) {
      payload.resolveOffset(batch.lastOffset());
      this.notePending(topic, partition, nextOffset(batch.lastOffset()));
      return;
    }
    for (let start = first; start < messages.length; start += this.maxBatchSize) {
      if (!payload.isRunning() || payload.isStale()) {
        // Stopping: what the earlier runs handled is committed before kafkajs leaves the group.
        if (!payload.isStale()) await this.commitPending((topics) => payload.commitOffsetsIfNecessary({ topics }));
        return;
      }
      const end = Math.min(start + this.maxBatchSize, messages.length);
      const last = end === messages.length;
      const decoders = await this.decoders.forRun(sub.kind, messages, start, end);
      const spanBatch = this.decode(sub, partition, channel, messages, start, end, batch.highWatermark, decoders);
      await this.settings.handler(spanBatch, control);
      // After the last message, kafkajs resolves up to the batch's last offset (past filtered control records).
      payload.resolveOffset(messages[end - 1].offset);
      const committed = nextOffset(last ? batch.lastOffset() : messages[end - 1].offset);
      this.notePending(topic, partition, committed);
      if (this.commitDue()) await this.commitPending((topics) => payload.commitOffsetsIfNecessary({ topics }));
      else this.scheduleCommit();
      await payload.heartbeat();
    }
  }

  private notePending(topic: string, partition: number, next: string): void {
    const chosen = this.settings.commitOffset?.(topic, partition);
    if (chosen === null) return;
    const offset = chosen === undefined ? next : String(chosen);
    let partitions = this.pendingCommits.get(topic);
    if (partitions === undefined) this.pendingCommits.set(topic, (partitions = new Map<number, string>()));
    partitions.set(partition, offset);
  }

  /** Whether to commit after a run: after every run, or once commitIntervalMs has passed, or when stopping. */
  private commitDue(): boolean {
    return this.commitIntervalMs <= 0 || this.currentState === 'stopping' || Date.now() - this.lastCommitAt >= this.commitIntervalMs;
  }

  /** Commits what is pending at the end of the interval, outside any batch (a quiet stream has no next run). */
  private scheduleCommit(): void {
    const consumer = this.consumer;
    if (this.commitTimer !== undefined || consumer === undefined) return;
    this.commitTimer = setTimeout(
      () => {
        this.commitTimer = undefined;
        if (consumer !== this.consumer) return;
        this.commitPending((topics) => consumer.commitOffsets(flattenOffsets(topics))).catch((error: unknown) =>
          this.logger.debug({ error: messageOf(error) }, 'deferred offset commit failed; the next commit carries its offsets'),
        );
      },
      Math.max(0, this.lastCommitAt + this.commitIntervalMs - Date.now()),
    );
    this.commitTimer.unref();
  }

  /**
   * Commits every pending offset with `commit`, after the commits already under way. On failure the
   * offsets stay pending (unless newer ones arrived) and the error is thrown.
   */
  private commitPending(commit: (topics: { topic: string; partitions: { partition: number; offset: string }[] }[]) => Promise<unknown>): Promise<void> {
    const next = this.commitChain.then(async () => {
      if (this.pendingCommits.size === 0) return;
      const taken = this.pendingCommits;
      this.pendingCommits = new Map();
      this.lastCommitAt = Date.now();
      const topics = [...taken].map(([topic, partitions]) => ({ topic, partitions: [...partitions].map(([partition, offset]) => ({ partition, offset })) }));
      try {
        await commit(topics);
      } catch (error) {
        for (const [topic, partitions] of taken) {
          for (const [partition, offset] of partitions) {
            if (this.pendingCommits.get(topic)?.has(partition) !== true) this.notePending(topic, partition, offset);
          }
        }
        throw error;
      }
    });
    this.commitChain = next.catch(() => undefined);
    return next;
  }

  private decode(
    sub: Subscription,
    partition: number,
    channel: number,
    messages: KafkaMessage[],
    start: number,
    end: number,
    highWatermark: string,
    decoders: RunDecoders,
  ): KafkaSpanBatch {
    const { topic, kind } = sub;
    const spans: LlmSpan[] = [];
    const feedback: FeedbackEvent[] = [];
    const evals: EvalScoreEvent[] = [];
    const deadLetters: DeadLetter[] = [];
    const guard = this.settings.guard;
    const checkKeys = this.settings.checkKeys === true;
    let keyViolations = 0;
    for (let i = start; i < end; i++) {
      const message = messages[i];
      const value = message.value;
      if (value === null) {
        deadLetters.push(withKey({ reason: 'message has no value (tombstone)', reasonClass: 'empty', field: 'value', source: topic, partition, offset: message.offset }, message));
        continue;
      }
      const declared = message.headers?.[SCHEMA_HEADER];
      if (declared !== undefined && !sameHeader(declared, EXPECTED_SCHEMA[kind])) {
        const reason = `value: the ${SCHEMA_HEADER} header declares another record (${describeHeader(declared)}); topic ${topic} carries ${EXPECTED_SCHEMA[kind]}`;
        deadLetters.push(withKey({ reason, reasonClass: 'wrong_schema', field: SCHEMA_HEADER, source: topic, partition, offset: message.offset, payload: value }, message));
        continue;
      }
      try {
        if (kind === 'spans') {
          const span = decoders.spans.decode(value);
          spans.push(guard === undefined ? span : guard.span(span, channel));
          if (checkKeys && !keyedBy(message.key, span.userId ?? span.traceId)) keyViolations++;
        } else if (kind === 'feedback') {
          const event = decoders.feedback.decode(value);
          feedback.push(guard === undefined ? event : guard.feedback(event, channel));
          if (checkKeys && !keyedBy(message.key, event.userId ?? event.traceId)) keyViolations++;
        } else {
          const event = decoders.evals.decode(value);
          evals.push(guard === undefined ? event : guard.evaluation(event, channel));
        }
      } catch (error) {
        deadLetters.push(withKey(deadLetterFor(error, { source: topic, partition, offset: message.offset, payload: value }), message));
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
      keyViolations,
    };
  }
}

// Compares without decoding the key: ids are ASCII in practice, and a non-ASCII one compares by its UTF-8 bytes.
function keyedBy(key: Buffer | null, expected: string | null): boolean {
  if (key === null || expected === null) return key === null && expected === null;
  if (key.length !== expected.length) return key.length === Buffer.byteLength(expected) && key.toString() === expected;
  for (let i = 0; i < key.length; i++) if (key[i] !== expected.charCodeAt(i)) return key.toString() === expected;
  return true;
}

/** The header a producer may set to say which record a value is (Vigil's own sinks set it). */
const SCHEMA_HEADER = 'vigil-schema';

const EXPECTED_SCHEMA: Readonly<Record<KafkaEventKind, string>> = {
  spans: qualifiedSchemaName('LlmSpan'),
  feedback: qualifiedSchemaName('FeedbackEvent'),
  evals: qualifiedSchemaName('EvalScoreEvent'),
};

function sameHeader(value: Buffer | string | (Buffer | string)[], expected: string): boolean {
  const v = Array.isArray(value) ? value[value.length - 1] : value;
  return v !== undefined && v.toString() === expected;
}

// A header is producer input; only a value shaped like a schema name is echoed back.
function describeHeader(value: Buffer | string | (Buffer | string)[]): string {
  const v = (Array.isArray(value) ? value[value.length - 1] : value)?.toString() ?? '';
  return /^[A-Za-z0-9_.]{1,128}$/.test(v) ? v : `a value of ${v.length} characters`;
}

function withKey(deadLetter: DeadLetter, message: KafkaMessage): DeadLetter {
  if (message.key !== null) deadLetter.key = message.key;
  const timestamp = Number(message.timestamp);
  if (Number.isSafeInteger(timestamp) && timestamp >= 0) deadLetter.timestamp = timestamp;
  return deadLetter;
}

function flattenOffsets(topics: { topic: string; partitions: { partition: number; offset: string }[] }[]): { topic: string; partition: number; offset: string }[] {
  return topics.flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => ({ topic, partition, offset })));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
