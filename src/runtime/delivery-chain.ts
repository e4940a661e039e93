/**
 * The ordered, bounded, retrying chain through which the Kafka runner hands alerts and dead letters
 * to their sinks. A batch's offsets are committed only after its deliveries resolved, so a failing
 * sink is retried here, with backoff, instead of failing the batch (which would make kafkajs deliver
 * it again and the engine count it twice).
 */
import { VigilError } from '../errors.js';

/** Options of a {@link DeliveryChain}. */
export interface DeliveryChainOptions {
  /**
   * Items (alerts, dead letters) queued or in flight above which `onPressure(true)` is called; it
   * is called with `false` once the backlog is back to half of this.
   */
  maxPending: number;
  /** First retry delay, ms; it doubles per attempt up to `maxBackoffMs` (±20 % jitter). */
  initialBackoffMs: number;
  /** Longest retry delay, ms. */
  maxBackoffMs: number;
  /** Told when the backlog crosses the bound (true) and when it has drained to half of it (false). */
  onPressure?: (high: boolean) => void;
  /** Told before each retry wait, e.g. to log it. */
  onRetry?: (retry: { what: string; attempt: number; delayMs: number; error: unknown }) => void;
  /** Random numbers in [0, 1) for the jitter (default `Math.random`). */
  random?: () => number;
}

/** Per-delivery control from the caller. */
export interface DeliveryControl {
  /**
   * Asked before each retry: false when retrying is pointless for this delivery's caller (the
   * consumer is stopping, the partition was revoked); the delivery then rejects with its last error.
   */
  shouldRetry?: () => boolean;
}

/**
 * Runs deliveries strictly one after another, in the order they were enqueued, each retried with
 * exponential backoff while it fails with a retriable error (a `VigilError` or kafkajs error whose
 * `retriable` is true). A delivery that fails for good rejects its own promise only; the next one
 * still runs. Counts the items queued or in flight ({@link DeliveryChain.backlog}) and reports, with
 * hysteresis, when they pass the bound, so the caller can pause its input.
 */
export class DeliveryChain {
  private readonly options: DeliveryChainOptions;
  private readonly random: () => number;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private retryCount = 0;
  private high = false;
  private closed = false;
  private readonly sleepers = new Set<() => void>();

  /**
   * @throws VigilError `VIGIL_CONFIG_INVALID` when `maxPending` is not an integer ≥ 1 or the
   *   backoffs are not positive with `initialBackoffMs ≤ maxBackoffMs`.
   */
  constructor(options: DeliveryChainOptions) {
    if (!Number.isSafeInteger(options.maxPending) || options.maxPending < 1) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `kafka.maxPendingAlerts: must be an integer ≥ 1, got ${String(options.maxPending)}`, {
        details: { key: 'kafka.maxPendingAlerts' },
      });
    }
    if (!(options.initialBackoffMs > 0) || !(options.maxBackoffMs >= options.initialBackoffMs)) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `kafka.sinkRetry: initialBackoff must be > 0 and at most maxBackoff, got ${options.initialBackoffMs} and ${options.maxBackoffMs} ms`, {
        details: { key: 'kafka.sinkRetry' },
      });
    }
    this.options = options;
    this.random = options.random ?? Math.random;
  }

  /** Items (alerts, dead letters) enqueued and not yet acknowledged or given up. */
  get backlog(): number {
    return this.pending;
  }

  /** True while the backlog is above the bound (and not yet back to half of it). */
  get pressured(): boolean {
    return this.high;
  }

  /** Retries made so far, over all deliveries. */
  get retries(): number {
    return this.retryCount;
  }

  /**
   * Queues `deliver` behind every delivery enqueued before it. `count` is how many items it
   * carries (for the backlog); `what` names them in retry reports. Resolves when `deliver` has
   * resolved; rejects with its error when that is not retriable, when `control.shouldRetry` says
   * stop, or with `VIGIL_SINK_FAILED` when the chain is closed while it still fails.
   */
  enqueue(count: number, what: string, deliver: () => Promise<void>, control: DeliveryControl = {}): Promise<void> {
    this.pending += count;
    this.checkPressure();
    const run = this.tail.then(() => this.attempt(what, deliver, control));
    // The next delivery waits for this one to settle, not to succeed.
    this.tail = run.catch(() => undefined);
    const done = (): void => {
      this.pending -= count;
      this.checkPressure();
    };
    run.then(done, done);
    return run;
  }

  /** Resolves once every delivery enqueued so far has settled (whatever the outcome). */
  settled(): Promise<void> {
    return this.tail;
  }

  /**
   * Stops retrying: a delivery waiting to retry, and any later one that fails, rejects at once.
   * Deliveries that succeed still do. For shutdown, after the final flush had its chance.
   */
  close(): void {
    this.closed = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  private async attempt(what: string, deliver: () => Promise<void>, control: DeliveryControl): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await deliver();
        return;
      } catch (error) {
        if (!isRetriable(error) || control.shouldRetry?.() === false) throw error;
        if (this.closed) throw stoppedWhileFailing(what, attempt, error);
        const base = Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** Math.min(attempt - 1, 30));
        const delayMs = Math.round(base * (0.8 + 0.4 * this.random()));
        this.retryCount++;
        this.options.onRetry?.({ what, attempt, delayMs, error });
        await this.sleep(delayMs);
        if (this.closed) throw stoppedWhileFailing(what, attempt, error);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private checkPressure(): void {
    const { maxPending, onPressure } = this.options;
    if (!this.high && this.pending > maxPending) {
      this.high = true;
      onPressure?.(true);
    } else if (this.high && this.pending <= Math.floor(maxPending / 2)) {
      this.high = false;
      onPressure?.(false);
    }
  }
}

/** True for errors worth retrying: a `VigilError` or kafkajs error marked `retriable`. */
export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

function stoppedWhileFailing(what: string, attempts: number, error: unknown): VigilError {
  const message = error instanceof Error ? error.message : String(error);
  return new VigilError('VIGIL_SINK_FAILED', `gave up delivering ${what} after ${attempts} attempt(s): shutting down (${message})`, { cause: error });
}
