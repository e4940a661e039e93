/**
 * "Unusual access pattern" detectors of an LLM monitor, per end user, fed one request at a time in
 * (roughly) event-time order:
 *
 * 1. `rate_spike` — requests per bucket far above the user's robust baseline;
 * 2. `token_spike` / `cost_spike` — tokens and cost per bucket, same scheme;
 * 3. `probing` — repeated prompt-injection / system-prompt-extraction attempts;
 * 4. `session_spread` — distinct sessions per bucket far above the user's baseline.
 *
 * ## Buckets and baselines
 * Event time is cut into buckets `[i·bucketMs, (i+1)·bucketMs)`. Per user and per series (requests,
 * tokens, cost, distinct sessions) the tracker keeps the value of the user's current bucket and a
 * {@link RobustBaseline}: an EWMA (weight `alpha`) of the values of the user's closed buckets and an
 * EWMA of their absolute deviations (MAD-like spread). Buckets in which the user sent nothing count
 * as value 0; they are folded in O(1) with the closed form `(1 − alpha)^n` when the user's bucket
 * next closes, never by a loop. A user's first closed bucket initialises `mean = value, spread = 0`.
 *
 * ## When a user is anomalous (exact semantics)
 * - A bucket closes for a user when a request of that user arrives in a later bucket, or when
 *   {@link UserActivityTracker.advance} is called with a time in a later bucket (only users that are
 *   currently anomalous need this; everyone else is closed lazily with the same result).
 * - The threshold of a bucket is fixed when it opens, from the baseline of the buckets before it:
 *   `max(minValue, mean + k · max(spread, minSpread, relativeMinSpread · mean[, √mean for counts]))`
 *   when the user has at least `minHistoryBuckets` closed buckets, else the series' `globalCap`
 *   (anomalies then carry `global: true`).
 * - A spike kind STARTS at the first request that takes the user's current-bucket value strictly
 *   above that threshold (values only grow within a bucket, so this is the same as "the bucket
 *   closes above the threshold", reported as soon as it is known).
 * - It stays CURRENT while the buckets that close are above their thresholds, and RESOLVES at the
 *   first bucket close whose value is at or below its threshold (an empty bucket always resolves).
 *   A new crossing later starts a new anomaly.
 * - `probing` STARTS when a probing request leaves at least `probingThreshold` probing attempts in
 *   `(newest − probingWindowMs, newest]`, `newest` being the latest attempt time; it RESOLVES at the
 *   first {@link UserActivityTracker.advance}`(time)` that finds fewer than `probingThreshold`
 *   attempts in `(time − probingWindowMs, time]`.
 * - Evicting a user ends its current anomalies (they are reported as resolved).
 *
 * ## Late and odd input
 * A request in a bucket the user has already left (out of order by any amount) is counted in the
 * user's current bucket: a closed bucket is never reopened. Non-finite or negative tokens/cost count
 * as 0; a request with a non-finite time is ignored and counted in `invalidCount`. A null
 * `sessionId` counts the request but no session.
 *
 * ## Memory
 * Struct-of-arrays columns indexed by a slot ({@link UserTable}), no object per user: per allocated
 * slot 134 bytes — 12 doubles (current bucket, 3 accumulators, mean and spread of 4 series) = 96,
 * two inline session hashes 8, history + session count + flags 6, and the table's 24 (last seen,
 * eviction links, id reference) — plus the table's hash index (8–16 bytes per user) and the id
 * string (~24–40 bytes). Columns double from `initialCapacity`, so up to half a column may be
 * unused. A request of a known user
 * touches an index entry, its id string and about five cache lines of columns. Two pools hold what
 * few users need: a 32-byte session block while a user has 3 or more distinct sessions in its open
 * bucket (returned when the bucket closes), and a probing attempt ring for users that ever probed
 * (`8 · max(8, probingThreshold) + 10` bytes, plus a map entry from slot to ring).
 *
 * Eviction order is the order in which users last opened a bucket (refreshed once per user and
 * bucket, not per request, which saves two random cache lines per request). `advance(time)` evicts
 * users with no request in `(time − idleEvictAfterMs, time]` from the head of that order, at
 * amortised O(1) per user; beyond `maxUsers` the head (the least recently seen user, to a bucket)
 * is evicted on admission.
 *
 * ## Distinct sessions
 * Per user and bucket: up to 8 distinct 32-bit session-id hashes are kept exactly — the first two
 * in the user's columns, from the third on in a 32-byte block taken from a pool — and the 9th
 * distinct id turns the block's 32 bytes into a 256-bit linear counter (estimate
 * `−256 · ln(zeroBits / 256)`: ≈ 5 % standard error from 9 to ~500 distinct ids, saturating at
 * `256 · ln 256 ≈ 1420`).
 *
 * @packageDocumentation
 */

import { VigilError } from '../../src/errors.js';
import type { SpikeRule } from './robust-baseline.js';
import { effectiveSpread, spikeThreshold } from './robust-baseline.js';
import { UserTable, growFloat64, growInt32, growUint16, growUint32, growUint8, hashString, mapBytes } from './user-table.js';

/** One request of one end user. */
export interface UserRequestObservation {
  /** End-user id. */
  userId: string;
  /** Event time, epoch ms. */
  time: number;
  /** Tokens of the request (prompt + completion). */
  tokens: number;
  /** Cost of the request, USD. */
  costUsd: number;
  /** Session (conversation) id, or null when the request has none. */
  sessionId: string | null;
  /** A prompt-injection or system-prompt-extraction attempt was detected in this request. */
  probing: boolean;
}

/** What a {@link UserAnomaly} is about. */
export type UserAnomalyKind = 'rate_spike' | 'token_spike' | 'cost_spike' | 'probing' | 'session_spread';

/** Every {@link UserAnomalyKind}, in a fixed order. */
export const USER_ANOMALY_KINDS: readonly UserAnomalyKind[] = ['rate_spike', 'token_spike', 'cost_spike', 'probing', 'session_spread'];

/** One anomaly episode of one user. */
export interface UserAnomaly {
  /** End-user id. */
  userId: string;
  /** What is anomalous. */
  kind: UserAnomalyKind;
  /** Event time of the request that started the episode. */
  time: number;
  /**
   * Peak bucket value of the episode so far (requests, tokens, USD or distinct sessions per bucket);
   * for `probing`, the most attempts seen in the window (counted up to the ring size, `max(8, probingThreshold)`).
   */
  value: number;
  /** The user's baseline mean when the peak was reached (0 for `probing`). */
  baseline: number;
  /** The threshold the peak exceeded (`probingThreshold` for `probing`). */
  threshold: number;
  /** True when judged against the global cap (the user had fewer than `minHistoryBuckets` closed buckets); false for `probing`. */
  global: boolean;
}

/** A user's state as of the latest {@link UserActivityTracker.advance} (buckets before it closed). */
export interface UserProfile {
  /** End-user id. */
  userId: string;
  /** Latest event time of the user's requests. */
  lastSeen: number;
  /** Requests in the user's open bucket. */
  requestsInBucket: number;
  /** Baseline mean of requests per bucket. */
  rateBaseline: number;
  /** Spread (mean absolute deviation) of requests per bucket. */
  rateSpread: number;
  /** Baseline mean of tokens per bucket. */
  tokensBaseline: number;
  /** Baseline mean of cost per bucket, USD. */
  costBaseline: number;
  /** Cost in the user's open bucket, USD. */
  costInBucket: number;
  /** Probing attempts in the window ending at the later of `lastSeen` and the latest advance (up to the ring size). */
  probingAttempts: number;
  /** Distinct sessions in the user's open bucket (estimated beyond 8). */
  sessionsInBucket: number;
  /** Kinds the user is currently anomalous for. */
  flags: UserAnomalyKind[];
}

/** Result of {@link UserActivityTracker.advance}. */
export interface UserTrackerAdvance {
  /** Anomalies that started since the previous call, peak values as of now (some may have resolved already). */
  started: UserAnomaly[];
  /** Anomalies that resolved (or whose user was evicted) since the previous call. */
  resolved: UserAnomaly[];
  /** Users currently anomalous, per kind. */
  counts: Record<UserAnomalyKind, number>;
}

/** Options of a {@link UserActivityTracker}; every field has a default ({@link DEFAULT_USER_TRACKER_OPTIONS}). */
export interface UserTrackerOptions {
  /** Bucket length, ms of event time. Default 60 000 (rates are per minute). */
  bucketMs: number;
  /** EWMA weight of the newest bucket, in (0, 1). Default 0.05 (half-life ≈ 13.5 buckets). */
  alpha: number;
  /** Closed buckets a user needs before being judged against its own baseline; before that the global caps apply. Default 10. */
  minHistoryBuckets: number;
  /** Bucket values are clipped to `mean + winsorizeK · spread` before being folded into a baseline with history. Default 3. */
  winsorizeK: number;
  /** Requests per bucket (`rate_spike`). Default `{ k: 6, minValue: 30, minSpread: 1, relativeMinSpread: 0, globalCap: 120 }`, plus the Poisson floor √mean. */
  rate: SpikeRule;
  /** Tokens per bucket (`token_spike`). Default `{ k: 6, minValue: 20 000, minSpread: 500, relativeMinSpread: 0.5, globalCap: 200 000 }`. */
  tokens: SpikeRule;
  /** USD per bucket (`cost_spike`). Default `{ k: 6, minValue: 0.5, minSpread: 0.01, relativeMinSpread: 0.5, globalCap: 5 }`. */
  cost: SpikeRule;
  /** Distinct sessions per bucket (`session_spread`). Default `{ k: 6, minValue: 10, minSpread: 1, relativeMinSpread: 0.25, globalCap: 20 }`, plus the Poisson floor √mean. */
  sessions: SpikeRule;
  /** Probing attempts within `probingWindowMs` that flag a user. Integer in [1, 255]. Default 3. */
  probingThreshold: number;
  /** Probing window, ms of event time. Default 600 000 (10 minutes). */
  probingWindowMs: number;
  /** A user with no request for this long (event time) is evicted by `advance`. Default 3 600 000 (1 hour). */
  idleEvictAfterMs: number;
  /** Most users held; admitting one more evicts the least recently seen. Default 2 000 000. */
  maxUsers: number;
  /** Slots allocated up front; doubles on demand up to `maxUsers`. Default 1024. */
  initialCapacity: number;
  /** Most started (and, separately, resolved) anomalies buffered between two `advance` calls; the rest are counted in `droppedReports`. Default 10 000. */
  maxReportsPerAdvance: number;
}

/** Options accepted by the {@link UserActivityTracker} constructor: any subset, rules field by field. */
export type UserTrackerInit = Partial<Omit<UserTrackerOptions, 'rate' | 'tokens' | 'cost' | 'sessions'>> & {
  rate?: Partial<SpikeRule>;
  tokens?: Partial<SpikeRule>;
  cost?: Partial<SpikeRule>;
  sessions?: Partial<SpikeRule>;
};

/** The defaults of every {@link UserTrackerOptions} field. */
export const DEFAULT_USER_TRACKER_OPTIONS: Readonly<UserTrackerOptions> = Object.freeze({
  bucketMs: 60_000,
  alpha: 0.05,
  minHistoryBuckets: 10,
  winsorizeK: 3,
  rate: Object.freeze({ k: 6, minValue: 30, minSpread: 1, relativeMinSpread: 0, globalCap: 120 }),
  tokens: Object.freeze({ k: 6, minValue: 20_000, minSpread: 500, relativeMinSpread: 0.5, globalCap: 200_000 }),
  cost: Object.freeze({ k: 6, minValue: 0.5, minSpread: 0.01, relativeMinSpread: 0.5, globalCap: 5 }),
  sessions: Object.freeze({ k: 6, minValue: 10, minSpread: 1, relativeMinSpread: 0.25, globalCap: 20 }),
  probingThreshold: 3,
  probingWindowMs: 600_000,
  idleEvictAfterMs: 3_600_000,
  maxUsers: 2_000_000,
  initialCapacity: 1024,
  maxReportsPerAdvance: 10_000,
});

// Column layout of `num` (one stride of doubles per slot).
const STRIDE = 12;
const CUR_BUCKET = 0;
const ACC = 1; // + metric (requests, tokens, cost); sessions come from the sketch
const MEAN = 4; // + 2·metric
const SPREAD = 5; // + 2·metric
const METRICS = 4;
const M_SESSIONS = 3;
const SKETCH_WORDS = 8;
const SKETCH_BITS = SKETCH_WORDS * 32;
const SKETCH_SATURATED = SKETCH_BITS * Math.log(SKETCH_BITS);
// Session hashes held in the slot's own columns; more move to a block of SKETCH_WORDS.
const INLINE_SESSIONS = 2;
const HISTORY_MAX = 0xffff;
// Column layout of `meta` (three 16-bit words per slot).
const META = 3;
const HISTORY = 0;
const SESSIONS = 1;
const FLAGS = 2;
const PROBE_RING_MIN = 8;
/** Bytes per slot of the tracker's own columns (the table adds 24). */
const SLOT_BYTES = STRIDE * 8 + INLINE_SESSIONS * 4 + META * 2;
const RECORD_BYTES = 160;

// Internal kind index: metrics 0..3 map to the same index, probing is 4.
const K_PROBING = 4;
const KIND_NAMES: readonly UserAnomalyKind[] = ['rate_spike', 'token_spike', 'cost_spike', 'session_spread', 'probing'];
const KIND_INDEX: Readonly<Record<UserAnomalyKind, number>> = {
  rate_spike: 0,
  token_spike: 1,
  cost_spike: 2,
  session_spread: 3,
  probing: 4,
};
// Flags above the kind bits: the session hashes moved to a block (whose index is then the slot's
// first inline word); that block is a linear counter; the user has a probing ring.
const FLAG_BLOCK = 0x20;
const FLAG_RING = 0x40;
const FLAG_SKETCH = 0x80;
const COUNT_FLOOR: readonly boolean[] = [true, false, false, true];

/** A current or reported anomaly episode (mutable: the peak grows while it is current). */
class AnomalyRecord {
  constructor(
    readonly userId: string,
    readonly kind: UserAnomalyKind,
    readonly time: number,
    public value: number,
    public baseline: number,
    public threshold: number,
    readonly global: boolean,
  ) {}

  snapshot(): UserAnomaly {
    return {
      userId: this.userId,
      kind: this.kind,
      time: this.time,
      value: this.value,
      baseline: this.baseline,
      threshold: this.threshold,
      global: this.global,
    };
  }
}

function severity(r: AnomalyRecord): number {
  return r.threshold > 0 ? r.value / r.threshold : r.value;
}

/** True when `a` is less severe than `b` (ties: smaller value, then larger user id). */
function lessSevere(a: AnomalyRecord, b: AnomalyRecord): boolean {
  const sa = severity(a);
  const sb = severity(b);
  if (sa !== sb) return sa < sb;
  if (a.value !== b.value) return a.value < b.value;
  return a.userId > b.userId;
}

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function invalid(key: string, message: string): VigilError {
  return new VigilError('VIGIL_CONFIG_INVALID', `${key} ${message}`, { details: { key } });
}

function resolveRule(key: 'rate' | 'tokens' | 'cost' | 'sessions', given: Partial<SpikeRule> | undefined): SpikeRule {
  const r: SpikeRule = { ...DEFAULT_USER_TRACKER_OPTIONS[key], ...given };
  const check = (field: keyof SpikeRule, ok: boolean, what: string): void => {
    if (!ok) throw invalid(`${key}.${field}`, `must be ${what}, got ${String(r[field])}`);
  };
  check('k', Number.isFinite(r.k) && r.k > 0, 'a finite number > 0');
  check('minValue', Number.isFinite(r.minValue) && r.minValue >= 0, 'a finite number >= 0');
  check('minSpread', Number.isFinite(r.minSpread) && r.minSpread > 0, 'a finite number > 0');
  check('relativeMinSpread', Number.isFinite(r.relativeMinSpread) && r.relativeMinSpread >= 0, 'a finite number >= 0');
  check('globalCap', Number.isFinite(r.globalCap) && r.globalCap > 0, 'a finite number > 0');
  return Object.freeze(r);
}

function resolveOptions(init: UserTrackerInit): Readonly<UserTrackerOptions> {
  const d = DEFAULT_USER_TRACKER_OPTIONS;
  const o: UserTrackerOptions = {
    ...d,
    ...init,
    rate: resolveRule('rate', init.rate),
    tokens: resolveRule('tokens', init.tokens),
    cost: resolveRule('cost', init.cost),
    sessions: resolveRule('sessions', init.sessions),
  };
  const posInt = (key: keyof UserTrackerOptions, v: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isSafeInteger(v) || v < 1 || v > max) throw invalid(key, `must be an integer in [1, ${max}], got ${String(v)}`);
  };
  posInt('bucketMs', o.bucketMs);
  posInt('minHistoryBuckets', o.minHistoryBuckets, HISTORY_MAX);
  posInt('probingThreshold', o.probingThreshold, 255);
  posInt('maxUsers', o.maxUsers, 0x7fffffff);
  posInt('initialCapacity', o.initialCapacity, 0x7fffffff);
  posInt('maxReportsPerAdvance', o.maxReportsPerAdvance);
  if (!(Number.isFinite(o.alpha) && o.alpha > 0 && o.alpha < 1)) throw invalid('alpha', `must be in (0, 1), got ${String(o.alpha)}`);
  if (!(o.winsorizeK > 0)) throw invalid('winsorizeK', `must be > 0 (Infinity disables clipping), got ${String(o.winsorizeK)}`);
  if (!(Number.isFinite(o.probingWindowMs) && o.probingWindowMs > 0)) {
    throw invalid('probingWindowMs', `must be a finite number > 0, got ${String(o.probingWindowMs)}`);
  }
  if (!(Number.isFinite(o.idleEvictAfterMs) && o.idleEvictAfterMs > 0)) {
    throw invalid('idleEvictAfterMs', `must be a finite number > 0, got ${String(o.idleEvictAfterMs)}`);
  }
  return Object.freeze(o);
}

/**
 * Per-user anomaly detectors over a stream of requests; see the module documentation for the
 * exact semantics. Pure and synchronous: time is the event time passed in.
 *
 * ```ts
 * const tracker = new UserActivityTracker();
 * for (const req of batch) tracker.observe(req);
 * const { started, resolved } = tracker.advance(watermark);
 * ```
 */
export class UserActivityTracker {
  /** The resolved options. */
  readonly options: Readonly<UserTrackerOptions>;

  private readonly table: UserTable;
  private num: Float64Array;
  // The open bucket's first INLINE_SESSIONS session hashes, or (FLAG_BLOCK) word 0 = block index.
  private sessions: Uint32Array;
  // History, session count and flags side by side: one cache line per request.
  private meta: Uint16Array;

  // Session blocks of SKETCH_WORDS words; a free block's word 0 links the free list.
  private blocks: Uint32Array;
  private blockCap = 0;
  private blockUsed = 0;
  private blockFree = -1;

  // Probing rings, one per user that ever probed: `ring` times each, a write position, a length.
  private readonly ring: number;
  private probeTimes: Float64Array;
  private probePos: Uint8Array;
  private probeLen: Uint8Array;
  private probeNext: Int32Array;
  private probeCap = 0;
  private probeUsed = 0;
  private probeFree = -1;
  // Slot → ring, for the slots flagged FLAG_RING.
  private readonly probeRefs = new Map<number, number>();

  private readonly active: Map<number, AnomalyRecord>[] = [];
  private startedQ: AnomalyRecord[] = [];
  private resolvedQ: AnomalyRecord[] = [];
  private dropped = 0;
  private invalidObs = 0;
  private advancedTo = -Infinity;

  // Rule columns by metric index, read on the hot path.
  private readonly rules: readonly SpikeRule[];
  private readonly bucketMs: number;
  private readonly alpha: number;
  private readonly minHistory: number;
  private readonly winsorizeK: number;
  private readonly scratch = new Uint32Array(SKETCH_WORDS);
  // Output of `fold` (two numbers without allocating).
  private foldMean = 0;
  private foldSpread = 0;

  constructor(options: UserTrackerInit = {}) {
    const o = resolveOptions(options);
    this.options = o;
    this.rules = [o.rate, o.tokens, o.cost, o.sessions];
    this.bucketMs = o.bucketMs;
    this.alpha = o.alpha;
    this.minHistory = o.minHistoryBuckets;
    this.winsorizeK = o.winsorizeK;
    this.ring = Math.max(PROBE_RING_MIN, o.probingThreshold);
    for (let k = 0; k < KIND_NAMES.length; k++) this.active.push(new Map());
    this.table = new UserTable({
      maxUsers: o.maxUsers,
      initialCapacity: o.initialCapacity,
      onGrow: (cap) => this.growColumns(cap),
      onEvict: (slot) => this.release(slot),
    });
    const cap = this.table.capacity;
    this.num = new Float64Array(cap * STRIDE);
    this.sessions = new Uint32Array(cap * INLINE_SESSIONS);
    this.meta = new Uint16Array(cap * META);
    this.blocks = new Uint32Array(0);
    this.probeTimes = new Float64Array(0);
    this.probePos = new Uint8Array(0);
    this.probeLen = new Uint8Array(0);
    this.probeNext = new Int32Array(0);
  }

  /** Users currently held. */
  get size(): number {
    return this.table.size;
  }

  /** Slots allocated; freed slots are reused before this grows. */
  get capacity(): number {
    return this.table.capacity;
  }

  /** Observations ignored because their time was not finite. */
  get invalidCount(): number {
    return this.invalidObs;
  }

  /** Started/resolved reports dropped because more than `maxReportsPerAdvance` piled up between two `advance` calls. */
  get droppedReports(): number {
    return this.dropped;
  }

  /** Records one request. Allocation-free for a known user unless an anomaly starts. */
  observe(o: UserRequestObservation): void {
    const t = o.time;
    if (!Number.isFinite(t)) {
      this.invalidObs++;
      return;
    }
    const table = this.table;
    const bucket = Math.floor(t / this.bucketMs);
    let slot = table.slotOf(o.userId);
    if (slot < 0) {
      slot = table.admit(o.userId, t);
      this.initSlot(slot, bucket);
    } else {
      table.touch(slot, t);
      if (bucket > this.num[slot * STRIDE + CUR_BUCKET]) {
        table.promote(slot);
        this.roll(slot, bucket);
      }
    }
    const num = this.num;
    const base = slot * STRIDE;
    const tokens = o.tokens > 0 && o.tokens < Infinity ? o.tokens : 0;
    const cost = o.costUsd > 0 && o.costUsd < Infinity ? o.costUsd : 0;
    this.check(slot, 0, (num[base + ACC] += 1), t);
    if (tokens > 0) this.check(slot, 1, (num[base + ACC + 1] += tokens), t);
    if (cost > 0) this.check(slot, 2, (num[base + ACC + 2] += cost), t);
    if (o.sessionId !== null && this.addSession(slot, o.sessionId)) this.check(slot, M_SESSIONS, this.sessionsValue(slot), t);
    if (o.probing) this.probe(slot, t);
  }

  /**
   * Closes every bucket that ends at or before `time` (for the users whose anomalies depend on it),
   * re-checks probing windows, evicts users idle for `idleEvictAfterMs` and returns what started
   * and resolved since the previous call. A `time` earlier than a previous one (or not finite)
   * changes nothing but the reports. Work: the currently anomalous users plus the evicted ones.
   */
  advance(time: number): UserTrackerAdvance {
    if (Number.isFinite(time) && time > this.advancedTo) this.advancedTo = time;
    const now = this.advancedTo;
    if (now > -Infinity) {
      const bucket = Math.floor(now / this.bucketMs);
      for (let k = 0; k < METRICS; k++) {
        // Rolling resolves and so deletes entries; Map iteration tolerates that.
        for (const slot of this.active[k].keys()) {
          if (bucket > this.num[slot * STRIDE + CUR_BUCKET]) this.roll(slot, bucket);
        }
      }
      const threshold = this.options.probingThreshold;
      for (const slot of this.active[K_PROBING].keys()) {
        if (this.probeCount(slot, now) < threshold) this.resolve(slot, K_PROBING);
      }
      this.table.evictIdle(now - this.options.idleEvictAfterMs);
    }
    const started = this.startedQ.map((r) => r.snapshot());
    const resolved = this.resolvedQ.map((r) => r.snapshot());
    this.startedQ = [];
    this.resolvedQ = [];
    return { started, resolved, counts: this.anomalousCounts() };
  }

  /** Users currently anomalous for `kind`, most severe (largest value / threshold) first, at most `limit`. */
  anomalous(kind: UserAnomalyKind, limit: number): UserAnomaly[] {
    const map = this.active[KIND_INDEX[kind]];
    const lim = limit === Infinity ? map.size : Math.floor(limit);
    const n = lim > 0 ? Math.min(lim, map.size) : 0;
    if (n === 0) return [];
    // A min-heap of the `n` most severe: O(A log n) for A current anomalies.
    const heap: AnomalyRecord[] = [];
    for (const r of map.values()) {
      if (heap.length < n) {
        heap.push(r);
        let i = heap.length - 1;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (!lessSevere(heap[i], heap[p])) break;
          [heap[i], heap[p]] = [heap[p], heap[i]];
          i = p;
        }
      } else if (lessSevere(heap[0], r)) {
        heap[0] = r;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const rr = l + 1;
          let m = i;
          if (l < n && lessSevere(heap[l], heap[m])) m = l;
          if (rr < n && lessSevere(heap[rr], heap[m])) m = rr;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m], heap[i]];
          i = m;
        }
      }
    }
    heap.sort((a, b) => (lessSevere(a, b) ? 1 : lessSevere(b, a) ? -1 : 0));
    return heap.map((r) => r.snapshot());
  }

  /** Users currently anomalous, per kind. */
  anomalousCounts(): Record<UserAnomalyKind, number> {
    return {
      rate_spike: this.active[0].size,
      token_spike: this.active[1].size,
      cost_spike: this.active[2].size,
      probing: this.active[K_PROBING].size,
      session_spread: this.active[M_SESSIONS].size,
    };
  }

  /**
   * The state of `userId` as of the latest {@link advance}: if that closed the user's open bucket,
   * the profile shows the baselines with it (and any empty buckets since) folded in and an empty
   * open bucket — computed without changing the tracker. `undefined` for an unknown or evicted user.
   */
  profile(userId: string): UserProfile | undefined {
    const slot = this.table.slotOf(userId);
    if (slot < 0) return undefined;
    const num = this.num;
    const base = slot * STRIDE;
    const cur = num[base + CUR_BUCKET];
    const closeTo = this.advancedTo > -Infinity ? Math.floor(this.advancedTo / this.bucketMs) : cur;
    const closed = closeTo > cur;
    const gap = closed ? closeTo - cur : 0;
    const dn1 = this.emptyDecay(gap);
    const means = [0, 0, 0, 0];
    const spreads = [0, 0, 0, 0];
    for (let m = 0; m < METRICS; m++) {
      if (closed) {
        this.fold(slot, m, gap, dn1);
        means[m] = this.foldMean;
        spreads[m] = this.foldSpread;
      } else {
        means[m] = num[base + MEAN + 2 * m];
        spreads[m] = num[base + SPREAD + 2 * m];
      }
    }
    const lastSeen = this.table.lastSeen[slot];
    const flags: UserAnomalyKind[] = [];
    for (const kind of USER_ANOMALY_KINDS) if (this.meta[slot * META + FLAGS] & (1 << KIND_INDEX[kind])) flags.push(kind);
    return {
      userId,
      lastSeen,
      requestsInBucket: closed ? 0 : num[base + ACC],
      rateBaseline: means[0],
      rateSpread: spreads[0],
      tokensBaseline: means[1],
      costBaseline: means[2],
      costInBucket: closed ? 0 : num[base + ACC + 2],
      probingAttempts: this.probeCount(slot, Math.max(lastSeen, this.advancedTo)),
      sessionsInBucket: closed ? 0 : this.sessionsValue(slot),
      flags,
    };
  }

  /**
   * Estimated retained bytes: the columns per allocated slot (134 bytes with the table's), the id
   * index and strings, the session and probing pools and the anomaly records.
   */
  memoryBytes(): number {
    let records = this.startedQ.length + this.resolvedQ.length;
    for (const m of this.active) records += m.size;
    return (
      this.table.memoryBytes() +
      this.table.capacity * SLOT_BYTES +
      this.blockCap * SKETCH_WORDS * 4 +
      this.probeCap * (this.ring * 8 + 1 + 1 + 4) +
      mapBytes(this.probeRefs.size) +
      records * RECORD_BYTES
    );
  }

  // ------------------------------------------------------------------------------------------
  // Buckets and baselines
  // ------------------------------------------------------------------------------------------

  private initSlot(slot: number, bucket: number): void {
    const base = slot * STRIDE;
    this.num.fill(0, base, base + STRIDE);
    this.num[base + CUR_BUCKET] = bucket;
    this.meta[slot * META + HISTORY] = 0;
    this.meta[slot * META + SESSIONS] = 0;
    this.meta[slot * META + FLAGS] = 0;
  }

  /**
   * Folds the open bucket of `slot` and `gap − 1` empty buckets after it into metric `m`'s
   * baseline, leaving the result in `foldMean`/`foldSpread` (the columns are not written).
   * `dn1` is `(1 − alpha)^(gap − 2)`, computed once per roll by {@link emptyDecay}.
   */
  private fold(slot: number, m: number, gap: number, dn1: number): void {
    const num = this.num;
    const base = slot * STRIDE;
    let mean = num[base + MEAN + 2 * m];
    let spread = num[base + SPREAD + 2 * m];
    const x = m === M_SESSIONS ? this.sessionsValue(slot) : num[base + ACC + m];
    const hist = this.meta[slot * META + HISTORY];
    if (hist === 0) {
      mean = x;
      spread = 0;
    } else {
      const a = this.alpha;
      let v = x;
      if (hist >= this.minHistory) {
        const clip = mean + this.winsorizeK * effectiveSpread(mean, spread, this.rules[m], COUNT_FLOOR[m]);
        if (v > clip) v = clip;
      }
      spread = (1 - a) * spread + a * Math.abs(v - mean);
      mean += a * (v - mean);
    }
    if (gap > 1) {
      // ewmaSpreadAfterEmpty / ewmaMeanAfterEmpty with n = gap − 1, sharing one pow over the metrics.
      const d = 1 - this.alpha;
      spread = dn1 * d * spread + (gap - 1) * this.alpha * dn1 * mean;
      mean = dn1 * d * mean;
    }
    this.foldMean = mean;
    this.foldSpread = spread;
  }

  /** `(1 − alpha)^(gap − 2)`: the decay shared by the closed forms of a roll over `gap` buckets. */
  private emptyDecay(gap: number): number {
    return gap > 1 ? Math.pow(1 - this.alpha, gap - 2) : 1;
  }

  /** Closes the open bucket of `slot` (and the empty ones up to `bucket`) and opens `bucket`. */
  private roll(slot: number, bucket: number): void {
    const num = this.num;
    const base = slot * STRIDE;
    const gap = bucket - num[base + CUR_BUCKET];
    const hist = this.meta[slot * META + HISTORY];
    const hasHistory = hist >= this.minHistory;
    const dn1 = this.emptyDecay(gap);
    for (let m = 0; m < METRICS; m++) {
      if (this.meta[slot * META + FLAGS] & (1 << m)) {
        const x = m === M_SESSIONS ? this.sessionsValue(slot) : num[base + ACC + m];
        const thr = spikeThreshold(num[base + MEAN + 2 * m], num[base + SPREAD + 2 * m], this.rules[m], COUNT_FLOOR[m], hasHistory);
        if (gap > 1 || !(x > thr)) this.resolve(slot, m);
      }
      this.fold(slot, m, gap, dn1);
      num[base + MEAN + 2 * m] = this.foldMean;
      num[base + SPREAD + 2 * m] = this.foldSpread;
    }
    const h = hist + gap;
    this.meta[slot * META + HISTORY] = h > HISTORY_MAX ? HISTORY_MAX : h;
    num[base + CUR_BUCKET] = bucket;
    num[base + ACC] = 0;
    num[base + ACC + 1] = 0;
    num[base + ACC + 2] = 0;
    this.clearSessions(slot);
  }

  /** Starts or updates metric `m`'s anomaly of `slot` if `value` exceeds the open bucket's threshold. */
  private check(slot: number, m: number, value: number, time: number): void {
    const base = slot * STRIDE;
    const mean = this.num[base + MEAN + 2 * m];
    const hasHistory = this.meta[slot * META + HISTORY] >= this.minHistory;
    const thr = spikeThreshold(mean, this.num[base + SPREAD + 2 * m], this.rules[m], COUNT_FLOOR[m], hasHistory);
    if (!(value > thr)) return;
    if (this.meta[slot * META + FLAGS] & (1 << m)) {
      const r = this.active[m].get(slot);
      if (r !== undefined && value > r.value) {
        r.value = value;
        r.baseline = mean;
        r.threshold = thr;
      }
    } else {
      this.start(slot, m, new AnomalyRecord(this.table.idOf(slot), KIND_NAMES[m], time, value, mean, thr, !hasHistory));
    }
  }

  private start(slot: number, k: number, r: AnomalyRecord): void {
    this.meta[slot * META + FLAGS] |= 1 << k;
    this.active[k].set(slot, r);
    if (this.startedQ.length < this.options.maxReportsPerAdvance) this.startedQ.push(r);
    else this.dropped++;
  }

  private resolve(slot: number, k: number): void {
    const map = this.active[k];
    const r = map.get(slot);
    this.meta[slot * META + FLAGS] &= ~(1 << k);
    if (r === undefined) return;
    map.delete(slot);
    if (this.resolvedQ.length < this.options.maxReportsPerAdvance) this.resolvedQ.push(r);
    else this.dropped++;
  }

  // ------------------------------------------------------------------------------------------
  // Distinct sessions: 8 exact hashes, then a 256-bit linear counter in the same 32 bytes
  // ------------------------------------------------------------------------------------------

  /** Adds a session id to the open bucket's sketch; true when it was (or may be) a new distinct id. */
  private addSession(slot: number, sessionId: string): boolean {
    const h = hashString(sessionId);
    const meta = this.meta;
    const m = slot * META;
    const n = meta[m + SESSIONS];
    if (!(meta[m + FLAGS] & FLAG_BLOCK)) {
      const sessions = this.sessions;
      const inline = slot * INLINE_SESSIONS;
      for (let i = 0; i < n; i++) if (sessions[inline + i] === h) return false;
      if (n < INLINE_SESSIONS) {
        sessions[inline + n] = h;
        meta[m + SESSIONS] = n + 1;
        return true;
      }
      const block = this.allocBlock();
      const bb = block * SKETCH_WORDS;
      for (let i = 0; i < INLINE_SESSIONS; i++) this.blocks[bb + i] = sessions[inline + i];
      this.blocks[bb + INLINE_SESSIONS] = h;
      sessions[inline] = block;
      meta[m + SESSIONS] = n + 1;
      meta[m + FLAGS] |= FLAG_BLOCK;
      return true;
    }
    const sk = this.blocks;
    const base = this.sessions[slot * INLINE_SESSIONS] * SKETCH_WORDS;
    if (meta[m + FLAGS] & FLAG_SKETCH) {
      const bit = h & (SKETCH_BITS - 1);
      const w = base + (bit >>> 5);
      const mask = 1 << (bit & 31);
      if (sk[w] & mask) return false;
      sk[w] |= mask;
      meta[m + SESSIONS]++;
      return true;
    }
    for (let i = 0; i < n; i++) if (sk[base + i] === h) return false;
    if (n < SKETCH_WORDS) {
      sk[base + n] = h;
      meta[m + SESSIONS] = n + 1;
      return true;
    }
    const scratch = this.scratch;
    for (let i = 0; i < SKETCH_WORDS; i++) scratch[i] = sk[base + i];
    sk.fill(0, base, base + SKETCH_WORDS);
    for (let i = 0; i <= SKETCH_WORDS; i++) {
      const bit = (i < SKETCH_WORDS ? scratch[i] : h) & (SKETCH_BITS - 1);
      sk[base + (bit >>> 5)] |= 1 << (bit & 31);
    }
    let set = 0;
    for (let i = 0; i < SKETCH_WORDS; i++) set += popcount32(sk[base + i]);
    meta[m + SESSIONS] = set;
    meta[m + FLAGS] |= FLAG_SKETCH;
    return true;
  }

  /** Empties the open bucket's sessions of `slot`, returning its block to the pool. */
  private clearSessions(slot: number): void {
    const m = slot * META;
    const f = this.meta[m + FLAGS];
    if (f & FLAG_BLOCK) {
      const block = this.sessions[slot * INLINE_SESSIONS];
      this.blocks[block * SKETCH_WORDS] = this.blockFree;
      this.blockFree = block;
      this.meta[m + FLAGS] = f & ~(FLAG_BLOCK | FLAG_SKETCH);
    }
    this.meta[m + SESSIONS] = 0;
  }

  private allocBlock(): number {
    let block = this.blockFree;
    if (block >= 0) {
      this.blockFree = this.blocks[block * SKETCH_WORDS] | 0;
      return block;
    }
    if (this.blockUsed === this.blockCap) {
      const cap = Math.max(64, this.blockCap * 2);
      this.blocks = growUint32(this.blocks, cap * SKETCH_WORDS);
      this.blockCap = cap;
    }
    block = this.blockUsed++;
    return block;
  }

  /** Distinct sessions in the open bucket: exact up to 8, linear-counting estimate beyond. */
  private sessionsValue(slot: number): number {
    const n = this.meta[slot * META + SESSIONS];
    if (!(this.meta[slot * META + FLAGS] & FLAG_SKETCH)) return n;
    if (n >= SKETCH_BITS) return SKETCH_SATURATED;
    return -SKETCH_BITS * Math.log(1 - n / SKETCH_BITS);
  }

  // ------------------------------------------------------------------------------------------
  // Probing: a ring of the latest attempt times per probing user, in a pool
  // ------------------------------------------------------------------------------------------

  private probe(slot: number, time: number): void {
    let ref: number;
    if (this.meta[slot * META + FLAGS] & FLAG_RING) {
      ref = this.probeRefs.get(slot) as number;
    } else {
      ref = this.allocProbe();
      this.probeRefs.set(slot, ref);
      this.meta[slot * META + FLAGS] |= FLAG_RING;
    }
    const ring = this.ring;
    const pos = this.probePos[ref];
    this.probeTimes[ref * ring + pos] = time;
    this.probePos[ref] = pos + 1 === ring ? 0 : pos + 1;
    if (this.probeLen[ref] < ring) this.probeLen[ref]++;
    let newest = time;
    const off = ref * ring;
    const len = this.probeLen[ref];
    for (let i = 0; i < len; i++) if (this.probeTimes[off + i] > newest) newest = this.probeTimes[off + i];
    const count = this.probeCount(slot, newest);
    const threshold = this.options.probingThreshold;
    if (count < threshold) return;
    if (this.meta[slot * META + FLAGS] & (1 << K_PROBING)) {
      const r = this.active[K_PROBING].get(slot);
      if (r !== undefined && count > r.value) r.value = count;
    } else {
      this.start(slot, K_PROBING, new AnomalyRecord(this.table.idOf(slot), 'probing', time, count, 0, threshold, false));
    }
  }

  /** Probing attempts of `slot` later than `time − probingWindowMs` (up to the ring size). */
  private probeCount(slot: number, time: number): number {
    if (!(this.meta[slot * META + FLAGS] & FLAG_RING)) return 0;
    const ref = this.probeRefs.get(slot) as number;
    const from = time - this.options.probingWindowMs;
    const off = ref * this.ring;
    const len = this.probeLen[ref];
    let c = 0;
    for (let i = 0; i < len; i++) if (this.probeTimes[off + i] > from) c++;
    return c;
  }

  private allocProbe(): number {
    let ref = this.probeFree;
    if (ref >= 0) {
      this.probeFree = this.probeNext[ref];
    } else {
      if (this.probeUsed === this.probeCap) {
        const cap = Math.max(64, this.probeCap * 2);
        this.probeTimes = growFloat64(this.probeTimes, cap * this.ring);
        this.probePos = growUint8(this.probePos, cap);
        this.probeLen = growUint8(this.probeLen, cap);
        this.probeNext = growInt32(this.probeNext, cap);
        this.probeCap = cap;
      }
      ref = this.probeUsed++;
    }
    this.probePos[ref] = 0;
    this.probeLen[ref] = 0;
    return ref;
  }

  // ------------------------------------------------------------------------------------------
  // Slots
  // ------------------------------------------------------------------------------------------

  private growColumns(cap: number): void {
    this.num = growFloat64(this.num, cap * STRIDE);
    this.sessions = growUint32(this.sessions, cap * INLINE_SESSIONS);
    this.meta = growUint16(this.meta, cap * META);
  }

  /** Ends the anomalies and frees the session block and the probing ring of a slot being evicted. */
  private release(slot: number): void {
    const f = this.meta[slot * META + FLAGS];
    for (let k = 0; k < KIND_NAMES.length; k++) if (f & (1 << k)) this.resolve(slot, k);
    this.clearSessions(slot);
    if (f & FLAG_RING) {
      const ref = this.probeRefs.get(slot) as number;
      this.probeRefs.delete(slot);
      this.probeNext[ref] = this.probeFree;
      this.probeFree = ref;
    }
    this.meta[slot * META + FLAGS] = 0;
  }
}
