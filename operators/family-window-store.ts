import { VigilError } from '../src/errors.js';
import { NONE_VALUE } from '../src/model/dimensions.js';
import type { BaselineSpec, SignalSnapshot, SignalView } from '../src/model/signal-snapshot.js';
import { populationStabilityIndex } from './population-stability.js';
import type { DistributionSignal, SignalFamily } from './signal-family.js';
import { describeStats, parseCounterStat, parseDistributionStat } from './signal-stats.js';
import type { CounterStat, DistributionStat } from './signal-stats.js';
import { OVERFLOW_KEY, SubWindowRing } from './sub-window-ring.js';
import type { PartialEntry, SubWindowPartial } from './sub-window-partial.js';
import { DEFAULT_COMPRESSION, PackedDigest, TDigest, serializedDigestIsEmpty, type DigestSource } from './t-digest.js';
import { WindowDigestTree } from './window-digest-tree.js';

/** Options of a {@link FamilyWindowStore}. */
export interface FamilyWindowStoreOptions<E> {
  /** The family whose signals the store answers. */
  family: SignalFamily<E>;
  /** Sub-window length and slide, ms: a positive integer. */
  subWindowMs: number;
  /**
   * Longest span of time a view or query may read, ms: its window plus its baseline window. A
   * multiple of `subWindowMs`.
   */
  retentionMs: number;
  /** t-digest compression δ of every digest (default: the digest's default). */
  compression?: number;
  /**
   * Most distinct fine keys (dimension-value combinations) per sub-window; more go to one overflow
   * aggregate whose dimension values are all `(overflow)`. Default 10 000.
   */
  maxKeysPerSubWindow?: number;
  /**
   * Pack the digests of a sub-window as it closes (default true): a closed sub-window's digests no
   * longer change and take a few dozen bytes each packed. False for a store that exports each
   * sub-window as it closes and evicts it right after (a partition task's): packing would be thrown
   * away, and its digests give their buffers back when evicted instead.
   */
  packOnClose?: boolean;
}

/** One signal of a family, as {@link FamilyWindowStore.signals} lists it. */
export interface FamilySignalInfo {
  readonly name: string;
  readonly kind: 'counter' | 'distribution';
  readonly unit?: string;
  readonly description: string;
  /** The counters of a counter signal, in layout order. */
  readonly counters?: readonly string[];
}

/** A question to {@link FamilyWindowStore.query}. */
export interface FamilyQueryOptions {
  signal: string;
  /** Window length, ms: a positive multiple of the sub-window, at most the retention. */
  windowMs: number;
  /** Exclusive end of the window: a sub-window boundary. */
  end: number;
  /** Dimensions of the family to group by. */
  groupBy: readonly string[];
  /** Only events whose dimension values equal these (`(none)` matches a null value). */
  filter: Readonly<Record<string, string | undefined>>;
  /** Stat names (see `signal-stats.ts`). */
  stats: readonly string[];
  /** Compare each stat with the window before, as a view's baseline does. */
  baseline?: BaselineSpec;
}

/** One group of a {@link FamilyQueryResult}. */
export interface FamilyQueryGroup {
  /** Canonical group key: `dim=value` pairs in `groupBy` order, URI-encoded values; `*` ungrouped. */
  key: string;
  /** The group's values of the `groupBy` dimensions. */
  labels: Readonly<Record<string, string>>;
  /** Events (counter signal) or values (distribution signal) of the group in the window. */
  count: number;
  /** Stat name to value. */
  values: Record<string, number>;
}

/** Answer of {@link FamilyWindowStore.query}. */
export interface FamilyQueryResult {
  windowStart: number;
  windowEnd: number;
  /** Groups with at least one event (counter signal) or value (distribution) in the window, by key. */
  groups: FamilyQueryGroup[];
}

/** Memory figures of a {@link FamilyWindowStore}. */
export interface FamilyStoreStats {
  /** Sub-windows held. */
  subWindows: number;
  /** Fine-key aggregates held, summed over sub-windows. */
  keys: number;
  /** Distinct dimension-value combinations held by live sub-windows (each interned once). */
  labelCombinations: number;
  /** Digests held (created on an aggregate's first value of the distribution). */
  digests: number;
  /** Approximate heap bytes: digests' own estimate, counter arrays and a flat per-aggregate overhead. */
  approxBytes: number;
  /** Events counted in the overflow aggregate because their sub-window was full. */
  overflowCount: number;
  /** Distribution values skipped because they were not finite, plus events with a non-finite time. */
  invalidValues: number;
  /**
   * Partials {@link FamilyWindowStore.mergeSubWindow} refused because their sub-window was already
   * evicted or older than the retention. Present once the store has been given a partial (absent on
   * a store that never merges), so a task-local store's figures keep their shape.
   */
  droppedPartials?: number;
}

// Rough heap cost of an aggregate besides its digests: map entry, object, key string, arrays' headers.
const AGGREGATE_OVERHEAD_BYTES = 160;
const TYPED_ARRAY_OVERHEAD_BYTES = 192;
const ARRAY_OVERHEAD_BYTES = 16;
const KEY_SEPARATOR = '\u0001';
const MS_PER_MINUTE = 60_000;
const NAME = /^[a-z][a-z0-9_]*$/;
const EMPTY_COUNTERS = new Float64Array(0);
/** New aggregates whose counter arrays are cut from one slab buffer. */
const SLAB_AGGREGATES = 64;

/** One dimension-value combination: its key string, its values, and how many live aggregates use it. */
interface FineKey {
  readonly key: string;
  /** Values in the family's dimension order; `(none)` for null. */
  readonly values: readonly string[];
  refs: number;
  /**
   * The key's own aggregate in the sub-window {@link FamilyWindowStore.add} last counted it in, so
   * its next event there skips the ring's lookup; null when none (or it was evicted).
   */
  agg: FamilyAggregate | null;
  /** Start of that aggregate's sub-window. */
  aggStart: number;
}

/** A buffer new aggregates' counter arrays are cut from, and how many it has given out. */
interface CounterSlab {
  buffer: ArrayBuffer | null;
  used: number;
}

/** A node of the fine-key trie: one level per dimension, the fine key at depth `dimensions.length`. */
interface TrieNode {
  readonly children: Map<string, TrieNode>;
  leaf: FineKey | null;
  /** The value {@link FamilyWindowStore.add} last looked up here, and its child (null: none). */
  lastValue: string;
  lastChild: TrieNode | null;
}

interface FamilyAggregate {
  readonly fineKey: FineKey;
  count: number;
  /**
   * All counters of the family, in layout order, from index `base`: an array of its own (a view of a
   * slab, `base` 0) while its sub-window is open, then a slice of one array shared by the
   * sub-window's aggregates.
   */
  counters: Float64Array;
  base: number;
  /** One digest per distribution, created on its first value; packed once its sub-window closes. */
  readonly digests: (DigestSource | null)[];
}

type ResolvedSignal =
  | { readonly kind: 'counter'; readonly name: string; readonly offset: number; readonly counters: readonly string[] }
  | { readonly kind: 'distribution'; readonly name: string; readonly index: number };

interface PreparedQuery {
  readonly signal: ResolvedSignal;
  readonly stats: readonly string[];
  /** Parallel to `stats`, for a counter signal. */
  readonly counterStats: readonly CounterStat[];
  /** The counters (indices within the signal's) the counter stats read, ascending: only these are summed. */
  readonly neededCounters: readonly number[];
  /** Parallel to `stats`, for a distribution signal. */
  readonly distributionStats: readonly DistributionStat[];
  /** Quantiles of the distribution stats, in stat order. */
  readonly quantiles: readonly number[];
  /** A distribution stat needs merged digests (a quantile or psi), not just counts, sums and extremes. */
  readonly needsDigest: boolean;
  readonly groupByNames: readonly string[];
  readonly groupByIndices: readonly number[];
  readonly filterIndices: readonly number[];
  readonly filterValues: readonly string[];
  readonly baseline: BaselineSpec | undefined;
}

interface GroupAccumulator {
  readonly key: string;
  readonly labels: Record<string, string>;
  /** Start of the group's sums in the scratch: the current window's, then the baseline's. */
  readonly offset: number;
  count: number;
  baselineCount: number;
  readonly digests: DigestSource[];
  readonly baselineDigests: DigestSource[];
  /** Parallel to `digests` and `baselineDigests`: the start of each one's sub-window. */
  readonly digestStarts: number[];
  readonly baselineStarts: number[];
}

/** One group of a {@link SlidingView}: the blocks of its sub-windows' digests in the window and the baseline window. */
interface SlidingGroup {
  readonly key: string;
  readonly labels: Record<string, string>;
  readonly tree: WindowDigestTree;
}

/**
 * A view over a distribution whose stats need merged digests, as of its last snapshot: per group,
 * a {@link WindowDigestTree} of the window's (and the baseline window's) sub-windows, so the next
 * snapshot, one slide later, adds the sub-window that entered and merges O(log n) blocks.
 */
interface SlidingView {
  /** End of the last snapshot. */
  end: number;
  /** The store's late-write count then: a write into a closed sub-window invalidates the view. */
  readonly lateWrites: number;
  readonly groups: Map<string, SlidingGroup>;
  /** Group key of a fine key (null: filtered out), decided once. */
  readonly groupKeyOf: WeakMap<FineKey, string | null>;
}

/** The sums of one closed sub-window's aggregates, per group, for a counter view. */
interface CounterSegment {
  readonly start: number;
  /** Group keys, in the order of their first aggregate in the sub-window. */
  readonly keys: string[];
  /** Events per group. */
  readonly counts: number[];
  /** Per group, the sums of the view's needed counters, in `neededCounters` order. */
  readonly sums: number[];
  /** Σ|value| of the summed counter values: bounds every partial sum. */
  absSum: number;
  /** Every summed counter value was an integer: any order of adding them gives the same sums. */
  integral: boolean;
}

/**
 * A counter view as of its last snapshot: per closed sub-window of its window (and baseline
 * window), the per-group sums of the counters its stats read, so the next snapshot only sums the
 * sub-windows that entered. Used while every summed value is an integer (event counts, tokens…),
 * for which adding per-sub-window sums gives the same result as adding aggregate by aggregate.
 */
interface SlidingCounterView {
  end: number;
  readonly lateWrites: number;
  /** Ascending by start. */
  readonly segments: CounterSegment[];
  readonly groupKeyOf: WeakMap<FineKey, string | null>;
  readonly labels: Map<string, Record<string, string>>;
}

// Integer sums up to this are exact in a double whatever the order of additions.
const EXACT_INTEGER_SUM = 2 ** 52;

/** Figures of one distribution over one window, for evaluating stats. */
interface DistributionFigures {
  count: number;
  sum: number;
  min: number;
  max: number;
  digest: TDigest | null;
}

/**
 * Every signal of one {@link SignalFamily} over sliding windows: per sub-window and per fine key —
 * the event's values of all the family's dimensions — the number of events, all counters of the
 * family in one `Float64Array`, and a t-digest per distribution. A window of any multiple of the
 * sub-window up to the retention, grouped by any of the family's dimensions and filtered by any
 * values, is answered by summing counters and merging digests; a view with a baseline also reads the
 * window before it and compares. Pure and synchronous: the caller decides lateness and when to
 * close and evict sub-windows. Windowed signals of any family.
 *
 * Cost of {@link add}: the family's `count` — straight into the aggregate's counters when the family
 * declares `countsEveryEvent` (else into a reused scratch, zeroed first, then summed in: O(counters))
 * —, per dimension one string compare with the value the trie node last led to (a `Map.get` when it
 * differs) to find the interned fine key, a range check for the key's aggregate in the event's
 * sub-window (the ring's `Map.get` on the key's first event there), and per distribution the value
 * and one digest `add`. Nothing is allocated except on a fine key's first event in a sub-window (the
 * aggregate; its counters are a view of a shared slab) or distribution (its digest) and on a new
 * sub-window. Measured ≈ 0.4 µs per span for the span family (5 dimensions, 43 counters,
 * 4 distributions; t-digest buffer flushes and the packing at each close included) on Node 20.
 *
 * Cost of {@link query}: one pass over the aggregates of the window's (and the baseline's)
 * sub-windows, one `Map.get` per aggregate to find its group (decided once per fine key), and for a
 * counter signal the counters its stats read summed into a reused scratch; for a distribution, per
 * group the window's digest — only when a quantile or `psi` is asked; `count`, `sum`, `mean`,
 * `min` and `max` come from the digests' exact totals — and one `quantiles` call. The window's
 * digest is that of a {@link WindowDigestTree} over its sub-windows (the digests of each of the
 * window's O(log n) aligned blocks of sub-windows merged, then those blocks), built for the query:
 * every digest merged once, then the blocks. `psi` adds one {@link populationStabilityIndex} per
 * group. The last 64 answers are kept until the store changes (an event added, a sub-window closed
 * or evicted), so a dashboard repeating a query between batches gets a copy of the answer.
 *
 * Cost of {@link snapshot}, the same figures bit for bit: a view is read at every boundary, and once
 * its window lies in closed sub-windows the store keeps its state between boundaries and slides it
 * by the sub-windows that entered and left — for a counter signal, per sub-window and group the sums
 * of the counters it reads (used while they are whole numbers, which any order adds up exactly);
 * for a distribution whose stats need merged digests, per group its window digest tree, kept: a
 * boundary merges the blocks it has not built yet (each sub-window's digests go into ≈ log2(n)
 * blocks over its time in the window) and the window's O(log n) blocks (compressed digests)
 * instead of every centroid of the window. A window reaching into open sub-windows, or an event
 * written into a closed one, takes the full path.
 *
 * Memory: per sub-window, one aggregate per fine key seen in it (at most `maxKeysPerSubWindow` + 1).
 * While the sub-window is open: ≈ 350 B + 8 B per counter plus ≈ 1–2 KB per digest (buffered values).
 * {@link closeThrough} packs the closed sub-window's counters into one array and its digests into
 * one `TDigest.pack`: ≈ 150 B + 8 B per counter per aggregate and, per digest, ≈ 130 B + 9–12 B per
 * centroid (a digest keeps up to ~80 values as centroids, ~100 at most). Measured: 1 000 keys × 60
 * sub-windows of the span family with 100 spans per key and sub-window take ≈ 170 MB
 * (`benchmarks/memory.bench.ts`).
 */
export class FamilyWindowStore<E> {
  /** The family whose signals the store answers. */
  readonly family: SignalFamily<E>;
  /** Sub-window length and slide, ms. */
  readonly subWindowMs: number;
  /** Longest window plus baseline window a view or query may read, ms. */
  readonly retentionMs: number;
  /** Compression δ of the digests; `undefined` for the digest's default. */
  readonly compression: number | undefined;

  private readonly ring: SubWindowRing<FamilyAggregate>;
  private readonly dimensionCount: number;
  private readonly counterCount: number;
  private readonly distributions: readonly DistributionSignal<E>[];
  private readonly signalList: readonly FamilySignalInfo[];
  private readonly signalsByName = new Map<string, ResolvedSignal>();
  // The family's count() writes here first, so an event it leaves out touches no aggregate — unless
  // the family counts every event (see SignalFamily.countsEveryEvent): it then adds straight into
  // the aggregate, and this is only used for an aggregate inside a shared array.
  private readonly increments: Float64Array;
  private readonly direct: boolean;
  // New aggregates' counter arrays are views of one of these buffers, SLAB_AGGREGATES at a time: a
  // typed array of its own (off-heap above 64 bytes) costs several times more to allocate and
  // collect. Open sub-windows' views are copied out by packClosed when they close; closed ones'
  // (late writes) stay until evicted, so they get their own slab rather than pin an open one's.
  private readonly openSlab: CounterSlab = { buffer: null, used: 0 };
  private readonly closedSlab: CounterSlab = { buffer: null, used: 0 };
  // Interns dimension-value combinations by the event's own strings, one level per dimension, so no
  // joined key is built (or hashed) per event. Holds only keys in use (see release). Each node
  // remembers the child add() last went to: the spans of one trace come together and mostly share
  // their service, operation and tenant, so most levels take one string compare, not a map lookup.
  private readonly fineKeys: TrieNode = newTrieNode();
  private readonly overflowKey: FineKey;
  // The fine key add() is looking up, for the ring's create callback, which only receives its string.
  private adding: FineKey;
  private readonly prepared = new WeakMap<SignalView, PreparedQuery>();
  // Per-group counter sums of a snapshot, reused across snapshots; grown on demand.
  private sums = new Float64Array(256);
  private invalid = 0;
  private interned = 0;
  // Sub-windows ending at or before this are closed (a multiple of the sub-window length).
  private closedEnd = -Infinity;
  // Events added into closed sub-windows since construction (the caller should never do so).
  private lateWrites = 0;
  private readonly slidingViews = new WeakMap<SignalView, SlidingView>();
  private readonly slidingCounterViews = new WeakMap<SignalView, SlidingCounterView>();
  // Aggregates whose sub-window the ring has just closed, for packClosed.
  private readonly closing: FamilyAggregate[] = [];
  // Counts what changes what a query could read (events added, sub-windows closed or evicted).
  private changes = 0;
  private readonly answers = new Map<string, { version: number; result: FamilyQueryResult }>();
  // Sub-windows ending at or before this have been evicted (the largest evictBefore argument).
  private evictedEnd = -Infinity;
  // Aggregates of closed sub-windows a merged partial changed: their thawed or new digests and
  // their own counter arrays are packed again at the next closeThrough (see packClosed).
  private readonly repack = new Set<FamilyAggregate>();
  // Partials refused as too old; -1 until the first mergeSubWindow (stats() then omits the figure).
  private droppedPartials = -1;
  // Events of merged entries sent to the overflow aggregate, beyond the one the ring counts per entry.
  private mergedOverflow = 0;
  private readonly packOnClose: boolean;

  constructor(options: FamilyWindowStoreOptions<E>) {
    const { family, subWindowMs, retentionMs, compression, maxKeysPerSubWindow } = options;
    checkFamily(family);
    if (compression !== undefined) {
      // Fails fast with the digest's own range check instead of on the first value.
      new TDigest(compression);
    }
    this.family = family;
    this.compression = compression;
    this.dimensionCount = family.dimensions.length;
    this.distributions = family.distributions;
    const signals: FamilySignalInfo[] = [];
    let offset = 0;
    for (const s of family.counterSignals) {
      this.signalsByName.set(s.signal, { kind: 'counter', name: s.signal, offset, counters: s.counters });
      signals.push(
        Object.freeze({
          name: s.signal,
          kind: 'counter',
          ...(s.unit === undefined ? {} : { unit: s.unit }),
          description: s.description,
          counters: Object.freeze([...s.counters]),
        }),
      );
      offset += s.counters.length;
    }
    family.distributions.forEach((d, index) => {
      this.signalsByName.set(d.signal, { kind: 'distribution', name: d.signal, index });
      signals.push(
        Object.freeze({
          name: d.signal,
          kind: 'distribution',
          ...(d.unit === undefined ? {} : { unit: d.unit }),
          description: d.description,
        }),
      );
    });
    this.signalList = Object.freeze(signals);
    this.counterCount = offset;
    this.increments = new Float64Array(offset);
    this.direct = family.countsEveryEvent === true;
    this.overflowKey = {
      key: OVERFLOW_KEY,
      values: Object.freeze(family.dimensions.map(() => OVERFLOW_KEY)),
      refs: 0,
      agg: null,
      aggStart: 0,
    };
    this.adding = this.overflowKey;
    this.ring = new SubWindowRing<FamilyAggregate>({
      slideMs: subWindowMs,
      retentionMs,
      maxKeysPerSubWindow,
      create: (key, start) => this.createAggregate(key, start),
      // A store that does not pack has nothing to do with the aggregates closing.
      onClose: (agg) => {
        if (this.packOnClose) this.closing.push(agg);
      },
      onEvict: (agg) => {
        if (agg.fineKey.agg === agg) agg.fineKey.agg = null;
        this.release(agg.fineKey);
        if (this.repack.size > 0) this.repack.delete(agg);
        if (!this.packOnClose) for (const d of agg.digests) if (d instanceof TDigest) d.release();
      },
    });
    this.packOnClose = options.packOnClose ?? true;
    this.subWindowMs = subWindowMs;
    this.retentionMs = retentionMs;
  }

  /**
   * Counts one event in the sub-window of its time: the family's counters and, for each
   * distribution with a value, that value in its digest, under the event's fine key. The caller has
   * already rejected late events. Returns false — and counts nothing — when the family's `count`
   * leaves the event out or its time is not finite (counted in `stats().invalidValues`). A
   * non-finite distribution value is skipped and counted there too.
   */
  add(event: E): boolean {
    const family = this.family;
    const direct = this.direct;
    if (!direct) {
      this.increments.fill(0);
      if (!family.count(event, this.increments)) return false;
    }
    const t = family.time(event);
    if (!Number.isFinite(t)) {
      this.invalid++;
      return false;
    }
    const late = t < this.closedEnd;
    if (late) this.lateWrites++;
    this.changes++;
    const agg = this.aggregateOf(this.fineKeyOf(event), t);
    agg.count++;
    if (direct && agg.base === 0) {
      family.count(event, agg.counters);
    } else {
      const increments = this.increments;
      if (direct) {
        increments.fill(0);
        family.count(event, increments);
      }
      const counters = agg.counters;
      const base = agg.base;
      for (let i = 0; i < increments.length; i++) counters[base + i] += increments[i];
    }
    const distributions = this.distributions;
    for (let i = 0; i < distributions.length; i++) {
      const value = distributions[i].value(event);
      if (value === null) continue;
      if (!Number.isFinite(value)) {
        this.invalid++;
        continue;
      }
      let digest = agg.digests[i];
      if (digest === null) digest = agg.digests[i] = this.newDigest();
      // Only closed sub-windows hold packed digests (packClosed): a late event's comes out of its
      // pack to take the value; an open sub-window's is a TDigest without asking.
      else if (late && digest instanceof PackedDigest) digest = agg.digests[i] = digest.thaw();
      (digest as TDigest).add(value);
    }
    return true;
  }

  /** A number that changes whenever what a query could read changes (events added, sub-windows closed or evicted). */
  get version(): number {
    return this.changes;
  }

  /** The family's signals, counter signals first, in the family's order (one frozen array). */
  signals(): readonly FamilySignalInfo[] {
    return this.signalList;
  }

  /**
   * True when `stat` is a stat of `signal` (see `signal-stats.ts`). `psi` of a distribution is
   * valid here; a view asking for it also needs a baseline.
   */
  isValidStat(signal: string, stat: string): boolean {
    const resolved = this.signalsByName.get(signal);
    if (resolved === undefined) return false;
    return resolved.kind === 'counter'
      ? parseCounterStat(stat, resolved.counters) !== undefined
      : parseDistributionStat(stat) !== undefined;
  }

  /** One line listing the stats of `signal` (or the family's signals when it has no such signal), for error messages. */
  statHint(signal: string): string {
    const resolved = this.signalsByName.get(signal);
    if (resolved === undefined) return `signals of ${this.family.name}: ${[...this.signalsByName.keys()].join(', ')}`;
    return resolved.kind === 'counter' ? describeStats('counter', resolved.counters) : describeStats('distribution');
  }

  /**
   * What `view` shows for the window `[end - view.windowMs, end)`: per group with at least one event
   * (counter signal) or value (distribution), its count and each of `view.stats`. Events with no
   * value (`(none)`) for a `groupBy` dimension belong to no group here — a rule "by model" watches
   * the events that have a model; {@link query} still shows them.
   *
   * With `view.baseline`, each stat is instead compared with its value over the baseline window
   * `[end - view.windowMs - baseline.windowMs, end - view.windowMs)`: `difference` (current −
   * baseline), `ratio` (current / baseline) or `relative` ((current − baseline) / baseline); the
   * last two are NaN when the baseline value is 0. `psi` is the population stability index of the
   * current values against the baseline's (NaN when the group had no baseline values) and is not
   * compared. A group's `count` stays the current window's; groups with baseline events only are
   * absent.
   *
   * Throws `VIGIL_QUERY_INVALID` naming the bad parameter: `signal`, `stats`, `groupBy`, `filter`,
   * `window` (not a positive multiple of the sub-window, or beyond the retention), `end` (not a
   * sub-window boundary) or `baseline` (its window invalid, window + baseline beyond the retention,
   * or an unknown comparison); `psi` without a baseline is a bad `stats`.
   */
  snapshot(view: SignalView, end: number): SignalSnapshot {
    let prepared = this.prepared.get(view);
    if (prepared === undefined) {
      prepared = this.prepare(view.signal, view.stats, view.groupBy, view.filter, view.baseline, `view ${view.id}: `);
      this.prepared.set(view, prepared);
    }
    this.checkWindow(view.windowMs, end, prepared.baseline);
    // A view is re-read at every boundary over mostly the same closed sub-windows: slide its state
    // by the sub-windows that entered instead of reading them all again (same figures, bit for bit).
    let groups: FamilyQueryGroup[] | null = null;
    if (end <= this.closedEnd) {
      if (prepared.signal.kind === 'counter') groups = this.slidingCounterGroups(view, prepared, end);
      else if (prepared.needsDigest) groups = this.slidingGroups(view, prepared, end);
    }
    groups ??= this.evaluate(prepared, view.windowMs, end, true);
    return {
      viewId: view.id,
      signal: view.signal,
      windowStart: end - view.windowMs,
      windowEnd: end,
      windowMs: view.windowMs,
      groupBy: view.groupBy,
      groups,
    };
  }

  /**
   * The stats of `signal` over `[end - windowMs, end)` per group, as {@link snapshot} computes them,
   * except that groups with no value (`(none)`) for a `groupBy` dimension are kept. Throws
   * `VIGIL_QUERY_INVALID` naming the bad parameter as {@link snapshot} does.
   */
  query(options: FamilyQueryOptions): FamilyQueryResult {
    // Dashboards repeat the same few queries far more often than events arrive: an answer is kept
    // until the store changes.
    const key = queryKey(options);
    const cached = this.answers.get(key);
    if (cached !== undefined && cached.version === this.changes) return copyResult(cached.result);
    const { signal, windowMs, end, groupBy, filter, stats, baseline } = options;
    const prepared = this.prepare(signal, stats, groupBy, filter, baseline, '');
    this.checkWindow(windowMs, end, prepared.baseline);
    const result = { windowStart: end - windowMs, windowEnd: end, groups: this.evaluate(prepared, windowMs, end, false) };
    if (cached === undefined && this.answers.size >= MAX_CACHED_ANSWERS) this.answers.delete(this.answers.keys().next().value as string);
    this.answers.set(key, { version: this.changes, result });
    return copyResult(result);
  }

  /**
   * Marks the sub-windows ending at or before `boundary` closed and compacts their digests; call it
   * for each boundary the watermark closes, before reading windows that end there.
   */
  closeThrough(boundary: number): void {
    this.ring.closeThrough(boundary);
    if (this.packOnClose) this.packClosed();
    else this.repack.clear();
    this.changes++;
    const end = Math.floor(boundary / this.subWindowMs) * this.subWindowMs;
    if (end > this.closedEnd) this.closedEnd = end;
  }

  /** Drops the sub-windows ending at or before `t`. */
  evictBefore(t: number): void {
    this.ring.evictBefore(t);
    if (t > this.evictedEnd) this.evictedEnd = t;
    this.changes++;
  }

  /**
   * The aggregates of the sub-window starting at `start`, for two-stage aggregation: per fine key
   * its dimension values, event count, counter sums (the family's layout) and one serialised digest
   * per distribution (`TDigest.toBytes()`; null where the key had no value). Null when the store
   * holds no such sub-window or it has no aggregate. Entries are sorted by the fine key's string,
   * so two stores given the same events in the same order export identical partials (entries and
   * digest bytes) whatever order their keys first appeared in.
   *
   * Meant for a closed sub-window; exporting an open one flushes its digests' pending values (as a
   * query would) and gives what it holds so far. The store is otherwise left unchanged. Cost: one
   * `toBytes` per digest (a packed digest is thawed first) and a sort of the keys.
   *
   * With `release`, the digests are handed over instead (`TDigest.takeBytes`: the same bytes,
   * compressed straight from their pending values, their storage given back): the sub-window's
   * counts and counters stay, its distributions read empty after. For a store whose sub-windows
   * are each exported once and then dropped — a partition task's.
   */
  exportSubWindow(start: number, options: { release?: boolean } = {}): SubWindowPartial | null {
    const release = options.release === true;
    const sw = this.ring.entriesOf(start);
    if (sw === undefined || sw.values.length === 0) return null;
    const { keys, values } = sw;
    const order = keys.map((_key, i) => i);
    order.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
    const width = this.counterCount;
    const entries: PartialEntry[] = [];
    for (const i of order) {
      const agg = values[i];
      const digests: (Uint8Array | null)[] = [];
      for (const d of agg.digests) {
        if (d === null || d.count === 0) digests.push(null);
        else if (d instanceof PackedDigest) digests.push(d.thaw().toBytes());
        else digests.push(release ? d.takeBytes() : d.toBytes());
      }
      entries.push({
        values: agg.fineKey.values,
        count: agg.count,
        counters: agg.counters.slice(agg.base, agg.base + width),
        digests,
      });
    }
    return { family: this.family.name, subWindowMs: this.subWindowMs, start: sw.start, entries };
  }

  /**
   * Adds a partial — another store's {@link exportSubWindow} of the same family and sub-window
   * length — into the sub-window at `partial.start`, as if this store had seen those events: per
   * entry, the fine key is interned as {@link add} interns it (a key beyond `maxKeysPerSubWindow`
   * goes to the overflow aggregate, and an entry whose values are all `(overflow)` to it directly),
   * then its count and counters are added and each digest merged in. Works on an open or a closed
   * sub-window: digests of a closed one merged into stay unpacked until the next
   * {@link closeThrough} packs them again, so memory stays within a packed sub-window's plus the
   * digests touched since the last boundary. Invalidates cached answers and sliding views.
   *
   * Not idempotent: the caller must merge each partial once (e.g. one per task and sub-window).
   * Splitting events across stores and merging all their partials into one store answers every
   * query and snapshot as one store of all the events would — counts, min and max exactly,
   * counter and value sums up to the order of floating-point additions, quantiles within the
   * digests' merge bound — except which keys overflow when a sub-window holds more than
   * `maxKeysPerSubWindow` keys.
   *
   * Returns false — merging nothing and counting it in `stats().droppedPartials` — when the
   * sub-window is already gone: it ends at or before the largest {@link evictBefore} time, or at or
   * before the last closed boundary minus the retention (it would be evicted at once). True when
   * merged (a partial without entries merges nothing).
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` with `details.field` naming what does not fit the
   *   store, before anything is merged: `family`, `subWindowMs`, `start` (not a sub-window
   *   boundary), `entries`, or of an entry `values` (not one string per dimension), `count`,
   *   `counters` (not the family's counter width, or not finite), `digests` (not one per
   *   distribution, or bytes `TDigest.fromBytes` rejects).
   */
  mergeSubWindow(partial: SubWindowPartial): boolean {
    return this.mergeSubWindows([partial]) === 1;
  }

  /**
   * Adds several partials — e.g. one sub-window's partials of every partition task, in task order —
   * as {@link mergeSubWindow} adds each in turn, except that each digest of an aggregate is merged
   * once, from the bytes of all of them in one pass (`TDigest.mergeBytes`), instead of once per
   * partial: counts, counters, min and max come out the same; quantiles differ only by how the
   * centroids were grouped for compression, within the same bound. One partial merges exactly as
   * {@link mergeSubWindow} does.
   *
   * Every partial is checked before anything is merged (the errors of {@link mergeSubWindow}).
   * Returns how many were merged; the others were dropped (see {@link mergeSubWindow}) and are
   * counted in `stats().droppedPartials`.
   */
  mergeSubWindows(partials: readonly SubWindowPartial[]): number {
    // The partials' digests lie in a few buffers (their messages): one view each, not one per digest.
    return TDigest.sharingViews(() => this.mergeAll(partials));
  }

  private mergeAll(partials: readonly SubWindowPartial[]): number {
    for (const partial of partials) {
      this.checkPartial(partial);
      this.checkDigests(partial.entries);
    }
    if (this.droppedPartials < 0) this.droppedPartials = 0;
    const width = this.counterCount;
    const n = this.distributions.length;
    const ring = this.ring;
    // Per aggregate, the bytes of each of its digests still to merge.
    const incoming = new Map<FamilyAggregate, (Uint8Array[] | null)[]>();
    const closedAggs: FamilyAggregate[] = [];
    let mergedCount = 0;
    for (const partial of partials) {
      const start = partial.start;
      const end = start + this.subWindowMs;
      if (end <= this.evictedEnd || end <= this.closedEnd - this.retentionMs) {
        this.droppedPartials++;
        continue;
      }
      mergedCount++;
      const entries = partial.entries;
      if (entries.length === 0) continue;
      if (start < this.closedEnd) this.lateWrites++;
      this.changes++;
      let closed: boolean | undefined;
      for (let e = 0; e < entries.length; e++) {
        const entry = entries[e];
        const fineKey = this.fineKeyOfValues(entry.values);
        this.adding = fineKey;
        const overflowed = ring.overflowCount;
        const agg = ring.get(start, fineKey.key);
        if (fineKey.refs === 0) this.release(fineKey);
        if (ring.overflowCount !== overflowed) this.mergedOverflow += entry.count - 1;
        closed ??= ring.entriesOf(start)?.closed ?? false;
        agg.count += entry.count;
        const counters = agg.counters;
        const base = agg.base;
        const add = entry.counters;
        for (let i = 0; i < width; i++) counters[base + i] += add[i];
        const digests = entry.digests;
        let lists = incoming.get(agg);
        for (let i = 0; i < n; i++) {
          const bytes = digests[i];
          if (bytes === null || serializedDigestIsEmpty(bytes)) continue;
          if (lists === undefined) incoming.set(agg, (lists = new Array<Uint8Array[] | null>(n).fill(null)));
          const list = lists[i];
          if (list === null) lists[i] = [bytes];
          else list.push(bytes);
        }
        if (closed) closedAggs.push(agg);
      }
    }
    const compression = this.compression ?? DEFAULT_COMPRESSION;
    for (const [agg, lists] of incoming) {
      for (let i = 0; i < n; i++) {
        const list = lists[i];
        if (list !== null) agg.digests[i] = TDigest.mergeBytes(list, compression, agg.digests[i]);
      }
    }
    for (const agg of closedAggs) this.repack.add(agg);
    return mergedCount;
  }

  /** Memory figures; walks every aggregate, so meant for status pages, not the hot path. */
  stats(): FamilyStoreStats {
    let digests = 0;
    let bytes = 0;
    this.ring.forEachInRange(-Infinity, Infinity, (key, agg) => {
      bytes += AGGREGATE_OVERHEAD_BYTES + 2 * key.length + ARRAY_OVERHEAD_BYTES + 8 * agg.digests.length;
      if (this.counterCount > 0) bytes += 8 * this.counterCount + (agg.counters.length === this.counterCount ? TYPED_ARRAY_OVERHEAD_BYTES : 0);
      for (const d of agg.digests) {
        if (d === null) continue;
        bytes += d.byteSize();
        digests++;
      }
    });
    return {
      subWindows: this.ring.subWindowCount,
      keys: this.ring.keyCount,
      labelCombinations: this.interned,
      digests,
      approxBytes: bytes,
      overflowCount: this.ring.overflowCount + this.mergedOverflow,
      invalidValues: this.invalid,
      ...(this.droppedPartials < 0 ? {} : { droppedPartials: this.droppedPartials }),
    };
  }

  /** Throws naming the first field of `partial` that does not fit this store (see {@link mergeSubWindow}). */
  private checkPartial(partial: SubWindowPartial): void {
    const fail = (field: string, message: string): never => {
      throw new VigilError('VIGIL_RECORD_INVALID', `SubWindowPartial.${field}: ${message}`, { details: { field } });
    };
    const family = this.family.name;
    if (partial.family !== family) fail('family', `a partial of family ${String(partial.family)} cannot merge into the ${family} store`);
    const step = this.subWindowMs;
    if (partial.subWindowMs !== step) fail('subWindowMs', `must be the store's sub-window (${step} ms), got ${String(partial.subWindowMs)}`);
    if (!Number.isSafeInteger(partial.start) || partial.start % step !== 0) {
      fail('start', `must be a sub-window boundary (a multiple of ${step} ms), got ${String(partial.start)}`);
    }
    if (!Array.isArray(partial.entries)) fail('entries', 'must be an array');
    const dims = this.dimensionCount;
    const width = this.counterCount;
    const n = this.distributions.length;
    partial.entries.forEach((entry, e) => {
      const at = `entry ${e}: `;
      const values = entry.values;
      if (!Array.isArray(values) || values.length !== dims || !values.every((v) => typeof v === 'string')) {
        fail('values', `${at}must be ${dims} strings, the values of ${this.family.dimensions.join(', ')}`);
      }
      if (!Number.isSafeInteger(entry.count) || entry.count < 0) fail('count', `${at}must be an integer ≥ 0, got ${String(entry.count)}`);
      const counters = entry.counters;
      if (counters?.length !== width) {
        fail('counters', `${at}must hold the family's ${width} counters, got ${String(counters?.length)}`);
      }
      for (let i = 0; i < width; i++) {
        if (typeof counters[i] !== 'number' || !Number.isFinite(counters[i])) fail('counters', `${at}counter ${i} must be a finite number`);
      }
      const digests = entry.digests;
      if (!Array.isArray(digests) || digests.length !== n) {
        fail('digests', `${at}must hold one digest or null per distribution (${n}), got ${String((digests as unknown[] | undefined)?.length)}`);
      }
      for (let i = 0; i < n; i++) {
        const d: unknown = digests[i];
        if (d !== null && !(d instanceof Uint8Array)) fail('digests', `${at}digest ${i} must be bytes or null`);
      }
    });
  }

  /** Throws naming the first entry and digest whose bytes are not a t-digest. */
  private checkDigests(entries: readonly PartialEntry[]): void {
    for (let e = 0; e < entries.length; e++) {
      const digests = entries[e].digests;
      for (let i = 0; i < digests.length; i++) {
        const bytes = digests[i];
        if (bytes === null) continue;
        try {
          TDigest.countOfBytes(bytes);
        } catch (cause) {
          const why = cause instanceof Error ? cause.message : String(cause);
          throw new VigilError('VIGIL_RECORD_INVALID', `SubWindowPartial.digests: entry ${e}: digest ${i} is not a t-digest (${why})`, {
            cause,
            details: { field: 'digests' },
          });
        }
      }
    }
  }

  /**
   * The interned fine key of a partial entry's values, as {@link fineKeyOf} interns an event's; the
   * overflow key for values that are all `(overflow)`.
   */
  private fineKeyOfValues(values: readonly string[]): FineKey {
    const dims = this.dimensionCount;
    if (dims > 0 && values.every((v) => v === OVERFLOW_KEY)) return this.overflowKey;
    let node = this.fineKeys;
    for (let i = 0; i < dims; i++) {
      let child = node.children.get(values[i]);
      if (child === undefined) {
        child = newTrieNode();
        node.children.set(values[i], child);
      }
      node = child;
    }
    let fineKey = node.leaf;
    if (fineKey === null) {
      const copy = values.slice(0, dims);
      fineKey = { key: copy.join(KEY_SEPARATOR), values: Object.freeze(copy), refs: 0, agg: null, aggStart: 0 };
      node.leaf = fineKey;
      this.interned++;
    }
    return fineKey;
  }

  // The digests of the aggregates just closed go into one pack: a closed sub-window's digests no
  // longer change, and each costs a few dozen bytes there instead of several hundred on its own.
  // So do the digests of closed sub-windows that merged partials thawed or created since.
  private packClosed(): void {
    const closing = this.closing;
    if (this.repack.size > 0) {
      for (const agg of this.repack) closing.push(agg);
      this.repack.clear();
    }
    if (closing.length === 0) return;
    // Their counters likewise go into one array (a late event still adds to its slice); one
    // already in a shared array of its sub-window stays there.
    const width = this.counterCount;
    if (width > 0) {
      let own = 0;
      for (let k = 0; k < closing.length; k++) if (closing[k].counters.length === width) own++;
      const shared = new Float64Array(width * own);
      let at = 0;
      for (let k = 0; k < closing.length; k++) {
        const agg = closing[k];
        if (agg.counters.length !== width) continue;
        shared.set(agg.counters.subarray(agg.base, agg.base + width), at);
        agg.counters = shared;
        agg.base = at;
        at += width;
      }
    }
    const live: TDigest[] = [];
    for (const agg of closing) for (const d of agg.digests) if (d instanceof TDigest) live.push(d);
    const packed = TDigest.pack(live);
    let k = 0;
    for (const agg of closing) {
      const digests = agg.digests;
      for (let i = 0; i < digests.length; i++) if (digests[i] instanceof TDigest) digests[i] = packed[k++];
    }
    closing.length = 0;
  }

  private newDigest(): TDigest {
    return this.compression === undefined ? new TDigest() : new TDigest(this.compression);
  }

  /** `TDigest.merge` at the store's compression: how every window digest tree of the store merges a window's blocks. */
  private readonly mergeDigests = (digests: readonly DigestSource[]): TDigest =>
    TDigest.merge(digests, this.compression ?? DEFAULT_COMPRESSION);

  /**
   * `TDigest.merge` at {@link BLOCK_COMPRESSION_FACTOR} times the store's compression: how every
   * window digest tree of the store merges a block's digests.
   */
  private readonly mergeBlocks = (digests: readonly DigestSource[]): TDigest =>
    TDigest.merge(digests, BLOCK_COMPRESSION_FACTOR * (this.compression ?? DEFAULT_COMPRESSION));

  /**
   * The aggregate the ring serves `fineKey` at time `t` — the key's own, or its sub-window's overflow
   * aggregate when that is full —, the key's own remembered on it for its next event in the same
   * sub-window (a range check instead of a map lookup; eviction forgets it).
   */
  private aggregateOf(fineKey: FineKey, t: number): FamilyAggregate {
    const cached = fineKey.agg;
    if (cached !== null && t >= fineKey.aggStart && t < fineKey.aggStart + this.subWindowMs) return cached;
    this.adding = fineKey;
    const agg = this.ring.get(t, fineKey.key);
    if (agg.fineKey === fineKey) {
      fineKey.agg = agg;
      fineKey.aggStart = this.ring.lastStart;
    } else if (fineKey.refs === 0) {
      // Served the overflow aggregate with no other use: forget the key so a flood cannot grow the trie.
      this.release(fineKey);
    }
    return agg;
  }

  private fineKeyOf(event: E): FineKey {
    const family = this.family;
    const dims = this.dimensionCount;
    let node = this.fineKeys;
    for (let i = 0; i < dims; i++) {
      const value = family.dimension(event, i) ?? NONE_VALUE;
      let child: TrieNode | null | undefined = node.lastChild;
      if (child === null || value !== node.lastValue) {
        child = node.children.get(value);
        if (child === undefined) {
          child = newTrieNode();
          node.children.set(value, child);
        }
        node.lastValue = value;
        node.lastChild = child;
      }
      node = child;
    }
    let fineKey = node.leaf;
    if (fineKey === null) {
      const values: string[] = [];
      for (let i = 0; i < dims; i++) values.push(family.dimension(event, i) ?? NONE_VALUE);
      fineKey = { key: values.join(KEY_SEPARATOR), values: Object.freeze(values), refs: 0, agg: null, aggStart: 0 };
      node.leaf = fineKey;
      this.interned++;
    }
    return fineKey;
  }

  private createAggregate(key: string, start: number): FamilyAggregate {
    const fineKey = key === OVERFLOW_KEY ? this.overflowKey : this.adding;
    fineKey.refs++;
    const n = this.distributions.length;
    const digests: (DigestSource | null)[] = n === 0 ? [] : new Array<DigestSource | null>(n).fill(null);
    return { fineKey, count: 0, counters: this.newCounters(start), base: 0, digests };
  }

  /** A zeroed counter array for a new aggregate of the sub-window at `start`: a view of a slab. */
  private newCounters(start: number): Float64Array {
    const width = this.counterCount;
    if (width === 0) return EMPTY_COUNTERS;
    const slab = start + this.subWindowMs <= this.closedEnd ? this.closedSlab : this.openSlab;
    if (slab.buffer === null || slab.used === SLAB_AGGREGATES) {
      slab.buffer = new ArrayBuffer(SLAB_AGGREGATES * width * Float64Array.BYTES_PER_ELEMENT);
      slab.used = 0;
    }
    return new Float64Array(slab.buffer, slab.used++ * width * Float64Array.BYTES_PER_ELEMENT, width);
  }

  // Drops a reference to a fine key and, at zero, removes it and its emptied branches from the trie.
  private release(fineKey: FineKey): void {
    if (fineKey.refs > 0) fineKey.refs--;
    if (fineKey.refs > 0 || fineKey === this.overflowKey) return;
    const path: TrieNode[] = [this.fineKeys];
    let node: TrieNode | undefined = this.fineKeys;
    for (let i = 0; i < this.dimensionCount && node !== undefined; i++) {
      node = node.children.get(fineKey.values[i]);
      if (node !== undefined) path.push(node);
    }
    if (node?.leaf !== fineKey) return;
    node.leaf = null;
    this.interned--;
    for (let i = this.dimensionCount; i > 0; i--) {
      const n = path[i];
      if (n.leaf !== null || n.children.size > 0) return;
      const parent = path[i - 1];
      parent.children.delete(fineKey.values[i - 1]);
      if (parent.lastChild === n) parent.lastChild = null;
    }
  }

  private checkWindow(windowMs: number, end: number, baseline: BaselineSpec | undefined): void {
    const step = this.subWindowMs;
    if (!Number.isSafeInteger(windowMs) || windowMs <= 0 || windowMs % step !== 0 || windowMs > this.retentionMs) {
      throw queryError(
        'window',
        `window must be a positive multiple of the sub-window (${step} ms) of at most the retention ` +
          `(${this.retentionMs} ms), got ${String(windowMs)} ms`,
      );
    }
    if (!Number.isFinite(end) || end % step !== 0) {
      throw queryError('end', `end must be a sub-window boundary (a multiple of ${step} ms), got ${String(end)}`);
    }
    if (baseline === undefined) return;
    const b = baseline.windowMs;
    if (!Number.isSafeInteger(b) || b <= 0 || b % step !== 0) {
      throw queryError('baseline', `baseline window must be a positive multiple of the sub-window (${step} ms), got ${String(b)} ms`);
    }
    if (windowMs + b > this.retentionMs) {
      throw queryError(
        'baseline',
        `window (${windowMs} ms) plus baseline window (${b} ms) must be at most the retention (${this.retentionMs} ms)`,
      );
    }
  }

  private prepare(
    signalName: string,
    stats: readonly string[],
    groupBy: readonly string[],
    filter: Readonly<Record<string, string | undefined>>,
    baseline: BaselineSpec | undefined,
    context: string,
  ): PreparedQuery {
    const signal = this.signalsByName.get(signalName);
    if (signal === undefined) {
      throw queryError('signal', `${context}unknown signal ${String(signalName)} (${this.statHint(signalName)})`);
    }
    const dimensions = this.family.dimensions;
    const groupByIndices: number[] = [];
    for (const d of groupBy) {
      const index = dimensions.indexOf(d);
      if (index < 0) {
        const known = dimensions.join(', ');
        throw queryError('groupBy', `${context}groupBy: unknown dimension ${String(d)} of ${signal.name} (one of ${known})`);
      }
      if (groupByIndices.includes(index)) throw queryError('groupBy', `${context}groupBy: dimension ${d} given twice`);
      groupByIndices.push(index);
    }
    const filterIndices: number[] = [];
    const filterValues: string[] = [];
    for (const [d, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      const index = dimensions.indexOf(d);
      if (index < 0) {
        throw queryError('filter', `${context}filter: unknown dimension ${d} of ${signal.name} (one of ${dimensions.join(', ')})`);
      }
      filterIndices.push(index);
      filterValues.push(value);
    }
    if (baseline !== undefined && !['difference', 'ratio', 'relative'].includes(baseline.compare)) {
      throw queryError('baseline', `${context}baseline compare must be difference, ratio or relative, got ${String(baseline.compare)}`);
    }
    const counterStats: CounterStat[] = [];
    const distributionStats: DistributionStat[] = [];
    const quantiles: number[] = [];
    let needsDigest = false;
    for (const name of stats) {
      const hint = (): string => `${context}unknown stat ${String(name)} of ${signal.name} (${this.statHint(signal.name)})`;
      if (signal.kind === 'counter') {
        const stat = parseCounterStat(name, signal.counters);
        if (stat === undefined) throw queryError('stats', hint());
        counterStats.push(stat);
        continue;
      }
      const stat = parseDistributionStat(name);
      if (stat === undefined) throw queryError('stats', hint());
      if (stat.kind === 'psi') {
        if (baseline === undefined) {
          throw queryError('stats', `${context}stat psi of ${signal.name} needs a baseline window to compare with`);
        }
        needsDigest = true;
      }
      if (stat.kind === 'quantile') {
        quantiles.push(stat.q);
        needsDigest = true;
      }
      distributionStats.push(stat);
    }
    const needed = new Set<number>();
    for (const stat of counterStats) {
      if (stat.kind === 'sum' || stat.kind === 'rate') needed.add(stat.counter);
      else if (stat.kind === 'per_min' && stat.counter !== null) needed.add(stat.counter);
      else if (stat.kind === 'ratio') for (const c of [stat.numerator, ...stat.denominators]) needed.add(c);
    }
    return {
      signal,
      stats: [...stats],
      counterStats,
      neededCounters: [...needed].sort((a, b) => a - b),
      distributionStats,
      quantiles,
      needsDigest,
      groupByNames: [...groupBy],
      groupByIndices,
      filterIndices,
      filterValues,
      baseline: baseline === undefined ? undefined : { windowMs: baseline.windowMs, compare: baseline.compare },
    };
  }

  private evaluate(p: PreparedQuery, windowMs: number, end: number, dropNone: boolean): FamilyQueryGroup[] {
    const groups = this.collect(p, windowMs, end, dropNone);
    const out: FamilyQueryGroup[] = [];
    for (const g of groups) {
      const group =
        p.signal.kind === 'counter' ? this.counterGroup(p, p.signal.counters.length, g, windowMs) : this.distributionGroup(p, g, windowMs, end);
      if (group !== null) out.push(group);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /** Groups of the window and its baseline, with counter sums in {@link sums} or digests gathered. */
  private collect(p: PreparedQuery, windowMs: number, end: number, dropNone: boolean): GroupAccumulator[] {
    const signal = p.signal;
    const currentStart = end - windowMs;
    const start = p.baseline === undefined ? currentStart : currentStart - p.baseline.windowMs;
    const width = signal.kind === 'counter' ? signal.counters.length : 0;
    const offset = signal.kind === 'counter' ? signal.offset : 0;
    const digestIndex = signal.kind === 'distribution' ? signal.index : -1;
    const needed = p.neededCounters;
    const groups = new Map<string, GroupAccumulator>();
    const list: GroupAccumulator[] = [];
    // A fine key recurs in every sub-window of the window: decide its group once.
    const groupOfKey = new Map<FineKey, GroupAccumulator | null>();
    this.ring.forEachInRange(start, end, (_key, agg, subWindowStart) => {
      let group = groupOfKey.get(agg.fineKey);
      if (group === undefined) {
        group = this.groupOf(p, agg.fineKey, groups, list, dropNone, 2 * width);
        groupOfKey.set(agg.fineKey, group);
      }
      if (group === null) return;
      const inBaseline = subWindowStart < currentStart;
      if (digestIndex < 0) {
        if (inBaseline) group.baselineCount += agg.count;
        else group.count += agg.count;
        const sums = this.sums;
        const at = group.offset + (inBaseline ? width : 0);
        const counters = agg.counters;
        const from = agg.base + offset;
        for (let j = 0; j < needed.length; j++) {
          const i = needed[j];
          sums[at + i] += counters[from + i];
        }
        return;
      }
      const digest = agg.digests[digestIndex];
      if (digest === null || digest.count === 0) return;
      if (inBaseline) {
        group.baselineDigests.push(digest);
        group.baselineStarts.push(subWindowStart);
      } else {
        group.digests.push(digest);
        group.digestStarts.push(subWindowStart);
      }
    });
    return list;
  }

  private groupOf(
    p: PreparedQuery,
    fineKey: FineKey,
    groups: Map<string, GroupAccumulator>,
    list: GroupAccumulator[],
    dropNone: boolean,
    sumsWidth: number,
  ): GroupAccumulator | null {
    const key = this.groupKeyOf(p, fineKey, dropNone);
    if (key === null) return null;
    let group = groups.get(key);
    if (group !== undefined) return group;
    group = this.newGroup(key, this.labelsOf(p, fineKey), list.length * sumsWidth, sumsWidth);
    groups.set(key, group);
    list.push(group);
    return group;
  }

  /** A group accumulator whose counter sums live at `offset` of {@link sums}, zeroed. */
  private newGroup(key: string, labels: Record<string, string>, offset: number, sumsWidth: number): GroupAccumulator {
    if (this.sums.length < offset + sumsWidth) {
      const grown = new Float64Array(Math.max(2 * this.sums.length, offset + sumsWidth));
      grown.set(this.sums.subarray(0, offset));
      this.sums = grown;
    }
    this.sums.fill(0, offset, offset + sumsWidth);
    return { key, labels, offset, count: 0, baselineCount: 0, digests: [], baselineDigests: [], digestStarts: [], baselineStarts: [] };
  }

  /** The canonical group key of a fine key's events in a query, or null when the query leaves them out. */
  private groupKeyOf(p: PreparedQuery, fineKey: FineKey, dropNone: boolean): string | null {
    const values = fineKey.values;
    for (let i = 0; i < p.filterIndices.length; i++) if (values[p.filterIndices[i]] !== p.filterValues[i]) return null;
    let key = p.groupByIndices.length === 0 ? '*' : '';
    for (let i = 0; i < p.groupByIndices.length; i++) {
      const value = values[p.groupByIndices[i]];
      if (dropNone && value === NONE_VALUE) return null;
      if (i > 0) key += ',';
      key += p.groupByNames[i] + '=' + encodeURIComponent(value);
    }
    return key;
  }

  private counterGroup(p: PreparedQuery, width: number, g: GroupAccumulator, windowMs: number): FamilyQueryGroup | null {
    if (g.count === 0) return null;
    const sums = this.sums;
    const baseline = p.baseline;
    const values: Record<string, number> = {};
    for (let i = 0; i < p.stats.length; i++) {
      const stat = p.counterStats[i];
      const current = counterValue(stat, g.count, sums, g.offset, windowMs);
      values[p.stats[i]] =
        baseline === undefined
          ? current
          : compare(current, counterValue(stat, g.baselineCount, sums, g.offset + width, baseline.windowMs), baseline.compare);
    }
    return { key: g.key, labels: g.labels, count: g.count, values };
  }

  private distributionGroup(p: PreparedQuery, g: GroupAccumulator, windowMs: number, end: number): FamilyQueryGroup | null {
    const currentStart = end - windowMs;
    const current = this.figures(g.digests, g.digestStarts, currentStart, end, p.needsDigest);
    if (current.count === 0) return null;
    const before =
      p.baseline === undefined ? null : this.figures(g.baselineDigests, g.baselineStarts, currentStart - p.baseline.windowMs, currentStart, p.needsDigest);
    return this.distributionValues(p, g.key, g.labels, current, before);
  }

  private distributionValues(
    p: PreparedQuery,
    key: string,
    labels: Readonly<Record<string, string>>,
    current: DistributionFigures,
    before: DistributionFigures | null,
  ): FamilyQueryGroup {
    const baseline = p.baseline;
    const qs = current.digest === null || p.quantiles.length === 0 ? p.quantiles : current.digest.quantiles(p.quantiles);
    const baseQs =
      before === null || p.quantiles.length === 0
        ? p.quantiles
        : before.digest === null
          ? p.quantiles.map(() => NaN)
          : before.digest.quantiles(p.quantiles);
    const values: Record<string, number> = {};
    let qi = 0;
    for (let i = 0; i < p.stats.length; i++) {
      const stat = p.distributionStats[i];
      if (stat.kind === 'psi') {
        // prepare() admits psi only with a baseline.
        const b = before?.digest ?? null;
        values[p.stats[i]] = b === null || current.digest === null ? NaN : populationStabilityIndex(b, current.digest);
        continue;
      }
      let value: number;
      let baseValue = NaN;
      if (stat.kind === 'quantile') {
        value = qs[qi];
        baseValue = baseQs[qi];
        qi++;
      } else {
        value = distributionValue(stat.kind, current);
        if (before !== null) baseValue = distributionValue(stat.kind, before);
      }
      values[p.stats[i]] = baseline === undefined ? value : compare(value, baseValue, baseline.compare);
    }
    return { key, labels, count: current.count, values };
  }

  /**
   * The groups of a distribution view at `end` from its {@link SlidingView}: adds the sub-windows
   * between the previous snapshot's end and `end` to every group's tree, drops those before the
   * (baseline) window, and reads the windows from the trees, giving the figures {@link evaluate}
   * would (same digests, same blocks, same merges). Every sub-window before `end` is closed.
   */
  private slidingGroups(view: SignalView, p: PreparedQuery, end: number): FamilyQueryGroup[] {
    const digestIndex = p.signal.kind === 'distribution' ? p.signal.index : -1;
    const currentStart = end - view.windowMs;
    const start = p.baseline === undefined ? currentStart : currentStart - p.baseline.windowMs;
    let s = this.slidingViews.get(view);
    if (s === undefined || s.lateWrites !== this.lateWrites || end < s.end) {
      s = { end: start, lateWrites: this.lateWrites, groups: new Map(), groupKeyOf: new WeakMap() };
      this.slidingViews.set(view, s);
    }
    const state = s;
    // The sub-windows that entered since the last snapshot become leaves of their groups' trees,
    // each with its group's digests in ring order (what the full path gathers).
    const sub = this.subWindowMs;
    const groupOfKey = new Map<FineKey, SlidingGroup | null>();
    let leafStart = NaN;
    const leaves = new Map<SlidingGroup, DigestSource[]>();
    const flush = (): void => {
      for (const [group, digests] of leaves) group.tree.addLeaf(leafStart / sub, digests);
      leaves.clear();
    };
    this.ring.forEachInRange(Math.max(state.end, start), end, (_key, agg, subWindowStart) => {
      const digest = agg.digests[digestIndex];
      if (digest === null || digest.count === 0) return;
      let group = groupOfKey.get(agg.fineKey);
      if (group === undefined) {
        group = this.slidingGroupOf(p, state, agg.fineKey);
        groupOfKey.set(agg.fineKey, group);
      }
      if (group === null) return;
      if (subWindowStart !== leafStart) {
        flush();
        leafStart = subWindowStart;
      }
      const digests = leaves.get(group);
      if (digests === undefined) leaves.set(group, [digest]);
      else digests.push(digest);
    });
    flush();
    state.end = end;
    const out: FamilyQueryGroup[] = [];
    for (const group of [...state.groups.values()]) {
      const tree = group.tree;
      if (tree.lastIndex < start / sub) {
        state.groups.delete(group.key);
        continue;
      }
      tree.dropBefore(start / sub);
      if (tree.lastIndex < currentStart / sub) continue;
      const current = this.treeFigures(tree, currentStart, end);
      const before = p.baseline === undefined ? null : this.treeFigures(tree, start, currentStart);
      out.push(this.distributionValues(p, group.key, { ...group.labels }, current, before));
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /**
   * The groups of a counter view at `end` from its {@link SlidingCounterView}, or null (the caller
   * takes the full path) when a summed value in the window is not an integer or the sums could
   * exceed the exact range. Every sub-window before `end` is closed.
   */
  private slidingCounterGroups(view: SignalView, p: PreparedQuery, end: number): FamilyQueryGroup[] | null {
    if (p.signal.kind !== 'counter') return null;
    const offset = p.signal.offset;
    const needed = p.neededCounters;
    const n = needed.length;
    const currentStart = end - view.windowMs;
    const start = p.baseline === undefined ? currentStart : currentStart - p.baseline.windowMs;
    let s = this.slidingCounterViews.get(view);
    if (s === undefined || s.lateWrites !== this.lateWrites || end < s.end) {
      s = { end: start, lateWrites: this.lateWrites, segments: [], groupKeyOf: new WeakMap(), labels: new Map() };
      this.slidingCounterViews.set(view, s);
    }
    const state = s;
    let dropped = 0;
    while (dropped < state.segments.length && state.segments[dropped].start < start) dropped++;
    if (dropped > 0) state.segments.splice(0, dropped);
    let segment: CounterSegment | undefined;
    const slots = new Map<string, number>();
    this.ring.forEachInRange(Math.max(state.end, start), end, (_key, agg, subWindowStart) => {
      if (segment === undefined || segment.start !== subWindowStart) {
        segment = { start: subWindowStart, keys: [], counts: [], sums: [], absSum: 0, integral: true };
        state.segments.push(segment);
        slots.clear();
      }
      let key = state.groupKeyOf.get(agg.fineKey);
      if (key === undefined) {
        key = this.groupKeyOf(p, agg.fineKey, true);
        state.groupKeyOf.set(agg.fineKey, key);
        if (key !== null && !state.labels.has(key)) state.labels.set(key, this.labelsOf(p, agg.fineKey));
      }
      if (key === null) return;
      let slot = slots.get(key);
      if (slot === undefined) {
        slot = segment.keys.length;
        slots.set(key, slot);
        segment.keys.push(key);
        segment.counts.push(0);
        for (let j = 0; j < n; j++) segment.sums.push(0);
      }
      segment.counts[slot] += agg.count;
      const counters = agg.counters;
      const from = agg.base + offset;
      const base = slot * n;
      for (let j = 0; j < n; j++) {
        const v = counters[from + needed[j]];
        segment.sums[base + j] += v;
        segment.absSum += Math.abs(v);
        if (!Number.isInteger(v)) segment.integral = false;
      }
    });
    state.end = end;
    return this.foldCounterSegments(p, state, currentStart, view.windowMs);
  }

  /** Adds up a sliding counter view's segments per group, or null when that would not be exact. */
  private foldCounterSegments(p: PreparedQuery, state: SlidingCounterView, currentStart: number, windowMs: number): FamilyQueryGroup[] | null {
    if (p.signal.kind !== 'counter') return null;
    const width = p.signal.counters.length;
    const needed = p.neededCounters;
    const n = needed.length;
    const segments = state.segments;
    let absSum = 0;
    for (let i = 0; i < segments.length; i++) {
      if (!segments[i].integral) return null;
      absSum += segments[i].absSum;
    }
    if (!(absSum <= EXACT_INTEGER_SUM)) return null;
    const groups = new Map<string, GroupAccumulator>();
    const list: GroupAccumulator[] = [];
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const inBaseline = seg.start < currentStart;
      const keys = seg.keys;
      for (let slot = 0; slot < keys.length; slot++) {
        const key = keys[slot];
        let g = groups.get(key);
        if (g === undefined) {
          // Snapshots are handed out: each gets its own labels objects.
          g = this.newGroup(key, { ...state.labels.get(key) }, list.length * 2 * width, 2 * width);
          groups.set(key, g);
          list.push(g);
        }
        if (inBaseline) g.baselineCount += seg.counts[slot];
        else g.count += seg.counts[slot];
        const at = g.offset + (inBaseline ? width : 0);
        const sums = this.sums;
        const partial = seg.sums;
        const base = slot * n;
        for (let j = 0; j < n; j++) sums[at + needed[j]] += partial[base + j];
      }
    }
    const out: FamilyQueryGroup[] = [];
    for (const g of list) {
      const group = this.counterGroup(p, width, g, windowMs);
      if (group !== null) out.push(group);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  private labelsOf(p: PreparedQuery, fineKey: FineKey): Record<string, string> {
    const labels: Record<string, string> = {};
    for (let i = 0; i < p.groupByIndices.length; i++) labels[p.groupByNames[i]] = fineKey.values[p.groupByIndices[i]];
    return labels;
  }

  /** Figures of the sub-windows `[from, to)` of a window digest tree. */
  private treeFigures(tree: WindowDigestTree, from: number, to: number): DistributionFigures {
    const d = tree.window(from / this.subWindowMs, to / this.subWindowMs);
    if (d === null) return { count: 0, sum: 0, min: NaN, max: NaN, digest: null };
    return { count: d.count, sum: d.sum, min: d.min, max: d.max, digest: d };
  }

  /** The group of a fine key in a sliding view (created on first use), or null when filtered out. */
  private slidingGroupOf(p: PreparedQuery, state: SlidingView, fineKey: FineKey): SlidingGroup | null {
    let key = state.groupKeyOf.get(fineKey);
    if (key === undefined) {
      key = this.groupKeyOf(p, fineKey, true);
      state.groupKeyOf.set(fineKey, key);
    }
    if (key === null) return null;
    let group = state.groups.get(key);
    if (group === undefined) {
      group = { key, labels: this.labelsOf(p, fineKey), tree: new WindowDigestTree(this.mergeBlocks, this.mergeDigests) };
      state.groups.set(key, group);
    }
    return group;
  }

  /** Figures of `digests` (from the sub-windows starting at `starts`, ascending) over `[from, to)`. */
  private figures(digests: readonly DigestSource[], starts: readonly number[], from: number, to: number, needsDigest: boolean): DistributionFigures {
    if (digests.length === 0) return { count: 0, sum: 0, min: NaN, max: NaN, digest: null };
    if (needsDigest) {
      // The same tree a sliding view keeps, built for this window only: the same digest bit for bit.
      const tree = new WindowDigestTree(this.mergeBlocks, this.mergeDigests);
      const sub = this.subWindowMs;
      for (let i = 0; i < digests.length; ) {
        let j = i + 1;
        while (j < digests.length && starts[j] === starts[i]) j++;
        tree.addLeaf(starts[i] / sub, i === 0 && j === digests.length ? digests : digests.slice(i, j));
        i = j;
      }
      return this.treeFigures(tree, from, to);
    }
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const d of digests) {
      count += d.count;
      sum += d.sum;
      min = Math.min(min, d.min);
      max = Math.max(max, d.max);
    }
    return { count, sum, min, max, digest: null };
  }
}

/**
 * δ of a window digest tree's blocks relative to the window's: their centroids are compressed
 * again in the window's digest, so they keep more (the rank error then stays that of one flat
 * merge, `test/operators/window-digest-tree.test.ts`).
 */
const BLOCK_COMPRESSION_FACTOR = 2;

/** Most query answers a store keeps (the oldest is dropped first). */
const MAX_CACHED_ANSWERS = 64;

const SEP = '\u0001';

/** A string identifying a query's options (filter keys in their given order). */
function queryKey(o: FamilyQueryOptions): string {
  let key = String(o.signal) + SEP + o.windowMs + SEP + o.end + SEP + o.groupBy.join('\u0002') + SEP + o.stats.join('\u0002') + SEP;
  for (const name in o.filter) {
    const value = o.filter[name];
    if (value !== undefined) key += name + '\u0002' + value + '\u0003';
  }
  return o.baseline === undefined ? key : key + SEP + o.baseline.windowMs + SEP + String(o.baseline.compare);
}

/** An empty node of the fine-key trie. */
function newTrieNode(): TrieNode {
  return { children: new Map(), leaf: null, lastValue: '', lastChild: null };
}

/** A copy of a query answer that shares nothing mutable with it. */
function copyResult(r: FamilyQueryResult): FamilyQueryResult {
  return {
    windowStart: r.windowStart,
    windowEnd: r.windowEnd,
    groups: r.groups.map((g) => ({ key: g.key, labels: { ...g.labels }, count: g.count, values: { ...g.values } })),
  };
}

function counterValue(stat: CounterStat, count: number, sums: Float64Array, at: number, windowMs: number): number {
  switch (stat.kind) {
    case 'count':
      return count;
    case 'sum':
      return sums[at + stat.counter];
    case 'rate':
      return count === 0 ? NaN : sums[at + stat.counter] / count;
    case 'ratio': {
      let denominator = 0;
      for (const d of stat.denominators) denominator += sums[at + d];
      return denominator === 0 ? NaN : sums[at + stat.numerator] / denominator;
    }
    case 'per_min':
      return (stat.counter === null ? count : sums[at + stat.counter]) / (windowMs / MS_PER_MINUTE);
  }
}

function distributionValue(kind: 'count' | 'sum' | 'mean' | 'min' | 'max', f: DistributionFigures): number {
  switch (kind) {
    case 'count':
      return f.count;
    case 'sum':
      return f.sum;
    case 'mean':
      return f.count === 0 ? NaN : f.sum / f.count;
    case 'min':
      return f.min;
    case 'max':
      return f.max;
  }
}

function compare(current: number, baseline: number, how: BaselineSpec['compare']): number {
  switch (how) {
    case 'difference':
      return current - baseline;
    case 'ratio':
      return baseline === 0 ? NaN : current / baseline;
    case 'relative':
      return baseline === 0 ? NaN : (current - baseline) / baseline;
  }
}

function checkFamily<E>(family: SignalFamily<E>): void {
  const fail = (message: string): never => {
    throw new VigilError('VIGIL_CONFIG_INVALID', `family ${family.name}: ${message}`, { details: { key: 'family' } });
  };
  if (new Set(family.dimensions).size !== family.dimensions.length) fail(`dimensions ${family.dimensions.join(', ')} repeat a name`);
  const names = new Set<string>();
  const claim = (name: string): void => {
    if (!NAME.test(name)) fail(`signal name ${name} must match ${String(NAME)}`);
    if (names.has(name)) fail(`signal ${name} defined twice`);
    names.add(name);
  };
  for (const s of family.counterSignals) {
    claim(s.signal);
    const seen = new Set<string>();
    for (const c of s.counters) {
      if (!NAME.test(c) || c === 'count') fail(`counter ${c} of ${s.signal} must match ${String(NAME)} and not be "count"`);
      if (seen.has(c)) fail(`counter ${c} of ${s.signal} defined twice`);
      seen.add(c);
    }
  }
  for (const d of family.distributions) claim(d.signal);
}

function queryError(param: string, message: string): VigilError {
  return new VigilError('VIGIL_QUERY_INVALID', message, { details: { param } });
}

