import type { AlertEvent } from '../model/index.js';

/** Consumer lag of one partition, as last reported by the runner. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Messages on the partition after the last one processed, when its batch was fetched. */
  lag: number;
}

/** Alerts emitted since the engine started, for one rule and state. */
export interface AlertCount {
  rule: string;
  state: AlertEvent['state'];
  count: number;
}

/** Receives the wall-clock duration of each `VigilEngine.process` call, seconds. */
export type BatchListener = (seconds: number) => void;

/**
 * Process-health figures the engine keeps about itself for `/metrics`, beyond what the window
 * stores know: consumer lag per partition (fed by the Kafka runner), alerts per rule and state, and
 * the duration of each processed batch (handed to listeners, so each metrics registry owns its
 * histogram). Cheap on the hot path: a map update per alert, a loop over listeners per batch.
 */
export class EngineTelemetry {
  private readonly lags = new Map<string, PartitionLag>();
  private readonly alerts = new Map<string, AlertCount>();
  private readonly listeners = new Set<BatchListener>();

  /**
   * Records the lag of a partition after a batch: `highWatermark − (lastOffset + 1)`, the messages
   * still to read when the batch was fetched. Offsets are kafkajs's decimal strings; an unparsable
   * pair is ignored rather than reported as a bogus lag.
   */
  recordConsumerLag(topic: string, partition: number, highWatermark: string, lastOffset: string): void {
    let lag: number;
    try {
      lag = Number(BigInt(highWatermark) - BigInt(lastOffset) - 1n);
    } catch {
      return;
    }
    const key = `${topic}\u0000${partition}`;
    const entry = this.lags.get(key);
    if (entry) entry.lag = Math.max(0, lag);
    else this.lags.set(key, { topic, partition, lag: Math.max(0, lag) });
  }

  /** Forgets the partitions not in `assigned` (topic → partitions), e.g. after a rebalance. */
  retainPartitions(assigned: Readonly<Record<string, readonly number[]>>): void {
    for (const [key, entry] of this.lags) if (!assigned[entry.topic]?.includes(entry.partition)) this.lags.delete(key);
  }

  /** Last reported lag of every partition, ordered by topic and partition. */
  consumerLag(): PartitionLag[] {
    return [...this.lags.values()]
      .map((l) => ({ ...l }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /** Counts one emitted alert under its rule and state. */
  alertEmitted(alert: AlertEvent): void {
    const key = `${alert.ruleName}\u0000${alert.state}`;
    const entry = this.alerts.get(key);
    if (entry) entry.count++;
    else this.alerts.set(key, { rule: alert.ruleName, state: alert.state, count: 1 });
  }

  /** Alerts emitted so far, per rule and state. */
  alertCounts(): AlertCount[] {
    return [...this.alerts.values()].map((a) => ({ ...a }));
  }

  /** Hands `seconds` (one batch's processing time) to every listener. */
  batchProcessed(seconds: number): void {
    for (const l of this.listeners) l(seconds);
  }

  /** Calls `listener` with the duration of each batch processed from now on; returns the unsubscribe. */
  onBatch(listener: BatchListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
