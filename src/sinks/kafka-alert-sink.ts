/**
 * The Kafka alert sink: Avro-encoded alert events on the alerts topic, written by an idempotent
 * producer and acknowledged by all in-sync replicas.
 */
import { Partitioners } from 'kafkajs';
import type { Kafka, Message, Producer, ProducerConfig } from 'kafkajs';
import type { Logger } from 'pino';
import { AlertCodec } from '../codec/avro-codec.js';
import type { RegistryClient } from '../codec/registry/registry-client.js';
import { encodeWireFormat } from '../codec/registry/wire-format.js';
import { qualifiedSchemaName, readSchemaJson } from '../codec/schemas.js';
import { VigilError } from '../errors.js';
import type { AlertEvent } from '../model/index.js';
import { defaultLogger, kafkaClient } from '../sources/kafka-client.js';
import type { KafkaConnection } from '../sources/kafka-client.js';
import type { AlertSink } from './alert-sink.js';

/** Value of the `content-type` header of every alert message. */
export const ALERT_CONTENT_TYPE = 'avro/binary';

/** Value of the `content-type` header of alerts in the Confluent wire format (a registry is configured). */
export const ALERT_CONTENT_TYPE_REGISTRY = 'avro/confluent-wire';

/** The registry subject of a topic's message values (Confluent's default `TopicNameStrategy`). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** Value of the `vigil-schema` header of every alert message. */
export const ALERT_SCHEMA_HEADER = qualifiedSchemaName('AlertEvent');

/** Options of a {@link KafkaAlertSink}, besides how to reach Kafka. */
export interface KafkaAlertSinkSettings {
  /** The alerts topic; it must exist (the producer does not create topics). */
  topic: string;
  /** Logger for kafkajs (warn and above); default pino at warn to stderr. */
  logger?: Logger;
  /**
   * Further kafkajs producer settings (retry, metadata age). Idempotence, one request in flight
   * and the Java-compatible partitioner are always set.
   */
  producerConfig?: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests' | 'transactionalId'>;
  /**
   * A schema registry: on connect the `AlertEvent` schema is registered under the subject
   * `<topic>-value` and every alert is written in the Confluent wire format with its id. None:
   * plain Avro values.
   */
  registry?: Pick<RegistryClient, 'register'>;
}

/** Everything a {@link KafkaAlertSink} is built from. */
export type KafkaAlertSinkOptions = KafkaConnection & KafkaAlertSinkSettings;

/** The message key of an alert: `ruleName|groupKey`, so one rule's group stays on one partition, in order. */
export function alertMessageKey(alert: AlertEvent): string {
  return `${alert.ruleName}|${alert.groupKey}`;
}

/**
 * Sends alerts to a Kafka topic as Avro `vigil.v1.AlertEvent` values keyed by
 * {@link alertMessageKey}, with headers `content-type: avro/binary` and
 * `vigil-schema: vigil.v1.AlertEvent`. The producer is idempotent (so kafkajs' own retries cannot
 * duplicate or reorder) with `acks: -1`; `send` resolves only when the broker acknowledged every
 * message. Connects on first `send` (or {@link KafkaAlertSink.connect}).
 */
export class KafkaAlertSink implements AlertSink {
  /** The alerts topic. */
  readonly topic: string;
  private readonly producer: Producer;
  private readonly codec = new AlertCodec();
  private readonly registry: Pick<RegistryClient, 'register'> | undefined;
  private schemaId: number | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  /** A sink for `options.topic`; nothing connects until the first send. */
  constructor(options: KafkaAlertSinkOptions) {
    this.topic = options.topic;
    this.registry = options.registry;
    const logger = (options.logger ?? defaultLogger()).child({ component: 'kafka-alert-sink', topic: options.topic });
    const kafka: Kafka = kafkaClient(options, logger, 'vigil-alert-sink');
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      ...options.producerConfig,
      // kafkajs requires a single request in flight for an idempotent producer.
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: options.producerConfig?.createPartitioner ?? Partitioners.DefaultPartitioner,
    });
  }

  /**
   * Connects the producer (also done by the first `send`) and, with a registry, registers the
   * `AlertEvent` schema under `<topic>-value`.
   *
   * @throws VigilError `VIGIL_SINK_FAILED` (retriable) when the brokers or the registry cannot be
   *   reached or the registry refuses the schema (the cause says which).
   */
  async connect(): Promise<void> {
    if (this.closed) throw this.closedError();
    this.connecting ??= Promise.all([this.producer.connect(), this.registerSchema()]).then(() => undefined).catch((cause: unknown) => {
      // A later send tries again.
      this.connecting = undefined;
      throw new VigilError('VIGIL_SINK_FAILED', `Cannot connect the alert producer for topic ${this.topic}: ${messageOf(cause)}`, {
        cause,
        details: { topic: this.topic },
      });
    });
    return this.connecting;
  }

  /**
   * Encodes and sends the alerts; resolves when all are acknowledged by the in-sync replicas.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` if an alert does not fit the schema (nothing is sent);
   *   `VIGIL_SINK_FAILED` (retriable) if delivery failed; `VIGIL_STOPPED` after `close`.
   */
  async send(alerts: readonly AlertEvent[]): Promise<void> {
    if (this.closed) throw this.closedError();
    if (alerts.length === 0) return;
    const bodies = alerts.map((alert) => this.codec.encode(alert));
    await this.connect();
    const schemaId = this.schemaId;
    const contentType = schemaId === undefined ? ALERT_CONTENT_TYPE : ALERT_CONTENT_TYPE_REGISTRY;
    const messages: Message[] = alerts.map((alert, i) => ({
      key: alertMessageKey(alert),
      value: schemaId === undefined ? bodies[i] : encodeWireFormat(schemaId, bodies[i]),
      headers: { 'content-type': contentType, 'vigil-schema': ALERT_SCHEMA_HEADER },
    }));
    const sending = this.producer.send({ topic: this.topic, acks: -1, messages });
    this.inFlight.add(sending);
    try {
      await sending;
    } catch (cause) {
      throw new VigilError('VIGIL_SINK_FAILED', `Could not deliver ${alerts.length} alert(s) to topic ${this.topic}: ${messageOf(cause)}`, {
        cause,
        details: { topic: this.topic, count: alerts.length },
      });
    } finally {
      this.inFlight.delete(sending);
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

  private async registerSchema(): Promise<void> {
    if (this.registry === undefined || this.schemaId !== undefined) return;
    this.schemaId = await this.registry.register(valueSubject(this.topic), JSON.stringify(readSchemaJson('AlertEvent')));
  }

  private closedError(): VigilError {
    return new VigilError('VIGIL_STOPPED', `Kafka alert sink for topic ${this.topic} is closed`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
