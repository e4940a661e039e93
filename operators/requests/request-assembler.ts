/**
 * Request assembly: groups the spans of one end-user request (one `traceId`) into a single
 * {@link AssembledRequest} of aggregates — cost, tokens, retries, failure and degradation — in
 * bounded memory, emitting it once the event-time watermark says no more of its spans can come.
 *
 * @packageDocumentation
 */
import { VigilError } from '../../src/errors.js';
import type { ErrorType, LlmSpan, SpanStatus } from '../../src/model/llm-span.js';
import { PriceTable } from '../cost/price-table.js';
import type { SpanCost } from '../cost/price-table.js';

/** Bit of each {@link ErrorType} in {@link AssembledRequest.errorTypes}. */
export const ERROR_TYPE_BITS: Readonly<Record<ErrorType, number>> = Object.freeze({
  TIMEOUT: 1,
  RATE_LIMIT: 2,
  MODEL_ERROR: 4,
  CONTENT_FILTER: 8,
  INVALID_REQUEST: 16,
  NETWORK: 32,
  OTHER: 64,
});

/** True when the {@link AssembledRequest.errorTypes} bitmask `mask` includes `type`. */
export function hasErrorType(mask: number, type: ErrorType): boolean {
  return (mask & ERROR_TYPE_BITS[type]) !== 0;
}

/** The dimensions of a request, for joining feedback and eval events to it by `traceId`. */
export interface RequestDimensions {
  readonly service: string;
  readonly operation: string;
  readonly model: string | null;
  readonly provider: string | null;
  readonly tenantId: string | null;
  readonly userId: string | null;
}

/**
 * One end-user request: the aggregates of every span sharing a `traceId`. Holds no span and no text.
 * "Root" is the span whose `parentSpanId` is null (the first such span when a trace has several).
 */
export interface AssembledRequest extends RequestDimensions {
  readonly traceId: string;
  /** The root's service; before it arrived (or without one) the first span's. */
  readonly service: string;
  /** The root's operation; before it arrived (or without one) the first span's. */
  readonly operation: string;
  /** The root's tenant, else the first non-null tenant among the spans. */
  readonly tenantId: string | null;
  /** The root's user, else the first non-null user among the spans. */
  readonly userId: string | null;
  /** The root's session, else the first non-null session among the spans. */
  readonly sessionId: string | null;
  /** The root's model, else the model of the earliest-starting `LLM` span that has one. */
  readonly model: string | null;
  /** The provider of the span {@link AssembledRequest.model} comes from. */
  readonly provider: string | null;
  /** The root's start (epoch ms), else the earliest span start. */
  readonly startTime: number;
  /** The root's duration, else the extent from the earliest span start to the latest span end. */
  readonly durationMs: number;
  /** Spans folded into the request. */
  readonly spanCount: number;
  /** Spans of kind `LLM`. */
  readonly llmCalls: number;
  /** Sum of the priced span costs, USD; unpriced spans add 0 and are counted in `unpricedSpans`. */
  readonly costUsd: number;
  /** Spans with tokens that could not be priced (no model, or a model missing from the price table). */
  readonly unpricedSpans: number;
  /** Input tokens over all spans (LLM and embedding). */
  readonly inputTokens: number;
  /** Output tokens over all spans. */
  readonly outputTokens: number;
  /** The root's status; without a root, `ERROR` if any span errored. */
  readonly status: SpanStatus;
  /** The root arrived and failed. A request without a root is never `failed` (its outcome is unknown). */
  readonly failed: boolean;
  /**
   * The root arrived and succeeded, but only through retries or a fallback: some span has
   * `retryCount > 0` or `fallback`, or a non-root span failed.
   */
  readonly degraded: boolean;
  /** Sum of `retryCount` over all spans. */
  readonly retries: number;
  /** Some span used a fallback. */
  readonly fallback: boolean;
  /** Bitmask of the `errorType`s seen on any span ({@link ERROR_TYPE_BITS}, {@link hasErrorType}). */
  readonly errorTypes: number;
  /** Spans with `errorType` `TIMEOUT`. */
  readonly timeouts: number;
  /** Spans with `errorType` `RATE_LIMIT`. */
  readonly rateLimits: number;
  /** Emitted without its root: timed out, evicted or flushed before the root came. */
  readonly rootMissing: boolean;
  /** Emitted early because {@link RequestAssemblerOptions.maxOpenRequests} was reached. */
  readonly evicted: boolean;
  /** Set later by the security stage (or via {@link RequestAssembler.flag}): a prompt injection was found. */
  injection: boolean;
  /** Set later by the security stage (or via {@link RequestAssembler.flag}): PII findings in outputs. */
  piiFindings: number;
}

/** Prices one span in USD; `NaN` means "has tokens but cannot be priced" (counted as unpriced). */
export type SpanCostFunction = (span: LlmSpan) => number;

/** Options of a {@link RequestAssembler}. */
export interface RequestAssemblerOptions {
  /**
   * Receives each request evicted by {@link RequestAssembler.add} (see `maxOpenRequests`) at once,
   * synchronously; it must not call back into the assembler. Without it, evicted requests are queued
   * and returned first by the next {@link RequestAssembler.advance} or {@link RequestAssembler.flush}
   * — so a caller whose watermark can stall while spans keep coming should set it.
   */
  onEvict?: (request: AssembledRequest) => void;
  /**
   * How spans are priced: a {@link PriceTable} (its {@link PriceTable.spanCost}, `unpriced` counted),
   * or a function returning USD, `NaN` for unpriced. Default: the producer's `costUsd` only — spans
   * with tokens but no `costUsd` are counted as unpriced.
   */
  cost?: PriceTable | SpanCostFunction;
  /** How long after its first span's start a request without a root is given up on, ms (default 5 min). */
  timeoutMs?: number;
  /** Most requests open at once (default 100 000); beyond it the oldest is emitted early. */
  maxOpenRequests?: number;
  /** Completed requests remembered for {@link RequestAssembler.lookup} and late-span detection (default 200 000; 0 = none). */
  maxRecentRequests?: number;
}

/** Counters of a {@link RequestAssembler}, since construction. */
export interface RequestAssemblerStats {
  /** Requests open now. */
  open: number;
  /** Evicted requests queued for the next {@link RequestAssembler.advance} (always 0 with `onEvict`). */
  queued: number;
  /** Requests emitted (evicted ones included). */
  emitted: number;
  /** Emitted requests that were incomplete: `rootMissing` or `evicted`. */
  incomplete: number;
  /** Emitted requests without their root. */
  rootMissing: number;
  /** Requests emitted early because `maxOpenRequests` was reached. */
  evicted: number;
  /** Spans that arrived after their request was emitted (dropped). */
  lateChildren: number;
  /** Spans dropped because their `startTime` or `durationMs` was not finite. */
  invalidSpans: number;
  /** Completed requests held for {@link RequestAssembler.lookup}. */
  recent: number;
  /** Entries in the due-time heap, stale ones included. */
  heapSize: number;
  /** Heap entries {@link RequestAssembler.advance} has looked at: O(emitted + stale), never O(open). */
  heapInspected: number;
}

/** Defaults of {@link RequestAssemblerOptions}. */
export const REQUEST_ASSEMBLER_DEFAULTS = Object.freeze({
  timeoutMs: 5 * 60_000,
  maxOpenRequests: 100_000,
  maxRecentRequests: 200_000,
});

const NOTHING: readonly AssembledRequest[] = Object.freeze([]);

type Draft = { -readonly [K in keyof AssembledRequest]: AssembledRequest[K] };

/** The state of one open request: its future {@link AssembledRequest} plus what derives its fields. */
class OpenRequest {
  readonly req: Draft;
  /** When the request is due: the root's end, else the first span's start + timeout. */
  due: number;
  done = false;
  rootSeen = false;
  rootModel = false;
  llmStart = Infinity;
  earliest: number;
  latest: number;
  anyError = false;
  childFailed = false;

  constructor(span: LlmSpan, due: number) {
    this.due = due;
    this.earliest = span.startTime;
    this.latest = span.startTime + span.durationMs;
    this.req = {
      traceId: span.traceId,
      service: span.service,
      operation: span.operation,
      tenantId: null,
      userId: null,
      sessionId: null,
      model: null,
      provider: null,
      startTime: span.startTime,
      durationMs: span.durationMs,
      spanCount: 0,
      llmCalls: 0,
      costUsd: 0,
      unpricedSpans: 0,
      inputTokens: 0,
      outputTokens: 0,
      status: 'OK',
      failed: false,
      degraded: false,
      retries: 0,
      fallback: false,
      errorTypes: 0,
      timeouts: 0,
      rateLimits: 0,
      rootMissing: false,
      evicted: false,
      injection: false,
      piiFindings: 0,
    };
  }
}

/**
 * Binary min-heap of (due time, request) in parallel arrays. Entries are never removed out of order:
 * an entry is stale when its request is done or its due time changed since the push (lazy deletion).
 */
class DueHeap {
  due = new Float64Array(1024);
  items: (OpenRequest | undefined)[] = [];
  size = 0;

  push(due: number, item: OpenRequest): void {
    if (this.size === this.due.length) {
      const grown = new Float64Array(this.due.length * 2);
      grown.set(this.due);
      this.due = grown;
    }
    this.siftUp(this.size++, due, item);
  }

  pop(): void {
    const last = --this.size;
    const due = this.due[last];
    const item = this.items[last] as OpenRequest;
    this.items[last] = undefined;
    if (last > 0) this.siftDown(0, due, item);
  }

  /** Drops stale entries and rebuilds the heap, O(size). */
  compact(): void {
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      const item = this.items[i] as OpenRequest;
      if (item.done || item.due !== this.due[i]) continue;
      this.due[n] = this.due[i];
      this.items[n++] = item;
    }
    for (let i = n; i < this.size; i++) this.items[i] = undefined;
    this.size = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, this.due[i], this.items[i] as OpenRequest);
  }

  private siftUp(i: number, due: number, item: OpenRequest): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.due[parent] <= due) break;
      this.due[i] = this.due[parent];
      this.items[i] = this.items[parent];
      i = parent;
    }
    this.due[i] = due;
    this.items[i] = item;
  }

  private siftDown(i: number, due: number, item: OpenRequest): void {
    const n = this.size;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.due[child + 1] < this.due[child]) child++;
      if (this.due[child] >= due) break;
      this.due[i] = this.due[child];
      this.items[i] = this.items[child];
      i = child;
    }
    this.due[i] = due;
    this.items[i] = item;
  }
}

/**
 * Groups spans by `traceId` into {@link AssembledRequest}s. Pure and synchronous; time is event time.
 *
 * **Completion.** A request is complete once its root (`parentSpanId` null) has arrived and the
 * watermark passed to {@link advance} is at or past the root's end (`startTime + durationMs`): every
 * child starts inside the root, so given the engine's allowed lateness its spans have arrived by then.
 * The root may come before or after its children. A request whose root has not arrived is emitted
 * with `rootMissing` once the watermark reaches its first-arrived span's start + `timeoutMs`.
 * Spans of a request already emitted are counted in `lateChildren` and dropped (this includes a root
 * arriving after its request timed out); that needs the request to still be in the recent index.
 *
 * **Expiry** uses a binary min-heap of due times with lazy deletion: a root arriving after a child
 * pushes a new entry and leaves the old one stale; {@link advance} pops only due or stale entries, so
 * its cost is O((emitted + stale) · log open), independent of how many requests are open. A request
 * opened by its root has one entry, one whose root follows a child two; when stale entries outnumber
 * live ones (evictions leave theirs behind) the heap is rebuilt in O(size).
 *
 * **Memory** (measured on Node 20 x64, 32-character trace ids): open requests are at most
 * `maxOpenRequests`; when a new trace would exceed it the oldest open request (by arrival of its
 * first span) is emitted early with `evicted` (and `rootMissing` if its root had not come). An open
 * request keeps one aggregate record, no spans: ≈ 480 B plus its trace id (≈ 56 B) — ≈ 54 MB at the
 * default 100 000. Completed requests are remembered for {@link lookup} and late-span detection in an
 * index of at most `maxRecentRequests`, FIFO by completion: ≈ 120 B per entry plus the trace id —
 * ≈ 35 MB at the default 200 000.
 *
 * **Emission.** {@link advance} and {@link flush} return the requests they emit, in due-time order,
 * after any evicted ones queued since the previous call (or evictions go to `onEvict` at once). When
 * nothing is emitted they return one shared frozen empty array, so a quiet advance allocates nothing.
 * Each returned request object is the caller's; the assembler keeps only a small dimensions record.
 */
export class RequestAssembler {
  /** Timeout of a request without a root, ms. */
  readonly timeoutMs: number;
  /** Most open requests. */
  readonly maxOpenRequests: number;
  /** Most completed requests remembered for {@link lookup}. */
  readonly maxRecentRequests: number;

  private readonly onEvict: ((request: AssembledRequest) => void) | undefined;
  private queue: AssembledRequest[] = [];
  private readonly costOf: SpanCostFunction;
  private readonly open = new Map<string, OpenRequest>();
  private readonly recent = new Map<string, RequestDimensions>();
  // Trace ids of `recent` in completion order, a ring of maxRecentRequests: the oldest is dropped
  // without an iterator per completed request.
  private recentOrder: string[] = [];
  private recentHead = 0;
  private readonly heap = new DueHeap();
  private emitted = 0;
  private incomplete = 0;
  private rootMissing = 0;
  private evicted = 0;
  private late = 0;
  private invalid = 0;
  private inspected = 0;

  /**
   * @throws VigilError `VIGIL_CONFIG_INVALID` when `onEvict` is set but not a function, `timeoutMs` is not a
   *   positive finite number, `maxOpenRequests` is not a positive integer or `maxRecentRequests` is
   *   not an integer ≥ 0.
   */
  constructor(options: RequestAssemblerOptions = {}) {
    const timeoutMs = options.timeoutMs ?? REQUEST_ASSEMBLER_DEFAULTS.timeoutMs;
    const maxOpenRequests = options.maxOpenRequests ?? REQUEST_ASSEMBLER_DEFAULTS.maxOpenRequests;
    const maxRecentRequests = options.maxRecentRequests ?? REQUEST_ASSEMBLER_DEFAULTS.maxRecentRequests;
    if (options.onEvict !== undefined && typeof options.onEvict !== 'function') {
      throw configError('onEvict', 'must be a function', options.onEvict);
    }
    if (!(timeoutMs > 0 && timeoutMs < Infinity)) throw configError('timeoutMs', 'must be a positive number of ms', timeoutMs);
    if (!Number.isSafeInteger(maxOpenRequests) || maxOpenRequests < 1) {
      throw configError('maxOpenRequests', 'must be a positive integer', maxOpenRequests);
    }
    if (!Number.isSafeInteger(maxRecentRequests) || maxRecentRequests < 0) {
      throw configError('maxRecentRequests', 'must be an integer >= 0', maxRecentRequests);
    }
    this.timeoutMs = timeoutMs;
    this.maxOpenRequests = maxOpenRequests;
    this.maxRecentRequests = maxRecentRequests;
    this.onEvict = options.onEvict;
    this.costOf = costFunction(options.cost);
  }

  /** Requests open now. */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * Folds a span into its request, opening the request on its first span. Allocation-free for a
   * request already open. May emit the oldest open request (evicted) when a new one would exceed
   * `maxOpenRequests`. A span of a request already emitted is counted in `lateChildren` and dropped.
   *
   * @throws VigilError `VIGIL_CALLBACK_FAILED` when `onEvict` throws (the evicted request is gone;
   *   the span is not added).
   */
  add(span: LlmSpan): void {
    if (!(Number.isFinite(span.startTime) && Number.isFinite(span.durationMs))) {
      this.invalid++;
      return;
    }
    let st = this.open.get(span.traceId);
    if (st === undefined) {
      if (this.recent.has(span.traceId)) {
        this.late++;
        return;
      }
      if (this.open.size >= this.maxOpenRequests) this.evictOldest();
      // A request opened by its root is due at the root's end at once: no heap entry goes stale.
      const due = span.parentSpanId === null ? span.startTime + span.durationMs : span.startTime + this.timeoutMs;
      st = new OpenRequest(span, due);
      this.open.set(span.traceId, st);
      this.pushDue(st);
    }
    this.fold(st, span);
  }

  /**
   * Emits every open request due at `watermark` (event time, ms): those whose root has arrived and
   * ended at or before it, and those without a root whose timeout (first span's start + `timeoutMs`)
   * is at or before it. Returns the evicted requests queued since the previous call, then the due
   * ones in due-time order; a shared frozen empty array when there are none.
   */
  advance(watermark: number): readonly AssembledRequest[] {
    const heap = this.heap;
    let out: AssembledRequest[] | undefined;
    if (this.queue.length > 0) {
      out = this.queue;
      this.queue = [];
    }
    while (heap.size > 0) {
      this.inspected++;
      const due = heap.due[0];
      const st = heap.items[0] as OpenRequest;
      if (st.done || st.due !== due) {
        heap.pop();
        continue;
      }
      if (!(due <= watermark)) break;
      heap.pop();
      (out ??= []).push(this.finish(st, false));
    }
    return out ?? NOTHING;
  }

  /**
   * End of input: emits every open request in due-time order, complete when its root has arrived and
   * `rootMissing` otherwise, after any queued evicted ones (as {@link advance} does).
   */
  flush(): readonly AssembledRequest[] {
    return this.advance(Infinity);
  }

  /**
   * The dimensions of the request of `traceId` — open (as known so far), or completed and still in
   * the recent index — or `undefined`. For joining feedback and eval events to their request.
   */
  lookup(traceId: string): RequestDimensions | undefined {
    return this.open.get(traceId)?.req ?? this.recent.get(traceId);
  }

  /**
   * Records security verdicts of a span on its open request: `injection` is OR-ed into
   * {@link AssembledRequest.injection} and `piiFindings` added to {@link AssembledRequest.piiFindings}.
   * Returns false (and changes nothing) when the request is not open — call it after
   * {@link add} of the span, which opens the request on its first span.
   */
  flag(traceId: string, injection: boolean, piiFindings: number): boolean {
    const st = this.open.get(traceId);
    if (st === undefined) return false;
    if (injection) st.req.injection = true;
    if (piiFindings > 0) st.req.piiFindings += piiFindings;
    return true;
  }

  /** Counters since construction (cheap: no walk). */
  stats(): RequestAssemblerStats {
    return {
      open: this.open.size,
      queued: this.queue.length,
      emitted: this.emitted,
      incomplete: this.incomplete,
      rootMissing: this.rootMissing,
      evicted: this.evicted,
      lateChildren: this.late,
      invalidSpans: this.invalid,
      recent: this.recent.size,
      heapSize: this.heap.size,
      heapInspected: this.inspected,
    };
  }

  private fold(st: OpenRequest, span: LlmSpan): void {
    const r = st.req;
    r.spanCount++;
    const start = span.startTime;
    const end = start + span.durationMs;
    if (start < st.earliest) st.earliest = start;
    if (end > st.latest) st.latest = end;
    const cost = this.costOf(span);
    if (cost >= 0 && cost < Infinity) r.costUsd += cost;
    else r.unpricedSpans++;
    if (span.inputTokens !== null && span.inputTokens > 0) r.inputTokens += span.inputTokens;
    if (span.outputTokens !== null && span.outputTokens > 0) r.outputTokens += span.outputTokens;
    if (span.retryCount > 0) r.retries += span.retryCount;
    if (span.fallback) r.fallback = true;
    const errorType = span.errorType;
    if (errorType !== null) {
      r.errorTypes |= ERROR_TYPE_BITS[errorType] ?? ERROR_TYPE_BITS.OTHER;
      if (errorType === 'TIMEOUT') r.timeouts++;
      else if (errorType === 'RATE_LIMIT') r.rateLimits++;
    }
    const isRoot = span.parentSpanId === null && !st.rootSeen;
    if (span.status === 'ERROR') {
      st.anyError = true;
      if (!isRoot) st.childFailed = true;
    }
    if (span.kind === 'LLM') {
      r.llmCalls++;
      if (!st.rootModel && span.model !== null && start < st.llmStart) {
        st.llmStart = start;
        r.model = span.model;
        r.provider = span.provider;
      }
    }
    if (isRoot) {
      st.rootSeen = true;
      r.service = span.service;
      r.operation = span.operation;
      r.tenantId = span.tenantId ?? r.tenantId;
      r.userId = span.userId ?? r.userId;
      r.sessionId = span.sessionId ?? r.sessionId;
      if (span.model !== null) {
        st.rootModel = true;
        r.model = span.model;
        r.provider = span.provider;
      }
      r.startTime = start;
      r.durationMs = span.durationMs;
      r.status = span.status;
      if (end !== st.due) {
        st.due = end;
        this.pushDue(st);
      }
    } else {
      if (r.tenantId === null) r.tenantId = span.tenantId;
      if (r.userId === null) r.userId = span.userId;
      if (r.sessionId === null) r.sessionId = span.sessionId;
    }
  }

  private pushDue(st: OpenRequest): void {
    const heap = this.heap;
    // Evictions leave stale entries that no watermark may reach soon; keep them from piling up.
    if (heap.size >= 2 * this.open.size + 1024) heap.compact();
    heap.push(st.due, st);
  }

  private evictOldest(): void {
    const oldest = this.open.values().next().value;
    if (oldest === undefined) return;
    const r = this.finish(oldest, true);
    if (this.onEvict === undefined) {
      this.queue.push(r);
      return;
    }
    try {
      this.onEvict(r);
    } catch (cause) {
      throw new VigilError('VIGIL_CALLBACK_FAILED', `RequestAssembler onEvict callback threw: ${errorMessage(cause)}`, { cause });
    }
  }

  private finish(st: OpenRequest, evicted: boolean): AssembledRequest {
    st.done = true;
    const r = st.req;
    this.open.delete(r.traceId);
    if (st.rootSeen) {
      r.failed = r.status === 'ERROR';
      r.degraded = !r.failed && (r.retries > 0 || r.fallback || st.childFailed);
    } else {
      r.rootMissing = true;
      r.startTime = st.earliest;
      r.durationMs = st.latest - st.earliest;
      r.status = st.anyError ? 'ERROR' : 'OK';
      this.rootMissing++;
    }
    if (evicted) {
      r.evicted = true;
      this.evicted++;
    }
    if (r.rootMissing || evicted) this.incomplete++;
    this.emitted++;
    this.remember(r);
    return r;
  }

  private remember(r: Draft): void {
    const max = this.maxRecentRequests;
    if (max === 0) return;
    const order = this.recentOrder;
    if (order.length < max) order.push(r.traceId);
    else {
      // Full: the slot at the head holds the oldest id; the new one takes its place.
      this.recent.delete(order[this.recentHead]);
      order[this.recentHead] = r.traceId;
      this.recentHead = this.recentHead + 1 === max ? 0 : this.recentHead + 1;
    }
    this.recent.set(r.traceId, {
      service: r.service,
      operation: r.operation,
      model: r.model,
      provider: r.provider,
      tenantId: r.tenantId,
      userId: r.userId,
    });
  }
}

function costFunction(cost: PriceTable | SpanCostFunction | undefined): SpanCostFunction {
  if (typeof cost === 'function') return cost;
  if (cost instanceof PriceTable) {
    const own: SpanCost = { usd: 0, source: 'none' };
    return (span) => {
      cost.spanCost(span, own);
      return own.source === 'unpriced' ? NaN : own.usd;
    };
  }
  if (cost !== undefined) throw configError('cost', 'must be a PriceTable or a function', cost);
  return producerCost;
}

/** The producer's `costUsd`; `NaN` (unpriced) for a span with tokens but no cost; else 0. */
function producerCost(span: LlmSpan): number {
  const c = span.costUsd;
  if (c !== null && c >= 0 && c < Infinity) return c;
  return (span.inputTokens ?? 0) > 0 || (span.outputTokens ?? 0) > 0 ? NaN : 0;
}

function configError(key: string, message: string, value: unknown): VigilError {
  return new VigilError('VIGIL_CONFIG_INVALID', `RequestAssembler: ${key} ${message}, got ${String(value)}`, { details: { key } });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
