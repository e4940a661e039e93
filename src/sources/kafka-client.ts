/**
 * Building the kafkajs client shared by the Kafka source and sink, with kafkajs' logs routed to
 * pino and kept quiet.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, LogEntry, logCreator } from 'kafkajs';
import { pino } from 'pino';
import type { Logger } from 'pino';

/**
 * How to reach Kafka: an existing kafkajs client (its own logging settings apply), or the broker
 * list and client settings for a new one.
 */
export type KafkaConnection =
  | { kafka: Kafka }
  | {
      brokers: string[];
      clientId?: string;
      ssl?: KafkaConfig['ssl'];
      sasl?: KafkaConfig['sasl'];
      connectionTimeout?: number;
      requestTimeout?: number;
    };

// Only these log fields are forwarded: they locate a problem and never carry message content.
const FORWARDED_FIELDS = ['groupId', 'memberId', 'topic', 'partition', 'offset', 'broker', 'clientId', 'nodeId', 'retryCount', 'retryTime'];

/**
 * A kafkajs `logCreator` writing to `logger` with a `kafkajs` field naming the kafkajs namespace
 * (e.g. `Connection`, `Runner`). Entries
 * keep their message and a few locating fields; an `error` field is reduced to its message and
 * stacks are dropped.
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const fields: Record<string, unknown> = { kafkajs: namespace };
      const extra = log as Record<string, unknown>;
      for (const name of FORWARDED_FIELDS) {
        if (extra[name] !== undefined) fields[name] = extra[name];
      }
      const error = extra.error;
      if (error instanceof Error) fields.error = error.message;
      else if (typeof error === 'string') fields.error = error;
      if (level === logLevel.ERROR) logger.error(fields, log.message);
      else if (level === logLevel.WARN) logger.warn(fields, log.message);
      else if (level === logLevel.INFO) logger.info(fields, log.message);
      else logger.debug(fields, log.message);
    };
}

/** The logger used when none is given: pino at `warn` to stderr, so stdout stays free for output. */
export function defaultLogger(): Logger {
  return pino({ name: 'vigil', level: 'warn' }, pino.destination(2));
}

/**
 * The kafkajs client for `connection`: the given one, or a new one at log level WARN whose logs
 * go to `logger`.
 */
export function kafkaClient(connection: KafkaConnection, logger: Logger, defaultClientId: string): Kafka {
  if ('kafka' in connection) return connection.kafka;
  return new Kafka({
    brokers: connection.brokers,
    clientId: connection.clientId ?? defaultClientId,
    ssl: connection.ssl,
    sasl: connection.sasl,
    connectionTimeout: connection.connectionTimeout,
    requestTimeout: connection.requestTimeout,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
  });
}
