/**
 * Where alert events go.
 */
import type { AlertEvent } from '../model/index.js';

/**
 * A destination for alert events. The engine commits a span batch's offsets only after `send` of
 * the alerts it caused has resolved, so `send` must resolve only once the alerts are durably
 * handed over, and reject (with a retriable `VIGIL_SINK_FAILED` when retrying can help) otherwise.
 * Alerts may be sent more than once after a crash; their `alertId`s are deterministic.
 */
export interface AlertSink {
  /** Delivers the alerts, in order; resolves when they are acknowledged. */
  send(alerts: readonly AlertEvent[]): Promise<void>;
  /** Flushes and releases the sink; later `send`s reject. Idempotent. */
  close(): Promise<void>;
}
