import { TDigest, type DigestSource } from './t-digest.js';

/** The digests one group holds in one sub-window, in the order a window merge takes them. */
export interface DigestSegment {
  /** Start of the sub-window, ms. */
  readonly start: number;
  readonly digests: readonly DigestSource[];
}

/** A run of weighted points sorted by mean, each tagged with the start of its sub-window. */
interface Run {
  m: Float64Array;
  w: Float64Array;
  tag: Float64Array;
  n: number;
}

function newRun(capacity: number): Run {
  const c = Math.max(16, capacity);
  return { m: new Float64Array(c), w: new Float64Array(c), tag: new Float64Array(c), n: 0 };
}

function ensureRun(run: Run, capacity: number): void {
  if (run.m.length >= capacity) return;
  let c = run.m.length;
  while (c < capacity) c *= 2;
  run.m = new Float64Array(c);
  run.w = new Float64Array(c);
  run.tag = new Float64Array(c);
}

// The order TDigest.merge sorts centroids into: by the double's bits as an ordered key, i.e. by
// value with −0 before +0.
function before(x: number, y: number): boolean {
  return x < y || (x === 0 && y === 0 && 1 / x < 1 / y);
}

/**
 * Merges `a` (all of it from an earlier sub-window than `b`) with `b` into `out`, dropping points
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

/** The sorted run of one segment's centroids, each tagged with the segment's start. */
function segmentRun(segment: DigestSegment): Run {
  let n = 0;
  for (const d of segment.digests) n += d.centroidCount;
  const run = newRun(n);
  run.n = TDigest.sortCentroidsInto(segment.digests, run.m, run.w);
  run.tag.fill(segment.start, 0, run.n);
  return run;
}

/** The sorted run of several consecutive segments: pairwise merges, earlier segments left. */
function segmentsRun(segments: readonly DigestSegment[]): Run {
  let runs = segments.map(segmentRun);
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
  return runs[0] ?? newRun(0);
}

/**
 * The centroids of every digest in a sliding window of sub-windows, kept sorted across slides in
 * exactly the order {@link TDigest.merge} sorts their concatenation into, so that {@link merged}
 * returns what `TDigest.merge(digests())` would — bit for bit — at the cost of one linear merge
 * per slide and one compression pass instead of a copy and a sort of every centroid each time.
 * For windows over closed (immutable) sub-windows that slide forwards: a rule view's window,
 * re-read at every slide boundary.
 *
 * Memory: 24 bytes per centroid of the window, twice (the merge double-buffers).
 */
export class SlidingCentroids {
  private run: Run = newRun(0);
  private spare: Run = newRun(0);
  private readonly segments: DigestSegment[] = [];

  /** Centroids held. */
  get size(): number {
    return this.run.n;
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
    const left = this.segments.splice(0, dropped);
    const kept = first === 0 ? added : added.slice(first);
    for (const s of kept) this.segments.push(s);
    mergeInto(this.run, cutoff, kept.length === 0 ? EMPTY_RUN : segmentsRun(kept), this.spare);
    const t = this.run;
    this.run = this.spare;
    this.spare = t;
    return left;
  }

  /** The window's digests, segment by segment, in the order they were added. */
  digests(): DigestSource[] {
    const out: DigestSource[] = [];
    for (const s of this.segments) for (const d of s.digests) out.push(d);
    return out;
  }

  /** `TDigest.merge(this.digests(), compression)`, from the kept order. */
  merged(compression?: number): TDigest {
    return TDigest.mergeSorted(this.digests(), this.run.m, this.run.w, this.run.n, compression);
  }
}
