import type { LlmSpan, SpanKind } from '../model/index.js';
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
  'llama-3.1-70b': { provider: 'groq', medianMs: 700, sigma: 0.3, ttftMedianMs: 120 },
  'text-embedding-3-small': { provider: 'openai', medianMs: 60, sigma: 0.25, ttftMedianMs: 0 },
};

/**
 * An incident planted in the synthetic traffic: between `fromMs` and `toMs` after the generator's
 * start, `model`'s total latency (or its time to first token) is multiplied by `factor`.
 */
export interface PlantedIncident {
  name: string;
  model: string;
  metric: 'latency' | 'ttft';
  factor: number;
  fromMs: number;
  toMs: number;
}

/** The demo's two planted incidents: a latency regression on one model, a TTFT regression on another. */
export const DEFAULT_INCIDENTS: readonly PlantedIncident[] = [
  { name: 'claude-sonnet-4 latency regression', model: 'claude-sonnet-4', metric: 'latency', factor: 4, fromMs: 60_000, toMs: 8 * 60_000 },
  { name: 'gemini-2.5-flash TTFT regression', model: 'gemini-2.5-flash', metric: 'ttft', factor: 6, fromMs: 2 * 60_000, toMs: 9 * 60_000 },
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

interface ServiceShape {
  service: string;
  operation: string;
  weight: number;
  streaming: boolean;
  retrieval: boolean;
  models: readonly { weight: number; value: string }[];
}

const SERVICES: readonly ServiceShape[] = [
  {
    service: 'chat-api',
    operation: 'chat',
    weight: 5,
    streaming: true,
    retrieval: false,
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
    models: [
      { weight: 1, value: 'gpt-4o-mini' },
      { weight: 1, value: 'llama-3.1-70b' },
    ],
  },
];

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];

/**
 * Synthetic, realistic LLM pipeline traffic for `vigil demo` and for generated replay files: several
 * services and models, streaming and non-streaming calls, retrieval pipelines with embedding and
 * retrieval steps, lognormal latencies, a few errors and retries, and planted incidents. Pure and
 * deterministic for a given seed; time only moves when the caller asks for more spans.
 */
export class TrafficGenerator {
  private readonly rng: SeededRandom;
  private readonly startTime: number;
  private readonly meanGapMs: number;
  private readonly incidents: readonly PlantedIncident[];
  private nextArrival: number;
  private traceSeq = 0;

  constructor(options: TrafficOptions) {
    this.rng = new SeededRandom(options.seed ?? 42);
    this.startTime = options.startTime;
    this.meanGapMs = 1000 / (options.requestsPerSecond ?? 40);
    this.incidents = options.incidents ?? DEFAULT_INCIDENTS;
    this.nextArrival = options.startTime;
  }

  /** Spans of every request that starts before `untilMs` (event time) and was not yet returned. */
  spansUntil(untilMs: number): LlmSpan[] {
    const out: LlmSpan[] = [];
    while (this.nextArrival < untilMs) {
      this.request(Math.floor(this.nextArrival), out);
      this.nextArrival += -Math.log(1 - this.rng.next()) * this.meanGapMs;
    }
    return out;
  }

  private factor(model: string, metric: 'latency' | 'ttft', t: number): number {
    const rel = t - this.startTime;
    let f = 1;
    for (const inc of this.incidents) {
      if (inc.model === model && inc.metric === metric && rel >= inc.fromMs && rel < inc.toMs) f *= inc.factor;
    }
    return f;
  }

  private request(t0: number, out: LlmSpan[]): void {
    const rng = this.rng;
    const shape = rng.weighted(SERVICES.map((s) => ({ weight: s.weight, value: s })));
    const traceId = rng.hex(16) + (this.traceSeq++).toString(16).padStart(16, '0');
    const rootId = rng.hex(16);
    const userId = `user-${rng.int(2000)}`;
    const tenantId = TENANTS[rng.int(TENANTS.length)];
    const sessionId = `${userId}-s${rng.int(5)}`;
    const base = { traceId, service: shape.service, operation: shape.operation, userId, tenantId, sessionId };
    let cursor = t0 + 2 + rng.int(5);
    let rootStatus: 'OK' | 'ERROR' = 'OK';

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
    out.push(llm);
    cursor += llm.durationMs;
    if (llm.status === 'ERROR') rootStatus = 'ERROR';

    const root = this.span(base, null, 'PIPELINE', null, null, t0, cursor - t0 + rng.lognormal(15, 0.3), null);
    root.spanId = rootId;
    root.status = rootStatus;
    root.errorType = llm.errorType;
    root.retryCount = llm.retryCount;
    out.push(root);
  }

  private call(
    base: Pick<LlmSpan, 'traceId' | 'service' | 'operation' | 'userId' | 'tenantId' | 'sessionId'>,
    parent: string,
    kind: SpanKind,
    model: string,
    start: number,
    streaming: boolean,
  ): LlmSpan {
    const rng = this.rng;
    const p = DEMO_MODELS[model];
    const t = Math.floor(start);
    const ttftFactor = this.factor(model, 'ttft', t);
    let ttft: number | null = null;
    let duration = rng.lognormal(p.medianMs, p.sigma) * this.factor(model, 'latency', t);
    if (streaming) {
      ttft = rng.lognormal(p.ttftMedianMs, 0.4) * ttftFactor;
      duration = Math.max(duration, ttft + rng.lognormal(p.medianMs * 0.6, p.sigma));
    }
    const span = this.span(base, parent, kind, model, p.provider, t, duration, ttft);
    if (kind === 'LLM') {
      span.inputTokens = 200 + rng.int(1800);
      span.outputTokens = 50 + rng.int(700);
      span.cachedInputTokens = rng.chance(0.3) ? rng.int(span.inputTokens) : 0;
      span.finishReason = 'stop';
      if (rng.chance(0.01)) {
        span.status = 'ERROR';
        span.errorType = rng.chance(0.5) ? 'TIMEOUT' : 'RATE_LIMIT';
        span.finishReason = null;
      } else if (rng.chance(0.03)) {
        span.retryCount = 1;
      }
    } else {
      span.inputTokens = 20 + rng.int(200);
    }
    return span;
  }

  private span(
    base: Pick<LlmSpan, 'traceId' | 'service' | 'operation' | 'userId' | 'tenantId' | 'sessionId'>,
    parent: string | null,
    kind: SpanKind,
    model: string | null,
    provider: string | null,
    startTime: number,
    durationMs: number,
    ttftMs: number | null,
  ): LlmSpan {
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
