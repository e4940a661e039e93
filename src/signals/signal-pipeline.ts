import { EventTimeWatermark } from '../../operators/event-time-watermark.js';
import type { WindowedPipeline } from '../../operators/sliding-signals.js';
import { FamilyWindowStore } from '../../operators/family-window-store.js';
import { CostAnomalyDetector } from '../../operators/cost/cost-anomaly-detector.js';
import type { PriceTable, SpanCost } from '../../operators/cost/price-table.js';
import { RequestAssembler, type AssembledRequest } from '../../operators/requests/request-assembler.js';
import { NO_INJECTION, PromptInjectionScanner } from '../../operators/security/prompt-injection-scanner.js';
import { NO_PII, PiiScanner } from '../../operators/security/pii-scanner.js';
import { UserActivityTracker, type UserRequestObservation, type UserTrackerInit } from '../../operators/users/user-activity-tracker.js';
import type { SubWindowPartial } from '../../operators/sub-window-partial.js';
import { VigilError } from '../errors.js';
import type { EvalScoreEvent, FeedbackEvent, LlmSpan, SignalSnapshot, SignalView } from '../model/index.js';
import { evalFamily } from './eval-family.js';
import { feedbackFamily } from './feedback-family.js';
import { emptyJoin, type JoinedDimensions } from './joined-dimensions.js';
import { requestFamily, type RequestVerdicts } from './request-family.js';
import { isValidJsonOutput, type SpanEnrichment } from './span-enrichment.js';
import { spanFamily } from './span-family.js';
import { USER_STATS, isUserStat, userSnapshot } from './user-signals.js';
import { MergedUserReports, type UserReport, type UserSignals } from './user-report.js';

/** Most services, and operations per service, whose cost-anomaly key is kept ready. */
const MAX_COST_KEYS = 1000;

/** One delivery to the pipeline: events of one input channel (a Kafka partition; 0 for files). */
export interface EventChunk {
  channel: number;
  spans: readonly LlmSpan[];
  feedback?: readonly FeedbackEvent[];
  evals?: readonly EvalScoreEvent[];
  /** A merged pipeline's input: closed sub-windows of partition tasks (see {@link TaskPartial}). */
  partials?: readonly TaskPartial[];
  /** A merged pipeline's input: how far partition tasks have closed their windows (see {@link TaskCheckpoint}). */
  checkpoints?: readonly TaskCheckpoint[];
}

/** A closed sub-window of one family, from the partition task `task`. */
export interface TaskPartial {
  task: number;
  partial: SubWindowPartial;
}

/**
 * A partition task's progress: it has published every sub-window ending at or before `boundary`
 * (and will publish none of them again with other contents). `idle`: the task has no events at all
 * and should not hold the group's event time back until it has some. `users`: its per-user state.
 */
export interface TaskCheckpoint {
  task: number;
  boundary: number;
  idle: boolean;
  users: UserReport;
}

/** Options of a {@link SignalPipeline}. */
export interface SignalPipelineOptions {
  /** Sub-window length of span and request signals; every boundary is a multiple of it, ms. */
  slideMs: number;
  allowedLatenessMs: number;
  /** Longest window (plus baseline) of span and request signals, ms. */
  retentionMs: number;
  /** Sub-window length of feedback and eval signals (a multiple of `slideMs`), ms. */
  slowSubWindowMs: number;
  /** Longest window (plus baseline) of feedback and eval signals, ms. */
  slowRetentionMs: number;
  prices: PriceTable;
  /** Run the prompt-injection scanner over `inputText`. */
  scanInjection: boolean;
  /** Run the PII scanner over `outputText`. */
  scanPii: boolean;
  /** A request whose root never arrives is emitted as incomplete after this long, ms. */
  requestTimeoutMs: number;
  users?: UserTrackerInit;
  views: readonly SignalView[];
  compression?: number;
  /**
   * Called for every closed boundary after the stores closed it and before they evict anything: a
   * partition task publishes the sub-windows that just closed from here.
   */
  onBoundary?: (boundary: number) => void;
  /**
   * A merged (group-wide) pipeline: it counts no events, it adds up the partials of partition tasks
   * and its event-time channels are the tasks, advanced by their checkpoints. Set `allowedLatenessMs`
   * to 0 for it: a task's checkpoint already waited for its own late events.
   */
  merged?: boolean;
  /** Judge lateness per input channel (see `EventTimeWatermarkOptions.perChannelLateness`); partition tasks do. */
  perChannelLateness?: boolean;
  /** Pack closed sub-windows (`FamilyWindowStoreOptions.packOnClose`; default true); partition tasks export them instead. */
  packOnClose?: boolean;
}

/** Where a signal is answered from. */
export type SignalSource = FamilyWindowStore<LlmSpan> | FamilyWindowStore<AssembledRequest> | FamilyWindowStore<FeedbackEvent> | FamilyWindowStore<EvalScoreEvent> | 'users';

/** Description of one signal for the rule catalogue, the query API and docs. */
export interface SignalInfo {
  name: string;
  kind: 'counter' | 'distribution' | 'users';
  family: string;
  unit?: string;
  description: string;
  dimensions: readonly string[];
  subWindowMs: number;
  retentionMs: number;
  statHint: string;
  isValidStat(stat: string): boolean;
}

/** Window settings that decide which signals exist and how far back they reach. */
export interface SignalWindows {
  slideMs: number;
  retentionMs: number;
  slowSubWindowMs: number;
  slowRetentionMs: number;
}

function describeStores(stores: readonly FamilyWindowStore<never>[], slideMs: number, retentionMs: number): SignalInfo[] {
  const out: SignalInfo[] = [];
  for (const store of stores) {
    for (const s of store.signals()) {
      out.push({
        name: s.name,
        kind: s.kind,
        family: store.family.name,
        ...(s.unit === undefined ? {} : { unit: s.unit }),
        description: s.description,
        dimensions: store.family.dimensions,
        subWindowMs: store.subWindowMs,
        retentionMs: store.retentionMs,
        statHint: store.statHint(s.name),
        isValidStat: (stat) => store.isValidStat(s.name, stat),
      });
    }
  }
  out.push({
    name: 'users',
    kind: 'users',
    family: 'users',
    description: 'unusual per-user access patterns: request-rate, token and cost spikes against a robust per-user baseline, system-prompt probing, session spreading',
    dimensions: ['user'],
    subWindowMs: slideMs,
    retentionMs,
    statHint: USER_STATS.join(', '),
    isValidStat: isUserStat,
  });
  return out;
}

/** The signals a pipeline with these windows answers, without building one. */
export function describeSignals(windows: SignalWindows): SignalInfo[] {
  const enrichment = { costUsd: 0, costSource: 'none', injection: NO_INJECTION, inputScanned: false, pii: NO_PII, outputLength: -1, jsonExpected: false, jsonValid: false } as SpanEnrichment;
  const join = emptyJoin();
  const stores = [
    new FamilyWindowStore({ family: spanFamily(enrichment), subWindowMs: windows.slideMs, retentionMs: windows.retentionMs }),
    new FamilyWindowStore({ family: requestFamily({ costAnomaly: false, time: 0 }), subWindowMs: windows.slideMs, retentionMs: windows.retentionMs }),
    new FamilyWindowStore({ family: feedbackFamily(join), subWindowMs: windows.slowSubWindowMs, retentionMs: windows.slowRetentionMs }),
    new FamilyWindowStore({ family: evalFamily(join), subWindowMs: windows.slowSubWindowMs, retentionMs: windows.slowRetentionMs }),
  ] as FamilyWindowStore<never>[];
  return describeStores(stores, windows.slideMs, windows.retentionMs);
}

/** Counters the pipeline keeps about itself. */
export interface PipelineCounters {
  spans: number;
  feedback: number;
  evals: number;
  requests: number;
  lateEvents: number;
  injectionAttempts: number;
  piiFindings: number;
  unpricedSpans: number;
}

/**
 * The whole monitoring checklist over one event-time clock: spans (latency, TTFT, errors, cost,
 * output, security), requests assembled from spans (pipeline-level failures, degradation, cost per
 * request and its anomalies), feedback and eval events joined to requests by `traceId`, and per-user
 * access patterns. Pure and synchronous: `ingest` a chunk and it emits, through the callback, the
 * snapshots of every view for each slide boundary the chunk closed. The RxJS operator and the engine
 * wrap it.
 */
export class SignalPipeline implements WindowedPipeline<EventChunk> {
  readonly watermark: EventTimeWatermark;
  readonly spans: FamilyWindowStore<LlmSpan>;
  readonly requests: FamilyWindowStore<AssembledRequest>;
  readonly feedback: FamilyWindowStore<FeedbackEvent>;
  readonly evals: FamilyWindowStore<EvalScoreEvent>;
  /** Per-user signals: this pipeline's tracker, or a merged pipeline's group-wide reports. */
  readonly users: UserSignals;
  readonly assembler: RequestAssembler;
  /** True for a merged pipeline (see {@link SignalPipelineOptions.merged}). */
  readonly merged: boolean;

  private readonly tracker: UserActivityTracker;
  private heldFeedback: FeedbackEvent[] = [];
  // A merged pipeline's partials of sub-windows the group has not closed yet.
  private readonly pendingPartials: TaskPartial[] = [];
  private heldEvals: EvalScoreEvent[] = [];
  private readonly mergedUsers: MergedUserReports | null;
  private readonly onBoundary: ((boundary: number) => void) | undefined;
  // Partials already added, by family and sub-window start, so a republished one is not counted twice.
  private readonly applied = new Map<FamilyWindowStore<never>, Map<number, Set<number>>>();
  private latePartials = 0;
  private duplicatePartials = 0;

  private readonly prices: PriceTable;
  private readonly injectionScanner: PromptInjectionScanner | null;
  private readonly piiScanner: PiiScanner | null;
  // "Far above" means at least 10x the recent median as well as well past its spread.
  private readonly costAnomalies = new CostAnomalyDetector({ minRatio: 10 });
  private readonly enrichment: SpanEnrichment = {
    costUsd: 0,
    costSource: 'none',
    injection: NO_INJECTION,
    inputScanned: false,
    pii: NO_PII,
    outputLength: -1,
    jsonExpected: false,
    jsonValid: false,
  };
  private readonly verdicts: RequestVerdicts = { costAnomaly: false, time: 0 };
  // The sub-window completed requests count in (the one before the boundary that completed them),
  // and what counts each: the assembler hands them over as one object it reuses.
  private countTime = 0;
  private readonly countCompleted = (r: AssembledRequest): void => this.countRequest(r, this.countTime);
  // The span enrichment describes, and a scratch span cost for any other.
  private enriched: LlmSpan | null = null;
  private readonly otherCost: SpanCost = { usd: 0, source: 'none' };
  private readonly observation: UserRequestObservation = { userId: '', time: 0, tokens: 0, costUsd: 0, sessionId: null, probing: false };
  // service → operation → the cost detector's key, so no key string is built per request.
  private readonly costKeys = new Map<string, Map<string, string>>();
  private readonly join: JoinedDimensions = emptyJoin();
  private readonly views: readonly SignalView[];
  private readonly viewSources: SignalSource[];
  private readonly catalogue = new Map<string, SignalInfo>();
  private readonly counters: PipelineCounters = { spans: 0, feedback: 0, evals: 0, requests: 0, lateEvents: 0, injectionAttempts: 0, piiFindings: 0, unpricedSpans: 0 };
  private readonly stores: FamilyWindowStore<never>[];

  constructor(options: SignalPipelineOptions) {
    const { slideMs, retentionMs, slowSubWindowMs, slowRetentionMs, compression, packOnClose } = options;
    if (slowSubWindowMs % slideMs !== 0) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `windows.slowSubWindow: must be a multiple of windows.slide (${slideMs} ms)`, { details: { key: 'windows.slowSubWindow' } });
    }
    this.prices = options.prices;
    this.watermark = new EventTimeWatermark({
      slideMs,
      allowedLatenessMs: options.allowedLatenessMs,
      retentionMs: Math.max(retentionMs, slowRetentionMs),
      perChannelLateness: options.perChannelLateness,
    });
    this.spans = new FamilyWindowStore({ family: spanFamily(this.enrichment), subWindowMs: slideMs, retentionMs, compression, packOnClose });
    this.requests = new FamilyWindowStore({ family: requestFamily(this.verdicts), subWindowMs: slideMs, retentionMs, compression, packOnClose });
    this.feedback = new FamilyWindowStore({ family: feedbackFamily(this.join), subWindowMs: slowSubWindowMs, retentionMs: slowRetentionMs, compression, packOnClose });
    this.evals = new FamilyWindowStore({ family: evalFamily(this.join), subWindowMs: slowSubWindowMs, retentionMs: slowRetentionMs, compression, packOnClose });
    this.stores = [this.spans, this.requests, this.feedback, this.evals] as FamilyWindowStore<never>[];
    // The assembler prices the span enrich() has just priced: it reuses that figure.
    this.assembler = new RequestAssembler({ timeoutMs: options.requestTimeoutMs, cost: (span) => this.costOf(span) });
    this.tracker = new UserActivityTracker(options.users);
    this.merged = options.merged === true;
    this.mergedUsers = this.merged ? new MergedUserReports() : null;
    this.users = this.mergedUsers ?? this.tracker;
    this.onBoundary = options.onBoundary;
    this.injectionScanner = options.scanInjection ? new PromptInjectionScanner() : null;
    this.piiScanner = options.scanPii ? new PiiScanner() : null;

    for (const info of describeStores(this.stores, slideMs, retentionMs)) this.catalogue.set(info.name, info);
    this.views = options.views;
    this.viewSources = options.views.map((v) => this.sourceOf(v.signal));
  }

  /** Every signal the pipeline answers, by name. */
  signals(): ReadonlyMap<string, SignalInfo> {
    return this.catalogue;
  }

  /** The store (or the user tracker) answering `signal`; throws `VIGIL_QUERY_INVALID` naming it when unknown. */
  sourceOf(signal: string): SignalSource {
    const info = this.catalogue.get(signal);
    if (!info) {
      throw new VigilError('VIGIL_QUERY_INVALID', `signal: unknown signal "${signal}" (known: ${[...this.catalogue.keys()].join(', ')})`, { details: { param: 'signal' } });
    }
    switch (info.family) {
      case 'spans':
        return this.spans;
      case 'requests':
        return this.requests;
      case 'feedback':
        return this.feedback;
      case 'evals':
        return this.evals;
      default:
        return 'users';
    }
  }

  /** Counters about the pipeline itself. */
  status(): Readonly<PipelineCounters> {
    return { ...this.counters, lateEvents: this.watermark.lateCount };
  }

  /** A merged pipeline's partials that arrived after the group closed their sub-window, and republished ones it ignored. */
  partialStatus(): { late: number; duplicate: number } {
    return { late: this.latePartials, duplicate: this.duplicatePartials };
  }

  /** Declares the active input channels (the consumer's assigned partitions). */
  setChannels(channels: readonly number[]): void {
    this.watermark.declareChannels(channels);
  }

  /** Counts one chunk, then emits the snapshots of every boundary it closed. */
  ingest(chunk: EventChunk, emit: (snapshot: SignalSnapshot) => void): void {
    if (chunk.partials !== undefined || chunk.checkpoints !== undefined) this.mergeChunk(chunk, emit);
    const wm = this.watermark;
    const channel = chunk.channel;
    const spans = chunk.spans;
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i];
      if (wm.observe(span.startTime, channel)) {
        this.counters.spans++;
        this.enrich(span);
        this.spans.add(span);
        this.assembler.add(span);
        const e = this.enrichment;
        if (e.injection.attempt || e.pii.total > 0) this.assembler.flag(span.traceId, e.injection.attempt, e.pii.total);
      }
      this.emitClosed(emit);
    }
    // Feedback and eval events wait to be joined to their request until event time has passed them
    // (see releaseHeld): by then every span before them has arrived, whichever topic came first.
    const feedback = chunk.feedback;
    if (feedback) {
      for (let i = 0; i < feedback.length; i++) {
        const f = feedback[i];
        if (wm.observe(f.timestamp, channel)) {
          this.counters.feedback++;
          this.heldFeedback.push(f);
        }
        this.emitClosed(emit);
      }
    }
    const evals = chunk.evals;
    if (evals) {
      for (let i = 0; i < evals.length; i++) {
        const e = evals[i];
        if (wm.observe(e.timestamp, channel)) {
          this.counters.evals++;
          this.heldEvals.push(e);
        }
        this.emitClosed(emit);
      }
    }
  }

  // Joins and counts the held feedback and eval events before `boundary`, oldest first. The
  // watermark closes a boundary only once every channel is past it plus the allowed lateness, so
  // the spans of their requests have all been added: the join does not depend on which topic
  // happened to be read first.
  private releaseHeld(boundary: number): void {
    if (this.heldFeedback.length > 0) {
      const ready = takeBefore(this.heldFeedback, boundary);
      for (const f of ready) {
        this.joinTo(f.traceId, f.service, f.operation, f.model, f.tenantId);
        this.feedback.add(f);
      }
    }
    if (this.heldEvals.length > 0) {
      const ready = takeBefore(this.heldEvals, boundary);
      for (const e of ready) {
        this.joinTo(e.traceId, e.service, e.operation, e.model, e.tenantId);
        this.evals.add(e);
      }
    }
  }

  // Partials first: a task publishes a boundary's sub-windows before the checkpoint that closes it.
  private mergeChunk(chunk: EventChunk, emit: (snapshot: SignalSnapshot) => void): void {
    if (!this.merged) throw new VigilError('VIGIL_CONFIG_INVALID', 'partials and checkpoints go to a merged pipeline (options.merged)', { details: { key: 'merged' } });
    for (const { task, partial } of chunk.partials ?? []) {
      const store = this.storeOf(partial.family);
      if (store === undefined) throw new VigilError('VIGIL_RECORD_INVALID', `family: no signal family "${partial.family}"`, { details: { field: 'family' } });
      let byStart = this.applied.get(store);
      if (byStart === undefined) this.applied.set(store, (byStart = new Map<number, Set<number>>()));
      let tasks = byStart.get(partial.start);
      if (tasks === undefined) byStart.set(partial.start, (tasks = new Set()));
      if (tasks.has(task)) {
        this.duplicatePartials++;
        continue;
      }
      tasks.add(task);
      if (partial.start + partial.subWindowMs <= this.watermark.lastClosedBoundary) {
        this.latePartials++;
        store.mergeSubWindow(partial);
      } else this.pendingPartials.push({ task, partial });
    }
    const wm = this.watermark;
    for (const c of chunk.checkpoints ?? []) {
      this.mergedUsers?.set(c.task, c.users, c.idle ? -Infinity : c.boundary);
      if (c.idle) wm.markIdle(c.task);
      else {
        // A checkpoint is the end of its sub-window, not an event in the next one: the very first
        // one must make its own boundary the first to close.
        if (wm.maxEventTime === -Infinity) wm.observe(c.boundary - 1, c.task);
        wm.observe(c.boundary, c.task);
      }
      this.emitClosed(emit);
    }
  }

  // The partials of the sub-windows `b` closes, added in task order: float sums and digest merges
  // then come out the same whichever task published first.
  private mergePending(b: number): void {
    const ready: TaskPartial[] = [];
    let kept = 0;
    const pending = this.pendingPartials;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i];
      if (p.partial.start + p.partial.subWindowMs <= b) ready.push(p);
      else pending[kept++] = p;
    }
    pending.length = kept;
    ready.sort((x, y) => (x.partial.family < y.partial.family ? -1 : x.partial.family > y.partial.family ? 1 : x.partial.start - y.partial.start || x.task - y.task));
    // One sub-window's partials of every task merge together: each digest once, from all their bytes.
    for (let i = 0; i < ready.length; ) {
      const { family, start } = ready[i].partial;
      let j = i + 1;
      while (j < ready.length && ready[j].partial.family === family && ready[j].partial.start === start) j++;
      this.storeOf(family)?.mergeSubWindows(ready.slice(i, j).map((p) => p.partial));
      i = j;
    }
  }

  private storeOf(family: string): FamilyWindowStore<never> | undefined {
    for (const store of this.stores) if (store.family.name === family) return store;
    return undefined;
  }

  /** End of input: closes the windows up to the last event and emits their snapshots. */
  complete(emit: (snapshot: SignalSnapshot) => void): void {
    this.watermark.flush();
    this.emitClosed(emit);
    // Requests still open at the end (no root, or a root ending after the last event) count in the
    // last sub-window, which queries still read.
    const last = this.watermark.lastClosedBoundary - 1;
    this.countTime = last;
    this.assembler.drain(Infinity, this.countCompleted);
  }

  /** The assembler's span price: `NaN` for unpriced, as a PriceTable-priced assembler has it. */
  private costOf(span: LlmSpan): number {
    const e = this.enrichment;
    if (span === this.enriched) return e.costSource === 'unpriced' ? NaN : e.costUsd;
    const cost = this.prices.spanCost(span, this.otherCost);
    return cost.source === 'unpriced' ? NaN : cost.usd;
  }

  private costKey(service: string, operation: string): string {
    const byOperation = this.costKeys.get(service);
    const known = byOperation?.get(operation);
    if (known !== undefined) return known;
    const key = service + '|' + operation;
    // Producer-chosen names: a flood of distinct ones must not grow this without bound.
    if (byOperation === undefined) {
      if (this.costKeys.size < MAX_COST_KEYS) this.costKeys.set(service, new Map([[operation, key]]));
    } else if (byOperation.size < MAX_COST_KEYS) byOperation.set(operation, key);
    return key;
  }

  private enrich(span: LlmSpan): void {
    const e = this.enrichment;
    this.enriched = span;
    const cost = this.prices.spanCost(span);
    e.costUsd = cost.usd;
    e.costSource = cost.source;
    if (cost.source === 'unpriced') this.counters.unpricedSpans++;
    const input = span.inputText;
    if (input !== null && this.injectionScanner !== null) {
      e.inputScanned = true;
      e.injection = this.injectionScanner.scan(input);
      if (e.injection.attempt) this.counters.injectionAttempts++;
    } else {
      e.inputScanned = false;
      e.injection = NO_INJECTION;
    }
    const output = span.outputText;
    if (output !== null) {
      e.outputLength = output.length;
      e.pii = this.piiScanner !== null ? this.piiScanner.scan(output) : NO_PII;
      this.counters.piiFindings += e.pii.total;
      e.jsonExpected = span.expectedFormat === 'json';
      e.jsonValid = e.jsonExpected && isValidJsonOutput(output);
    } else {
      e.outputLength = -1;
      e.pii = NO_PII;
      e.jsonExpected = span.expectedFormat === 'json';
      e.jsonValid = false;
    }
  }

  private joinTo(traceId: string | null, service: string | null, operation: string | null, model: string | null, tenantId: string | null): void {
    const j = this.join;
    const req = traceId === null ? undefined : this.assembler.lookup(traceId);
    j.joined = req !== undefined;
    j.service = service ?? req?.service ?? null;
    j.operation = operation ?? req?.operation ?? null;
    j.model = model ?? req?.model ?? null;
    j.tenantId = tenantId ?? req?.tenantId ?? null;
  }

  // Requests are counted when complete, in the sub-window just before the boundary that completed them.
  private countRequest(r: AssembledRequest, time: number): void {
    this.counters.requests++;
    const costKey = this.costKey(r.service, r.operation);
    // An incomplete or partly unpriced request's cost is not comparable with the others'.
    this.verdicts.costAnomaly = r.rootMissing || r.unpricedSpans > 0 ? false : this.costAnomalies.check(costKey, r.startTime, r.costUsd).anomalous;
    this.verdicts.time = time;
    this.requests.add(r);
    if (r.userId !== null) {
      const o = this.observation;
      o.userId = r.userId;
      o.time = time;
      o.tokens = r.inputTokens + r.outputTokens;
      o.costUsd = r.costUsd;
      o.sessionId = r.sessionId;
      o.probing = r.injection;
      this.tracker.observe(o);
    }
  }

  // Sub-windows past every store's retention can no longer take a partial: forget which were added.
  private forgetApplied(b: number): void {
    for (const [store, byStart] of this.applied) {
      for (const start of byStart.keys()) if (start + store.subWindowMs <= b - store.retentionMs) byStart.delete(start);
    }
  }

  /** Emits the snapshots of every boundary the watermark has closed since the last call. */
  emitClosed(emit: (snapshot: SignalSnapshot) => void): void {
    const wm = this.watermark;
    for (let b = wm.pollClosedBoundary(); b !== undefined; b = wm.pollClosedBoundary()) {
      this.releaseHeld(b);
      this.countTime = b - 1;
      this.assembler.drain(b, this.countCompleted);
      this.tracker.advance(b);
      this.mergedUsers?.advanceTo(b);
      if (this.pendingPartials.length > 0) this.mergePending(b);
      for (const store of this.stores) store.closeThrough(b);
      this.onBoundary?.(b);
      for (let i = 0; i < this.views.length; i++) {
        const view = this.views[i];
        const source = this.viewSources[i];
        if (source === 'users') emit(userSnapshot(this.users, view, b));
        else if (b % source.subWindowMs === 0) emit(source.snapshot(view, b));
      }
      for (const store of this.stores) store.evictBefore(b - store.retentionMs);
      if (this.merged) this.forgetApplied(b);
    }
  }
}

/** Removes and returns the events of `held` before `boundary`, in event-time order (ties in arrival order). */
function takeBefore<T extends { timestamp: number }>(held: T[], boundary: number): T[] {
  const ready: T[] = [];
  let kept = 0;
  for (let i = 0; i < held.length; i++) {
    const e = held[i];
    if (e.timestamp < boundary) ready.push(e);
    else held[kept++] = e;
  }
  held.length = kept;
  // Array.prototype.sort is stable: equal timestamps keep their arrival order.
  if (ready.length > 1) ready.sort((a, b) => a.timestamp - b.timestamp);
  return ready;
}
