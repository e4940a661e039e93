import type { EvalScoreEvent, FeedbackEvent, FeedbackType, LlmSpan, SpanKind } from '../model/index.js';
import { answerText, attackPrompt, benignPrompt, jsonOutput } from './demo-texts.js';
import { SeededRandom } from './random.js';

/** Latency profile of one model in the synthetic traffic. */
export interface ModelProfile {
  provider: string;
  /** Median total latency of a call, ms. */
  medianMs: number;
  /** Log-space standard deviation of the latency. */
  sigma: number;
  /** Median time to first token when streaming, ms. */
  ttftMedianMs: number;
}

/** The models the demo traffic uses, with realistic latency shapes. */
export const DEMO_MODELS: Readonly<Record<string, ModelProfile>> = {
  'gpt-4o': { provider: 'openai', medianMs: 2200, sigma: 0.35, ttftMedianMs: 450 },
  'gpt-4o-mini': { provider: 'openai', medianMs: 1200, sigma: 0.35, ttftMedianMs: 300 },
  'claude-sonnet-4': { provider: 'anthropic', medianMs: 2800, sigma: 0.35, ttftMedianMs: 600 },
  'gemini-2.5-flash': { provider: 'google', medianMs: 900, sigma: 0.3, ttftMedianMs: 250 },
  'llama-3.1-70b-versatile': { provider: 'groq', medianMs: 700, sigma: 0.3, ttftMedianMs: 120 },
  'text-embedding-3-small': { provider: 'openai', medianMs: 60, sigma: 0.25, ttftMedianMs: 0 },
};

/** What a planted incident does to the traffic while it lasts. */
export type IncidentKind =
  | 'latency'
  | 'ttft'
  | 'timeouts'
  | 'degraded'
  | 'cost'
  | 'eval_drop'
  | 'thumbs_down'
  | 'output_drift'
  | 'format'
  | 'injection'
  | 'pii'
  | 'user_burst';

/**
 * An incident planted in the synthetic traffic between `fromMs` and `toMs` after the generator's
 * start, with the rule and group it should make fire (in `rules/demo-rules.yaml`).
 */
export interface PlantedIncident {
  name: string;
  kind: IncidentKind;
  /** Which model or service it hits (by kind: a model for latency/ttft/timeouts, else a service). */
  target: string;
  /** Strength: a latency multiplier, a probability, or requests per second for a burst. */
  factor: number;
  fromMs: number;
  toMs: number;
  /** The rule expected to fire, and the group it fires for. */
  rule: string;
  groupKey: string;
}

const MIN = 60_000;

/** The demo's incidents, one per signal family, on a timeline of event time. */
export const DEFAULT_INCIDENTS: readonly PlantedIncident[] = [
  { name: 'claude-sonnet-4 latency regression', kind: 'latency', target: 'claude-sonnet-4', factor: 4, fromMs: 1 * MIN, toMs: 8 * MIN, rule: 'model-p99-latency', groupKey: 'model=claude-sonnet-4' },
  { name: 'gemini-2.5-flash TTFT regression', kind: 'ttft', target: 'gemini-2.5-flash', factor: 6, fromMs: 2 * MIN, toMs: 9 * MIN, rule: 'model-p95-ttft', groupKey: 'model=gemini-2.5-flash' },
  { name: 'gpt-4o timeouts', kind: 'timeouts', target: 'gpt-4o', factor: 0.3, fromMs: 3 * MIN, toMs: 9 * MIN, rule: 'model-timeout-rate', groupKey: 'model=gpt-4o' },
  { name: 'support-bot degraded by retries and fallbacks', kind: 'degraded', target: 'support-bot', factor: 0.45, fromMs: 4 * MIN, toMs: 10 * MIN, rule: 'service-degraded-rate', groupKey: 'service=support-bot' },
  { name: 'summarizer runaway generations (cost)', kind: 'cost', target: 'summarizer', factor: 0.03, fromMs: 5 * MIN, toMs: 7 * MIN, rule: 'request-cost-anomalies', groupKey: 'service=summarizer' },
  { name: 'support-bot faithfulness drop (evals)', kind: 'eval_drop', target: 'support-bot', factor: 0.3, fromMs: 6 * MIN, toMs: 16 * MIN, rule: 'eval-score-drop', groupKey: 'evaluator=llm-judge,metric=faithfulness' },
  { name: 'chat-api thumbs-down spike (feedback)', kind: 'thumbs_down', target: 'chat-api', factor: 0.55, fromMs: 7 * MIN, toMs: 13 * MIN, rule: 'thumbs-down-ratio', groupKey: 'service=chat-api' },
  { name: 'summarizer output length shift (drift)', kind: 'output_drift', target: 'summarizer', factor: 3, fromMs: 8 * MIN, toMs: Infinity, rule: 'output-length-drift', groupKey: 'service=summarizer' },
  { name: 'extractor JSON format breakage', kind: 'format', target: 'extractor', factor: 0.4, fromMs: 9 * MIN, toMs: 14 * MIN, rule: 'json-compliance', groupKey: 'service=extractor' },
  { name: 'prompt-injection campaign on chat-api', kind: 'injection', target: 'chat-api', factor: 0.06, fromMs: 10 * MIN, toMs: 13 * MIN, rule: 'injection-attempts', groupKey: 'service=chat-api' },
  { name: 'support-bot leaking PII in outputs', kind: 'pii', target: 'support-bot', factor: 0.08, fromMs: 11 * MIN, toMs: 14 * MIN, rule: 'pii-in-outputs', groupKey: 'service=support-bot' },
  { name: 'one user bursting requests', kind: 'user_burst', target: 'user-burst', factor: 5, fromMs: 12 * MIN, toMs: 14 * MIN, rule: 'user-rate-spike', groupKey: 'user=user-burst' },
];

/** Options of a {@link TrafficGenerator}. */
export interface TrafficOptions {
  /** Seed of the pseudo-random generator; equal seeds give equal traffic. */
  seed?: number;
  /** Event time of the first request, epoch ms. */
  startTime: number;
  /** Mean end-user requests per second of event time (Poisson arrivals). */
  requestsPerSecond?: number;
  /** Incidents to plant; default {@link DEFAULT_INCIDENTS}. */
  incidents?: readonly PlantedIncident[];
}

/** Everything the generator produced up to a time: spans, feedback and eval scores. */
export interface DemoEvents {
  spans: LlmSpan[];
  feedback: FeedbackEvent[];
  evals: EvalScoreEvent[];
}

interface ServiceShape {
  service: string;
  operation: string;
  weight: number;
  streaming: boolean;
  retrieval: boolean;
  json: boolean;
  /** Median answer length in characters. */
  answerChars: number;
  models: readonly { weight: number; value: string }[];
}

const SERVICES: readonly ServiceShape[] = [
  {
    service: 'chat-api',
    operation: 'chat',
    weight: 5,
    streaming: true,
    retrieval: false,
    json: false,
    answerChars: 500,
    models: [
      { weight: 5, value: 'gpt-4o' },
      { weight: 3, value: 'claude-sonnet-4' },
      { weight: 2, value: 'gemini-2.5-flash' },
    ],
  },
  {
    service: 'support-bot',
    operation: 'answer-question',
    weight: 3,
    streaming: true,
    retrieval: true,
    json: false,
    answerChars: 700,
    models: [
      { weight: 3, value: 'claude-sonnet-4' },
      { weight: 2, value: 'gpt-4o-mini' },
    ],
  },
  {
    service: 'summarizer',
    operation: 'summarize',
    weight: 2,
    streaming: false,
    retrieval: false,
    json: false,
    answerChars: 400,
    models: [
      { weight: 1, value: 'gpt-4o-mini' },
      { weight: 1, value: 'llama-3.1-70b-versatile' },
    ],
  },
  {
    service: 'extractor',
    operation: 'extract-json',
    weight: 1,
    streaming: false,
    retrieval: false,
    json: true,
    answerChars: 120,
    models: [{ weight: 1, value: 'gpt-4o-mini' }],
  },
];

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const USERS = 2000;
const FEEDBACK_TYPES: readonly { weight: number; value: FeedbackType }[] = [
  { weight: 60, value: 'THUMBS_UP' },
  { weight: 8, value: 'THUMBS_DOWN' },
  { weight: 4, value: 'CORRECTION' },
  { weight: 6, value: 'REGENERATE' },
  { weight: 2, value: 'ABANDON' },
];

type Base = Pick<LlmSpan, 'traceId' | 'service' | 'operation' | 'userId' | 'tenantId' | 'sessionId'>;

/**
 * Synthetic, realistic LLM pipeline traffic for `vigil demo`, generated replay files and the
 * end-to-end tests: several services and models, streaming and non-streaming calls, retrieval
 * pipelines, prompts and answers, JSON extraction, user feedback and evaluation scores, lognormal
 * latencies, background errors and retries — and planted incidents, one per signal family. Pure and
 * deterministic for a given seed; time only moves when the caller asks for more events.
 */
export class TrafficGenerator {
  private readonly rng: SeededRandom;
  private readonly startTime: number;
  private readonly meanGapMs: number;
  private readonly incidents: readonly PlantedIncident[];
  private nextArrival: number;
  private nextBurst: number;
  private traceSeq = 0;
  private eventSeq = 0;
  // Feedback and eval scores come after their request ends; held here until their time.
  private pending: (FeedbackEvent | EvalScoreEvent)[] = [];

  constructor(options: TrafficOptions) {
    this.rng = new SeededRandom(options.seed ?? 42);
    this.startTime = options.startTime;
    this.meanGapMs = 1000 / (options.requestsPerSecond ?? 40);
    this.incidents = options.incidents ?? DEFAULT_INCIDENTS;
    this.nextArrival = options.startTime;
    this.nextBurst = options.startTime;
  }

  /** Spans of every request that starts before `untilMs` (event time) and was not yet returned. */
  spansUntil(untilMs: number): LlmSpan[] {
    return this.eventsUntil(untilMs).spans;
  }

  /** Every event with an event time before `untilMs` not yet returned, spans in request order. */
  eventsUntil(untilMs: number): DemoEvents {
    const out: DemoEvents = { spans: [], feedback: [], evals: [] };
    while (this.nextArrival < untilMs) {
      this.request(Math.floor(this.nextArrival), null, out.spans);
      this.nextArrival += -Math.log(1 - this.rng.next()) * this.meanGapMs;
    }
    const burst = this.incidents.find((i) => i.kind === 'user_burst');
    if (burst) {
      while (this.nextBurst < untilMs) {
        const rel = this.nextBurst - this.startTime;
        if (rel >= burst.fromMs && rel < burst.toMs) this.request(Math.floor(this.nextBurst), burst.target, out.spans);
        this.nextBurst += 1000 / burst.factor;
      }
    }
    if (this.pending.length > 0) {
      this.pending.sort((a, b) => a.timestamp - b.timestamp);
      let n = 0;
      while (n < this.pending.length && this.pending[n].timestamp < untilMs) {
        const e = this.pending[n++];
        if ('feedbackId' in e) out.feedback.push(e);
        else out.evals.push(e);
      }
      this.pending = this.pending.slice(n);
    }
    return out;
  }

  private active(kind: IncidentKind, target: string, t: number): PlantedIncident | undefined {
    const rel = t - this.startTime;
    for (const inc of this.incidents) {
      if (inc.kind === kind && inc.target === target && rel >= inc.fromMs && rel < inc.toMs) return inc;
    }
    return undefined;
  }

  private request(t0: number, forcedUser: string | null, out: LlmSpan[]): void {
    const rng = this.rng;
    const shape = forcedUser === null ? rng.weighted(SERVICES.map((s) => ({ weight: s.weight, value: s }))) : SERVICES[0];
    const traceId = rng.hex(16) + (this.traceSeq++).toString(16).padStart(16, '0');
    const rootId = rng.hex(16);
    const userId = forcedUser ?? `user-${rng.int(USERS)}`;
    const tenantId = TENANTS[rng.int(TENANTS.length)];
    const sessionId = `${userId}-s${rng.int(3)}`;
    const base: Base = { traceId, service: shape.service, operation: shape.operation, userId, tenantId, sessionId };
    let cursor = t0 + 2 + rng.int(5);

    if (shape.retrieval) {
      const emb = this.call(base, rootId, 'EMBEDDING', 'text-embedding-3-small', cursor, false);
      out.push(emb);
      cursor += emb.durationMs;
      const retrievalMs = rng.lognormal(40, 0.4);
      out.push(this.span(base, rootId, 'RETRIEVAL', null, null, Math.floor(cursor), retrievalMs, null));
      cursor += retrievalMs;
    }
    const model = rng.weighted(shape.models);
    const llm = this.call(base, rootId, 'LLM', model, cursor, shape.streaming);
    this.texts(llm, shape, t0);
    out.push(llm);
    cursor += llm.durationMs;

    const degraded = this.active('degraded', shape.service, t0);
    let fallback: LlmSpan | null = null;
    if ((llm.status === 'ERROR' && rng.chance(0.5)) || (degraded && rng.chance(degraded.factor))) {
      // The pipeline retries and then falls back to another model: the request succeeds, degraded.
      llm.retryCount = Math.max(llm.retryCount, 2);
      if (llm.status !== 'ERROR' && degraded) {
        llm.status = 'ERROR';
        llm.errorType = 'RATE_LIMIT';
        llm.finishReason = null;
      }
      fallback = this.call(base, rootId, 'LLM', 'gemini-2.5-flash', cursor, shape.streaming, true);
      fallback.fallback = true;
      fallback.retryCount = 0;
      fallback.status = 'OK';
      fallback.errorType = null;
      fallback.finishReason = 'stop';
      this.texts(fallback, shape, t0);
      out.push(fallback);
      cursor += fallback.durationMs;
    }

    const root = this.span(base, null, 'PIPELINE', null, null, t0, cursor - t0 + rng.lognormal(15, 0.3), null);
    root.spanId = rootId;
    root.retryCount = llm.retryCount;
    root.fallback = fallback !== null;
    if (llm.status === 'ERROR' && fallback === null) {
      root.status = 'ERROR';
      root.errorType = llm.errorType;
    }
    out.push(root);
    const end = t0 + root.durationMs;
    this.reactions(base, shape, end, model);
  }

  private texts(span: LlmSpan, shape: ServiceShape, t0: number): void {
    const rng = this.rng;
    const injection = this.active('injection', shape.service, t0);
    span.inputText = injection && rng.chance(injection.factor) ? attackPrompt(rng) : benignPrompt(rng);
    if (span.status === 'ERROR') return;
    if (shape.json) {
      const format = this.active('format', shape.service, t0);
      span.expectedFormat = 'json';
      span.outputText = jsonOutput(rng, format !== undefined && rng.chance(format.factor));
      return;
    }
    const drift = this.active('output_drift', shape.service, t0);
    const pii = this.active('pii', shape.service, t0);
    const chars = rng.lognormal(shape.answerChars, 0.35) * (drift ? drift.factor : 1);
    span.outputText = answerText(rng, chars, pii !== undefined && rng.chance(pii.factor));
    const cost = this.active('cost', shape.service, t0);
    if (cost && rng.chance(cost.factor)) span.outputTokens = 30_000 + rng.int(20_000);
    else span.outputTokens = Math.max(1, Math.round(span.outputText.length / 4));
  }

  private reactions(base: Base, shape: ServiceShape, end: number, model: string): void {
    const rng = this.rng;
    if (shape.service === 'chat-api' && rng.chance(0.25)) {
      const spike = this.active('thumbs_down', shape.service, end);
      let type = rng.weighted(FEEDBACK_TYPES);
      if (spike && (type === 'THUMBS_UP' || type === 'THUMBS_DOWN')) type = rng.chance(spike.factor) ? 'THUMBS_DOWN' : 'THUMBS_UP';
      this.pending.push({
        feedbackId: `fb-${this.eventSeq++}`,
        traceId: base.traceId,
        timestamp: Math.floor(end + 2000 + rng.int(20_000)),
        type,
        service: null,
        operation: null,
        model: null,
        userId: base.userId,
        tenantId: base.tenantId,
        score: null,
        comment: null,
        attributes: {},
      });
    }
    if (shape.service === 'support-bot' && rng.chance(0.3)) {
      const drop = this.active('eval_drop', shape.service, end);
      for (const metric of ['faithfulness', 'relevance']) {
        const mean = metric === 'faithfulness' ? 0.86 - (drop ? drop.factor : 0) : 0.8;
        const score = Math.min(1, Math.max(0, mean + rng.normal() * 0.06));
        this.pending.push({
          evalId: `ev-${this.eventSeq++}`,
          traceId: base.traceId,
          timestamp: Math.floor(end + 1000 + rng.int(10_000)),
          evaluator: 'llm-judge',
          metric,
          score: Math.round(score * 1000) / 1000,
          label: score >= 0.5 ? 'pass' : 'fail',
          service: null,
          operation: null,
          model,
          tenantId: null,
          attributes: {},
        });
      }
    }
  }

  private call(base: Base, parent: string, kind: SpanKind, model: string, start: number, streaming: boolean, isFallback = false): LlmSpan {
    const rng = this.rng;
    const p = DEMO_MODELS[model];
    const t = Math.floor(start);
    const slow = this.active('latency', model, t);
    const slowTtft = this.active('ttft', model, t);
    let ttft: number | null = null;
    let duration = rng.lognormal(p.medianMs, p.sigma) * (slow ? slow.factor : 1);
    if (streaming) {
      ttft = rng.lognormal(p.ttftMedianMs, 0.4) * (slowTtft ? slowTtft.factor : 1);
      duration = Math.max(duration, ttft + rng.lognormal(p.medianMs * 0.6, p.sigma));
    }
    const span = this.span(base, parent, kind, model, p.provider, t, duration, ttft);
    if (kind === 'LLM') {
      span.inputTokens = 200 + rng.int(1800);
      span.outputTokens = 50 + rng.int(700);
      span.cachedInputTokens = rng.chance(0.3) ? rng.int(span.inputTokens) : 0;
      span.finishReason = 'stop';
      const timeouts = this.active('timeouts', model, t);
      if (!isFallback && timeouts && rng.chance(timeouts.factor)) {
        span.status = 'ERROR';
        span.errorType = 'TIMEOUT';
        span.finishReason = null;
      } else if (!isFallback && rng.chance(0.004)) {
        span.status = 'ERROR';
        span.errorType = rng.chance(0.5) ? 'TIMEOUT' : 'RATE_LIMIT';
        span.finishReason = null;
      } else if (rng.chance(0.02)) {
        span.retryCount = 1;
      }
    } else {
      span.inputTokens = 20 + rng.int(200);
    }
    return span;
  }

  private span(base: Base, parent: string | null, kind: SpanKind, model: string | null, provider: string | null, startTime: number, durationMs: number, ttftMs: number | null): LlmSpan {
    return {
      traceId: base.traceId,
      spanId: this.rng.hex(16),
      parentSpanId: parent,
      kind,
      service: base.service,
      operation: base.operation,
      startTime,
      durationMs: Math.round(durationMs * 10) / 10,
      ttftMs: ttftMs === null ? null : Math.round(ttftMs * 10) / 10,
      provider,
      model,
      inputTokens: null,
      outputTokens: null,
      cachedInputTokens: null,
      costUsd: null,
      status: 'OK',
      errorType: null,
      retryCount: 0,
      fallback: false,
      finishReason: null,
      userId: base.userId,
      tenantId: base.tenantId,
      sessionId: base.sessionId,
      inputText: null,
      outputText: null,
      expectedFormat: null,
      attributes: {},
    };
  }
}
