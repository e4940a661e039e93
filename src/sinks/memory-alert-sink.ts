/**
 * An alert sink that keeps alerts in memory, for tests and the embedded mode.
 */
import { VigilError } from '../errors.js';
import type { AlertEvent } from '../model/index.js';
import type { AlertSink } from './alert-sink.js';

/**
 * Collects every alert sent, in order, in {@link MemoryAlertSink.alerts}. For tests of the
 * at-least-once path, {@link MemoryAlertSink.failNextSends} makes the next sends reject with a
 * retriable `VIGIL_SINK_FAILED` without storing anything.
 */
export class MemoryAlertSink implements AlertSink {
  private readonly stored: AlertEvent[] = [];
  private failuresLeft = 0;
  private closed = false;
  private sendCount = 0;

  /** Every alert received so far, in send order. */
  get alerts(): readonly AlertEvent[] {
    return this.stored;
  }

  /** Number of `send` calls that stored alerts. */
  get sends(): number {
    return this.sendCount;
  }

  /** True after {@link MemoryAlertSink.close}. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Makes the next `count` non-empty sends fail with a retriable `VIGIL_SINK_FAILED`. */
  failNextSends(count = 1): void {
    this.failuresLeft = count;
  }

  /**
   * Stores the alerts.
   *
   * @throws VigilError `VIGIL_SINK_FAILED` while failures are armed; `VIGIL_STOPPED` after `close`.
   */
  send(alerts: readonly AlertEvent[]): Promise<void> {
    if (this.closed) return Promise.reject(new VigilError('VIGIL_STOPPED', 'Memory alert sink is closed'));
    if (alerts.length === 0) return Promise.resolve();
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new VigilError('VIGIL_SINK_FAILED', `Memory alert sink: simulated failure delivering ${alerts.length} alert(s)`));
    }
    this.stored.push(...alerts);
    this.sendCount++;
    return Promise.resolve();
  }

  /** Empties the collected alerts (the sink stays open). */
  clear(): void {
    this.stored.length = 0;
  }

  /** Closes the sink; the collected alerts stay readable. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
