/**
 * What both `vigil run` runners (partitioned and local) build the same way from the config: the
 * schema registry client, the alert and dead-letter sinks, the input guard and the query API.
 */
import type { FastifyInstance } from 'fastify';
import type { ConsumerConfig, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { QueryBackend } from '../api/query-backend.js';
import { createQueryServer } from '../api/query-server.js';
import type { SignalBackend } from '../api/signal-query.js';
import { InputGuard } from '../codec/input-guard.js';
import { RegistryClient } from '../codec/registry/registry-client.js';
import type { VigilConfig } from '../config/vigil-config.js';
import type { AlertSink, DeadLetterSink } from '../sinks/index.js';
import type { KafkaRunnerSinks } from './kafka-runner.js';
import { KafkaAlertSink, KafkaDeadLetterSink, LogDeadLetterSink } from '../sinks/index.js';

/** The registry client and the connected sinks of a runner. */
export interface RunnerSinks {
  registry: RegistryClient | undefined;
  alertSink: AlertSink;
  deadLetterSink: DeadLetterSink;
}

/**
 * The registry client (when configured) and the sinks: the given ones, else a Kafka alert sink on
 * `kafka.alertsTopic` and a dead-letter sink on `kafka.deadLetterTopic` (checked to exist) or the log;
 * Kafka sinks are connected.
 */
export async function openRunnerSinks(config: VigilConfig, kafka: Kafka, logger: Logger, sinks: KafkaRunnerSinks): Promise<RunnerSinks> {
  const k = config.kafka;
  if (k === undefined) throw new Error('kafka: the config has no kafka section');
  const registry = config.registry === undefined ? undefined : new RegistryClient({ url: config.registry.url, cacheSize: config.registry.cacheSize });
  const alertSink = sinks.alertSink ?? new KafkaAlertSink({ kafka, topic: k.alertsTopic, registry });
  if (alertSink instanceof KafkaAlertSink) await alertSink.connect();
  const deadLetterSink =
    sinks.deadLetterSink ??
    (k.deadLetterTopic === undefined
      ? new LogDeadLetterSink(logger)
      : new KafkaDeadLetterSink({ kafka, topic: k.deadLetterTopic, consumerGroup: k.groupId, maxBytes: k.deadLetterMaxBytes }));
  if (deadLetterSink instanceof KafkaDeadLetterSink) {
    await deadLetterSink.verifyTopic();
    await deadLetterSink.connect();
  }
  return { registry, alertSink, deadLetterSink };
}

/** The input consumer's fetch settings of the config's `kafka.fetch`, as kafkajs names them. */
export function fetchConfigOf(kafka: NonNullable<VigilConfig['kafka']>): Pick<ConsumerConfig, 'minBytes' | 'maxWaitTimeInMs'> {
  return { minBytes: kafka.fetch.minBytes, maxWaitTimeInMs: kafka.fetch.maxWait };
}

/** The plausibility limits of the config's `limits` section. */
export function inputGuardOf(config: VigilConfig): InputGuard {
  return new InputGuard({
    maxDurationMs: config.limits.maxDuration,
    maxTextChars: config.limits.maxTextLength,
    maxTokens: config.limits.maxTokens,
    maxCostUsd: config.limits.maxCostUsd,
    maxIdentifierChars: config.limits.maxIdentifierLength,
    maxEventTimeSkewMs: config.limits.maxEventTimeSkew,
  });
}

/** Starts the query API over `backend` when `api.enabled`, with the config's tokens and rate limit. */
export async function startRunnerApi(config: VigilConfig, backend: QueryBackend & SignalBackend, logger: Logger): Promise<{ api: FastifyInstance | null; apiAddress: string | null }> {
  if (!config.api.enabled) return { api: null, apiAddress: null };
  const tokens = [...(config.api.authToken === undefined ? [] : [config.api.authToken]), ...(config.api.authTokens ?? [])];
  const api = createQueryServer({
    backend,
    logger: logger.child({ component: 'api' }),
    security: { tokens, rateLimit: { max: config.api.rateLimit.max, windowMs: config.api.rateLimit.window }, bodyLimit: config.api.bodyLimit },
  });
  const apiAddress = await api.listen({ host: config.api.host, port: config.api.port });
  logger.info({ address: apiAddress }, 'query API listening');
  return { api, apiAddress };
}
