import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { VigilConfig } from '../config/vigil-config.js';
import { createEngine } from '../engine/engine-factory.js';
import type { VigilEngine } from '../engine/vigil-engine.js';
import type { AlertEvent } from '../model/index.js';
import type { RuleDefinition } from '../rules/index.js';
import type { AlertSink, DeadLetterSink } from '../sinks/index.js';
import { KafkaSpanSource } from '../sources/index.js';
import { BacklogProgress } from './backlog-progress.js';
import { kafkaClient } from '../sources/kafka-client.js';
import { SinkDelivery } from './sink-delivery.js';
import { startPartitionedRunner } from './partitioned-runner.js';
import { fetchConfigOf, inputGuardOf, openRunnerSinks, startRunnerApi } from './runner-setup.js';

/** A running `vigil run`: the consumer-group member, its engine and its query API. */
export interface KafkaRunner {
  engine: VigilEngine;
  api: FastifyInstance | null;
  /** The query API's address, when it is enabled. */
  apiAddress: string | null;
  /** Settles with the error when the consumer crashed for good (kafkajs will not restart it). */
  fatal: Promise<Error>;
  /**
   * Clean shutdown: stop fetching, let the in-flight batch finish, flush its alerts, commit, leave
   * the group, close the API.
   */
  stop(): Promise<void>;
}

/** Replacements for the sinks `vigil run` builds from its config (embedding, tests). */
export interface KafkaRunnerSinks {
  /** Instead of the Kafka alert sink on `kafka.alertsTopic`. */
  alertSink?: AlertSink;
  /** Instead of the Kafka sink on `kafka.deadLetterTopic` (or the log when it is unset). */
  deadLetterSink?: DeadLetterSink;
}

/** How long a shutdown waits for alerts still queued for a failing sink before giving up on them, ms. */
const SHUTDOWN_FLUSH_MS = 10_000;

/**
 * Starts Vigil as a Kafka consumer-group member: spans from the traces topic (and user feedback and
 * eval scores from `kafka.feedbackTopic` and `kafka.evalsTopic`, when set) through the engine,
 * alerts to the alerts topic. A batch's offsets are committed only after every alert it caused was
 * acknowledged by the broker (`acks=all`), so a crash re-emits alerts (same `alertId`) instead of
 * losing them.
 */
export async function startKafkaRunner(config: VigilConfig, rules: readonly RuleDefinition[], logger: Logger, sinks: KafkaRunnerSinks = {}): Promise<KafkaRunner> {
  if (!config.kafka) throw new Error('kafka: the config has no kafka section');
  if (config.kafka.state === 'partitioned') return startPartitionedRunner(config, rules, logger, sinks);
  const k = config.kafka;
  const kafka = kafkaClient({ brokers: k.brokers, clientId: k.clientId }, logger, 'vigil');
  const engine = createEngine(config, rules, { idle: true });
  const { registry, alertSink, deadLetterSink } = await openRunnerSinks(config, kafka, logger, sinks);
  const guard = inputGuardOf(config);

  // Dead letters and alerts leave strictly in order through one bounded, retrying chain; a batch
  // waits for its own (and everything before them), so kafkajs fetches nothing more meanwhile.
  let pauses = 0;
  let lastPauseWarning = 0;
  const delivery = new SinkDelivery({
    alertSink,
    deadLetterSink,
    logger,
    maxPending: k.maxPendingAlerts,
    initialBackoffMs: k.sinkRetry.initialBackoff,
    maxBackoffMs: k.sinkRetry.maxBackoff,
    onPressure: (high) => {
      // One warning per minute at most: a sink that stays slow pauses at every batch.
      const level = Date.now() - lastPauseWarning > 60_000 ? 'warn' : 'debug';
      if (high) {
        pauses++;
        if (level === 'warn') lastPauseWarning = Date.now();
        logger[level]({ backlog: delivery.status().sinkBacklog, bound: k.maxPendingAlerts, pauses }, 'sinks are behind: pausing the consumer');
        source.pause();
      } else {
        logger.debug({ backlog: delivery.status().sinkBacklog }, 'sinks caught up: resuming the consumer');
        source.resume();
      }
    },
  });
  let inBatch = false;
  const send = (alerts: AlertEvent[]): Promise<void> => delivery.alerts(alerts);
  // An idle advance closes windows between batches; those alerts go out as soon as they appear.
  const idleSub = engine.alerts$.subscribe(() => {
    if (!inBatch) queueMicrotask(() => void send(engine.drainAlerts()).catch((err: unknown) => logger.error({ err }, 'sending idle-time alerts failed')));
  });

  // The engine's event time waits for the slowest assigned partition, so it must know them all before
  // the first batch: a partition it has not heard of would find its windows closed by the others.
  // Its channels are the source's (channelOf: distinct across the traces, feedback and evals topics).
  let declared: readonly number[] | null = null;
  const declareChannels = (channels: readonly number[]): AlertEvent[] => {
    if (declared !== null && sameNumbers(declared, channels)) return [];
    declared = [...channels];
    engine.telemetry.retainPartitions(source.assignedTopicPartitions());
    logger.info({ assignment: source.assignedTopicPartitions(), channels: declared }, 'event time follows the slowest of these partitions');
    return engine.setChannels(declared);
  };

  const progress = new BacklogProgress(logger, () => source.assignedChannels(), () => engine.status().eventsIn);
  let onFatal: (err: Error) => void = () => undefined;
  const fatal = new Promise<Error>((resolve) => (onFatal = resolve));
  const source = new KafkaSpanSource({
    kafka,
    groupId: k.groupId,
    topic: k.tracesTopic,
    feedbackTopic: k.feedbackTopic,
    evalsTopic: k.evalsTopic,
    fromBeginning: k.fromBeginning,
    consumerConfig: fetchConfigOf(k),
    // While catching up, one commit round trip a second instead of one per run (at-least-once still:
    // only handled runs are committed; at the partitions' ends and on stop nothing stays uncommitted).
    commitIntervalMs: 1000,
    logger,
    guard,
    registry,
    onFatalError: (err) => {
      logger.error({ code: err.code, err: err.message }, 'the consumer crashed and will not restart');
      onFatal(err);
    },
    // Between batches, like an idle advance: what the declaration closes goes out right away.
    onAssignment: (channels) => {
      void send(declareChannels(channels)).catch((err: unknown) => logger.error({ err }, 'sending alerts after a rebalance failed'));
    },
    handler: async (batch, control) => {
      progress.batchStart(batch);
      inBatch = true;
      let alerts: AlertEvent[];
      try {
        // Catches an assignment the join callback did not deliver (its alerts belong to this batch).
        const before = declareChannels(source.assignedChannels());
        // The engine's input channel is the batch's channel, not its Kafka partition (the arrays are shared, not copied).
        const caused = engine.process({ ...batch, partition: batch.channel });
        engine.telemetry.recordConsumerLag(batch.topic, batch.partition, batch.highWatermark, batch.lastOffset);
        alerts = before.length === 0 ? caused : [...before, ...caused];
      } finally {
        inBatch = false;
      }
      await delivery.batch(batch.deadLetters, alerts, control);
      progress.batchDone(batch);
    },
  });
  engine.setReadiness(() =>
    source.ready
      ? { ready: true, reason: `member of group ${k.groupId}, partitions ${describeAssignment(source.assignedTopicPartitions())}` }
      : { ready: false, reason: `consumer ${source.state}: not yet connected with partitions assigned` },
  );
  engine.setStatusExtension(() => ({ ...delivery.status(), adjusted: guard.adjustments, paused: source.paused, pauses }));
  await source.start();

  const { api, apiAddress } = await startRunnerApi(config, engine, logger);

  let stopping: Promise<void> | null = null;
  return {
    engine,
    api,
    apiAddress,
    fatal,
    stop: () => {
      stopping ??= (async () => {
        await source.stop();
        void send(engine.drainAlerts()).catch(() => undefined);
        idleSub.unsubscribe();
        const undelivered = await delivery.flush(SHUTDOWN_FLUSH_MS);
        if (undelivered > 0) logger.error({ undelivered }, 'shutting down with alerts the sink never acknowledged (their batches stay uncommitted where they had one)');
        await alertSink.close();
        await deadLetterSink.close();
        if (api) await api.close();
        engine.close();
      })();
      return stopping;
    },
  };
}

function describeAssignment(assignment: Record<string, number[]>): string {
  return Object.entries(assignment)
    .map(([topic, partitions]) => `${topic}:${partitions.join(',')}`)
    .join(' ');
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
