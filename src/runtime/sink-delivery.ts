/**
 * How `vigil run` delivers what a batch caused — its dead letters and its alerts — before the batch
 * is committed: through one ordered, bounded, retrying {@link DeliveryChain}, heartbeating the
 * group while it waits, and counting dead letters per class for `/v1/status`.
 */
import type { Logger } from 'pino';
import type { AlertEvent } from '../model/index.js';
import type { AlertSink } from '../sinks/alert-sink.js';
import type { DeadLetterSink } from '../sinks/dead-letter-sink.js';
import { deadLetterClassOf, emptyDeadLetterCounts } from '../sources/dead-letter.js';
import type { KafkaBatchControl } from '../sources/kafka-source.js';
import type { DeadLetter, DeadLetterClass } from '../sources/span-source.js';
import { DeliveryChain } from './delivery-chain.js';

/** Options of a {@link SinkDelivery}. */
export interface SinkDeliveryOptions {
  alertSink: AlertSink;
  deadLetterSink: DeadLetterSink;
  logger: Logger;
  /** Alerts and dead letters waiting above which `onPressure(true)` is called (see {@link DeliveryChain}). */
  maxPending: number;
  /** Retry backoff of a failing sink, ms. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Told when the backlog passes the bound (pause the consumer) and when it has drained (resume). */
  onPressure: (high: boolean) => void;
  /** How often to heartbeat the group while a batch waits for its deliveries, ms (default 1000). */
  heartbeatEveryMs?: number;
}

/** What {@link SinkDelivery.status} reports. */
export interface SinkDeliveryStatus {
  /** Alerts and dead letters handed to the chain and not yet acknowledged. */
  sinkBacklog: number;
  /** Retries made to failing sinks since start. */
  sinkRetries: number;
  /** Dead letters since start, per class. */
  deadLettersByReason: Record<DeadLetterClass, number>;
}

/**
 * The delivery side of the Kafka runner. A batch's dead letters go first, then its alerts, both in
 * the one chain that also carries the alerts an idle advance or a rebalance causes between batches,
 * so everything leaves in the order it was produced and a batch resolves only when all of it — and
 * everything queued before it — is acknowledged.
 */
export class SinkDelivery {
  private readonly chain: DeliveryChain;
  private readonly options: SinkDeliveryOptions;
  private readonly byReason = emptyDeadLetterCounts();

  constructor(options: SinkDeliveryOptions) {
    this.options = options;
    const { logger } = options;
    this.chain = new DeliveryChain({
      maxPending: options.maxPending,
      initialBackoffMs: options.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
      onPressure: options.onPressure,
      onRetry: ({ what, attempt, delayMs, error }) => {
        const level = attempt === 1 || attempt % 10 === 0 ? 'warn' : 'debug';
        logger[level]({ what, attempt, retryInMs: delayMs, err: error instanceof Error ? error.message : String(error) }, 'sink delivery failed; retrying (offsets stay uncommitted)');
      },
    });
  }

  /**
   * Queues alerts caused outside a batch (idle advance, rebalance) and resolves when they, and all
   * before them, are acknowledged.
   */
  alerts(alerts: readonly AlertEvent[]): Promise<void> {
    if (alerts.length === 0) return this.chain.settled();
    this.logAlerts(alerts);
    return this.chain.enqueue(alerts.length, `${alerts.length} alert(s)`, () => this.options.alertSink.send(alerts));
  }

  /**
   * Queues one batch's dead letters and alerts and resolves when they, and all queued before them,
   * are acknowledged; meanwhile heartbeats the group. Retries stop (and this rejects, leaving the
   * batch uncommitted) when `control.isRunning()` turns false.
   */
  async batch(deadLetters: readonly DeadLetter[], alerts: readonly AlertEvent[], control?: KafkaBatchControl): Promise<void> {
    const shouldRetry = control === undefined ? undefined : () => control.isRunning();
    const waits: Promise<void>[] = [];
    if (deadLetters.length > 0) {
      const classes: Partial<Record<DeadLetterClass, number>> = {};
      for (const dl of deadLetters) {
        const cls = deadLetterClassOf(dl);
        this.byReason[cls]++;
        classes[cls] = (classes[cls] ?? 0) + 1;
      }
      const first = deadLetters[0];
      this.options.logger.info({ count: deadLetters.length, classes, topic: first.source, partition: first.partition, firstOffset: first.offset }, 'dead letters in batch');
      waits.push(this.chain.enqueue(deadLetters.length, `${deadLetters.length} dead letter(s)`, () => this.options.deadLetterSink.send(deadLetters), { shouldRetry }));
    }
    if (alerts.length > 0) {
      this.logAlerts(alerts);
      waits.push(this.chain.enqueue(alerts.length, `${alerts.length} alert(s)`, () => this.options.alertSink.send(alerts), { shouldRetry }));
    } else {
      waits.push(this.chain.settled());
    }
    await this.heartbeating(Promise.all(waits), control);
  }

  /** Backlog, retries and dead letters per class. */
  status(): SinkDeliveryStatus {
    return { sinkBacklog: this.chain.backlog, sinkRetries: this.chain.retries, deadLettersByReason: { ...this.byReason } };
  }

  /**
   * Shutdown: waits up to `timeoutMs` for everything queued to be delivered, then stops retrying.
   * Returns how many items were still undelivered (0 on a clean flush).
   */
  async flush(timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.chain.settled(), deadline]);
    clearTimeout(timer);
    const left = this.chain.backlog;
    this.chain.close();
    await this.chain.settled();
    return left;
  }

  private logAlerts(alerts: readonly AlertEvent[]): void {
    for (const a of alerts) this.options.logger.info({ alertId: a.alertId, rule: a.ruleName, state: a.state, groupKey: a.groupKey, value: a.value }, 'alert');
  }

  /**
   * Awaits `wait` while heartbeating the group through `control` (kafkajs heartbeats only when
   * asked): a batch waiting on a slow sink or broker must not lose the group meanwhile.
   */
  async heartbeating<T>(wait: Promise<T>, control: KafkaBatchControl | undefined): Promise<T> {
    if (control === undefined) return wait;
    const every = this.options.heartbeatEveryMs ?? 1000;
    const timer = setInterval(() => {
      control.heartbeat().catch((error: unknown) => {
        // A rebalance shows up again at commit time, where kafkajs handles it.
        this.options.logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'heartbeat while waiting for sinks failed');
      });
    }, every);
    try {
      return await wait;
    } finally {
      clearInterval(timer);
    }
  }
}
