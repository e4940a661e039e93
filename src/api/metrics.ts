import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { NONE_VALUE } from '../model/index.js';
import { isEngineHealthSource, type EngineHealthSource } from './engine-health.js';
import type { QueryBackend } from './query-backend.js';
import { quantileName } from './quantile-name.js';
import type { SignalBackend } from './signal-query.js';
import { topGroups, type Fold, type MetricGroup } from './top-groups.js';

/** Options of {@link VigilMetrics} and {@link registerMetricsRoute}. */
export interface MetricsOptions {
  /**
   * Most label values (groups) a metric exports; the groups with the most events are kept and the
   * rest are folded into one `other` group. Default 50.
   */
  maxGroupsPerMetric?: number;
  /** Export prom-client's process metrics (memory, CPU, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
}

const QUANTILES = [0.5, 0.95, 0.99] as const;
const MAX_LABEL_LENGTH = 128;
const BATCH_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type Labels = Record<string, string>;

/**
 * The Prometheus exposition of one engine, in its own registry: engine health (events in, late
 * events, dead letters, alerts by rule and state, consumer lag, batch processing time, window-state
 * sizes, process metrics) and the LLM signals as gauges computed at scrape time over the engine's
 * default window. Label values are dimension values (model, service, evaluator, metric), rule names,
 * topics and partitions — never a user id, a tenant or any text — and each metric exports at most
 * `maxGroupsPerMetric` of them plus `other`.
 */
export class VigilMetrics {
  /** The registry every Vigil metric of this instance lives in. */
  readonly registry = new Registry();
  private readonly maxGroups: number;
  private readonly unsubscribe: () => void;
  private readonly refreshers: (() => void)[] = [];

  constructor(
    private readonly backend: QueryBackend & SignalBackend,
    options: MetricsOptions = {},
  ) {
    this.maxGroups = options.maxGroupsPerMetric ?? 50;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.engineStatusMetrics();
    const health = isEngineHealthSource(backend) ? backend : null;
    this.unsubscribe = health ? this.engineHealthMetrics(health) : () => undefined;
    this.signalMetrics();
  }

  /** Content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Recomputes every scrape-time value and renders the registry in the Prometheus text format. */
  async render(): Promise<string> {
    for (const refresh of this.refreshers) refresh();
    return this.registry.metrics();
  }

  /** Stops listening to the engine. */
  close(): void {
    this.unsubscribe();
  }

  private engineStatusMetrics(): void {
    const r = this.registry;
    const late = new Counter({ name: 'vigil_late_events_total', help: 'Events that arrived for an already closed sub-window (counted, not added).', registers: [r] });
    const dead = new Counter({ name: 'vigil_dead_letters_total', help: 'Records that failed decoding or validation.', registers: [r] });
    const deadByClass = new Counter({ name: 'vigil_dead_letters_by_class_total', help: 'Dead letters by class (vigil run): undecodable, wrong_schema, invalid_field…', labelNames: ['class'], registers: [r] });
    const alerts = new Counter({ name: 'vigil_alerts_emitted_total', help: 'FIRING and RESOLVED alert events emitted.', registers: [r] });
    const eventTime = new Gauge({ name: 'vigil_event_time_seconds', help: 'Newest event time seen, Unix seconds (absent before the first event).', registers: [r] });
    const watermark = new Gauge({ name: 'vigil_watermark_seconds', help: 'End of the last closed sub-window, Unix seconds (absent before the first close).', registers: [r] });
    this.refreshers.push(() => {
      const s = this.backend.status();
      setCounter(late, s.lateEvents);
      setCounter(dead, s.deadLetters);
      deadByClass.reset();
      const classes = Object.entries(s.deadLettersByReason ?? {}).map(([c, n]) => ({ labels: { class: c }, count: n, values: { n } }));
      for (const g of topGroups(classes, this.maxGroups)) deadByClass.inc(clean(g.labels), g.values.n);
      setCounter(alerts, s.alertsEmitted);
      eventTime.reset();
      if (s.maxEventTime !== null) eventTime.set(s.maxEventTime / 1000);
      watermark.reset();
      if (s.watermark !== null) watermark.set(s.watermark / 1000);
    });
  }

  private engineHealthMetrics(source: EngineHealthSource): () => void {
    const r = this.registry;
    const events = new Counter({ name: 'vigil_events_in_total', help: 'Events accepted into the windows, by kind (span, feedback, eval).', labelNames: ['kind'], registers: [r] });
    const alerts = new Counter({ name: 'vigil_alerts_total', help: 'Alert events emitted, by rule and state.', labelNames: ['rule', 'state'], registers: [r] });
    const lag = new Gauge({
      name: 'vigil_consumer_lag_messages',
      help: 'Messages left on a partition after the last processed batch (high watermark − offset), as of that batch.',
      labelNames: ['topic', 'partition'],
      registers: [r],
    });
    const subWindows = new Gauge({ name: 'vigil_window_sub_windows', help: 'Sub-windows held, by signal family.', labelNames: ['family'], registers: [r] });
    const keys = new Gauge({ name: 'vigil_window_keys', help: 'Dimension-combination aggregates held over all sub-windows, by signal family.', labelNames: ['family'], registers: [r] });
    const bytes = new Gauge({ name: 'vigil_window_state_bytes', help: 'Approximate heap bytes of window state, by signal family (users: the per-user tracker).', labelNames: ['family'], registers: [r] });
    const users = new Gauge({ name: 'vigil_tracked_users', help: 'Users the access-anomaly tracker holds a baseline for.', registers: [r] });
    const anomalous = new Gauge({ name: 'vigil_anomalous_users', help: 'Users currently anomalous, by kind (a count: no user is named).', labelNames: ['kind'], registers: [r] });
    const batch = new Histogram({ name: 'vigil_batch_process_seconds', help: 'Wall-clock time of one engine.process call (one batch).', buckets: BATCH_BUCKETS, registers: [r] });

    this.refreshers.push(() => {
      const h = source.health();
      events.reset();
      events.inc({ kind: 'span' }, h.events.spans);
      events.inc({ kind: 'feedback' }, h.events.feedback);
      events.inc({ kind: 'eval' }, h.events.evals);
      alerts.reset();
      const alertGroups = h.alerts.map((a) => ({ labels: { rule: a.rule, state: a.state }, count: a.count, values: { n: a.count } }));
      for (const g of topGroups(alertGroups, this.maxGroups)) alerts.inc(clean(g.labels), g.values.n);
      lag.reset();
      const lagGroups = h.consumerLag.map((l) => ({ labels: { topic: l.topic, partition: String(l.partition) }, count: l.lag, values: { lag: l.lag } }));
      for (const g of topGroups(lagGroups, this.maxGroups)) lag.set(clean(g.labels), g.values.lag);
      for (const s of h.stores) {
        subWindows.set({ family: s.family }, s.subWindows);
        keys.set({ family: s.family }, s.keys);
        bytes.set({ family: s.family }, s.approxBytes);
      }
      bytes.set({ family: 'users' }, h.users.approxBytes);
      users.set(h.users.tracked);
      for (const [kind, n] of Object.entries(h.users.anomalous)) anomalous.set({ kind }, n);
    });
    return source.onBatch((seconds) => batch.observe(seconds));
  }

  private signalMetrics(): void {
    const r = this.registry;
    const gauge = (name: string, help: string, labelNames: string[]): Gauge => new Gauge({ name, help, labelNames, registers: [r] });
    const windowSeconds = gauge('vigil_signal_window_seconds', 'Window the vigil_llm_*, vigil_request_*, vigil_security_*, vigil_eval_* and vigil_feedback_* gauges cover.', []);
    const latency = gauge('vigil_llm_latency_seconds', 'Span latency percentiles by model over the window (other: the worst of the rest).', ['model', 'quantile']);
    const ttft = gauge('vigil_llm_ttft_seconds', 'Time-to-first-token percentiles of streaming spans by model over the window (other: the worst of the rest).', ['model', 'quantile']);
    const spans = gauge('vigil_llm_window_spans', 'Spans by model in the window.', ['model']);
    const cost = gauge('vigil_llm_cost_usd_per_minute', 'Span cost by model over the window, USD per minute.', ['model']);
    const errorRate = gauge('vigil_llm_error_rate', 'Share of spans with status ERROR by model over the window.', ['model']);
    const timeoutRate = gauge('vigil_llm_timeout_rate', 'Share of spans that timed out by model over the window.', ['model']);
    const failed = gauge('vigil_request_failed_rate', 'Share of requests that failed, by service over the window.', ['service']);
    const degraded = gauge('vigil_request_degraded_rate', 'Share of requests degraded by retries, fallbacks or errors of a step, by service over the window.', ['service']);
    const injection = gauge('vigil_security_injection_attempts', 'Prompt-injection attempts detected in inputs, by service in the window.', ['service']);
    const pii = gauge('vigil_security_pii_findings', 'PII findings in outputs, by service in the window.', ['service']);
    const evalMean = gauge('vigil_eval_score_mean', 'Mean evaluation score by evaluator and metric over the window.', ['evaluator', 'metric']);
    const thumbsDown = gauge('vigil_feedback_thumbs_down_ratio', 'thumbs_down / (thumbs_up + thumbs_down) by service over the window.', ['service']);

    const qNames = QUANTILES.map(quantileName);
    const percentiles = (metric: 'latency' | 'ttft', target: Gauge, withCount: Gauge | null): void => {
      const answer = this.backend.percentiles({ metric, windowMs: this.backend.defaultWindowMs, groupBy: ['model'], filter: {}, quantiles: QUANTILES });
      const groups = answer.groups.filter((g) => g.labels.model !== NONE_VALUE).map((g) => ({ labels: g.labels, count: g.count, values: g.quantiles }));
      target.reset();
      withCount?.reset();
      for (const g of topGroups(groups, this.maxGroups, () => 'max')) {
        const labels = clean(g.labels);
        withCount?.set(labels, g.count);
        QUANTILES.forEach((q, i) => setGauge(target, { ...labels, quantile: String(q) }, g.values[qNames[i]] / 1000));
      }
    };

    this.refreshers.push(() => {
      windowSeconds.set(this.backend.defaultWindowMs / 1000);
      percentiles('latency', latency, spans);
      percentiles('ttft', ttft, null);

      const windowMin = (signal: string): number => this.windowFor(signal) / 60_000;
      this.publish(this.ask('cost', ['model'], ['usd']), [[cost, (g) => g.values.usd / windowMin('cost')]]);
      this.publish(this.ask('errors', ['model'], ['error', 'timeout']), [
        [errorRate, (g) => g.values.error / g.count],
        [timeoutRate, (g) => g.values.timeout / g.count],
      ]);
      this.publish(this.ask('requests', ['service'], ['failed', 'degraded']), [
        [failed, (g) => g.values.failed / g.count],
        [degraded, (g) => g.values.degraded / g.count],
      ]);
      this.publish(this.ask('security', ['service'], ['injection', 'pii_findings']), [
        [injection, (g) => g.values.injection],
        [pii, (g) => g.values.pii_findings],
      ]);
      this.publish(this.ask('eval_score', ['evaluator', 'metric'], ['sum']), [[evalMean, (g) => g.values.sum / g.count]]);
      this.publish(this.ask('feedback', ['service'], ['thumbs_up', 'thumbs_down']), [
        [thumbsDown, (g) => g.values.thumbs_down / (g.values.thumbs_up + g.values.thumbs_down)],
      ]);
    });
  }

  /**
   * The groups of a counter signal (or the sums of a distribution) over the default window, capped.
   * Every value asked is additive, so the `other` group's rates are exact.
   */
  private ask(signal: string, groupBy: string[], stats: string[]): MetricGroup[] {
    const answer = this.backend.signal({ signal, windowMs: this.windowFor(signal), groupBy, filter: {}, stats });
    const groups = answer.groups.filter((g) => !Object.values(g.labels).includes(NONE_VALUE));
    return topGroups(groups, this.maxGroups, (): Fold => 'sum');
  }

  private publish(groups: readonly MetricGroup[], targets: [Gauge, (g: MetricGroup) => number][]): void {
    for (const [target, value] of targets) {
      target.reset();
      for (const g of groups) setGauge(target, clean(g.labels), value(g));
    }
  }

  // The default window, rounded up to a whole number of the signal's sub-windows (feedback and
  // evals use longer ones) and kept within its retention.
  private windowFor(signal: string): number {
    const info = this.backend.signalList().find((s) => s.name === signal);
    if (!info) return this.backend.defaultWindowMs;
    const w = Math.ceil(Math.max(this.backend.defaultWindowMs, info.subWindowMs) / info.subWindowMs) * info.subWindowMs;
    return Math.min(w, info.retentionMs);
  }
}

/**
 * Serves `GET /metrics` (Prometheus text format) from a {@link VigilMetrics} of its own registry,
 * released when the server closes.
 */
export function registerMetricsRoute(app: FastifyInstance, backend: QueryBackend & SignalBackend, options: MetricsOptions = {}): VigilMetrics {
  const metrics = new VigilMetrics(backend, options);
  app.addHook('onClose', async () => metrics.close());
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        description: 'Engine health and the LLM signals over the default window, in the Prometheus text exposition format. No label names a user or carries text.',
        tags: ['metrics'],
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text format 0.0.4', type: 'string' } },
      },
    },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    },
  );
  return metrics;
}

function clean(labels: Readonly<Record<string, string>>): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) out[k] = v.length > MAX_LABEL_LENGTH ? v.slice(0, MAX_LABEL_LENGTH) : v;
  return out;
}

function setGauge(gauge: Gauge, labels: Labels, value: number): void {
  if (Number.isFinite(value)) gauge.set(labels, value);
}

// A counter mirrors an engine total: reset, then one increment of the whole total.
function setCounter(counter: Counter, total: number): void {
  counter.reset();
  counter.inc(total);
}
