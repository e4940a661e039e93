import { VigilError } from '../src/errors.js';

/** The key that receives every key beyond {@link SubWindowRingOptions.maxKeysPerSubWindow} of a sub-window. */
export const OVERFLOW_KEY = '(overflow)';

/** Options of a {@link SubWindowRing}. */
export interface SubWindowRingOptions<A> {
  /** Sub-window length in ms: sub-window `i` covers `[i*slideMs, (i+1)*slideMs)`. A positive integer. */
  slideMs: number;
  /** Longest window the owner will read, in ms; a positive multiple of `slideMs`. */
  retentionMs: number;
  /** Creates the aggregate of `key` in the sub-window starting at `subWindowStart`, on first use. */
  create: (key: string, subWindowStart: number) => A;
  /**
   * Called once per aggregate when {@link SubWindowRing.closeThrough} closes its sub-window: it can no
   * longer receive events, so the owner may shrink it (the percentile store compacts its digests).
   */
  onClose?: (agg: A, key: string, subWindowStart: number) => void;
  /** Called once per aggregate when {@link SubWindowRing.evictBefore} drops its sub-window. */
  onEvict?: (agg: A, key: string, subWindowStart: number) => void;
  /**
   * Most distinct keys one sub-window holds (default 10 000). Once a sub-window is full, a new key is
   * served the aggregate of {@link OVERFLOW_KEY} instead — so a flood of distinct keys (a bad label, an
   * id used as a dimension) costs bounded memory — and the redirection is counted in
   * {@link SubWindowRing.overflowCount}. A full sub-window therefore holds at most this many keys plus
   * the overflow key.
   */
  maxKeysPerSubWindow?: number;
}

/** The aggregates of one sub-window, as {@link SubWindowRing.entriesOf} shows them (read-only). */
export interface SubWindowEntries<A> {
  /** Start of the sub-window, ms. */
  readonly start: number;
  /** Its keys, in insertion order. */
  readonly keys: readonly string[];
  /** Their aggregates, parallel to `keys`. */
  readonly values: readonly A[];
  /** {@link SubWindowRing.closeThrough} has closed it. */
  readonly closed: boolean;
}

/** One sub-window of a {@link SubWindowRing}. */
interface SubWindow<A> {
  readonly start: number;
  readonly end: number;
  readonly aggs: Map<string, A>;
  // The map's entries in insertion order (nothing is ever deleted from a sub-window): walking
  // arrays is several times faster than iterating the map's entries.
  readonly keys: string[];
  readonly values: A[];
  closed: boolean;
}

/**
 * Aggregates by key over time-aligned sub-windows of `slideMs`, for windows of up to `retentionMs`
 * that slide by `slideMs`: a window `[end - w, end)` is the union of its sub-windows, so any window
 * length that is a multiple of the slide is answered by combining stored per-sub-window aggregates.
 * Generic in the aggregate `A` (a digest, a counter, a sum…); pure and synchronous.
 *
 * The owner decides what is on time: {@link get} accepts any time, and sub-windows live until
 * {@link evictBefore} drops them. Sub-windows are kept in start order; creating one is the only
 * non-constant step of {@link get} and happens once per sub-window.
 */
export class SubWindowRing<A> {
  /** Sub-window length in ms. */
  readonly slideMs: number;
  /** Longest window the owner reads, in ms. */
  readonly retentionMs: number;
  /** Most keys per sub-window before new keys go to {@link OVERFLOW_KEY}. */
  readonly maxKeysPerSubWindow: number;

  private readonly create: (key: string, subWindowStart: number) => A;
  private readonly onClose: ((agg: A, key: string, subWindowStart: number) => void) | undefined;
  private readonly onEvict: ((agg: A, key: string, subWindowStart: number) => void) | undefined;
  private readonly byStart = new Map<number, SubWindow<A>>();
  // Ascending by start; new sub-windows almost always go last, so insertion is cheap.
  private readonly ordered: SubWindow<A>[] = [];
  private last: SubWindow<A> | undefined;
  private keys = 0;
  private overflowed = 0;

  constructor(options: SubWindowRingOptions<A>) {
    const { slideMs, retentionMs, maxKeysPerSubWindow = 10_000 } = options;
    if (!Number.isSafeInteger(slideMs) || slideMs <= 0) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `slideMs must be a positive integer, got ${String(slideMs)}`, {
        details: { key: 'slideMs' },
      });
    }
    if (!Number.isSafeInteger(retentionMs) || retentionMs <= 0 || retentionMs % slideMs !== 0) {
      throw new VigilError(
        'VIGIL_CONFIG_INVALID',
        `retentionMs must be a positive multiple of slideMs (${slideMs}), got ${String(retentionMs)}`,
        { details: { key: 'retentionMs' } },
      );
    }
    if (!Number.isSafeInteger(maxKeysPerSubWindow) || maxKeysPerSubWindow < 1) {
      throw new VigilError(
        'VIGIL_CONFIG_INVALID',
        `maxKeysPerSubWindow must be a positive integer, got ${String(maxKeysPerSubWindow)}`,
        { details: { key: 'maxKeysPerSubWindow' } },
      );
    }
    this.slideMs = slideMs;
    this.retentionMs = retentionMs;
    this.maxKeysPerSubWindow = maxKeysPerSubWindow;
    this.create = options.create;
    this.onClose = options.onClose;
    this.onEvict = options.onEvict;
  }

  /** Sub-windows currently held. */
  get subWindowCount(): number {
    return this.ordered.length;
  }

  /** Aggregates currently held, summed over sub-windows (a key in three sub-windows counts three times). */
  get keyCount(): number {
    return this.keys;
  }

  /** Calls of {@link get} served the overflow aggregate because their sub-window was full, since construction. */
  get overflowCount(): number {
    return this.overflowed;
  }

  /** Start of the sub-window the last {@link get} served (NaN before the first, or after its eviction). */
  get lastStart(): number {
    return this.last === undefined ? NaN : this.last.start;
  }

  /** Start of the sub-window holding time `t`. */
  subWindowStartOf(t: number): number {
    return Math.floor(t / this.slideMs) * this.slideMs;
  }

  /**
   * The aggregate of `key` in the sub-window holding time `t`, creating the sub-window and the
   * aggregate on first use; the aggregate of {@link OVERFLOW_KEY} when the sub-window is full.
   */
  get(t: number, key: string): A {
    let sw = this.last;
    if (sw === undefined || !(t >= sw.start && t < sw.end)) {
      sw = this.subWindowAt(this.subWindowStartOf(t));
      this.last = sw;
    }
    const agg = sw.aggs.get(key);
    if (agg !== undefined) return agg;
    if (sw.aggs.size >= this.maxKeysPerSubWindow && key !== OVERFLOW_KEY) {
      this.overflowed++;
      const overflow = sw.aggs.get(OVERFLOW_KEY);
      if (overflow !== undefined) return overflow;
      key = OVERFLOW_KEY;
    }
    const created = this.create(key, sw.start);
    sw.aggs.set(key, created);
    sw.keys.push(key);
    sw.values.push(created);
    this.keys++;
    return created;
  }

  /**
   * Calls `fn` for every aggregate of every sub-window lying wholly inside `[startInclusive,
   * endExclusive)`, sub-windows in increasing start order, keys in insertion order.
   */
  forEachInRange(
    startInclusive: number,
    endExclusive: number,
    fn: (key: string, agg: A, subWindowStart: number) => void,
  ): void {
    const ordered = this.ordered;
    for (let i = this.firstIndexAtOrAfter(startInclusive); i < ordered.length; i++) {
      const sw = ordered[i];
      if (sw.end > endExclusive) break;
      const { keys, values, start } = sw;
      for (let j = 0; j < values.length; j++) fn(keys[j], values[j], start);
    }
  }

  /**
   * The keys and aggregates of the sub-window starting at `start`, in insertion order, and whether
   * it is closed; undefined when the ring holds no such sub-window. A live view, not a copy: it
   * changes as the sub-window receives keys.
   */
  entriesOf(start: number): SubWindowEntries<A> | undefined {
    return this.byStart.get(start);
  }

  /**
   * Marks every sub-window ending at or before `boundary` as closed, calling `onClose` once for each
   * of its aggregates. The caller promises not to {@link get} into a closed sub-window again.
   */
  closeThrough(boundary: number): void {
    const ordered = this.ordered;
    for (let i = 0; i < ordered.length; i++) {
      const sw = ordered[i];
      if (sw.end > boundary) break;
      if (sw.closed) continue;
      sw.closed = true;
      if (this.onClose !== undefined) for (let j = 0; j < sw.values.length; j++) this.onClose(sw.values[j], sw.keys[j], sw.start);
    }
  }

  /** Drops every sub-window ending at or before `t`, calling `onEvict` for each of its aggregates. */
  evictBefore(t: number): void {
    const ordered = this.ordered;
    let n = 0;
    while (n < ordered.length && ordered[n].end <= t) {
      const sw = ordered[n];
      if (this.onEvict !== undefined) for (let j = 0; j < sw.values.length; j++) this.onEvict(sw.values[j], sw.keys[j], sw.start);
      this.byStart.delete(sw.start);
      this.keys -= sw.aggs.size;
      if (this.last === sw) this.last = undefined;
      n++;
    }
    if (n > 0) ordered.splice(0, n);
  }

  private subWindowAt(start: number): SubWindow<A> {
    let sw = this.byStart.get(start);
    if (sw !== undefined) return sw;
    sw = { start, end: start + this.slideMs, aggs: new Map(), keys: [], values: [], closed: false };
    this.byStart.set(start, sw);
    const ordered = this.ordered;
    let i = ordered.length;
    while (i > 0 && ordered[i - 1].start > start) i--;
    ordered.splice(i, 0, sw);
    return sw;
  }

  // Binary search: the ordered array holds at most a few hundred sub-windows but queries run often.
  private firstIndexAtOrAfter(t: number): number {
    const ordered = this.ordered;
    let lo = 0;
    let hi = ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ordered[mid].start < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
