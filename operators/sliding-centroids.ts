import { TDigest, before, type DigestSource, type SortedRun } from './t-digest.js';

/** The digests one group holds in one sub-window, in the order a window merge takes them. */
export interface DigestSegment {
  /** Start of the sub-window, ms. */
  readonly start: number;
  readonly digests: readonly DigestSource[];
}

/**
 * A run of weighted points sorted by mean, each tagged with the ordinal of its segment (segments
 * get increasing ordinals as they enter the window). Weights are float32, which holds every
 * centroid weight exactly (digests keep them as float32 or bytes).
 */
type Run = SortedRun;

function newRun(capacity: number): Run {
  const c = Math.max(16, capacity);
  return { m: new Float64Array(c), w: new Float32Array(c), tag: new Int32Array(c), n: 0 };
}

function ensureRun(run: Run, capacity: number): void {
  if (run.m.length >= capacity) return;
  let c = run.m.length;
  while (c < capacity) c *= 2;
  run.m = new Float64Array(c);
  run.w = new Float32Array(c);
  run.tag = new Int32Array(c);
}

/**
 * Merges `a` (all of it from earlier sub-windows than `b`) with `b` into `out`, dropping points
 * of `a` tagged before `cutoff`. Equal means keep `a`'s point first: the stable order of the
 * concatenation `a ++ b`.
 */
function mergeInto(a: Run, cutoff: number, b: Run, out: Run): void {
  ensureRun(out, a.n + b.n);
  const { m: am, w: aw, tag: at } = a;
  const { m: bm, w: bw, tag: bt } = b;
  const { m: om, w: ow, tag: ot } = out;
  const an = a.n;
  const bn = b.n;
  let i = 0;
  let k = 0;
  let o = 0;
  while (i < an) {
    if (at[i] < cutoff) {
      i++;
      continue;
    }
    const x = am[i];
    while (k < bn && before(bm[k], x)) {
      om[o] = bm[k];
      ow[o] = bw[k];
      ot[o++] = bt[k++];
    }
    om[o] = x;
    ow[o] = aw[i];
    ot[o++] = at[i++];
  }
  while (k < bn) {
    om[o] = bm[k];
    ow[o] = bw[k];
    ot[o++] = bt[k++];
  }
  out.n = o;
}

const EMPTY_RUN: Run = newRun(0);

/** Centroids of a segment's digests (pending values flushed). */
function centroidsOf(segment: DigestSegment): number {
  let n = 0;
  for (const d of segment.digests) n += d.centroidCount;
  return n;
}

/** The sorted run of one segment's centroids, each tagged with `ordinal`. */
function segmentRun(segment: DigestSegment, ordinal: number): Run {
  const run = newRun(centroidsOf(segment));
  run.n = TDigest.sortCentroidsInto(segment.digests, run.m, run.w);
  run.tag.fill(ordinal, 0, run.n);
  return run;
}

/** The sorted run of several consecutive segments (ordinals from `first`): pairwise merges, earlier segments left. */
function segmentsRun(segments: readonly DigestSegment[], first: number): Run {
  if (segments.length === 0) return EMPTY_RUN;
  let runs = segments.map((s, i) => segmentRun(s, first + i));
  while (runs.length > 1) {
    const next: Run[] = [];
    for (let i = 0; i + 1 < runs.length; i += 2) {
      const out = newRun(runs[i].n + runs[i + 1].n);
      mergeInto(runs[i], -Infinity, runs[i + 1], out);
      next.push(out);
    }
    if (runs.length % 2 === 1) next.push(runs[runs.length - 1]);
    runs = next;
  }
  return runs[0];
}

/**
 * The centroids of every digest in a sliding window of sub-windows, kept sorted across slides in
 * exactly the order {@link TDigest.merge} sorts their concatenation into, so that {@link merged}
 * returns what `TDigest.merge(digests())` would — bit for bit — at the cost of one linear pass
 * per slide instead of a copy and a sort of every centroid each time: a slide only sorts the
 * segments that entered, and the next {@link merged} merges them into the kept run, dropping the
 * points of the segments that left, and compresses in that same pass. For windows over closed
 * (immutable) sub-windows that slide forwards: a rule view's window, re-read at every slide
 * boundary.
 *
 * Memory: 16 bytes per centroid of the window, twice (the merge double-buffers).
 */
export class SlidingCentroids {
  private run: Run = newRun(0);
  private spare: Run = newRun(0);
  private readonly segments: DigestSegment[] = [];
  /** Parallel to `segments`: each one's ordinal (the tag of its points), centroid count and its digests' `TDigest.statsOf`. */
  private readonly ordinals: number[] = [];
  private readonly counts: number[] = [];
  private readonly stats: Float64Array[] = [];
  private nextOrdinal = 0;
  // The last slide, until merged into `run`: drop the points tagged before `cutoff`, merge
  // `pendingRun` in.
  private pending = false;
  private cutoff = 0;
  private pendingRun: Run = EMPTY_RUN;
  /** Centroids in the window (the pending slide applied). */
  private held = 0;

  /** Centroids held. */
  get size(): number {
    return this.held;
  }

  /** True when the window holds no segment. */
  get isEmpty(): boolean {
    return this.segments.length === 0;
  }

  /**
   * Slides the window: drops the segments that start before `cutoff` and returns them, then
   * appends those of `added` that start at or after `cutoff` — segments of later sub-windows than
   * any held, in ascending start order.
   */
  slide(cutoff: number, added: readonly DigestSegment[]): DigestSegment[] {
    let dropped = 0;
    while (dropped < this.segments.length && this.segments[dropped].start < cutoff) dropped++;
    let first = 0;
    while (first < added.length && added[first].start < cutoff) first++;
    if (dropped === 0 && first === added.length) return [];
    // A slide not merged yet (its window was never read) is merged now, without compressing.
    this.settle();
    const left = this.segments.splice(0, dropped);
    this.ordinals.splice(0, dropped);
    this.stats.splice(0, dropped);
    for (const c of this.counts.splice(0, dropped)) this.held -= c;
    const kept = first === 0 ? added : added.slice(first);
    // Points of the segments still held have ordinals from the first one's on.
    const firstNew = this.nextOrdinal;
    this.cutoff = this.ordinals.length > 0 ? this.ordinals[0] : firstNew;
    for (const s of kept) {
      this.segments.push(s);
      this.ordinals.push(this.nextOrdinal++);
      const c = centroidsOf(s);
      this.counts.push(c);
      this.stats.push(TDigest.statsOf(s.digests));
      this.held += c;
    }
    this.pendingRun = segmentsRun(kept, firstNew);
    this.pending = true;
    return left;
  }

  /** The window's digests, segment by segment, in the order they were added. */
  digests(): DigestSource[] {
    const out: DigestSource[] = [];
    for (const s of this.segments) for (const d of s.digests) out.push(d);
    return out;
  }

  /**
   * `TDigest.merge(this.digests(), compression)`, from the kept order. The digests are read when
   * their segment enters the window: they must not change while in it.
   */
  merged(compression?: number): TDigest {
    if (!this.pending) return TDigest.mergeSortedRuns(this.stats, this.run, -Infinity, EMPTY_RUN, null, this.run.n, compression);
    ensureRun(this.spare, this.held);
    const d = TDigest.mergeSortedRuns(this.stats, this.run, this.cutoff, this.pendingRun, this.spare, this.held, compression);
    this.swap();
    return d;
  }

  /** Merges a pending slide into the run. */
  private settle(): void {
    if (!this.pending) return;
    mergeInto(this.run, this.cutoff, this.pendingRun, this.spare);
    this.swap();
  }

  private swap(): void {
    const t = this.run;
    this.run = this.spare;
    this.spare = t;
    this.pending = false;
    this.pendingRun = EMPTY_RUN;
  }
}
