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

// An open request lives in a slot of the assembler's columns, not in objects of its own: of a
// request, only its trace id string outlives a young-generation collection, and the
// AssembledRequest is built once, when it is emitted.

/** String columns of a slot, at `STRINGS * slot + …`. */
const S_TRACE = 0;
const S_SERVICE = 1;
const S_OPERATION = 2;
const S_TENANT = 3;
const S_USER = 4;
const S_SESSION = 5;
const S_MODEL = 6;
const S_PROVIDER = 7;
const STRINGS = 8;

/** Number columns of a slot, at `NUMBERS * slot + …`. */
const N_START = 0;
const N_DURATION = 1;
const N_SPANS = 2;
const N_LLM_CALLS = 3;
const N_COST = 4;
const N_UNPRICED = 5;
const N_INPUT_TOKENS = 6;
const N_OUTPUT_TOKENS = 7;
const N_RETRIES = 8;
const N_ERROR_TYPES = 9;
const N_TIMEOUTS = 10;
const N_RATE_LIMITS = 11;
const N_PII = 12;
/** When the request is due: the root's end, else the first span's start + timeout. */
const N_DUE = 13;
/** Start of the LLM span the model comes from (Infinity before one). */
const N_LLM_START = 14;
const N_EARLIEST = 15;
const N_LATEST = 16;
const NUMBERS = 17;

/** Flag bits of a slot. */
const F_ERROR = 1; // status ERROR (the root's, once it arrived)
const F_FALLBACK = 2;
const F_INJECTION = 4;
const F_ROOT_SEEN = 8;
const F_ROOT_MODEL = 16;
const F_ANY_ERROR = 32;
const F_CHILD_FAILED = 64;

/** Columns of a position of the recent ring, at `RECENT_STRINGS * (pos % RECENT_CHUNK) + …` in its chunk. */
const R_TRACE = 0;
const R_SERVICE = 1;
const R_OPERATION = 2;
const R_MODEL = 3;
const R_PROVIDER = 4;
const R_TENANT = 5;
const R_USER = 6;
const RECENT_STRINGS = 7;
/** Positions per chunk of the recent ring (a power of two): the ring grows by chunks, never copied. */
const RECENT_CHUNK_BITS = 12;
const RECENT_CHUNK = 1 << RECENT_CHUNK_BITS;

const INITIAL_SLOTS = 256;
const NO_SLOT = -1;

/** Seeded FNV-1a over the UTF-16 code units, with murmur3's finaliser for the low bits. */
function traceHash(id: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Trace id → integer ≥ 0, by open addressing (linear probing, backward-shift deletion, at most half
 * full) over one array of (hash, value + 1) pairs, 0 marking an empty cell: the caller hashes an id
 * once ({@link traceHash}) and a probe compares stored hashes before any string, so a lookup touches
 * one cache line instead of a `Map`'s bucket, entry chain and key strings. The table holds no
 * strings: the id of a value is where its owner keeps it anyway (`idOf`), read only when the hashes
 * match — so adding an entry writes no pointer into a long-lived array (no write barrier, nothing
 * for the young-generation collector to track) and growing rehashes integers only.
 */
class TraceTable {
  private mask = 1023;
  private cells = new Int32Array(2048);
  size = 0;

  constructor(private readonly idOf: (value: number) => string | null) {}

  /** The value of `id` (hash `h`), or -1. */
  get(id: string, h: number): number {
    const mask = this.mask;
    const cells = this.cells;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = cells[2 * i + 1];
      if (v === 0) return -1;
      if (cells[2 * i] === h && this.idOf(v - 1) === id) return v - 1;
    }
  }

  /** Sets the value of `id` (hash `h`), adding it when absent; `idOf(value)` must already give `id`. */
  set(id: string, h: number, value: number): void {
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    const mask = this.mask;
    const cells = this.cells;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const v = cells[2 * i + 1];
      if (v === 0) break;
      if (cells[2 * i] === h && this.idOf(v - 1) === id) {
        cells[2 * i + 1] = value + 1;
        return;
      }
    }
    cells[2 * i] = h;
    cells[2 * i + 1] = value + 1;
    this.size++;
  }

  /** Removes `id` (hash `h`) when present; call it while `idOf` still gives `id` for its value. */
  delete(id: string, h: number): void {
    const mask = this.mask;
    const cells = this.cells;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const v = cells[2 * i + 1];
      if (v === 0) return;
      if (cells[2 * i] === h && this.idOf(v - 1) === id) break;
    }
    this.size--;
    // Backward shift: move up every later entry of the run that may sit no earlier than its home.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const v = cells[2 * j + 1];
      if (v === 0) break;
      const home = cells[2 * j] & mask;
      // Entry j may move to the hole at i when its home is not cyclically within (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        cells[2 * i] = cells[2 * j];
        cells[2 * i + 1] = v;
        i = j;
      }
    }
    cells[2 * i + 1] = 0;
  }

  private grow(): void {
    const old = this.cells;
    const cap = 2 * (this.mask + 1);
    this.mask = cap - 1;
    const cells = new Int32Array(2 * cap);
    const mask = this.mask;
    for (let j = 0; j < old.length; j += 2) {
      const v = old[j + 1];
      if (v === 0) continue;
      const h = old[j];
      let i = h & mask;
      while (cells[2 * i + 1] !== 0) i = (i + 1) & mask;
      cells[2 * i] = h;
      cells[2 * i + 1] = v;
    }
    this.cells = cells;
  }
}

/**
 * Binary min-heap of (due time, slot, generation) in parallel typed arrays. Entries are never
 * removed out of order: an entry is stale when its slot was freed since the push (its generation
 * moved on) or its due time changed (lazy deletion).
 */
class DueHeap {
  due = new Float64Array(1024);
  slot = new Int32Array(1024);
  gen = new Int32Array(1024);
  size = 0;

  push(due: number, slot: number, gen: number): void {
    if (this.size === this.due.length) {
      const n = this.due.length * 2;
      const due2 = new Float64Array(n);
      due2.set(this.due);
      this.due = due2;
      const slot2 = new Int32Array(n);
      slot2.set(this.slot);
      this.slot = slot2;
      const gen2 = new Int32Array(n);
      gen2.set(this.gen);
      this.gen = gen2;
    }
    this.siftUp(this.size++, due, slot, gen);
  }

  pop(): void {
    const last = --this.size;
    if (last > 0) this.siftDown(0, this.due[last], this.slot[last], this.gen[last]);
  }

  /** Keeps the entries `live` accepts and rebuilds the heap, O(size). */
  compact(live: (due: number, slot: number, gen: number) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (!live(this.due[i], this.slot[i], this.gen[i])) continue;
      this.due[n] = this.due[i];
      this.slot[n] = this.slot[i];
      this.gen[n++] = this.gen[i];
    }
    this.size = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, this.due[i], this.slot[i], this.gen[i]);
  }

  private siftUp(i: number, due: number, slot: number, gen: number): void {
    const d = this.due;
    const s = this.slot;
    const g = this.gen;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent] <= due) break;
      d[i] = d[parent];
      s[i] = s[parent];
      g[i] = g[parent];
      i = parent;
    }
    d[i] = due;
    s[i] = slot;
    g[i] = gen;
  }

  private siftDown(i: number, due: number, slot: number, gen: number): void {
    const n = this.size;
    const d = this.due;
    const s = this.slot;
    const g = this.gen;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && d[child + 1] < d[child]) child++;
      if (d[child] >= due) break;
      d[i] = d[child];
      s[i] = s[child];
      g[i] = g[child];
      i = child;
    }
    d[i] = due;
    s[i] = slot;
    g[i] = gen;
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
 * request is a slot of typed-array and string columns — its aggregates, no spans and no object of
 * its own: ≈ 300 B with its hash-table and heap entries, plus its trace id (≈ 56 B) — ≈ 36 MB at
 * the default 100 000. The columns double as needed and are kept at their largest size (≈ 220 B
 * per slot) for the next burst. Completed requests are remembered for {@link lookup} and late-span
 * detection in an index of at most `maxRecentRequests`, FIFO by completion: ≈ 110 B per entry (a
 * hash-table entry and a row of the trace id and dimensions) plus the trace id — ≈ 33 MB at the
 * default 200 000. (Both figures were measured when the hash tables held each id as well; their
 * cells are two integers now, ≈ 16 B less per open request and per remembered one.) Trace ids are
 * looked up by a seeded hash computed once per trace (the assembler remembers the last span's
 * request), never by a `Map` probe.
 *
 * **Emission.** {@link advance} and {@link flush} return the requests they emit, in due-time order,
 * after any evicted ones queued since the previous call (or evictions go to `onEvict` at once). When
 * nothing is emitted they return one shared frozen empty array, so a quiet advance allocates nothing.
 * Each returned request object is built when it is emitted and is the caller's; the assembler keeps
 * only its dimensions. {@link drain} emits the same requests without building an object per request,
 * for a caller that reads each one at once (the signal pipeline).
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
  /** Open requests: trace id → slot. */
  private readonly open = new TraceTable((slot) => this.strs[STRINGS * slot + S_TRACE]);
  // Per-instance seed of the trace-id hash (as a Map seeds its own), so colliding ids cannot be
  // prepared in advance.
  private readonly seed = (Math.random() * 0x100000000) | 0;
  // Slot columns (see S_*, N_*, F_*), grown by doubling.
  private capacity = 0;
  private strs: (string | null)[] = [];
  private nums = new Float64Array(0);
  private flags = new Int32Array(0);
  /** Bumped when a slot is freed, so the heap's entries for its previous request read as stale. */
  private gens = new Int32Array(0);
  /** The trace id's hash of each slot. */
  private hashes = new Int32Array(0);
  // Open slots in arrival order of their first spans (the oldest is evicted first): a doubly
  // linked list at 2·slot (previous) and 2·slot + 1 (next).
  private links = new Int32Array(0);
  private oldest = NO_SLOT;
  private newest = NO_SLOT;
  /** Free slots, a stack. */
  private free = new Int32Array(0);
  private freeCount = 0;
  // The slot of the last span's trace: the spans of a trace usually arrive together.
  private lastTrace: string | null = null;
  private lastSlot = NO_SLOT;
  /** Completed requests: trace id → position in the recent ring. */
  private readonly recent = new TraceTable((pos) => this.recentRows[pos >> RECENT_CHUNK_BITS][RECENT_STRINGS * (pos & (RECENT_CHUNK - 1)) + R_TRACE]);
  // Trace ids of `recent` in completion order, a ring of maxRecentRequests, with their dimensions
  // (see R_*) and hashes, in chunks: the oldest is dropped without an iterator per completed request.
  private readonly recentRows: (string | null)[][] = [];
  private readonly recentHashes: Int32Array[] = [];
  private recentCount = 0;
  private recentHead = 0;
  private readonly heap = new DueHeap();
  /** The request {@link drain} hands out, rewritten for each. */
  private readonly scratch: Draft = this.draft();
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
    const traceId = span.traceId;
    let slot = traceId === this.lastTrace ? this.lastSlot : NO_SLOT;
    if (slot === NO_SLOT) {
      const h = traceHash(traceId, this.seed);
      slot = this.open.get(traceId, h);
      if (slot === NO_SLOT) {
        if (this.recent.size > 0 && this.recent.get(traceId, h) >= 0) {
          this.late++;
          return;
        }
        if (this.open.size >= this.maxOpenRequests) this.evictOldest();
        slot = this.openSlot(span, h);
      }
      this.lastTrace = traceId;
      this.lastSlot = slot;
    }
    this.fold(slot, span);
  }

  /**
   * Emits every open request due at `watermark` (event time, ms): those whose root has arrived and
   * ended at or before it, and those without a root whose timeout (first span's start + `timeoutMs`)
   * is at or before it. Returns the evicted requests queued since the previous call, then the due
   * ones in due-time order; a shared frozen empty array when there are none.
   */
  advance(watermark: number): readonly AssembledRequest[] {
    let out: AssembledRequest[] | undefined;
    if (this.queue.length > 0) {
      out = this.queue;
      this.queue = [];
    }
    for (let slot = this.nextDue(watermark); slot !== NO_SLOT; slot = this.nextDue(watermark)) {
      (out ??= []).push(this.finish(slot, false, this.draft()));
    }
    return out ?? NOTHING;
  }

  /**
   * What {@link advance} does, without building an object per request: calls `visit` with each
   * request {@link advance} would return, in the same order — the due ones as one object the
   * assembler reuses, valid only until `visit` returns (read it, do not keep it). For a caller that
   * folds each request into its aggregates at once; `visit` must not call back into the assembler.
   */
  drain(watermark: number, visit: (request: AssembledRequest) => void): void {
    if (this.queue.length > 0) {
      const queued = this.queue;
      this.queue = [];
      for (let i = 0; i < queued.length; i++) visit(queued[i]);
    }
    for (let slot = this.nextDue(watermark); slot !== NO_SLOT; slot = this.nextDue(watermark)) {
      visit(this.finish(slot, false, this.scratch));
    }
  }

  /** The slot of the next request due at `watermark` (its heap entry popped), or NO_SLOT; stale entries are dropped on the way. */
  private nextDue(watermark: number): number {
    const heap = this.heap;
    const nums = this.nums;
    while (heap.size > 0) {
      this.inspected++;
      const due = heap.due[0];
      const slot = heap.slot[0];
      if (heap.gen[0] !== this.gens[slot] || nums[NUMBERS * slot + N_DUE] !== due) {
        heap.pop();
        continue;
      }
      if (!(due <= watermark)) return NO_SLOT;
      heap.pop();
      return slot;
    }
    return NO_SLOT;
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
   * the recent index — or `undefined`. For joining feedback and eval events to their request. Each
   * call returns a new object.
   */
  lookup(traceId: string): RequestDimensions | undefined {
    const h = traceHash(traceId, this.seed);
    const slot = this.open.get(traceId, h);
    if (slot !== NO_SLOT) {
      const s = this.strs;
      const at = STRINGS * slot;
      return {
        service: s[at + S_SERVICE] as string,
        operation: s[at + S_OPERATION] as string,
        model: s[at + S_MODEL],
        provider: s[at + S_PROVIDER],
        tenantId: s[at + S_TENANT],
        userId: s[at + S_USER],
      };
    }
    const pos = this.recent.get(traceId, h);
    if (pos < 0) return undefined;
    const d = this.recentRows[pos >> RECENT_CHUNK_BITS];
    const at = RECENT_STRINGS * (pos & (RECENT_CHUNK - 1));
    return {
      service: d[at + R_SERVICE] as string,
      operation: d[at + R_OPERATION] as string,
      model: d[at + R_MODEL],
      provider: d[at + R_PROVIDER],
      tenantId: d[at + R_TENANT],
      userId: d[at + R_USER],
    };
  }

  /**
   * Records security verdicts of a span on its open request: `injection` is OR-ed into
   * {@link AssembledRequest.injection} and `piiFindings` added to {@link AssembledRequest.piiFindings}.
   * Returns false (and changes nothing) when the request is not open — call it after
   * {@link add} of the span, which opens the request on its first span.
   */
  flag(traceId: string, injection: boolean, piiFindings: number): boolean {
    const slot = traceId === this.lastTrace && this.lastSlot !== NO_SLOT ? this.lastSlot : this.open.get(traceId, traceHash(traceId, this.seed));
    if (slot === NO_SLOT) return false;
    if (injection) this.flags[slot] |= F_INJECTION;
    if (piiFindings > 0) this.nums[NUMBERS * slot + N_PII] += piiFindings;
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

  /** Takes a free slot for the request `span` opens, fills it and pushes its due time. */
  private openSlot(span: LlmSpan, h: number): number {
    if (this.freeCount === 0) this.grow();
    const slot = this.free[--this.freeCount];
    const start = span.startTime;
    // A request opened by its root is due at the root's end at once: no heap entry goes stale.
    const due = span.parentSpanId === null ? start + span.durationMs : start + this.timeoutMs;
    const s = this.strs;
    const sa = STRINGS * slot;
    s[sa + S_TRACE] = span.traceId;
    s[sa + S_SERVICE] = span.service;
    s[sa + S_OPERATION] = span.operation;
    s[sa + S_TENANT] = null;
    s[sa + S_USER] = null;
    s[sa + S_SESSION] = null;
    s[sa + S_MODEL] = null;
    s[sa + S_PROVIDER] = null;
    const n = this.nums;
    const na = NUMBERS * slot;
    for (let i = na; i < na + NUMBERS; i++) n[i] = 0;
    n[na + N_START] = start;
    n[na + N_DURATION] = span.durationMs;
    n[na + N_DUE] = due;
    n[na + N_LLM_START] = Infinity;
    n[na + N_EARLIEST] = start;
    n[na + N_LATEST] = start + span.durationMs;
    this.flags[slot] = 0;
    this.hashes[slot] = h;
    this.open.set(span.traceId, h, slot);
    // Append to the arrival list.
    const links = this.links;
    links[2 * slot] = this.newest;
    links[2 * slot + 1] = NO_SLOT;
    if (this.newest === NO_SLOT) this.oldest = slot;
    else links[2 * this.newest + 1] = slot;
    this.newest = slot;
    this.pushDue(slot, due);
    return slot;
  }

  /** Doubles the slot columns and frees the new slots. */
  private grow(): void {
    const old = this.capacity;
    const cap = old === 0 ? INITIAL_SLOTS : 2 * old;
    for (let i = STRINGS * old; i < STRINGS * cap; i++) this.strs.push(null);
    const nums = new Float64Array(NUMBERS * cap);
    nums.set(this.nums);
    this.nums = nums;
    const flags = new Int32Array(cap);
    flags.set(this.flags);
    this.flags = flags;
    const gens = new Int32Array(cap);
    gens.set(this.gens);
    this.gens = gens;
    const hashes = new Int32Array(cap);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const links = new Int32Array(2 * cap);
    links.set(this.links);
    this.links = links;
    const free = new Int32Array(cap);
    free.set(this.free.subarray(0, this.freeCount));
    // Lower slots on top of the stack: they are taken first.
    for (let slot = cap - 1; slot >= old; slot--) free[this.freeCount++] = slot;
    this.free = free;
    this.capacity = cap;
  }

  private fold(slot: number, span: LlmSpan): void {
    const n = this.nums;
    const na = NUMBERS * slot;
    let f = this.flags[slot];
    n[na + N_SPANS]++;
    const start = span.startTime;
    const end = start + span.durationMs;
    if (start < n[na + N_EARLIEST]) n[na + N_EARLIEST] = start;
    if (end > n[na + N_LATEST]) n[na + N_LATEST] = end;
    const cost = this.costOf(span);
    if (cost >= 0 && cost < Infinity) n[na + N_COST] += cost;
    else n[na + N_UNPRICED]++;
    const inputTokens = span.inputTokens;
    if (inputTokens !== null && inputTokens > 0) n[na + N_INPUT_TOKENS] += inputTokens;
    const outputTokens = span.outputTokens;
    if (outputTokens !== null && outputTokens > 0) n[na + N_OUTPUT_TOKENS] += outputTokens;
    if (span.retryCount > 0) n[na + N_RETRIES] += span.retryCount;
    if (span.fallback) f |= F_FALLBACK;
    const errorType = span.errorType;
    if (errorType !== null) {
      n[na + N_ERROR_TYPES] = n[na + N_ERROR_TYPES] | (ERROR_TYPE_BITS[errorType] ?? ERROR_TYPE_BITS.OTHER);
      if (errorType === 'TIMEOUT') n[na + N_TIMEOUTS]++;
      else if (errorType === 'RATE_LIMIT') n[na + N_RATE_LIMITS]++;
    }
    const isRoot = span.parentSpanId === null && (f & F_ROOT_SEEN) === 0;
    if (span.status === 'ERROR') {
      f |= F_ANY_ERROR;
      if (!isRoot) f |= F_CHILD_FAILED;
    }
    const s = this.strs;
    const sa = STRINGS * slot;
    if (span.kind === 'LLM') {
      n[na + N_LLM_CALLS]++;
      if ((f & F_ROOT_MODEL) === 0 && span.model !== null && start < n[na + N_LLM_START]) {
        n[na + N_LLM_START] = start;
        s[sa + S_MODEL] = span.model;
        s[sa + S_PROVIDER] = span.provider;
      }
    }
    if (isRoot) {
      f |= F_ROOT_SEEN;
      s[sa + S_SERVICE] = span.service;
      s[sa + S_OPERATION] = span.operation;
      s[sa + S_TENANT] = span.tenantId ?? s[sa + S_TENANT];
      s[sa + S_USER] = span.userId ?? s[sa + S_USER];
      s[sa + S_SESSION] = span.sessionId ?? s[sa + S_SESSION];
      if (span.model !== null) {
        f |= F_ROOT_MODEL;
        s[sa + S_MODEL] = span.model;
        s[sa + S_PROVIDER] = span.provider;
      }
      n[na + N_START] = start;
      n[na + N_DURATION] = span.durationMs;
      f = span.status === 'ERROR' ? f | F_ERROR : f & ~F_ERROR;
      if (end !== n[na + N_DUE]) {
        n[na + N_DUE] = end;
        this.pushDue(slot, end);
      }
    } else {
      if (s[sa + S_TENANT] === null) s[sa + S_TENANT] = span.tenantId;
      if (s[sa + S_USER] === null) s[sa + S_USER] = span.userId;
      if (s[sa + S_SESSION] === null) s[sa + S_SESSION] = span.sessionId;
    }
    this.flags[slot] = f;
  }

  private pushDue(slot: number, due: number): void {
    const heap = this.heap;
    // Evictions leave stale entries that no watermark may reach soon; keep them from piling up.
    if (heap.size >= 2 * this.open.size + 1024) heap.compact((d, s, g) => g === this.gens[s] && this.nums[NUMBERS * s + N_DUE] === d);
    heap.push(due, slot, this.gens[slot]);
  }

  private evictOldest(): void {
    const oldest = this.oldest;
    if (oldest === NO_SLOT) return;
    const r = this.finish(oldest, true, this.draft());
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

  /** Emits the request of `slot` into `r` (every field written) and frees the slot. */
  private finish(slot: number, evicted: boolean, r: Draft): AssembledRequest {
    const s = this.strs;
    const sa = STRINGS * slot;
    const n = this.nums;
    const na = NUMBERS * slot;
    const f = this.flags[slot];
    const traceId = s[sa + S_TRACE] as string;
    const h = this.hashes[slot];
    this.open.delete(traceId, h);
    // Unlink from the arrival list.
    const links = this.links;
    const prev = links[2 * slot];
    const next = links[2 * slot + 1];
    if (prev === NO_SLOT) this.oldest = next;
    else links[2 * prev + 1] = next;
    if (next === NO_SLOT) this.newest = prev;
    else links[2 * next] = prev;
    if (slot === this.lastSlot) {
      this.lastSlot = NO_SLOT;
      this.lastTrace = null;
    }
    const rootSeen = (f & F_ROOT_SEEN) !== 0;
    const retries = n[na + N_RETRIES];
    const fallback = (f & F_FALLBACK) !== 0;
    let status: SpanStatus;
    let startTime: number;
    let durationMs: number;
    let failed = false;
    let degraded = false;
    if (rootSeen) {
      status = (f & F_ERROR) !== 0 ? 'ERROR' : 'OK';
      startTime = n[na + N_START];
      durationMs = n[na + N_DURATION];
      failed = status === 'ERROR';
      degraded = !failed && (retries > 0 || fallback || (f & F_CHILD_FAILED) !== 0);
    } else {
      startTime = n[na + N_EARLIEST];
      durationMs = n[na + N_LATEST] - startTime;
      status = (f & F_ANY_ERROR) !== 0 ? 'ERROR' : 'OK';
      this.rootMissing++;
    }
    if (evicted) this.evicted++;
    if (!rootSeen || evicted) this.incomplete++;
    this.emitted++;
    r.traceId = traceId;
    r.service = s[sa + S_SERVICE] as string;
    r.operation = s[sa + S_OPERATION] as string;
    r.tenantId = s[sa + S_TENANT];
    r.userId = s[sa + S_USER];
    r.sessionId = s[sa + S_SESSION];
    r.model = s[sa + S_MODEL];
    r.provider = s[sa + S_PROVIDER];
    r.startTime = startTime;
    r.durationMs = durationMs;
    r.spanCount = n[na + N_SPANS];
    r.llmCalls = n[na + N_LLM_CALLS];
    r.costUsd = n[na + N_COST];
    r.unpricedSpans = n[na + N_UNPRICED];
    r.inputTokens = n[na + N_INPUT_TOKENS];
    r.outputTokens = n[na + N_OUTPUT_TOKENS];
    r.status = status;
    r.failed = failed;
    r.degraded = degraded;
    r.retries = retries;
    r.fallback = fallback;
    r.errorTypes = n[na + N_ERROR_TYPES];
    r.timeouts = n[na + N_TIMEOUTS];
    r.rateLimits = n[na + N_RATE_LIMITS];
    r.rootMissing = !rootSeen;
    r.evicted = evicted;
    r.injection = (f & F_INJECTION) !== 0;
    r.piiFindings = n[na + N_PII];
    this.remember(r, h);
    // Free the slot: its heap entries go stale. It lets go of the strings that are the request's
    // own (the others are the few service, model… names, shared by every request).
    this.gens[slot]++;
    s[sa + S_TRACE] = null;
    s[sa + S_USER] = null;
    s[sa + S_SESSION] = null;
    this.free[this.freeCount++] = slot;
    return r;
  }

  /** A new request object, every field in the order {@link finish} writes them (one hidden class for all). */
  private draft(): Draft {
    return {
      traceId: '',
      service: '',
      operation: '',
      tenantId: null,
      userId: null,
      sessionId: null,
      model: null,
      provider: null,
      startTime: 0,
      durationMs: 0,
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

  private remember(r: Draft, h: number): void {
    const max = this.maxRecentRequests;
    if (max === 0) return;
    let pos: number;
    if (this.recentCount < max) {
      pos = this.recentCount++;
      if ((pos & (RECENT_CHUNK - 1)) === 0) {
        const n = Math.min(RECENT_CHUNK, max - pos);
        this.recentRows.push(new Array<string | null>(RECENT_STRINGS * n).fill(null));
        this.recentHashes.push(new Int32Array(n));
      }
    } else {
      // Full: the position at the head holds the oldest id; the new one takes its place.
      pos = this.recentHead;
      this.recentHead = pos + 1 === max ? 0 : pos + 1;
      const row = this.recentRows[pos >> RECENT_CHUNK_BITS];
      const i = pos & (RECENT_CHUNK - 1);
      this.recent.delete(row[RECENT_STRINGS * i + R_TRACE] as string, this.recentHashes[pos >> RECENT_CHUNK_BITS][i]);
    }
    const row = this.recentRows[pos >> RECENT_CHUNK_BITS];
    const i = pos & (RECENT_CHUNK - 1);
    const at = RECENT_STRINGS * i;
    row[at + R_TRACE] = r.traceId;
    row[at + R_SERVICE] = r.service;
    row[at + R_OPERATION] = r.operation;
    row[at + R_MODEL] = r.model;
    row[at + R_PROVIDER] = r.provider;
    row[at + R_TENANT] = r.tenantId;
    row[at + R_USER] = r.userId;
    this.recentHashes[pos >> RECENT_CHUNK_BITS][i] = h;
    this.recent.set(r.traceId, h, pos);
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
