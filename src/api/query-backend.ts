import type { AlertEvent, Dimension, GroupLabels } from '../model/index.js';

/** A percentile question the query API asks the engine. */
export interface PercentileQuery {
  metric: 'latency' | 'ttft';
  windowMs: number;
  groupBy: readonly Dimension[];
  filter: GroupLabels;
  /** Quantiles in (0, 1). */
  quantiles: readonly number[];
}

/** One group of a {@link PercentileAnswer}. */
export interface PercentileGroup {
  key: string;
  labels: GroupLabels;
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Quantile name (`p50`, `p99.9`) to value, ms. */
  quantiles: Record<string, number>;
}

/** The engine's answer to a {@link PercentileQuery}. */
export interface PercentileAnswer {
  metric: 'latency' | 'ttft';
  unit: 'ms';
  window: { start: number; end: number; ms: number };
  groupBy: readonly Dimension[];
  filter: GroupLabels;
  groups: PercentileGroup[];
}

/** What a runner adds to {@link EngineStatus}: delivery and input-guard state (`vigil run`). */
export interface RunnerStatus {
  /** Dead letters since start per class (undecodable, wrong_schema, invalid_field, event_time, empty, unexpected). */
  deadLettersByReason?: Readonly<Record<string, number>>;
  /** Accepted events the input limits changed: durations clamped, texts truncated, token counts or costs flagged. */
  adjusted?: Readonly<{ clamped: number; truncated: number; flagged: number }>;
  /** Alerts and dead letters waiting for their sinks (queued or in flight). */
  sinkBacklog?: number;
  /** True while the consumer is paused because the sinks fell behind (`kafka.maxPendingAlerts`). */
  paused?: boolean;
  /** Times the consumer was paused since start. */
  pauses?: number;
  /** Retries made to failing sinks since start. */
  sinkRetries?: number;
  /** Partitioned state: the partition tasks this member owns. */
  tasks?: readonly number[];
  /** Partitioned state: events not keyed by their user id (else trace id) since start (see README, keying). */
  keyViolations?: number;
  /** Partitioned state: whether this member owns task 0 and so sends the group's alerts. */
  leader?: boolean;
  /**
   * Partitioned state: partials-topic records this member published and sub-window partials it
   * merged; `late`: partials that came after the group closed their sub-window (counted in queries,
   * too late for rules); `duplicate`: republished ones ignored.
   */
  partials?: Readonly<{ published: number; merged: number; late: number; duplicate: number }>;
}

/** Engine counters the status route reports, plus what the runner adds ({@link RunnerStatus}). */
export interface EngineStatus extends RunnerStatus {
  eventsIn: number;
  lateEvents: number;
  deadLetters: number;
  alertsEmitted: number;
  /** Largest event time seen, epoch ms, or null before the first event. */
  maxEventTime: number | null;
  /** Exclusive end of the last closed sub-window, epoch ms, or null. */
  watermark: number | null;
}

/** Whether the process can serve: connected and assigned partitions, or its file loaded. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

/** What the query API needs from the engine; the engine and the runners implement it. */
export interface QueryBackend {
  percentiles(query: PercentileQuery): PercentileAnswer;
  /**
   * A number that changes whenever an answer of {@link percentiles} could change (new events,
   * event time moving on). Optional: when given, the API keeps serialized answers until it changes.
   */
  answersVersion?(): number;
  alerts(state: 'firing' | 'all', limit: number): AlertEvent[];
  status(): EngineStatus;
  readiness(): Readiness;
  /** Longest window a query may ask for, ms. */
  readonly retentionMs: number;
  /** Window used when a query names none, ms. */
  readonly defaultWindowMs: number;
  /** Sub-window length; query windows must be multiples of it, ms. */
  readonly slideMs: number;
}
