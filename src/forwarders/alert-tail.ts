/**
 * Following the alerts topic: every alert decoded and handed to a callback, for `vigil alerts tail`.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { VigilError, isVigilError } from '../errors.js';
import type { AlertEvent } from '../model/index.js';
import { defaultLogger, kafkaClient } from '../sources/kafka-client.js';
import type { KafkaConnection } from '../sources/kafka-client.js';
import { alertDecoder } from './alert-decoder.js';
import type { AlertDecoder } from './alert-decoder.js';

/** Options of {@link AlertTail}, besides how to reach Kafka. */
export interface AlertTailSettings {
  topic: string;
  /** Consumer group; its offsets are committed as alerts are shown, so the same group resumes where it stopped. */
  groupId: string;
  /** Where a group without committed offsets starts: the earliest alert, or (default) only new ones. */
  fromBeginning?: boolean;
  /** Receives each alert, in topic order per partition. */
  onAlert: (alert: AlertEvent, where: { partition: number; offset: string }) => void;
  /** Receives each record that is not an Avro `AlertEvent`, with why (never its content). */
  onInvalid?: (where: { partition: number; offset: string; reason: string }) => void;
  /** How message values become alerts; default plain Avro `AlertEvent` (see `alertDecoder` for a schema registry). */
  decode?: AlertDecoder;
  logger?: Logger;
}

/** Everything an {@link AlertTail} is built from. */
export type AlertTailOptions = KafkaConnection & AlertTailSettings;

/** A consumer-group member that decodes alerts and shows them; offsets are auto-committed. */
export class AlertTail {
  private readonly kafka: Kafka;
  private readonly settings: AlertTailSettings;
  private readonly decode: AlertDecoder;
  private consumer: Consumer | undefined;
  private joined = false;
  private joinWaiters: (() => void)[] = [];

  constructor(options: AlertTailOptions) {
    this.settings = options;
    this.decode = options.decode ?? alertDecoder();
    const logger = (options.logger ?? defaultLogger()).child({ component: 'alert-tail', topic: options.topic, groupId: options.groupId });
    this.kafka = kafkaClient(options, logger, 'vigil-alert-tail');
  }

  /**
   * Connects, subscribes and starts following.
   *
   * @throws VigilError `VIGIL_SOURCE_FAILED` when Kafka cannot be reached or the topic does not exist.
   */
  async start(): Promise<void> {
    const { topic, groupId } = this.settings;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
      for (const w of this.joinWaiters.splice(0)) w();
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: this.settings.fromBeginning ?? false });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (message.value === null) {
            this.settings.onInvalid?.({ partition, offset: message.offset, reason: 'message has no value (tombstone)' });
            return;
          }
          let alert: AlertEvent;
          try {
            alert = await this.decode(message.value);
          } catch (error) {
            if (!isVigilError(error, 'VIGIL_RECORD_INVALID')) throw error;
            this.settings.onInvalid?.({ partition, offset: message.offset, reason: error instanceof Error ? error.message : String(error) });
            return;
          }
          this.settings.onAlert(alert, { partition, offset: message.offset });
        },
      });
    } catch (cause) {
      this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw new VigilError('VIGIL_SOURCE_FAILED', `cannot follow ${topic} as group ${groupId}: ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
        details: { topic, groupId },
      });
    }
  }

  /** Resolves once the consumer has joined its group. */
  whenJoined(): Promise<void> {
    if (this.joined) return Promise.resolve();
    return new Promise((resolve) => this.joinWaiters.push(resolve));
  }

  /** Commits what was shown and leaves the group. Idempotent. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer !== undefined) await consumer.disconnect();
  }
}
