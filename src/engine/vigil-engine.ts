import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { slidingSignals } from '../../operators/sliding-signals.js';
import type { PriceTable } from '../../operators/cost/price-table.js';
import type { UserAnomaly, UserAnomalyKind, UserProfile, UserTrackerInit } from '../../operators/users/user-activity-tracker.js';
import type { EngineHealth, EngineHealthSource } from '../api/engine-health.js';
import type { PercentileAnswer, PercentileQuery, QueryBackend, EngineStatus, Readiness, RunnerStatus } from '../api/query-backend.js';
import { quantileName } from '../api/quantile-name.js';
import type { SignalAnswer, SignalBackend, SignalDescription, SignalQuery } from '../api/signal-query.js';
import { VigilError } from '../errors.js';
import type { AlertEvent, EvalScoreEvent, FeedbackEvent } from '../model/index.js';
import { RuleSet, evaluateRules, ruleViews as ruleViewsOf, type RuleDefinition } from '../rules/index.js';
import { SignalPipeline, type EventChunk, type PipelineCounters, type TaskCheckpoint, type TaskPartial } from '../signals/signal-pipeline.js';
import type { DeadLetter, SpanBatch } from '../sources/span-source.js';
import { EngineTelemetry } from './engine-telemetry.js';

const NO_EVENTS: EventChunk = { channel: 0, spans: [] };

/** Options of a {@link VigilEngine}. */
export interface VigilEngineOptions {
  /** Sub-window length: windows slide by this much, ms. */
  slideMs: number;
  /** Window a query uses when it names none, ms. */
  windowMs: number;
  /** Longest window a rule or query may use, ms. */
  retentionMs: number;
  /** Events older than the newest event time minus this are counted as late, ms. */
  allowedLatenessMs: number;
  /** Alert rules, already validated. */
  rules: readonly RuleDefinition[];
  /**
   * On a quiet stream, advance event time with the scheduler's clock after this long without
   * events, so windows keep closing and alerts can resolve. Unset: event time only moves with events.
   */
  idleAdvanceAfterMs?: number;
  /** Scheduler for the idle advance (tests pass a virtual one). */
  scheduler?: SchedulerLike;
  /** t-digest compression of every window digest. */
  compression?: number;
  /** Sub-window of feedback and eval signals, ms (a multiple of `slideMs`); default 1 min. */
  slowSubWindowMs?: number;
  /** Longest window plus baseline of feedback and eval signals, ms; default 25 h. */
  slowRetentionMs?: number;
  /** Model prices for span and request cost. */
  prices: PriceTable;
  /** Run the prompt-injection scanner over `inputText` (default true). */
  scanInjection?: boolean;
  /** Run the PII scanner over `outputText` (default true). */
  scanPii?: boolean;
  /** A request whose root never arrives is counted as incomplete after this long, ms; default 5 min. */
  requestTimeoutMs?: number;
  /** Per-user anomaly detector settings. */
  users?: UserTrackerInit;
  /** Bound of the recent-alert history answered by `/v1/alerts?state=all`. */
  alertHistory?: number;
  /**
   * A group-wide engine: it counts no events but adds up the partials and checkpoints of partition
   * tasks ({@link VigilEngine.merge}); its event-time channels are the tasks. See `SignalPipelineOptions.merged`.
   */
  merged?: boolean;
}

/**
 * The embeddable engine: spans in, alerts out, with the query API's answers over its window state.
 * It wires the sliding-window percentile operator to the rule evaluator through RxJS; everything it
 * does per event is synchronous, so a caller that pushes a batch and then drains the alerts knows
 * exactly which alerts the batch caused (the Kafka runner commits offsets only after those are
 * acknowledged). Sources and sinks live outside: see `runKafka`, `replayFile` and `runDemo`.
 */
export class VigilEngine implements QueryBackend, SignalBackend, EngineHealthSource {
  readonly slideMs: number;
  readonly retentionMs: number;
  readonly defaultWindowMs: number;
  /** Every alert as it is emitted, including those an idle advance causes between batches. */
  readonly alerts$: Observable<AlertEvent>;
  /** Every dead letter the engine was handed, so runners can store them. */
  readonly deadLetters$: Observable<DeadLetter>;

  /** The signal state: every store, the request assembler and the user tracker. */
  readonly pipeline: SignalPipeline;
  /** Health figures for `/metrics`; the Kafka runner reports consumer lag here. */
  readonly telemetry = new EngineTelemetry();
  private readonly ruleSet: RuleSet;
  private readonly input = new Subject<EventChunk>();
  private readonly alertsOut = new Subject<AlertEvent>();
  private readonly deadLettersOut = new Subject<DeadLetter>();
  private readonly subscription: Subscription;
  private pending: AlertEvent[] = [];
  private failure: unknown = null;
  private completed = false;
  private eventsIn = 0;
  private deadLetterCount = 0;
  private alertsEmitted = 0;
  private answers = 0;
  private seenStoreVersion = -1;
  private seenEventTime = NaN;
  private readinessProbe: () => Readiness = () => ({ ready: true, reason: 'embedded' });
  private statusExtension: () => RunnerStatus = () => ({});
  private inputStatus: (() => { eventsIn: number; lateEvents: number; maxEventTime: number; deadLetters: number }) | null = null;

  constructor(options: VigilEngineOptions) {
    this.slideMs = options.slideMs;
    this.retentionMs = options.retentionMs;
    this.defaultWindowMs = options.windowMs;
    this.pipeline = new SignalPipeline({
      slideMs: options.slideMs,
      allowedLatenessMs: options.allowedLatenessMs,
      retentionMs: options.retentionMs,
      slowSubWindowMs: options.slowSubWindowMs ?? Math.max(60_000, options.slideMs),
      slowRetentionMs: options.slowRetentionMs ?? 25 * 3_600_000,
      prices: options.prices,
      scanInjection: options.scanInjection ?? true,
      scanPii: options.scanPii ?? true,
      requestTimeoutMs: options.requestTimeoutMs ?? 300_000,
      users: options.users,
      views: ruleViewsOf(options.rules),
      compression: options.compression,
      merged: options.merged,
    });
    this.ruleSet = new RuleSet(options.rules, { historySize: options.alertHistory ?? 1000 });
    this.alerts$ = this.alertsOut.asObservable();
    this.deadLetters$ = this.deadLettersOut.asObservable();
    const idle =
      options.idleAdvanceAfterMs !== undefined && options.idleAdvanceAfterMs > 0
        ? { afterMs: options.idleAdvanceAfterMs, scheduler: options.scheduler }
        : undefined;
    this.subscription = this.input
      .pipe(slidingSignals(this.pipeline, { idle }), evaluateRules(this.ruleSet))
      .subscribe({
        next: (alert) => {
          this.alertsEmitted++;
          this.telemetry.alertEmitted(alert);
          this.pending.push(alert);
          this.alertsOut.next(alert);
        },
        error: (err: unknown) => {
          this.failure = err;
          this.alertsOut.error(err);
        },
        complete: () => this.alertsOut.complete(),
      });
  }

  /**
   * Pushes one batch through the pipeline and returns the alerts it caused (plus any an idle advance
   * caused since the last call), in emission order. Dead letters are counted and handed on.
   *
   * The batch's spans are one input channel's: `batch.partition` (a Kafka batch has one), else
   * channel 0. Event time closes windows only as far as the slowest active channel has come (see
   * `EventTimeWatermark`), so a partition delivered after another is not late — provided the engine
   * knows of it in advance: declare a consumer's partitions with {@link setChannels}.
   */
  process(batch: SpanBatch & { partition?: number; feedback?: readonly FeedbackEvent[]; evals?: readonly EvalScoreEvent[] }): AlertEvent[] {
    this.assertUsable();
    const started = performance.now();
    for (const dl of batch.deadLetters) {
      this.deadLetterCount++;
      this.deadLettersOut.next(dl);
    }
    const spans = batch.spans;
    this.input.next({ channel: batch.partition ?? 0, spans, feedback: batch.feedback, evals: batch.evals });
    this.eventsIn += spans.length + (batch.feedback?.length ?? 0) + (batch.evals?.length ?? 0);
    this.assertHealthy();
    this.telemetry.batchProcessed((performance.now() - started) / 1000);
    return this.drainAlerts();
  }

  /**
   * A group-wide engine's input: partition tasks' closed sub-windows and checkpoints, in the order
   * each task published them. Returns the alerts the boundaries it closed caused, like {@link process}.
   */
  merge(partials: readonly TaskPartial[], checkpoints: readonly TaskCheckpoint[]): AlertEvent[] {
    this.assertUsable();
    const started = performance.now();
    this.input.next({ channel: 0, spans: [], partials, checkpoints });
    this.assertHealthy();
    this.telemetry.batchProcessed((performance.now() - started) / 1000);
    return this.drainAlerts();
  }

  /**
   * Declares the input channels — the Kafka partitions assigned to this consumer — as
   * `EventTimeWatermark.declareChannels` does: a new one holds event time back until it delivers
   * (or, with an idle advance, until it has been silent for a check period); ones not listed are
   * dropped, which can close windows. Returns the alerts that caused (plus any pending), like
   * {@link process}.
   *
   * @throws VigilError `VIGIL_CONFIG_INVALID` when an id is not an integer in `[0, MAX_WATERMARK_CHANNEL]`;
   *   `VIGIL_STOPPED` after {@link complete}.
   */
  setChannels(ids: readonly number[]): AlertEvent[] {
    this.assertUsable();
    this.pipeline.setChannels(ids);
    // The operator emits what the declaration closed when it next receives input.
    this.input.next(NO_EVENTS);
    this.assertHealthy();
    return this.drainAlerts();
  }

  /** Alerts emitted since the last drain, in order; the engine forgets them. */
  drainAlerts(): AlertEvent[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /**
   * Declares the end of input: closes the windows up to the last event's time (no later events can
   * come) and returns the alerts that causes. Queries still answer afterwards.
   */
  complete(): AlertEvent[] {
    if (!this.completed) {
      this.completed = true;
      this.input.complete();
    }
    this.assertHealthy();
    return this.drainAlerts();
  }

  /** Installs the readiness probe the runner knows best (partitions assigned, file loaded…). */
  setReadiness(probe: () => Readiness): void {
    this.readinessProbe = probe;
  }

  /**
   * A group-wide engine counts no events itself: the runner reports what this member's partition
   * tasks consumed (events applied, late ones, the newest event time, dead letters) for {@link status}.
   */
  setInputStatus(figures: () => { eventsIn: number; lateEvents: number; maxEventTime: number; deadLetters: number }): void {
    this.inputStatus = figures;
  }

  /** Installs what the runner adds to {@link status}: sink backlog, pause state, dead letters per class. */
  setStatusExtension(extension: () => RunnerStatus): void {
    this.statusExtension = extension;
  }

  /** Stops the pipeline and its timers. */
  close(): void {
    this.subscription.unsubscribe();
    this.deadLettersOut.complete();
  }

  answersVersion(): number {
    // Answers read the span store up to the newest event time: either changing changes them.
    const store = this.pipeline.spans.version;
    const time = this.pipeline.watermark.maxEventTime;
    if (store !== this.seenStoreVersion || time !== this.seenEventTime) {
      this.seenStoreVersion = store;
      this.seenEventTime = time;
      this.answers++;
    }
    return this.answers;
  }

  percentiles(query: PercentileQuery): PercentileAnswer {
    const names = query.quantiles.map(quantileName);
    const result = this.pipeline.spans.query({
      signal: query.metric,
      windowMs: query.windowMs,
      end: this.queryEnd(this.slideMs),
      groupBy: query.groupBy,
      filter: query.filter,
      stats: ['min', 'max', 'mean', ...names],
    });
    return {
      metric: query.metric,
      unit: 'ms',
      window: { start: result.windowStart, end: result.windowEnd, ms: query.windowMs },
      groupBy: query.groupBy,
      filter: query.filter,
      groups: result.groups.map((g) => {
        const quantiles: Record<string, number> = {};
        for (const n of names) quantiles[n] = g.values[n];
        return { key: g.key, labels: g.labels, count: g.count, min: g.values.min, max: g.values.max, mean: g.values.mean, quantiles };
      }),
    };
  }

  signalList(): SignalDescription[] {
    return [...this.pipeline.signals().values()].map((s) => ({
      name: s.name,
      kind: s.kind,
      family: s.family,
      ...(s.unit === undefined ? {} : { unit: s.unit }),
      description: s.description,
      dimensions: s.dimensions,
      subWindowMs: s.subWindowMs,
      retentionMs: s.retentionMs,
      statHint: s.statHint,
    }));
  }

  signal(query: SignalQuery): SignalAnswer {
    const source = this.pipeline.sourceOf(query.signal);
    const info = this.pipeline.signals().get(query.signal);
    if (source === 'users') {
      throw new VigilError('VIGIL_QUERY_INVALID', 'signal: the users signal is answered by /v1/users and /v1/users/:userId', { details: { parameter: 'signal' } });
    }
    const end = this.queryEnd(source.subWindowMs);
    const result = source.query({ signal: query.signal, windowMs: query.windowMs, end, groupBy: query.groupBy, filter: query.filter, stats: query.stats, baseline: query.baseline });
    const answer: SignalAnswer = {
      signal: query.signal,
      ...(info?.unit === undefined ? {} : { unit: info.unit }),
      window: { start: result.windowStart, end: result.windowEnd, ms: query.windowMs },
      groupBy: query.groupBy,
      filter: query.filter,
      groups: result.groups,
    };
    if (query.baseline) {
      const bEnd = result.windowStart;
      answer.baseline = { start: bEnd - query.baseline.windowMs, end: bEnd, ms: query.baseline.windowMs, compare: query.baseline.compare };
    }
    return answer;
  }

  anomalousUsers(kind: UserAnomalyKind, limit: number): UserAnomaly[] {
    return this.pipeline.users.anomalous(kind, limit);
  }

  userProfile(userId: string): UserProfile | undefined {
    return this.pipeline.users.profile(userId);
  }

  /** Counters of the signal pipeline (spans, requests, security findings…). */
  pipelineStatus(): Readonly<PipelineCounters> {
    return this.pipeline.status();
  }

  health(): EngineHealth {
    const p = this.pipeline;
    const c = p.status();
    const stores = [p.spans, p.requests, p.feedback, p.evals].map((store) => {
      const s = store.stats();
      return { family: store.family.name, subWindows: s.subWindows, keys: s.keys, approxBytes: s.approxBytes };
    });
    return {
      events: { spans: c.spans, feedback: c.feedback, evals: c.evals },
      lateEvents: c.lateEvents,
      deadLetters: this.deadLetterCount,
      alerts: this.telemetry.alertCounts(),
      consumerLag: this.telemetry.consumerLag(),
      stores,
      users: { tracked: p.users.size, approxBytes: p.users.memoryBytes(), anomalous: p.users.anomalousCounts() },
    };
  }

  onBatch(listener: (seconds: number) => void): () => void {
    return this.telemetry.onBatch(listener);
  }

  alerts(state: 'firing' | 'all', limit: number): AlertEvent[] {
    const list = state === 'firing' ? this.ruleSet.firing() : this.ruleSet.recent(limit);
    return list.slice(-limit);
  }

  status(): EngineStatus {
    const wm = this.pipeline.watermark;
    const input = this.inputStatus?.();
    const maxEventTime = input?.maxEventTime ?? wm.maxEventTime;
    return {
      ...this.statusExtension(),
      eventsIn: input?.eventsIn ?? this.eventsIn,
      lateEvents: input?.lateEvents ?? wm.lateCount,
      deadLetters: input?.deadLetters ?? this.deadLetterCount,
      alertsEmitted: this.alertsEmitted,
      maxEventTime: Number.isFinite(maxEventTime) ? maxEventTime : null,
      watermark: Number.isFinite(wm.lastClosedBoundary) ? wm.lastClosedBoundary : null,
    };
  }

  readiness(): Readiness {
    return this.readinessProbe();
  }

  // Queries answer as of the newest event: the window ends with the sub-window holding it. A
  // group-wide engine answers as of the last boundary every task has published.
  private queryEnd(subWindowMs: number): number {
    const wm = this.pipeline.watermark;
    const t = this.pipeline.merged ? wm.lastClosedBoundary - 1 : wm.maxEventTime;
    if (!Number.isFinite(t)) return subWindowMs;
    return Math.floor(t / subWindowMs) * subWindowMs + subWindowMs;
  }

  private assertHealthy(): void {
    if (this.failure !== null) {
      const message = this.failure instanceof Error ? this.failure.message : 'non-Error value thrown';
      throw new VigilError('VIGIL_CALLBACK_FAILED', `the engine pipeline failed: ${message}`, { cause: this.failure });
    }
  }

  private assertUsable(): void {
    this.assertHealthy();
    if (this.completed) throw new VigilError('VIGIL_STOPPED', 'the engine was completed; create a new one to process more input');
  }
}
