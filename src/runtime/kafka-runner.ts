import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createQueryServer } from '../api/query-server.js';
import type { VigilConfig } from '../config/vigil-config.js';
import { createEngine } from '../engine/engine-factory.js';
import type { VigilEngine } from '../engine/vigil-engine.js';
import type { AlertEvent } from '../model/index.js';
import type { RuleDefinition } from '../rules/index.js';
import { KafkaAlertSink } from '../sinks/index.js';
import { KafkaSpanSource } from '../sources/index.js';
import { kafkaClient } from '../sources/kafka-client.js';

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

/**
 * Starts Vigil as a Kafka consumer-group member: spans from the traces topic (and user feedback and
 * eval scores from `kafka.feedbackTopic` and `kafka.evalsTopic`, when set) through the engine,
 * alerts to the alerts topic. A batch's offsets are committed only after every alert it caused was
 * acknowledged by the broker (`acks=all`), so a crash re-emits alerts (same `alertId`) instead of
 * losing them.
 */
export async function startKafkaRunner(config: VigilConfig, rules: readonly RuleDefinition[], logger: Logger): Promise<KafkaRunner> {
  if (!config.kafka) throw new Error('kafka: the config has no kafka section');
  const k = config.kafka;
  const kafka = kafkaClient({ brokers: k.brokers, clientId: k.clientId }, logger, 'vigil');
  const engine = createEngine(config, rules, { idle: true });
  const sink = new KafkaAlertSink({ kafka, topic: k.alertsTopic });
  await sink.connect();

  // Alerts are sent strictly in emission order through one chain; a batch waits for its own.
  let sending: Promise<void> = Promise.resolve();
  let inBatch = false;
  const send = (alerts: AlertEvent[]): Promise<void> => {
    if (alerts.length === 0) return sending;
    for (const a of alerts) logger.info({ alertId: a.alertId, rule: a.ruleName, state: a.state, groupKey: a.groupKey, value: a.value }, 'alert');
    sending = sending.then(() => sink.send(alerts));
    return sending;
  };
  // An idle advance closes windows between batches; those alerts go out as soon as they appear.
  const idleSub = engine.alerts$.subscribe(() => {
    if (!inBatch) queueMicrotask(() => void send(engine.drainAlerts()).catch((err: unknown) => logger.error({ err }, 'sending idle-time alerts failed')));
  });
  const deadLetterSub = engine.deadLetters$.subscribe((dl) => {
    logger.warn({ source: dl.source, partition: dl.partition, offset: dl.offset, field: dl.field, reason: dl.reason }, 'dead letter');
  });

  // The engine's event time waits for the slowest assigned partition, so it must know them all before
  // the first batch: a partition it has not heard of would find its windows closed by the others.
  // Its channels are the source's (channelOf: distinct across the traces, feedback and evals topics).
  let declared: readonly number[] | null = null;
  const declareChannels = (channels: readonly number[]): AlertEvent[] => {
    if (declared !== null && sameNumbers(declared, channels)) return [];
    declared = [...channels];
    logger.info({ assignment: source.assignedTopicPartitions(), channels: declared }, 'event time follows the slowest of these partitions');
    return engine.setChannels(declared);
  };

  let onFatal: (err: Error) => void = () => undefined;
  const fatal = new Promise<Error>((resolve) => (onFatal = resolve));
  const source = new KafkaSpanSource({
    kafka,
    groupId: k.groupId,
    topic: k.tracesTopic,
    feedbackTopic: k.feedbackTopic,
    evalsTopic: k.evalsTopic,
    fromBeginning: k.fromBeginning,
    logger,
    onFatalError: (err) => {
      logger.error({ code: err.code, err: err.message }, 'the consumer crashed and will not restart');
      onFatal(err);
    },
    // Between batches, like an idle advance: what the declaration closes goes out right away.
    onAssignment: (channels) => {
      void send(declareChannels(channels)).catch((err: unknown) => logger.error({ err }, 'sending alerts after a rebalance failed'));
    },
    handler: async (batch) => {
      inBatch = true;
      let alerts: AlertEvent[];
      try {
        // Catches an assignment the join callback did not deliver (its alerts belong to this batch).
        const before = declareChannels(source.assignedChannels());
        // The engine's input channel is the batch's channel, not its Kafka partition (the arrays are shared, not copied).
        const caused = engine.process({ ...batch, partition: batch.channel });
        alerts = before.length === 0 ? caused : [...before, ...caused];
      } finally {
        inBatch = false;
      }
      await send(alerts);
    },
  });
  engine.setReadiness(() =>
    source.ready
      ? { ready: true, reason: `member of group ${k.groupId}, partitions ${describeAssignment(source.assignedTopicPartitions())}` }
      : { ready: false, reason: `consumer ${source.state}: not yet connected with partitions assigned` },
  );
  await source.start();

  let api: FastifyInstance | null = null;
  let apiAddress: string | null = null;
  if (config.api.enabled) {
    api = createQueryServer({ backend: engine, logger: logger.child({ component: 'api' }) });
    apiAddress = await api.listen({ host: config.api.host, port: config.api.port });
    logger.info({ address: apiAddress }, 'query API listening');
  }

  let stopping: Promise<void> | null = null;
  return {
    engine,
    api,
    apiAddress,
    fatal,
    stop: () => {
      stopping ??= (async () => {
        await source.stop();
        await send(engine.drainAlerts());
        await sending;
        idleSub.unsubscribe();
        deadLetterSub.unsubscribe();
        await sink.close();
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
