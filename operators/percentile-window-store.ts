import { VigilError } from '../src/errors.js';
import type { Dimension, GroupLabels } from '../src/model/dimensions.js';
import { DIMENSIONS, NONE_VALUE, groupKeyOf, isDimension } from '../src/model/dimensions.js';
import type { LlmSpan } from '../src/model/llm-span.js';
import type { SignalSnapshot, SignalView, SnapshotGroup } from '../src/model/signal-snapshot.js';
import { OVERFLOW_KEY, SubWindowRing } from './sub-window-ring.js';
import { TDigest } from './t-digest.js';

/** The signals a {@link PercentileWindowStore} answers: span `durationMs` and streaming `ttftMs`. */
export const PERCENTILE_SIGNALS = ['latency', 'ttft'] as const;

/** One of {@link PERCENTILE_SIGNALS}. */
export type PercentileSignal = (typeof PERCENTILE_SIGNALS)[number];

/** A parsed statistic name; see {@link parseStat}. */
export type ParsedStat = { kind: 'quantile'; q: number } | { kind: 'count' | 'mean' | 'min' | 'max' };

// `p` + a percentile in (0, 100) without leading or trailing zeros, so each quantile has one name.
const QUANTILE_STAT = /^p(0|[1-9][0-9]?)(\.[0-9]*[1-9])?$/;

/**
 * Parses a statistic name of a percentile signal: `count`, `mean`, `min`, `max`, or `p` followed by
 * a percentile strictly between 0 and 100 written without leading or trailing zeros — `p50`, `p99`,
 * `p99.9`, `p0.1` (quantile q = percentile / 100). Returns `undefined` for anything else (`p100`,
 * `p0`, `p050`, `p99.90`, `p999`).
 */
export function parseStat(name: string): ParsedStat | undefined {
  switch (name) {
    case 'count':
    case 'mean':
    case 'min':
    case 'max':
      return { kind: name };
  }
  if (!QUANTILE_STAT.test(name)) return undefined;
  const percentile = Number(name.slice(1));
  if (!(percentile > 0)) return undefined;
  return { kind: 'quantile', q: percentile / 100 };
}

/** Options of a {@link PercentileWindowStore}. */
export interface PercentileWindowStoreOptions {
  /** Sub-window length and slide, ms. */
  slideMs: number;
  /** Longest window a query or view may ask for, ms; a multiple of `slideMs`. */
  retentionMs: number;
  /** t-digest compression δ of every digest (default: the digest's default, 200). */
  compression?: number;
  /**
   * Most distinct fine keys (label combinations) per sub-window; more go to one overflow group whose
   * labels are all `(overflow)`. Default 10 000.
   */
  maxKeysPerSubWindow?: number;
}

/** A percentile question; see {@link PercentileWindowStore.query}. */
export interface PercentileQueryOptions {
  metric: PercentileSignal;
  /** Window length, ms: a positive multiple of the slide, at most the retention. */
  windowMs: number;
  /** Exclusive end of the window: a slide boundary. */
  end: number;
  groupBy: readonly Dimension[];
  /** Only spans whose dimension values equal these (`(none)` matches a null value). */
  filter: GroupLabels;
  /** Quantiles in [0, 1]. */
  quantiles: readonly number[];
}

/** One group of a {@link PercentileQueryResult}. */
export interface PercentileQueryGroup {
  /** {@link groupKeyOf} the group's labels. */
  key: string;
  /** The group's values of the `groupBy` dimensions. */
  labels: GroupLabels;
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Estimates of the asked quantiles, in the order asked. */
  quantiles: number[];
}

/** Answer of {@link PercentileWindowStore.query}. */
export interface PercentileQueryResult {
  windowStart: number;
  windowEnd: number;
  /** Groups with at least one value in the window, sorted by key. */
  groups: PercentileQueryGroup[];
}

/** Memory figures of a {@link PercentileWindowStore}. */
export interface PercentileStoreStats {
  /** Sub-windows held. */
  subWindows: number;
  /** Fine-key aggregates held, summed over sub-windows. */
  keys: number;
  /** Distinct label combinations held by live sub-windows (each interned once, with its labels). */
  labelCombinations: number;
  /** Digests held (a latency digest per aggregate, plus a ttft digest once a streaming span came). */
  digests: number;
  /** Approximate heap bytes: digests' own estimate plus a flat per-aggregate overhead. */
  approxBytes: number;
  /** Spans counted in the overflow aggregate because their sub-window was full. */
  overflowCount: number;
  /** Values skipped because they were not finite numbers (a `durationMs` or non-null `ttftMs`). */
  invalidValues: number;
}

const KEY_SEPARATOR = '\u0001';

function lacksGroupValue(labels: GroupLabels, groupBy: readonly Dimension[]): boolean {
  for (let i = 0; i < groupBy.length; i++) if (labels[groupBy[i]] === NONE_VALUE) return true;
  return false;
}

// Rough heap cost of a fine-key aggregate besides its digests: map entry, aggregate object, key string.
const AGGREGATE_OVERHEAD_BYTES = 160;

/** One label combination: its key string, its labels, and how many live aggregates use it. */
interface FineKey {
  readonly key: string;
  readonly labels: Readonly<Record<Dimension, string>>;
  refs: number;
}

// Fine keys by service, operation, model, provider and tenant value.
type FineKeyTrie = Map<string, Map<string, Map<string, Map<string, Map<string, FineKey>>>>>;

interface FineAggregate {
  readonly fineKey: FineKey;
  readonly latency: TDigest;
  ttft: TDigest | null;
}

interface GroupAccumulator {
  readonly key: string;
  readonly labels: GroupLabels;
  readonly digests: TDigest[];
}

interface PreparedView {
  readonly metric: PercentileSignal;
  readonly stats: readonly string[];
  readonly parsed: readonly ParsedStat[];
  readonly quantiles: readonly number[];
}

interface DigestGroup {
  readonly key: string;
  readonly labels: GroupLabels;
  readonly digest: TDigest;
}

/**
 * Latency and time-to-first-token distributions over sliding windows: per sub-window and per fine
 * key — the span's values of all {@link DIMENSIONS} — a t-digest of `durationMs` (every span) and of
 * `ttftMs` (spans with a non-null `ttftMs`, i.e. streaming calls). A window of any multiple of the
 * slide up to the retention, grouped by any dimensions and filtered by any values, is answered by
 * merging the matching digests. Pure and synchronous: the caller decides lateness (see
 * `EventTimeWatermark`) and when to close and evict sub-windows.
 *
 * Memory: per sub-window, one aggregate per fine key seen in it (at most `maxKeysPerSubWindow` + 1),
 * each holding one or two digests. A compacted digest costs ≈ 550 B + 16 B per centroid — about
 * 0.6 KB for a handful of values, ≤ ~2 KB at δ = 100 however many; while its sub-window is open a
 * digest also holds its ingest buffer (up to 32 KB for a busy key). {@link closeThrough} compacts the
 * digests of sub-windows that can no longer receive events, so only the ~`allowedLateness / slide + 2`
 * open sub-windows carry buffers. Plus one interned key and labels object per live label combination.
 */
export class PercentileWindowStore {
  /** Sub-window length and slide, ms. */
  readonly slideMs: number;
  /** Longest window a query or view may ask for, ms. */
  readonly retentionMs: number;
  /** Compression δ of the digests; `undefined` for the digest's default. */
  readonly compression: number | undefined;

  private readonly ring: SubWindowRing<FineAggregate>;
  // Interns label combinations: five lookups by the span's own strings find the key string, which
  // avoids building (and hashing) a concatenated key per span. Holds only keys in use (see release).
  private readonly fineKeys: FineKeyTrie = new Map();
  private readonly overflowKey: FineKey = {
    key: OVERFLOW_KEY,
    labels: Object.freeze({
      service: OVERFLOW_KEY,
      operation: OVERFLOW_KEY,
      model: OVERFLOW_KEY,
      provider: OVERFLOW_KEY,
      tenant: OVERFLOW_KEY,
    }),
    refs: 0,
  };
  // The fine key add() is looking up, for the ring's create callback, which only receives its string.
  private adding: FineKey = this.overflowKey;
  private readonly prepared = new WeakMap<SignalView, PreparedView>();
  private invalid = 0;
  private interned = 0;

  constructor(options: PercentileWindowStoreOptions) {
    const { slideMs, retentionMs, compression, maxKeysPerSubWindow } = options;
    if (compression !== undefined) {
      // Fails fast with the digest's own range check instead of on the first span.
      new TDigest(compression);
    }
    this.compression = compression;
    this.ring = new SubWindowRing<FineAggregate>({
      slideMs,
      retentionMs,
      maxKeysPerSubWindow,
      create: (key) => this.createAggregate(key),
      onClose: (agg) => {
        agg.latency.compact();
        agg.ttft?.compact();
      },
      onEvict: (agg) => this.release(agg.fineKey),
    });
    this.slideMs = slideMs;
    this.retentionMs = retentionMs;
  }

  /**
   * Counts one span in the sub-window of its `startTime`: its `durationMs` in the latency digest and,
   * when not null, its `ttftMs` in the ttft digest of its fine key. The caller has already rejected
   * late spans. A non-finite value is skipped and counted in `stats().invalidValues`.
   */
  add(span: LlmSpan): void {
    const fineKey = this.fineKeyOf(span);
    this.adding = fineKey;
    const agg = this.ring.get(span.startTime, fineKey.key);
    // Served the overflow aggregate with no other use: forget the key so a flood cannot grow the trie.
    if (fineKey.refs === 0) this.release(fineKey);
    const duration = span.durationMs;
    if (Number.isFinite(duration)) agg.latency.add(duration);
    else this.invalid++;
    const ttft = span.ttftMs;
    if (ttft !== null) {
      if (Number.isFinite(ttft)) (agg.ttft ??= this.newDigest()).add(ttft);
      else this.invalid++;
    }
  }

  /**
   * Distribution of `metric` over `[end - windowMs, end)`, one entry per group of `groupBy` with at
   * least one value, sorted by key. Each group's digests across fine keys and sub-windows are merged
   * by a single `TDigest.merge`. Throws `VIGIL_QUERY_INVALID` naming the bad parameter (`window`,
   * `end`, `metric`, `groupBy`, `filter`, `quantiles`).
   */
  query(options: PercentileQueryOptions): PercentileQueryResult {
    const { metric, windowMs, end, groupBy, filter, quantiles } = options;
    if (!(PERCENTILE_SIGNALS as readonly string[]).includes(metric)) {
      throw queryError('metric', `metric must be one of ${PERCENTILE_SIGNALS.join(', ')}, got ${String(metric)}`);
    }
    this.checkWindow(windowMs, end);
    checkGroupBy(groupBy);
    checkFilter(filter);
    for (const q of quantiles) {
      if (!(q >= 0 && q <= 1)) throw queryError('quantiles', `quantiles must be in [0, 1], got ${String(q)}`);
    }
    const groups = this.mergeGroups(metric, windowMs, end, groupBy, filter);
    const out: PercentileQueryGroup[] = [];
    for (const g of groups) {
      const d = g.digest;
      out.push({
        key: g.key,
        labels: g.labels,
        count: d.count,
        min: d.min,
        max: d.max,
        mean: d.mean,
        quantiles: quantiles.length === 0 ? [] : d.quantiles(quantiles),
      });
    }
    return { windowStart: end - windowMs, windowEnd: end, groups: out };
  }

  /**
   * What `view` shows for the window ending at slide boundary `end`: per group with at least one
   * value, its count and each of `view.stats` (see {@link parseStat}). Group labels are the group's
   * `groupBy` values. Spans with no value (`(none)`) for a `groupBy` dimension belong to no group
   * here — a rule "by model" watches the spans that have a model; ad-hoc queries still show them.
   * Throws `VIGIL_QUERY_INVALID` when the view's signal is not in
   * {@link PERCENTILE_SIGNALS}, a stat does not parse, or its window, groupBy or filter is invalid.
   */
  snapshot(view: SignalView, end: number): SignalSnapshot {
    const prepared = this.prepare(view);
    this.checkWindow(view.windowMs, end);
    const groups = this.mergeGroups(prepared.metric, view.windowMs, end, view.groupBy, view.filter);
    const out: SnapshotGroup[] = [];
    for (const g of groups) {
      if (lacksGroupValue(g.labels, view.groupBy)) continue;
      const d = g.digest;
      const qs = prepared.quantiles.length === 0 ? prepared.quantiles : d.quantiles(prepared.quantiles);
      const values: Record<string, number> = {};
      let qi = 0;
      for (let i = 0; i < prepared.stats.length; i++) {
        const stat = prepared.parsed[i];
        let value: number;
        switch (stat.kind) {
          case 'quantile':
            value = qs[qi++];
            break;
          case 'count':
            value = d.count;
            break;
          case 'mean':
            value = d.mean;
            break;
          case 'min':
            value = d.min;
            break;
          case 'max':
            value = d.max;
            break;
        }
        values[prepared.stats[i]] = value;
      }
      out.push({ key: g.key, labels: g.labels, count: d.count, values });
    }
    return {
      viewId: view.id,
      signal: view.signal,
      windowStart: end - view.windowMs,
      windowEnd: end,
      windowMs: view.windowMs,
      groupBy: view.groupBy,
      groups: out,
    };
  }

  /**
   * Marks the sub-windows ending at or before `boundary` closed and compacts their digests; call it
   * for each boundary the watermark closes, before reading windows that end there.
   */
  closeThrough(boundary: number): void {
    this.ring.closeThrough(boundary);
  }

  /** Drops the sub-windows ending at or before `t`. */
  evictBefore(t: number): void {
    this.ring.evictBefore(t);
  }

  /** Memory figures; walks every digest, so meant for status pages, not the hot path. */
  stats(): PercentileStoreStats {
    let digests = 0;
    let bytes = 0;
    this.ring.forEachInRange(-Infinity, Infinity, (key, agg) => {
      bytes += AGGREGATE_OVERHEAD_BYTES + 2 * key.length + agg.latency.byteSize();
      digests++;
      if (agg.ttft !== null) {
        bytes += agg.ttft.byteSize();
        digests++;
      }
    });
    return {
      subWindows: this.ring.subWindowCount,
      keys: this.ring.keyCount,
      labelCombinations: this.interned,
      digests,
      approxBytes: bytes,
      overflowCount: this.ring.overflowCount,
      invalidValues: this.invalid,
    };
  }

  private newDigest(): TDigest {
    return this.compression === undefined ? new TDigest() : new TDigest(this.compression);
  }

  private fineKeyOf(span: LlmSpan): FineKey {
    const service = span.service;
    const operation = span.operation;
    const model = span.model ?? NONE_VALUE;
    const provider = span.provider ?? NONE_VALUE;
    const tenant = span.tenantId ?? NONE_VALUE;
    let byOperation = this.fineKeys.get(service);
    if (byOperation === undefined) {
      byOperation = new Map();
      this.fineKeys.set(service, byOperation);
    }
    let byModel = byOperation.get(operation);
    if (byModel === undefined) {
      byModel = new Map();
      byOperation.set(operation, byModel);
    }
    let byProvider = byModel.get(model);
    if (byProvider === undefined) {
      byProvider = new Map();
      byModel.set(model, byProvider);
    }
    let byTenant = byProvider.get(provider);
    if (byTenant === undefined) {
      byTenant = new Map();
      byProvider.set(provider, byTenant);
    }
    let fineKey = byTenant.get(tenant);
    if (fineKey === undefined) {
      fineKey = {
        key: [service, operation, model, provider, tenant].join(KEY_SEPARATOR),
        labels: Object.freeze({ service, operation, model, provider, tenant }),
        refs: 0,
      };
      byTenant.set(tenant, fineKey);
      this.interned++;
    }
    return fineKey;
  }

  private createAggregate(key: string): FineAggregate {
    const fineKey = key === OVERFLOW_KEY ? this.overflowKey : this.adding;
    fineKey.refs++;
    return { fineKey, latency: this.newDigest(), ttft: null };
  }

  // Drops a reference to a fine key and, at zero, removes it and its emptied branches from the trie.
  private release(fineKey: FineKey): void {
    if (fineKey.refs > 0) fineKey.refs--;
    if (fineKey.refs > 0 || fineKey === this.overflowKey) return;
    const { service, operation, model, provider, tenant } = fineKey.labels;
    const byOperation = this.fineKeys.get(service);
    const byModel = byOperation?.get(operation);
    const byProvider = byModel?.get(model);
    const byTenant = byProvider?.get(provider);
    if (byTenant?.get(tenant) !== fineKey) return;
    byTenant.delete(tenant);
    this.interned--;
    if (byTenant.size > 0) return;
    byProvider?.delete(provider);
    if (byProvider === undefined || byProvider.size > 0) return;
    byModel?.delete(model);
    if (byModel === undefined || byModel.size > 0) return;
    byOperation?.delete(operation);
    if (byOperation === undefined || byOperation.size > 0) return;
    this.fineKeys.delete(service);
  }

  private checkWindow(windowMs: number, end: number): void {
    if (
      !Number.isSafeInteger(windowMs) ||
      windowMs <= 0 ||
      windowMs % this.slideMs !== 0 ||
      windowMs > this.retentionMs
    ) {
      throw queryError(
        'window',
        `window must be a positive multiple of the slide (${this.slideMs} ms) of at most the retention (${this.retentionMs} ms), got ${String(windowMs)} ms`,
      );
    }
    if (!Number.isFinite(end) || end % this.slideMs !== 0) {
      throw queryError('end', `end must be a slide boundary (a multiple of ${this.slideMs} ms), got ${String(end)}`);
    }
  }

  private prepare(view: SignalView): PreparedView {
    let prepared = this.prepared.get(view);
    if (prepared !== undefined) return prepared;
    if (!(PERCENTILE_SIGNALS as readonly string[]).includes(view.signal)) {
      throw queryError('signal', `view ${view.id}: signal must be one of ${PERCENTILE_SIGNALS.join(', ')}, got ${view.signal}`);
    }
    checkGroupBy(view.groupBy);
    checkFilter(view.filter);
    const parsed: ParsedStat[] = [];
    const quantiles: number[] = [];
    for (const name of view.stats) {
      const stat = parseStat(name);
      if (stat === undefined) {
        throw queryError('stats', `view ${view.id}: unknown stat ${name} (count, mean, min, max or p<percentile> like p99.9)`);
      }
      if (stat.kind === 'quantile') quantiles.push(stat.q);
      parsed.push(stat);
    }
    prepared = { metric: view.signal as PercentileSignal, stats: [...view.stats], parsed, quantiles };
    this.prepared.set(view, prepared);
    return prepared;
  }

  private mergeGroups(
    metric: PercentileSignal,
    windowMs: number,
    end: number,
    groupBy: readonly Dimension[],
    filter: GroupLabels,
  ): DigestGroup[] {
    const filterDims = DIMENSIONS.filter((d) => filter[d] !== undefined);
    const groups = new Map<string, GroupAccumulator>();
    // A fine key recurs in every sub-window of the window: decide its group once.
    const groupOfKey = new Map<string, GroupAccumulator | null>();
    this.ring.forEachInRange(end - windowMs, end, (key, agg) => {
      const digest = metric === 'latency' ? agg.latency : agg.ttft;
      if (digest === null || digest.count === 0) return;
      let group = groupOfKey.get(key);
      if (group === undefined) {
        group = null;
        if (filterDims.every((d) => agg.fineKey.labels[d] === filter[d])) {
          const groupKey = groupKeyOf(agg.fineKey.labels, groupBy);
          group = groups.get(groupKey) ?? null;
          if (group === null) {
            const labels: GroupLabels = {};
            for (const d of groupBy) labels[d] = agg.fineKey.labels[d];
            group = { key: groupKey, labels, digests: [] };
            groups.set(groupKey, group);
          }
        }
        groupOfKey.set(key, group);
      }
      if (group !== null) group.digests.push(digest);
    });
    const out: DigestGroup[] = [];
    for (const g of groups.values()) {
      const digest = this.compression === undefined ? TDigest.merge(g.digests) : TDigest.merge(g.digests, this.compression);
      if (digest.count > 0) out.push({ key: g.key, labels: g.labels, digest });
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }
}

function checkGroupBy(groupBy: readonly Dimension[]): void {
  const seen = new Set<string>();
  for (const d of groupBy) {
    if (!isDimension(d)) throw queryError('groupBy', `groupBy: unknown dimension ${String(d)} (one of ${DIMENSIONS.join(', ')})`);
    if (seen.has(d)) throw queryError('groupBy', `groupBy: dimension ${d} given twice`);
    seen.add(d);
  }
}

function checkFilter(filter: GroupLabels): void {
  for (const d of Object.keys(filter)) {
    if (!isDimension(d)) throw queryError('filter', `filter: unknown dimension ${d} (one of ${DIMENSIONS.join(', ')})`);
  }
}

function queryError(param: string, message: string): VigilError {
  return new VigilError('VIGIL_QUERY_INVALID', message, { details: { param } });
}
