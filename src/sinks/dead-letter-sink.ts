/**
 * Where dead letters go: the dead-letter topic, or (when none is configured) the log.
 */
import type { Logger } from 'pino';
import type { DeadLetter } from '../sources/span-source.js';

/**
 * A destination for dead letters. The Kafka runner commits a batch's offsets only after `send` of
 * the batch's dead letters resolved, so `send` resolves only once they are durably handed over and
 * rejects (with a retriable `VIGIL_SINK_FAILED` when retrying can help) otherwise.
 */
export interface DeadLetterSink {
  /** Delivers the dead letters, in order; resolves when they are acknowledged. */
  send(deadLetters: readonly DeadLetter[]): Promise<void>;
  /** Flushes and releases the sink. Idempotent. */
  close(): Promise<void>;
}

/**
 * The sink used when no dead-letter topic is configured: one `warn` line per dead letter with its
 * reason, class, field, topic, partition and offset only — never its key or bytes, which may hold
 * prompt, output or user text. The original stays in the source topic at that offset until
 * retention removes it.
 */
export class LogDeadLetterSink implements DeadLetterSink {
  constructor(private readonly logger: Logger) {}

  /** Logs each dead letter; never fails. */
  send(deadLetters: readonly DeadLetter[]): Promise<void> {
    for (const dl of deadLetters) {
      this.logger.warn(
        { reason: dl.reason, reasonClass: dl.reasonClass ?? 'invalid_field', field: dl.field, topic: dl.source, partition: dl.partition, offset: dl.offset },
        'dead letter (no kafka.deadLetterTopic configured: logged only)',
      );
    }
    return Promise.resolve();
  }

  /** Nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
