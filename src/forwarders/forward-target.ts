import type { AlertEvent } from '../model/index.js';

/**
 * Somewhere `vigil alerts forward` delivers alerts: Alertmanager or a webhook. `deliver` makes one
 * attempt; retries, deduplication and offsets are the forwarder's.
 */
export interface ForwardTarget {
  /** Stable name for logs and deduplication, e.g. `alertmanager` or `webhooks[0]`; never a URL (it may hold a secret). */
  readonly name: string;
  /** False for alerts this target does not want (e.g. below its minimum severity): they count as delivered. */
  accepts(alert: AlertEvent): boolean;
  /**
   * Sends the alert once.
   *
   * @throws VigilError `VIGIL_FORWARD_FAILED` (retriable) or `VIGIL_FORWARD_REJECTED` (refused for good).
   */
  deliver(alert: AlertEvent): Promise<void>;
}
