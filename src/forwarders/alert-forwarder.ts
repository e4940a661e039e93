/**
 * `vigil alerts forward`: a consumer-group member reading the alerts topic and delivering every
 * alert to Alertmanager and webhooks, committing each alert's offset only once every target is
 * done with it.
 *
 * Guarantee (at-least-once, with bounded duplicates):
 * - **Nothing is lost.** An alert's offset is committed only after each target accepted it (2xx),
 *   refused it for good (4xx other than 408/429, logged) or does not want it (below its
 *   `minSeverity`). A target that stays unreachable or answers 5xx/408/429 holds its partition: the
 *   alert is retried in rounds of `retry.attempts` attempts, `retry.maxBackoff` apart, until it is
 *   accepted or the forwarder stops, and nothing after it on that partition goes out meanwhile.
 * - **Duplicates are dropped within a process.** Each target remembers the last `dedupSize`
 *   (alertId, state) pairs it acknowledged; a pair seen again is not posted again. That covers
 *   re-emissions by `vigil run` after its own restart (same `alertId`), redelivery after a
 *   rebalance or a consumer restart, and the retry of an alert some targets already acknowledged.
 * - **Across a forwarder crash**, the memory is gone: alerts after the last committed offset are
 *   delivered again. Offsets are committed after every alert and one alert is in flight at a time,
 *   so that is at most the one alert in flight at the crash: each target receives it at most twice.
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { VigilError, isVigilError } from '../errors.js';
import type { AlertEvent } from '../model/index.js';
import { defaultLogger, kafkaClient } from '../sources/kafka-client.js';
import type { KafkaConnection } from '../sources/kafka-client.js';
import { alertDecoder } from './alert-decoder.js';
import type { AlertDecoder } from './alert-decoder.js';
import type { RetryPolicy } from './forward-config.js';
import type { ForwardTarget } from './forward-target.js';
import { RecentSet } from './recent-set.js';
import { withRetry } from './retry.js';

/** Options of an {@link AlertForwarder}, besides how to reach Kafka. */
export interface AlertForwarderSettings {
  /** The alerts topic (Avro `AlertEvent` values). */
  topic: string;
  /** Consumer group: its committed offsets are what survives a restart. */
  groupId: string;
  /** Where a group without committed offsets starts: the earliest alert (true) or only new ones (false, default). */
  fromBeginning?: boolean;
  targets: readonly ForwardTarget[];
  retry: RetryPolicy;
  /** (alertId, state) pairs remembered per target to drop duplicates. */
  dedupSize: number;
  /** How message values become alerts; default plain Avro `AlertEvent` (see `alertDecoder` for a schema registry). */
  decode?: AlertDecoder;
  logger?: Logger;
  /** Further kafkajs consumer settings (session timeout, retry). `groupId` is ignored. */
  consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
}

/** Everything an {@link AlertForwarder} is built from. */
export type AlertForwarderOptions = KafkaConnection & AlertForwarderSettings;

/** What a forwarder did so far. */
export interface ForwarderCounts {
  /** Alerts every target was done with (offset committed), duplicates and invalid records excluded. */
  forwarded: number;
  /** Deliveries accepted by a target (2xx), over all targets. */
  delivered: number;
  /** Deliveries skipped because the target had acknowledged that (alertId, state) already. */
  duplicates: number;
  /** Deliveries a target refused for good (4xx). */
  rejected: number;
  /** Records on the topic that are not Avro `AlertEvent`s; skipped and committed. */
  invalid: number;
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How one target ended with one alert in one round. */
type Outcome = 'done' | 'failed';

/**
 * Forwards alerts from the alerts topic to its targets; see the module comment for the exact
 * delivery guarantee. One alert is handled at a time (targets in parallel), in topic order.
 */
export class AlertForwarder {
  readonly topic: string;
  readonly groupId: string;
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly settings: AlertForwarderSettings;
  private readonly decode: AlertDecoder;
  private readonly seen = new Map<string, RecentSet>();
  private readonly abort = new AbortController();
  private readonly stats: ForwarderCounts = { forwarded: 0, delivered: 0, duplicates: 0, rejected: 0, invalid: 0 };
  private consumer: Consumer | undefined;
  private stopping = false;
  private joined = false;
  private joinWaiters: (() => void)[] = [];
  private onFatal: (error: Error) => void = () => undefined;

  /** Settles with the error when the consumer crashed and kafkajs will not restart it. */
  readonly fatal: Promise<Error>;

  /**
   * @throws VigilError `VIGIL_CONFIG_INVALID` without targets or with two targets of one name.
   */
  constructor(options: AlertForwarderOptions) {
    if (options.targets.length === 0) throw new VigilError('VIGIL_CONFIG_INVALID', 'forward: needs alertmanager or at least one webhook');
    for (const target of options.targets) {
      if (this.seen.has(target.name)) throw new VigilError('VIGIL_CONFIG_INVALID', `forward: two targets named ${target.name}`);
      this.seen.set(target.name, new RecentSet(options.dedupSize));
    }
    this.topic = options.topic;
    this.groupId = options.groupId;
    this.settings = options;
    this.decode = options.decode ?? alertDecoder();
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'alert-forwarder', topic: options.topic, groupId: options.groupId });
    this.kafka = kafkaClient(options, this.logger, 'vigil-alert-forwarder');
    this.fatal = new Promise<Error>((resolve) => (this.onFatal = resolve));
  }

  /** A copy of the counters. */
  counts(): ForwarderCounts {
    return { ...this.stats };
  }

  /**
   * Connects, subscribes and starts consuming; resolves once running (the group join completes
   * in the background, see {@link AlertForwarder.whenJoined}).
   *
   * @throws VigilError `VIGIL_SOURCE_FAILED` when Kafka cannot be reached or the topic does not exist.
   */
  async start(): Promise<void> {
    if (this.consumer !== undefined) return;
    if (this.stopping) throw new VigilError('VIGIL_STOPPED', 'the alert forwarder was stopped; create a new one');
    const consumer = this.kafka.consumer({ allowAutoTopicCreation: false, ...this.settings.consumerConfig, groupId: this.groupId });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
      const waiters = this.joinWaiters;
      this.joinWaiters = [];
      for (const w of waiters) w();
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      if (restart) {
        this.logger.warn({ error: messageOf(error) }, 'alert consumer crashed; kafkajs restarts it from the committed offsets');
        return;
      }
      this.logger.error({ error: messageOf(error) }, 'alert consumer crashed and will not restart');
      this.onFatal(new VigilError('VIGIL_SOURCE_FAILED', `alert forwarder for ${this.topic} crashed: ${messageOf(error)}`, { cause: error }));
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: this.settings.fromBeginning ?? false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (cause) {
      this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw new VigilError('VIGIL_SOURCE_FAILED', `cannot consume ${this.topic} as group ${this.groupId}: ${messageOf(cause)}`, {
        cause,
        details: { topic: this.topic, groupId: this.groupId },
      });
    }
  }

  /** Resolves once the consumer has joined its group (partitions assigned). */
  whenJoined(): Promise<void> {
    if (this.joined) return Promise.resolve();
    return new Promise((resolve) => this.joinWaiters.push(resolve));
  }

  /**
   * Stops: aborts retry waits, lets the alert in hand finish (committed if every target is done
   * with it, else left for the next run), leaves the group. Idempotent.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer !== undefined) await consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const running = (): boolean => !this.stopping && payload.isRunning() && !payload.isStale();
    for (const message of batch.messages) {
      if (!running()) return;
      const done = await this.handle(batch.partition, message, heartbeat, running);
      if (!done) return;
      payload.resolveOffset(message.offset);
      await payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: nextOffset(message.offset) }] }] });
      await heartbeat();
    }
  }

  /** True when every target is done with the message (so its offset may be committed). */
  private async handle(partition: number, message: KafkaMessage, heartbeat: () => Promise<void>, running: () => boolean): Promise<boolean> {
    let alert: AlertEvent;
    try {
      if (message.value === null) throw new VigilError('VIGIL_RECORD_INVALID', 'message has no value (tombstone)');
      alert = await this.decode(message.value);
    } catch (error) {
      // Anything else (the schema registry unreachable) is retried: the batch is delivered again.
      if (!isVigilError(error, 'VIGIL_RECORD_INVALID')) throw error;
      this.stats.invalid++;
      this.logger.warn({ partition, offset: message.offset, reason: messageOf(error) }, 'not an AlertEvent: skipped');
      return true;
    }
    const key = `${alert.alertId}|${alert.state}`;
    const where = { alertId: alert.alertId, rule: alert.ruleName, state: alert.state, partition, offset: message.offset };
    let pending: ForwardTarget[] = [];
    for (const target of this.settings.targets) {
      if (!target.accepts(alert)) continue;
      if (this.seen.get(target.name)?.has(key) === true) {
        this.stats.duplicates++;
        this.logger.info({ ...where, target: target.name }, 'duplicate alert not posted again');
        continue;
      }
      pending.push(target);
    }
    const posted = pending.map((t) => t.name);
    for (;;) {
      if (pending.length === 0) break;
      const outcomes = await Promise.all(pending.map((t) => this.deliver(t, alert, key, where)));
      pending = pending.filter((_, i) => outcomes[i] === 'failed');
      if (pending.length === 0) break;
      const pause = this.settings.retry.maxBackoff;
      this.logger.warn(
        { ...where, targets: pending.map((t) => t.name), attempts: this.settings.retry.attempts, retryInMs: pause },
        'target(s) unavailable: the alert stays uncommitted and is tried again',
      );
      if (!(await this.pause(pause, heartbeat, running))) return false;
    }
    if (posted.length > 0) this.logger.info({ ...where, targets: posted }, 'alert forwarded');
    this.stats.forwarded++;
    return true;
  }

  private async deliver(target: ForwardTarget, alert: AlertEvent, key: string, where: Record<string, unknown>): Promise<Outcome> {
    try {
      await withRetry(() => target.deliver(alert), {
        policy: this.settings.retry,
        signal: this.abort.signal,
        onRetry: (error, attempt, delayMs) =>
          this.logger.warn({ ...where, target: target.name, attempt, retryInMs: delayMs, error: messageOf(error) }, 'delivery failed; retrying'),
      });
      this.stats.delivered++;
      this.seen.get(target.name)?.add(key);
      return 'done';
    } catch (error) {
      if (isVigilError(error, 'VIGIL_FORWARD_REJECTED')) {
        this.stats.rejected++;
        this.seen.get(target.name)?.add(key);
        this.logger.error({ ...where, target: target.name, status: error.details.status, error: error.message }, 'target refused the alert; giving up on it for this target');
        return 'done';
      }
      if (isVigilError(error, 'VIGIL_FORWARD_FAILED')) return 'failed';
      throw error;
    }
  }

  /** Waits `ms` while heartbeating; false when the forwarder stopped meanwhile. */
  private async pause(ms: number, heartbeat: () => Promise<void>, running: () => boolean): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!running()) return false;
      await sleep(Math.min(1000, until - Date.now()), undefined, { signal: this.abort.signal }).catch(() => undefined);
      if (!running()) return false;
      await heartbeat();
    }
    return running();
  }
}
