/**
 * Dunning's *merging* t-digest: a compact, mergeable sketch of a distribution that answers
 * quantile and CDF queries with error that shrinks towards the tails.
 *
 * Reference: T. Dunning & O. Ertl, "Computing Extremely Accurate Quantiles Using t-Digests"
 * (2019), and the reference Java `MergingDigest`. This implementation:
 *
 * - buffers incoming values in a `Float64Array` (grown by doubling up to a bound, then reused);
 *   when it is full the buffer is sorted — a radix sort on the doubles' bit patterns, 3–4×
 *   faster than `Float64Array#sort`, which it falls back to for small buffers — and merged with
 *   the existing centroids in one greedy pass. No per-value allocation, no object per centroid:
 *   centroids live in a `Float64Array` of means and a `Float32Array` of weights;
 * - merges digests by concatenating their centroids, sorting them once and running a single
 *   compression pass (never by re-inserting centroids one at a time);
 * - uses the **k2** scale function `k(q) = δ/Z(n) · ln(q / (1 − q))` with Dunning's normaliser
 *   `Z(n) = 4 ln(n/δ) + 24`. Of k1 (arcsine), k2 and k3, k2 gave the best tail accuracy per
 *   centroid on latency-like data (at equal δ, k1 was 5–20× worse at p99.9 and 3–5× worse at
 *   p99; k3 matched k2 in the tails but was 2–3× worse at the median);
 * - keeps the first and last sample of every merge pass as singleton centroids and tracks the
 *   exact minimum, maximum, their multiplicities, total weight and sum, so `quantile(0)`,
 *   `quantile(1)`, `min`, `max`, `count` and `mean` are exact. Digests of fewer than ~0.4·δ
 *   values (78 at the default δ = 200; ≥ 10 for any δ ≥ 30) keep every value as its own
 *   centroid and so answer quantiles with exact order statistics.
 *
 * Quantile convention: for a digest whose centroids are all single samples `x₍₀₎ ≤ … ≤ x₍ₙ₋₁₎`,
 * `quantile(q)` returns `x₍⌊q·n⌋₎` (index clamped to `n − 1`), i.e. the value at 0-based rank
 * `⌊q·n⌋`. Larger digests interpolate between centroids exactly as the reference implementation
 * does (centroid mass centred on its mean, singletons treated as point masses, linear
 * interpolation towards the exact min/max in the outermost half-centroids).
 *
 * @packageDocumentation
 */

/**
 * Default compression δ.
 *
 * Chosen instead of the customary 100 to get as close as the 2 KiB budget allows to a 0.5 %
 * p99 error on lognormal latencies (μ = ln 800, σ = 0.6), measured against sorted[⌊0.99·n⌋]:
 *
 * | values | δ = 200: mean / worst p99 error, share of samples over 0.5 % | δ = 100 |
 * |---|---|---|
 * | 1 000 | 0 / 0 (top 1 % kept exactly), 0 % | 1.1 % / 4.4 %, 71 % |
 * | 3 000 | 0.48 % / 1.9 %, 36 % | 0.81 % / 3.4 %, 57 % |
 * | 10 000 | 0.26 % / 0.99 %, 15 % | 0.43 % / 2.0 %, 33 % |
 * | 100 000 | 0.09 % / 0.34 %, 0 % | 0.21 % / 0.57 %, 10 % |
 * | 1 000 000 | 0.05 % / 0.12 %, 0 % | 0.18 % / 0.41 %, 0 % |
 * | 60 merged 1 000-value digests | 0.19 % / 0.62 %, 1 % | 0.27 % / 0.78 %, 12 % |
 *
 * Between ~2 000 and ~20 000 values neighbouring order statistics near p99 are 0.2–1 % apart,
 * and no digest of this size pins every sample to the right one. A compacted digest of 10 000
 * values retains ~1.7 KiB. Pass `100` explicitly for the classic size/accuracy point.
 */
export const DEFAULT_COMPRESSION = 200;

/** Default upper bound of the pending-value buffer, in values (32 KiB of `Float64Array`). */
export const DEFAULT_BUFFER_SIZE = 4096;

/** {@link TDigest.toBytes} format version of a digest as centroids and statistics. */
export const TDIGEST_FORMAT_VERSION = 1;

/**
 * {@link TDigest.toBytes} format version of a digest whose every centroid is one sample of weight 1
 * (a digest of a few values: a partition task's sub-window at a short slide): the samples and the
 * sum only, `24 + 8·n` bytes instead of `72 + 12·n`; the other statistics follow from the samples.
 */
export const TDIGEST_POINTS_FORMAT_VERSION = 2;

/** Options accepted by the {@link TDigest} constructor and {@link TDigest.fromBytes}. */
export interface TDigestOptions {
  /**
   * Upper bound of the pending-value buffer, in values (integer in [16, 2^24]; default
   * {@link DEFAULT_BUFFER_SIZE}). The buffer starts small, doubles on demand up to this bound
   * and is released by {@link TDigest.compact}. Larger buffers mean fewer merge passes
   * (slightly faster ingestion, a few more centroids) at the cost of transient memory.
   */
  readonly bufferSize?: number;
}

/** Bytes of the serialised header (see {@link TDigest.toBytes}): a digest without centroids is this long. */
export const TDIGEST_HEADER_BYTES = 72;
const HEADER_BYTES = TDIGEST_HEADER_BYTES;
/** Bytes before the samples of the points format ({@link TDIGEST_POINTS_FORMAT_VERSION}). */
const POINTS_HEADER_BYTES = 24;
const FLAG_F32_WEIGHTS = 1;

/**
 * Estimated V8 cost (bytes) of a TDigest object itself (fields, boxed doubles), of a pending
 * buffer's Float64Array + ArrayBuffer, and of the centroid storage's two views + ArrayBuffer,
 * measured on Node 20 / x64 with heap deltas over 50 000 instances. Used by
 * {@link TDigest.byteSize}.
 */
const OBJECT_BYTES = 192;
const TYPED_ARRAY_BYTES = 192;
const CENTROID_ARRAYS_BYTES = 336;

const EMPTY = new Float64Array(0);
const EMPTY_W = new Float32Array(0);

/** The order of a merge's sort: by value, −0 before +0. */
export function before(x: number, y: number): boolean {
  return x < y || (x === 0 && y === 0 && 1 / x < 1 / y);
}

/** Allocates centroid storage for `cap` centroids: means and weights in one ArrayBuffer. */
function allocCentroids(cap: number): [Float64Array, Float32Array] {
  if (cap === 0) return [EMPTY, EMPTY_W];
  if (slabOn) {
    // 12 bytes per centroid, rounded up so that the next means start 8-byte aligned.
    const bytes = (12 * cap + 7) & ~7;
    if (slab === null || slabUsed + bytes > slab.byteLength) {
      slab = new ArrayBuffer(Math.max(SLAB_BYTES, bytes));
      slabUsed = 0;
    }
    const at = slabUsed;
    slabUsed += bytes;
    return [new Float64Array(slab, at, cap), new Float32Array(slab, at + 8 * cap, cap)];
  }
  const ab = new ArrayBuffer(12 * cap);
  return [new Float64Array(ab, 0, cap), new Float32Array(ab, 8 * cap, cap)];
}

// While TDigest.pack flushes the digests it packs, their centroid storage comes from shared slabs
// instead of an ArrayBuffer each: those digests are usually dropped together right after, and a
// slab lives exactly as long as any digest using it.
const SLAB_BYTES = 64 * 1024;
let slabOn = false;
let slab: ArrayBuffer | null = null;
let slabUsed = 0;

/** True when the first `n` weights are all whole counts from 1 to 255 (a pack stores them as bytes). */
function byteWeights(w: Float32Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const x = w[i];
    if (!(x >= 1 && x <= 255 && Math.floor(x) === x)) return false;
  }
  return true;
}

// Pending-value buffers no digest uses any more (packed or compacted digests give theirs back), by
// size class: buffers grow 32, 64, … values, and a new digest takes one of those sizes from here
// instead of allocating a new ArrayBuffer. Only the sizes up to POOL_MAX_SIZE are kept, a bounded
// number of each (≈ 1.4 MB at most).
const POOL_MIN_SIZE = 32;
const POOL_MAX_SIZE = 1024;
const bufferPool: Float64Array[][] = [];
const POOL_LIMITS: number[] = [];
for (let size = POOL_MIN_SIZE, k = 0; size <= POOL_MAX_SIZE; size *= 2, k++) {
  bufferPool.push([]);
  POOL_LIMITS.push(Math.max(32, Math.min(512, (256 * 1024) / (8 * size))));
}

/** Size class of a buffer of `size` values, or -1 when such buffers are not pooled. */
function poolClass(size: number): number {
  if (size < POOL_MIN_SIZE || size > POOL_MAX_SIZE || (size & (size - 1)) !== 0) return -1;
  return 31 - Math.clz32(size / POOL_MIN_SIZE);
}

/** A pending buffer of `size` values (its contents are garbage). */
function takeBuffer(size: number): Float64Array {
  const k = poolClass(size);
  if (k >= 0) {
    const pooled = bufferPool[k].pop();
    if (pooled !== undefined) return pooled;
  }
  return new Float64Array(size);
}

/** Gives a pending buffer no digest uses any more back to the pool. */
function releaseBuffer(buf: Float64Array): void {
  const k = poolClass(buf.length);
  if (k >= 0 && bufferPool[k].length < POOL_LIMITS[k]) bufferPool[k].push(buf);
}

// ---------------------------------------------------------------------------------------------
// Module-level scratch. JavaScript is single-threaded and every user below is synchronous and
// never re-entered, so one set of buffers is shared by all digests (grown on demand, never
// shrunk: its size is bounded by the largest flush or merge seen).
// ---------------------------------------------------------------------------------------------
let sAM = new Float64Array(1024);
let sAW = new Float64Array(1024);
let sBM = new Float64Array(1024);
let sBW = new Float64Array(1024);
let sOM = new Float64Array(1024);
let sOW = new Float64Array(1024);
// Where TDigest.flushToScratch left its centroids: one of the pairs above.
let flushedM = sAM;
let flushedW = sAW;

function ensureScratch(n: number): void {
  if (sAM.length >= n) return;
  let len = sAM.length;
  while (len < n) len *= 2;
  sAM = new Float64Array(len);
  sAW = new Float64Array(len);
  sBM = new Float64Array(len);
  sBW = new Float64Array(len);
  sOM = new Float64Array(len);
  sOW = new Float64Array(len);
}

let rTmp = new Float64Array(1024);
let rTmp32 = new Uint32Array(rTmp.buffer);
const rHist = new Int32Array(4 * 256);

/** Below this many values the native typed-array sort beats the radix sort's fixed cost. */
const RADIX_MIN = 128;

/** Buffers of at most this many values — a short slide's sub-windows flush a few — are sorted by insertion. */
const INSERTION_MAX = 32;

/**
 * Sorts `a[0, n)` ascending by insertion, in place, with the order `Float64Array#sort` gives (−0
 * before +0), without the view a native sort of part of the buffer needs.
 */
function insertionSort(a: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
  // ±0 compare equal above: put the negative zeros of the run of zeros first.
  let first = 0;
  while (first < n && a[first] !== 0) first++;
  let end = first;
  let negative = 0;
  while (end < n && a[end] === 0) {
    if (Object.is(a[end], -0)) negative++;
    end++;
  }
  for (let i = first; i < end; i++) a[i] = i - first < negative ? -0 : 0;
}

/**
 * Sorts `a[0, n)` ascending and returns the array now holding the sorted values: `a` itself or
 * a module scratch array (valid until the next sort).
 *
 * For n ≥ {@link RADIX_MIN} this is an LSD radix sort (8-bit digits) on the high 32 bits of each
 * double, mapped to an order-preserving unsigned key (sign bit flipped for positives, all bits
 * flipped for negatives), with passes skipped when every key shares the digit — typically 2–3
 * passes for latency data. Doubles whose high words tie are then put in order by an insertion
 * pass comparing full values; if that needs more than 8·n moves (values that differ only in their
 * low 32 bits) it falls back to the native sort. About 3–4× faster than `Float64Array#sort` for
 * 0.5–8 k values, with exactly the same result (finite values only: NaN never reaches the buffer).
 */
function sortValues(a: Float64Array, n: number): Float64Array {
  if (n <= INSERTION_MAX) {
    insertionSort(a, n);
    return a;
  }
  if (n < RADIX_MIN) {
    (n === a.length ? a : a.subarray(0, n)).sort();
    return a;
  }
  if (rTmp.length < n) {
    let len = rTmp.length;
    while (len < n) len *= 2;
    rTmp = new Float64Array(len);
    rTmp32 = new Uint32Array(rTmp.buffer);
  }
  const a32 = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  const hist = rHist;
  hist.fill(0);
  for (let i = 0; i < n; i++) {
    const hi = a32[2 * i + 1];
    const k = hi ^ ((hi >> 31) | 0x80000000);
    hist[k & 0xff]++;
    hist[256 + ((k >>> 8) & 0xff)]++;
    hist[512 + ((k >>> 16) & 0xff)]++;
    hist[768 + (k >>> 24)]++;
  }
  let src = a;
  let src32 = a32;
  let dst: Float64Array = rTmp;
  let dst32: Uint32Array = rTmp32;
  for (let p = 0; p < 4; p++) {
    const base = p << 8;
    const shift = p << 3;
    const h0 = src32[1];
    if (hist[base + (((h0 ^ ((h0 >> 31) | 0x80000000)) >>> shift) & 0xff)] === n) continue;
    let sum = 0;
    for (let b = base; b < base + 256; b++) {
      const c = hist[b];
      hist[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const hi = src32[2 * i + 1];
      const d = base + (((hi ^ ((hi >> 31) | 0x80000000)) >>> shift) & 0xff);
      dst[hist[d]++] = src[i];
    }
    const t = src;
    src = dst;
    dst = t;
    const t32 = src32;
    src32 = dst32;
    dst32 = t32;
  }
  // Order values whose high words tie.
  let moves = 0;
  for (let i = 1; i < n; i++) {
    const x = src[i];
    if (x < src[i - 1]) {
      let j = i - 1;
      do {
        src[j + 1] = src[j];
        j--;
      } while (j >= 0 && src[j] > x);
      src[j + 1] = x;
      moves += i - 1 - j;
      if (moves > 8 * n) {
        src.subarray(0, n).sort();
        break;
      }
    }
  }
  return src;
}

/** Weighted mean of a run of sorted points, clamped to the run's span (rounding, overflow). */
function runMean(s: number, w: number, lo: number, hi: number): number {
  if (lo === hi) return lo;
  const m = s / w;
  if (m >= lo && m <= hi) return m;
  return m < lo ? lo : m > hi ? hi : 0.5 * lo + 0.5 * hi;
}

/**
 * The merge pass: greedily folds a sorted stream of weighted points `(m[i], w[i])`, `i < N`, of
 * total weight `W` into centroids written to `(outM, outW)`; returns the centroid count.
 *
 * A centroid is closed as soon as adding the next point would make it span more than one unit
 * of the k2 scale `k(q) = (δ/Z)·ln(q/(1−q))`: the largest admissible right edge of a centroid
 * starting at `q` is `q' = q / (q + (1 − q)·e^(−Z/δ))`, so there is no log/exp per point or
 * per centroid. The first and last points always stay alone so the extremes remain singletons.
 * Means are computed as Σw·x / Σw per centroid (clamped to the centroid's span), which keeps
 * runs of identical values exact.
 */
function compressStream(
  m: Float64Array,
  w: Float64Array,
  N: number,
  W: number,
  delta: number,
  unit: number,
  outM: Float64Array,
  outW: Float64Array,
): number {
  if (N === 0) return 0;
  // Z(n) with n = number of samples (total weight / smallest sample weight).
  let z = 4 * Math.log(Math.max(1, W / unit) / delta) + 24;
  if (!(z > 1)) z = 1;
  const e = Math.exp(-z / delta);
  let j = 0;
  let cw = w[0];
  let cs = m[0] * cw;
  let lo = m[0];
  let hi = lo;
  let wSoFar = 0;
  let wLimit = 0; // the first point always stays alone (it carries the minimum)
  const last = N - 1;
  for (let i = 1; i < N; i++) {
    const x = m[i];
    const xw = w[i];
    if (wSoFar + cw + xw <= wLimit && i !== last) {
      cw += xw;
      cs += x * xw;
      hi = x;
    } else {
      outM[j] = runMean(cs, cw, lo, hi);
      outW[j] = cw;
      j++;
      wSoFar += cw;
      const q = wSoFar / W;
      wLimit = q >= 1 ? W : (W * q) / (q + (1 - q) * e);
      cw = xw;
      cs = x * xw;
      lo = x;
      hi = x;
    }
  }
  outM[j] = runMean(cs, cw, lo, hi);
  outW[j] = cw;
  return j + 1;
}

/** Merges sorted runs a[a0, a1) and b[b0, b1) into (om, ow) starting at index o: by value, −0 before +0, a's first on ties. */
function mergeRuns(
  am: Float64Array,
  aw: Float64Array,
  a0: number,
  a1: number,
  bm: Float64Array,
  bw: Float64Array,
  b0: number,
  b1: number,
  om: Float64Array,
  ow: Float64Array,
  o: number,
): void {
  let i = a0;
  let k = b0;
  if (i < a1 && k < b1) {
    let x = am[i];
    let y = bm[k];
    for (;;) {
      if (before(y, x)) {
        om[o] = y;
        ow[o++] = bw[k++];
        if (k === b1) break;
        y = bm[k];
      } else {
        om[o] = x;
        ow[o++] = aw[i++];
        if (i === a1) break;
        x = am[i];
      }
    }
  }
  while (i < a1) {
    om[o] = am[i];
    ow[o++] = aw[i++];
  }
  while (k < b1) {
    om[o] = bm[k];
    ow[o++] = bw[k++];
  }
}

const pHist = new Int32Array(8 * 256);

/** Most sorted runs {@link sortRuns} merges pairwise; more (short ones, typically) go to the radix sort. */
const MAX_MERGED_RUNS = 32;

/**
 * Sorts the weighted points `(sAM[i], sAW[i])`, `i < n`, as {@link sortPairs} does, when they are
 * consecutive runs each already in that order, ending at `ends` (the centroids of merged digests):
 * the same order — a stable sort by value, −0 before +0, is unique — by merging runs pairwise in
 * O(n log k) instead of radix passes over every point. Falls back to {@link sortPairs} for many
 * runs or a run out of order. The result lands in (sAM, sAW) when this returns true, in (sBM,
 * sBW) otherwise.
 */
function sortRuns(n: number, ends: readonly number[]): boolean {
  if (ends.length > MAX_MERGED_RUNS) return sortPairs(n);
  let from = 0;
  for (const end of ends) {
    for (let i = from + 1; i < end; i++) if (before(sAM[i], sAM[i - 1])) return sortPairs(n);
    from = end;
  }
  let bounds = ends;
  let inA = true;
  while (bounds.length > 1) {
    const sm = inA ? sAM : sBM;
    const sw = inA ? sAW : sBW;
    const dm = inA ? sBM : sAM;
    const dw = inA ? sBW : sAW;
    const next: number[] = [];
    let start = 0;
    for (let r = 0; r < bounds.length; r += 2) {
      if (r + 1 < bounds.length) {
        mergeRuns(sm, sw, start, bounds[r], sm, sw, bounds[r], bounds[r + 1], dm, dw, start);
        start = bounds[r + 1];
      } else {
        dm.set(sm.subarray(start, bounds[r]), start);
        dw.set(sw.subarray(start, bounds[r]), start);
        start = bounds[r];
      }
      next.push(start);
    }
    bounds = next;
    inA = !inA;
  }
  return inA;
}

/** Order-preserving unsigned key of a double's high word (see {@link sortValues}). */
function hiKey(hi: number): number {
  return hi ^ ((hi >> 31) | 0x80000000);
}

/**
 * Sorts the weighted points `(sAM[i], sAW[i])`, `i < n`, by value; the result lands in
 * (sAM, sAW) when this returns true, in (sBM, sBW) otherwise.
 *
 * Same scheme as {@link sortValues} (radix on the high 32 bits + insertion pass for ties), moving
 * weights along with values. The fallback for pathological ties is a full 64-bit LSD radix sort
 * (8 passes), so the cost stays O(n) in every case.
 */
function sortPairs(n: number): boolean {
  if (n < 2) return true;
  const am32 = new Uint32Array(sAM.buffer, 0, 2 * n);
  const bm32 = new Uint32Array(sBM.buffer, 0, 2 * n);
  let inA = radixPairs(n, 4, 8, am32, bm32, true);
  const m = inA ? sAM : sBM;
  const w = inA ? sAW : sBW;
  let moves = 0;
  for (let i = 1; i < n; i++) {
    const x = m[i];
    if (x < m[i - 1]) {
      const xw = w[i];
      let j = i - 1;
      do {
        m[j + 1] = m[j];
        w[j + 1] = w[j];
        j--;
      } while (j >= 0 && m[j] > x);
      m[j + 1] = x;
      w[j + 1] = xw;
      moves += i - 1 - j;
      if (moves > 8 * n) {
        inA = radixPairs(n, 0, 8, am32, bm32, inA);
        break;
      }
    }
  }
  return inA;
}

/**
 * LSD radix passes `p0 ≤ p < p1` over the 8 byte-digits of the order-preserving 64-bit key
 * (digits 0–3: low word, 4–7: high word), ping-ponging between A and B; the data starts in A
 * when `startInA`. Passes where all keys share the digit are skipped. Returns true when the
 * result is in A.
 */
function radixPairs(n: number, p0: number, p1: number, a32: Uint32Array, b32: Uint32Array, startInA: boolean): boolean {
  const hist = pHist;
  hist.fill(0, p0 << 8, p1 << 8);
  const s32 = startInA ? a32 : b32;
  if (p0 < 4) {
    for (let i = 0; i < n; i++) {
      const hi = s32[2 * i + 1];
      const kl = hi >= 0x80000000 ? ~s32[2 * i] : s32[2 * i];
      hist[kl & 0xff]++;
      hist[256 + ((kl >>> 8) & 0xff)]++;
      hist[512 + ((kl >>> 16) & 0xff)]++;
      hist[768 + (kl >>> 24)]++;
    }
  }
  for (let i = 0; i < n; i++) {
    const kh = hiKey(s32[2 * i + 1]);
    hist[1024 + (kh & 0xff)]++;
    hist[1280 + ((kh >>> 8) & 0xff)]++;
    hist[1536 + ((kh >>> 16) & 0xff)]++;
    hist[1792 + (kh >>> 24)]++;
  }
  let inA = startInA;
  for (let p = p0; p < p1; p++) {
    const src32 = inA ? a32 : b32;
    const base = p << 8;
    const shift = (p & 3) << 3;
    const h0 = src32[1];
    const k0 = p < 4 ? (h0 >= 0x80000000 ? ~src32[0] : src32[0]) : hiKey(h0);
    if (hist[base + ((k0 >>> shift) & 0xff)] === n) continue;
    let sum = 0;
    for (let b = base; b < base + 256; b++) {
      const c = hist[b];
      hist[b] = sum;
      sum += c;
    }
    if (inA) scatterPairs(n, p < 4, base, shift, a32, sAM, sAW, sBM, sBW);
    else scatterPairs(n, p < 4, base, shift, b32, sBM, sBW, sAM, sAW);
    inA = !inA;
  }
  return inA;
}

/** One radix scatter pass of (srcM, srcW) into (dstM, dstW) by the digit at `shift`. */
function scatterPairs(
  n: number,
  lowWord: boolean,
  base: number,
  shift: number,
  src32: Uint32Array,
  srcM: Float64Array,
  srcW: Float64Array,
  dstM: Float64Array,
  dstW: Float64Array,
): void {
  const hist = pHist;
  if (lowWord) {
    for (let i = 0; i < n; i++) {
      const k = src32[2 * i + 1] >= 0x80000000 ? ~src32[2 * i] : src32[2 * i];
      const o = hist[base + ((k >>> shift) & 0xff)]++;
      dstM[o] = srcM[i];
      dstW[o] = srcW[i];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = hist[base + ((hiKey(src32[2 * i + 1]) >>> shift) & 0xff)]++;
      dstM[o] = srcM[i];
      dstW[o] = srcW[i];
    }
  }
}

/** Linear interpolation between a ≤ b, clamped to [a, b]. */
function lerp(a: number, b: number, t: number): number {
  const v = a * (1 - t) + b * t;
  return v < a ? a : v > b ? b : v;
}

/** Appends a packed digest's centroids to (sAM, sAW) at offset `o`; returns the new offset. */
function copyPackedTo(p: PackedDigest, o: number): number {
  const n = p.data[p.at];
  const m = p.data.subarray(p.at + PACK_HEADER, p.at + PACK_HEADER + n);
  sAM.set(m, o);
  const w = p.weights;
  const wAt = p.wAt;
  for (let i = 0; i < n; i++) sAW[o + i] = w[wAt + i];
  return o + n;
}

/** A merge source's centroid count, pending values flushed first. */
function flushedCount(d: DigestSource): number {
  return d.centroidCount;
}

function nonFiniteValue(x: unknown): TypeError {
  return new TypeError(`TDigest: value must be a finite number, got ${String(x)}`);
}

function checkCompression(compression: number): void {
  if (!(compression >= 10 && compression <= 10_000)) {
    throw new RangeError(`TDigest: compression must be in [10, 10000], got ${String(compression)}`);
  }
}

function checkQ(q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`TDigest: quantile must be in [0, 1], got ${String(q)}`);
}

/** Doubles of a packed digest's header: n, cw, total, lo, loW, hi, hiW, unit, compression, maxBuffer. */
const PACK_HEADER = 10;
/** Estimated V8 cost of a {@link PackedDigest} object itself (three fields). */
const PACKED_OBJECT_BYTES = 48;

/**
 * One compacted digest stored in a pack of many (see {@link TDigest.pack}): read-only, a few dozen
 * bytes of its own besides its share of the pack — no digest object, typed arrays or
 * `ArrayBuffer` per digest. It answers the exact statistics, merges like the digest it was (as a
 * source of {@link TDigest.merge}), and {@link thaw} gives that digest back to add values to.
 */
export class PackedDigest {
  /** @internal The pack's header and means. */
  readonly data: Float64Array;
  /** @internal The pack's weights: one byte each where every weight of the digest is a count up to 255. */
  readonly weights: Float32Array | Uint8Array;
  /** @internal Offset of this digest's header in `data` (its means follow). */
  readonly at: number;
  /** @internal Offset of this digest's weights in `weights`. */
  readonly wAt: number;

  /** @internal Built by {@link TDigest.pack}. */
  constructor(data: Float64Array, weights: Float32Array | Uint8Array, at: number, wAt: number) {
    this.data = data;
    this.weights = weights;
    this.at = at;
    this.wAt = wAt;
  }

  /** Compression δ of the digest. */
  get compression(): number {
    return this.data[this.at + 8];
  }

  /** Number of centroids. */
  get centroidCount(): number {
    return this.data[this.at];
  }

  /** Total weight (the number of values for unweighted use). */
  get count(): number {
    return this.data[this.at + 1];
  }

  /** Exact minimum, `NaN` when empty. */
  get min(): number {
    const v = this.data[this.at + 3];
    return v === Infinity ? NaN : v;
  }

  /** Exact maximum, `NaN` when empty. */
  get max(): number {
    const v = this.data[this.at + 5];
    return v === -Infinity ? NaN : v;
  }

  /** Σ w·x over the values. */
  get sum(): number {
    return this.data[this.at + 2];
  }

  /** Weighted mean, `NaN` when empty. */
  get mean(): number {
    const n = this.count;
    return n === 0 ? NaN : this.sum / n;
  }

  /** Estimated bytes: this object and its share of the pack. */
  byteSize(): number {
    return PACKED_OBJECT_BYTES + (PACK_HEADER + this.centroidCount) * 8 + this.weights.BYTES_PER_ELEMENT * this.centroidCount;
  }

  /** A digest in exactly the state of the packed one (compacted), to add values to or query. */
  thaw(): TDigest {
    return TDigest.unpack(this);
  }
}

/** What {@link TDigest.merge} and its relatives merge: live digests or packed ones. */
export type DigestSource = TDigest | PackedDigest;

// Cursor shared by quantileAt() calls of one quantiles() scan (reset by every caller).
let curI = 0;
let curWs = 0;

/**
 * Dunning's merging t-digest over finite numbers (see the module documentation for the
 * algorithm, the scale function and the quantile convention).
 *
 * Plain synchronous class; not safe to share across worker threads (nothing in JS is).
 *
 * @example
 * ```ts
 * const d = new TDigest();
 * for (const ms of latencies) d.add(ms);
 * d.quantile(0.99);               // p99
 * d.compact();                    // sub-window closed: ≤ ~2 KiB retained
 * TDigest.merge(subWindows).quantiles([0.5, 0.95, 0.99]);
 * ```
 */
export class TDigest {
  /** Compression δ of this digest (k2 scale; larger = more centroids, more accuracy). */
  readonly compression: number;
  private readonly maxBuffer: number;
  /**
   * Centroids, ascending by mean: means (float64) and weights (float32 — exact for integer
   * counts below 2^24) share one ArrayBuffer of `12·cap` bytes; the first `n` are live.
   */
  private m: Float64Array;
  private w: Float32Array;
  private cap: number;
  private n: number;
  /** Total weight held by the centroids. */
  private cw: number;
  /** Pending unit-weight values. */
  private buf: Float64Array;
  private bufLen: number;
  /** Pending weighted values, interleaved `(x, w)`. */
  private wbuf: Float64Array;
  private wLen: number;
  private wWeight: number;
  /** Exact min / max of merged values and the total weight sitting exactly at each. */
  private lo: number;
  private hi: number;
  private loW: number;
  private hiW: number;
  /** Smallest weight of any single merged sample (1 for unweighted data; Infinity if empty). */
  private unit: number;
  /** Σ w·x over merged values. */
  private total: number;

  /**
   * Creates an empty digest.
   *
   * @param compression - δ, in [10, 10 000] (default {@link DEFAULT_COMPRESSION}). The
   *   centroid count grows slowly with the number of values and levels off below ~0.75·δ
   *   (measured at δ = 200: 87 centroids for 1 000 values, ~100 for 10 000, ~120 for 100 000,
   *   ~145 from 10 M on). A compacted digest retains ≈ 530 + 12·centroids bytes, i.e. ≤ 2 KiB
   *   up to a few hundred thousand values and ~2.2 KiB beyond. Values below ~50 give very
   *   coarse digests (the k2 normaliser then lets one centroid span a large share of the data).
   * @param options - see {@link TDigestOptions}.
   * @throws RangeError if `compression` or `options.bufferSize` is out of range.
   */
  constructor(compression: number = DEFAULT_COMPRESSION, options: TDigestOptions = {}) {
    checkCompression(compression);
    const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
    if (!Number.isInteger(bufferSize) || bufferSize < 16 || bufferSize > 1 << 24) {
      throw new RangeError(`TDigest: bufferSize must be an integer in [16, 2^24], got ${String(bufferSize)}`);
    }
    this.compression = compression;
    this.maxBuffer = bufferSize;
    this.m = EMPTY;
    this.w = EMPTY_W;
    this.cap = 0;
    this.n = 0;
    this.cw = 0;
    this.buf = EMPTY;
    this.bufLen = 0;
    this.wbuf = EMPTY;
    this.wLen = 0;
    this.wWeight = 0;
    this.lo = Infinity;
    this.hi = -Infinity;
    this.loW = 0;
    this.hiW = 0;
    this.unit = Infinity;
    this.total = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Ingestion
  // -------------------------------------------------------------------------------------------

  /**
   * Adds `x` with weight `w` (a frequency: `add(x, 3)` ≈ three `add(x)` calls).
   *
   * Unit weights take an allocation-free fast path (one store into the pending buffer; a sort +
   * merge pass runs when the buffer is full). Weights are treated as sample counts by the
   * extreme-value and singleton logic; fractional weights are accepted and handled by scaling
   * that logic to the smallest weight seen.
   *
   * @param x - a finite number.
   * @param w - a positive finite weight (default 1).
   * @throws TypeError if `x` is not finite (NaN, ±Infinity, non-number) or `w` is not a
   *   positive finite number; the digest is left unchanged.
   */
  add(x: number, w = 1): void {
    if (w === 1) {
      if (!Number.isFinite(x)) throw nonFiniteValue(x);
      if (this.bufLen === this.buf.length) this.makeRoom();
      this.buf[this.bufLen++] = x;
    } else {
      this.addWeighted(x, w);
    }
  }

  private addWeighted(x: number, w: number): void {
    if (!Number.isFinite(x)) throw nonFiniteValue(x);
    if (!(w > 0 && w < Infinity)) {
      throw new TypeError(`TDigest: weight must be a positive finite number, got ${String(w)}`);
    }
    if (2 * this.wLen === this.wbuf.length) {
      const len = this.wbuf.length;
      if (len < 2 * this.maxBuffer) {
        const nb = new Float64Array(Math.min(2 * this.maxBuffer, Math.max(64, 2 * len)));
        nb.set(this.wbuf);
        this.wbuf = nb;
      } else {
        this.flush();
      }
    }
    const k = 2 * this.wLen++;
    this.wbuf[k] = x;
    this.wbuf[k + 1] = w;
    this.wWeight += w;
  }

  /** Grows the pending buffer (doubling up to `maxBuffer`) or, when at the bound, flushes it. */
  private makeRoom(): void {
    const len = this.buf.length;
    if (len < this.maxBuffer) {
      const nb = takeBuffer(Math.min(this.maxBuffer, Math.max(POOL_MIN_SIZE, 2 * len)));
      if (len > 0) {
        nb.set(this.buf);
        releaseBuffer(this.buf);
      }
      this.buf = nb;
    } else {
      this.flush();
    }
  }

  private noteLow(v: number, w: number): void {
    if (v < this.lo) {
      this.lo = v;
      this.loW = w;
    } else if (v === this.lo) {
      this.loW += w;
    }
  }

  private noteHigh(v: number, w: number): void {
    if (v > this.hi) {
      this.hi = v;
      this.hiW = w;
    } else if (v === this.hi) {
      this.hiW += w;
    }
  }

  /** Merges all pending values into the centroids (one sort + one merge pass). */
  private flush(): void {
    const count = this.flushToScratch();
    if (count >= 0) this.store(flushedM, flushedW, count, false);
  }

  /**
   * The work of {@link flush} short of storing the result: the statistics take the pending values
   * in, the buffers empty, and the new centroids are left in `flushedM`/`flushedW`; returns their
   * count, or -1 when nothing was pending (the centroids are then as they were). The caller must
   * store them or drop the digest.
   */
  private flushToScratch(): number {
    const nb = this.bufLen;
    const nw = this.wLen;
    if (nb === 0 && nw === 0) return -1;
    const n = this.n;
    const N = n + nb + nw;
    ensureScratch(N);
    const c = this.m;
    const wts = this.w;
    let sum = 0;

    // 1) Pending weighted points (rare path): sorted as pairs in the A/B scratch.
    let wm = sAM;
    let ww = sAW;
    if (nw > 0) {
      const wb = this.wbuf;
      for (let i = 0; i < nw; i++) {
        const x = wb[2 * i];
        const xw = wb[2 * i + 1];
        sum += x * xw;
        this.noteLow(x, xw);
        this.noteHigh(x, xw);
        if (xw < this.unit) this.unit = xw;
        sAM[i] = x;
        sAW[i] = xw;
      }
      if (!sortPairs(nw)) {
        wm = sBM;
        ww = sBW;
      }
    }
    // The stream (centroids ∪ unit buffer) goes to whichever A/B pair is free.
    const m1 = nw > 0 && wm === sAM ? sBM : sAM;
    const w1 = m1 === sAM ? sAW : sBW;

    // 2) Unit buffer: sort, then a two-way merge with the centroids.
    if (nb > 0) {
      const buf = sortValues(this.buf, nb);
      const first = buf[0];
      let k = 1;
      while (k < nb && buf[k] === first) k++;
      this.noteLow(first, k);
      const lastV = buf[nb - 1];
      k = 1;
      while (k < nb && buf[nb - 1 - k] === lastV) k++;
      this.noteHigh(lastV, k);
      if (this.unit > 1) this.unit = 1;
      let i = 0;
      let p = 0;
      let o = 0;
      if (n > 0) {
        let y = c[0];
        while (p < nb) {
          const x = buf[p];
          if (x < y) {
            sum += x;
            m1[o] = x;
            w1[o++] = 1;
            p++;
          } else {
            m1[o] = y;
            w1[o++] = wts[i];
            if (++i === n) break;
            y = c[i];
          }
        }
      }
      while (p < nb) {
        const x = buf[p++];
        sum += x;
        m1[o] = x;
        w1[o++] = 1;
      }
      while (i < n) {
        m1[o] = c[i];
        w1[o++] = wts[i];
        i++;
      }
    } else {
      m1.set(c.subarray(0, n));
      for (let i = 0; i < n; i++) w1[i] = wts[i];
    }

    // 3) Fold the weighted run in, then compress.
    let sm = m1;
    let sw = w1;
    if (nw > 0) {
      mergeRuns(m1, w1, 0, n + nb, wm, ww, 0, nw, sOM, sOW, 0);
      sm = sOM;
      sw = sOW;
    }
    const W = this.cw + nb + this.wWeight;
    this.total += sum;
    this.cw = W;
    this.bufLen = 0;
    this.wLen = 0;
    this.wWeight = 0;
    // Compress into the free pair (A/B not holding the stream).
    flushedM = sm === sAM ? sBM : sAM;
    flushedW = flushedM === sAM ? sAW : sBW;
    return compressStream(sm, sw, N, W, this.compression, this.unit, flushedM, flushedW);
  }

  /** Copies `count` centroids into place, reallocating when too small (or to size exactly). */
  private store(om: Float64Array, ow: Float64Array, count: number, exact: boolean): void {
    if (count > this.cap || (exact && count !== this.cap)) {
      const cap = exact ? count : count + (count >> 2) + 8;
      [this.m, this.w] = allocCentroids(cap);
      this.cap = cap;
    }
    this.m.set(om.subarray(0, count));
    const wts = this.w;
    for (let i = 0; i < count; i++) wts[i] = ow[i];
    this.n = count;
  }

  // -------------------------------------------------------------------------------------------
  // Merging
  // -------------------------------------------------------------------------------------------

  /**
   * Merges digests into a new one in a single pass: all their centroids are concatenated into
   * a reusable scratch buffer, sorted once (radix sort on the means, weights carried along) and
   * folded by one compression pass — centroids are never re-inserted one by one. Merging 60
   * compacted sub-window digests and reading p99 takes ~0.2 ms.
   *
   * Inputs keep their contents; their pending buffers are flushed into their centroids first
   * (as any query would). The result has its centroid arrays sized exactly and no buffer until
   * values are added to it.
   *
   * @param digests - digests to merge (may be empty; empty digests are skipped).
   * @param compression - δ of the result (default: the largest δ among the inputs, or
   *   {@link DEFAULT_COMPRESSION} when there are none).
   * @returns a new digest holding the union of all inputs.
   */
  static merge(digests: readonly DigestSource[], compression?: number): TDigest {
    let delta = compression;
    if (delta === undefined) {
      delta = digests.length === 0 ? DEFAULT_COMPRESSION : 0;
      for (const d of digests) if (d.compression > delta) delta = d.compression;
    }
    const out = new TDigest(delta);
    out.mergeSources(digests, false);
    return out;
  }

  /**
   * Merges other digests into this one, in one sorted merge pass over this digest's centroids
   * and theirs. The others are left unchanged apart from having their pending buffers flushed.
   *
   * @param others - digests to fold in (this digest itself may appear; it is then counted twice).
   * @returns `this`.
   */
  mergeFrom(...others: TDigest[]): this {
    this.mergeSources(others, true);
    return this;
  }

  /**
   * Concatenates the centroids of `sources` (and of `this` when `includeSelf`), sorts them as
   * weighted points in one go and runs a single compression pass into `this`.
   */
  private mergeSources(sources: readonly DigestSource[], includeSelf: boolean): void {
    if (includeSelf) this.flush();
    let N = includeSelf ? this.n : 0;
    for (const d of sources) N += flushedCount(d);
    if (N === 0) return;
    ensureScratch(N);
    let o = 0;
    // Each digest's centroids are sorted: where each one's run ends.
    const ends: number[] = [];
    if (includeSelf && this.n > 0) ends.push((o = this.copyCentroidsTo(o)));
    // `this` may also appear among the sources: fold in its statistics as they were on entry.
    const self = includeSelf && sources.includes(this) ? this.clone() : this;
    for (const source of sources) {
      if (source instanceof PackedDigest) {
        if (source.centroidCount === 0) continue;
        ends.push((o = copyPackedTo(source, o)));
        this.absorbPacked(source);
        continue;
      }
      const d = source === this ? self : source;
      if (d.n === 0) continue;
      ends.push((o = d.copyCentroidsTo(o)));
      this.absorbStats(d);
    }
    const inA = sortRuns(N, ends);
    const count = compressStream(
      inA ? sAM : sBM,
      inA ? sAW : sBW,
      N,
      this.cw,
      this.compression,
      this.unit,
      sOM,
      sOW,
    );
    this.store(sOM, sOW, count, !includeSelf);
  }

  /** Folds a merge source's exact statistics (weight, sum, extremes, unit) into this digest. */
  private absorbStats(d: TDigest): void {
    this.cw += d.cw;
    this.total += d.total;
    this.noteLow(d.lo, d.loW);
    this.noteHigh(d.hi, d.hiW);
    if (d.unit < this.unit) this.unit = d.unit;
  }

  /** {@link absorbStats} of a packed digest: the same fields, read from its header. */
  private absorbPacked(p: PackedDigest): void {
    const h = p.data;
    const at = p.at;
    this.cw += h[at + 1];
    this.total += h[at + 2];
    this.noteLow(h[at + 3], h[at + 4]);
    this.noteHigh(h[at + 5], h[at + 6]);
    if (h[at + 7] < this.unit) this.unit = h[at + 7];
  }

  /**
   * Packs `digests` into one buffer of means and one of weights and returns them as
   * {@link PackedDigest}s, in order: the same centroids and exact statistics (pending values are
   * flushed first), at a few dozen bytes each instead of several hundred for a compacted digest's
   * object, typed arrays and `ArrayBuffer`. For many small digests that no longer change — the
   * digests of a closed sub-window. The digests themselves are left as they are (flushed); meant to
   * be dropped after, they allocate as little as possible: their flushed centroids go to shared
   * slabs, and their emptied pending buffers to a pool that new digests take theirs from.
   */
  static pack(digests: readonly TDigest[]): PackedDigest[] {
    let doubles = 0;
    let wide = 0;
    let narrow = 0;
    // Small digests keep every value as a weight-1 centroid: their weights fit in a byte each.
    const small: boolean[] = [];
    slabOn = true;
    try {
      for (let k = 0; k < digests.length; k++) {
        const d = digests[k];
        d.flush();
        // Emptied by the flush: the buffer goes to other digests (a later add here takes another).
        if (d.buf !== EMPTY) {
          releaseBuffer(d.buf);
          d.buf = EMPTY;
        }
        const narrowWeights = byteWeights(d.w, d.n);
        small.push(narrowWeights);
        doubles += PACK_HEADER + d.n;
        if (narrowWeights) narrow += d.n;
        else wide += d.n;
      }
    } finally {
      slabOn = false;
      slab = null;
    }
    const data = new Float64Array(doubles);
    const weights = new Float32Array(wide);
    const counts = new Uint8Array(narrow);
    const out: PackedDigest[] = [];
    let at = 0;
    let wAt = 0;
    let cAt = 0;
    for (let k = 0; k < digests.length; k++) {
      const d = digests[k];
      const n = d.n;
      data[at] = n;
      data[at + 1] = d.cw;
      data[at + 2] = d.total;
      data[at + 3] = d.lo;
      data[at + 4] = d.loW;
      data[at + 5] = d.hi;
      data[at + 6] = d.hiW;
      data[at + 7] = d.unit;
      data[at + 8] = d.compression;
      data[at + 9] = d.maxBuffer;
      const m = d.m;
      const w = d.w;
      const o = at + PACK_HEADER;
      for (let i = 0; i < n; i++) data[o + i] = m[i];
      if (small[k]) {
        for (let i = 0; i < n; i++) counts[cAt + i] = w[i];
        out.push(new PackedDigest(data, counts, at, cAt));
        cAt += n;
      } else {
        for (let i = 0; i < n; i++) weights[wAt + i] = w[i];
        out.push(new PackedDigest(data, weights, at, wAt));
        wAt += n;
      }
      at += PACK_HEADER + n;
    }
    return out;
  }

  /** The digest a packed one was, compacted (see {@link PackedDigest.thaw}). */
  static unpack(p: PackedDigest): TDigest {
    const h = p.data;
    const at = p.at;
    const n = h[at];
    const d = new TDigest(h[at + 8], { bufferSize: h[at + 9] });
    [d.m, d.w] = allocCentroids(n);
    d.m.set(h.subarray(at + PACK_HEADER, at + PACK_HEADER + n));
    d.w.set(p.weights.subarray(p.wAt, p.wAt + n));
    d.cap = n;
    d.n = n;
    d.cw = h[at + 1];
    d.total = h[at + 2];
    d.lo = h[at + 3];
    d.loW = h[at + 4];
    d.hi = h[at + 5];
    d.hiW = h[at + 6];
    d.unit = h[at + 7];
    return d;
  }

  /** Appends this digest's centroids to (sAM, sAW) at offset `o`; returns the new offset. */
  private copyCentroidsTo(o: number): number {
    const n = this.n;
    sAM.set(this.m.subarray(0, n), o);
    const w = this.w;
    for (let i = 0; i < n; i++) sAW[o + i] = w[i];
    return o + n;
  }

  // -------------------------------------------------------------------------------------------
  // Queries
  // -------------------------------------------------------------------------------------------

  /**
   * Estimates the `q`-quantile. Flushes pending values first.
   *
   * @param q - in [0, 1]; `0` returns the exact minimum and `1` the exact maximum.
   * @returns the estimate, or `NaN` when the digest is empty.
   * @throws RangeError if `q` is outside [0, 1] or NaN.
   */
  quantile(q: number): number {
    checkQ(q);
    this.flush();
    if (this.n === 0) return NaN;
    curI = 0;
    curWs = this.w[0] / 2;
    return this.quantileAt(q * this.cw);
  }

  /**
   * Estimates several quantiles with one flush and a single forward scan of the centroids.
   *
   * @param qs - quantiles in [0, 1], in any order.
   * @returns estimates in the order of `qs` (all `NaN` when the digest is empty).
   * @throws RangeError if any `q` is outside [0, 1] or NaN.
   */
  quantiles(qs: readonly number[]): number[] {
    for (const q of qs) checkQ(q);
    this.flush();
    const out = new Array<number>(qs.length);
    if (this.n === 0) return out.fill(NaN);
    const order = Array.from(qs.keys()).sort((a, b) => qs[a] - qs[b]);
    curI = 0;
    curWs = this.w[0] / 2;
    for (const k of order) out[k] = this.quantileAt(qs[k] * this.cw);
    return out;
  }

  /** Value at weighted rank `index` ∈ [0, W]; continues the scan from (curI, curWs). */
  private quantileAt(index: number): number {
    const lo = this.lo;
    const hi = this.hi;
    if (lo === hi) return lo;
    const W = this.cw;
    // The samples at the exact min / max occupy the first loW / last hiW units of rank.
    if (index < this.loW) return lo;
    if (index >= W - this.hiW) return hi;
    const c = this.m;
    const wts = this.w;
    const n = this.n;
    // A centroid lighter than 1.5 units holds exactly one sample (two samples weigh ≥ 2 units;
    // 1.5 leaves room for float32 rounding of weights): it is a point mass.
    const singleMax = 1.5 * this.unit;
    const w0 = wts[0];
    if (w0 >= singleMax && index < w0 / 2) {
      // Between the min sample(s) and the first centroid's mean.
      return lerp(lo, c[0], (index - this.loW) / (w0 / 2 - this.loW));
    }
    const wl = wts[n - 1];
    if (wl >= singleMax && index > W - wl / 2) {
      // Between the last centroid's mean and the max sample(s).
      return lerp(c[n - 1], hi, (index - (W - wl / 2)) / (wl / 2 - this.hiW));
    }
    let ws = curWs;
    for (let i = curI; i < n - 1; i++) {
      const wi = wts[i];
      const wj = wts[i + 1];
      const dw = (wi + wj) / 2;
      if (ws + dw > index) {
        curI = i;
        curWs = ws;
        // Centroids i and i+1 bracket the rank; singletons are not interpolated into.
        let leftUnit = 0;
        if (wi < singleMax) {
          if (index - ws < wi / 2) return c[i];
          leftUnit = wi / 2;
        }
        let rightUnit = 0;
        if (wj < singleMax) {
          if (ws + dw - index <= wj / 2) return c[i + 1];
          rightUnit = wj / 2;
        }
        const z1 = index - ws - leftUnit;
        const z2 = ws + dw - index - rightUnit;
        return lerp(c[i], c[i + 1], z1 / (z1 + z2));
      }
      ws += dw;
    }
    curI = n - 1;
    curWs = ws;
    return hi;
  }

  /**
   * Estimates the fraction of the total weight at or below `x`, counting half of any weight
   * exactly at `x` (mid-rank convention, as the reference implementation). With singleton
   * centroids this is exact: `(#{xᵢ < x} + ½·#{xᵢ = x}) / n`.
   *
   * @param x - a finite number.
   * @returns a value in [0, 1], or `NaN` when the digest is empty.
   * @throws TypeError if `x` is not finite.
   */
  cdf(x: number): number {
    if (!Number.isFinite(x)) throw nonFiniteValue(x);
    this.flush();
    const n = this.n;
    if (n === 0) return NaN;
    const lo = this.lo;
    const hi = this.hi;
    if (x < lo) return 0;
    if (x > hi) return 1;
    if (lo === hi) return 0.5;
    const W = this.cw;
    if (x === lo) return this.loW / 2 / W;
    if (x === hi) return 1 - this.hiW / 2 / W;
    const c = this.m;
    const wts = this.w;
    const singleMax = 1.5 * this.unit;
    const m0 = c[0];
    if (x < m0) {
      // lo < x < first mean: interpolate from rank loW (all min samples below x) to w0/2.
      const half = Math.max(0, wts[0] / 2 - this.loW);
      return (this.loW + ((x - lo) / (m0 - lo)) * half) / W;
    }
    const ml = c[n - 1];
    if (x > ml) {
      const half = Math.max(0, wts[n - 1] / 2 - this.hiW);
      return 1 - (this.hiW + ((hi - x) / (hi - ml)) * half) / W;
    }
    // m0 ≤ x ≤ ml
    let ws = 0;
    for (let i = 0; i < n; i++) {
      const mi = c[i];
      if (mi === x) {
        let dw = 0;
        while (i < n && c[i] === x) dw += wts[i++];
        return (ws + dw / 2) / W;
      }
      const mj = c[i + 1];
      if (x < mj) {
        // mi < x < mj
        const wi = wts[i];
        const wj = wts[i + 1];
        if (wi < singleMax && wj < singleMax) return (ws + wi) / W;
        const leftEx = wi < singleMax ? wi / 2 : 0;
        const rightEx = wj < singleMax ? wj / 2 : 0;
        const dw = (wi + wj) / 2 - leftEx - rightEx;
        const base = ws + wi / 2 + leftEx;
        return (base + (dw * (x - mi)) / (mj - mi)) / W;
      }
      ws += wts[i];
    }
    return 1; // unreachable: x ≤ ml is handled in the loop
  }

  /** Total weight added (the number of values for unweighted use); 0 when empty. */
  get count(): number {
    return this.cw + this.bufLen + this.wWeight;
  }

  /** Exact minimum of the added values, `NaN` when empty. Does not flush. */
  get min(): number {
    let v = this.lo;
    for (let i = 0; i < this.bufLen; i++) if (this.buf[i] < v) v = this.buf[i];
    for (let i = 0; i < this.wLen; i++) if (this.wbuf[2 * i] < v) v = this.wbuf[2 * i];
    return v === Infinity ? NaN : v;
  }

  /** Exact maximum of the added values, `NaN` when empty. Does not flush. */
  get max(): number {
    let v = this.hi;
    for (let i = 0; i < this.bufLen; i++) if (this.buf[i] > v) v = this.buf[i];
    for (let i = 0; i < this.wLen; i++) if (this.wbuf[2 * i] > v) v = this.wbuf[2 * i];
    return v === -Infinity ? NaN : v;
  }

  /** Σ w·x over the added values (floating-point sum; 0 when empty). Does not flush. */
  get sum(): number {
    let s = this.total;
    for (let i = 0; i < this.bufLen; i++) s += this.buf[i];
    for (let i = 0; i < this.wLen; i++) s += this.wbuf[2 * i] * this.wbuf[2 * i + 1];
    return s;
  }

  /** Weighted mean `sum / count` (exact up to floating-point summation), `NaN` when empty. */
  get mean(): number {
    const n = this.count;
    return n === 0 ? NaN : this.sum / n;
  }

  /** Number of centroids (flushes pending values first). */
  get centroidCount(): number {
    this.flush();
    return this.n;
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle, memory, serialisation
  // -------------------------------------------------------------------------------------------

  /**
   * Flushes pending values, trims the centroid storage to exactly the centroid count and
   * releases the pending buffers. The digest stays fully usable: queries and merges work as
   * before, and a later {@link TDigest.add} transparently re-allocates a (small, growing) buffer.
   *
   * @returns `this`.
   */
  compact(): this {
    this.flush();
    if (this.cap !== this.n) {
      const n = this.n;
      const [m, w] = allocCentroids(n);
      m.set(this.m.subarray(0, n));
      w.set(this.w.subarray(0, n));
      this.m = m;
      this.w = w;
      this.cap = n;
    }
    if (this.buf !== EMPTY) releaseBuffer(this.buf);
    this.buf = EMPTY;
    this.wbuf = EMPTY;
    return this;
  }

  /**
   * Estimated bytes retained by this digest: the typed-array payloads actually allocated
   * (centroids at 12 bytes each and pending buffers, unused capacity included) plus fixed costs
   * for the object (192 B) and its typed-array/ArrayBuffer headers (336 B for the centroid
   * storage, 192 B per buffer). The constants were calibrated on Node 20 / x64 against
   * `process.memoryUsage()` (heapUsed + arrayBuffers) deltas over many retained digests and
   * slightly overestimate them. A compacted digest costs 528 + 12·centroidCount bytes
   * (~1.7 KiB for 10 000 lognormal values at δ = 200); allocator bookkeeping outside the V8
   * heap is not included.
   */
  byteSize(): number {
    let bytes = OBJECT_BYTES;
    if (this.cap > 0) bytes += CENTROID_ARRAYS_BYTES + 12 * this.cap;
    if (this.buf.length > 0) bytes += TYPED_ARRAY_BYTES + this.buf.byteLength;
    if (this.wbuf.length > 0) bytes += TYPED_ARRAY_BYTES + this.wbuf.byteLength;
    return bytes;
  }

  /** Empties the digest, keeping its allocated buffers for reuse. */
  reset(): void {
    this.n = 0;
    this.cw = 0;
    this.bufLen = 0;
    this.wLen = 0;
    this.wWeight = 0;
    this.lo = Infinity;
    this.hi = -Infinity;
    this.loW = 0;
    this.hiW = 0;
    this.unit = Infinity;
    this.total = 0;
  }

  /**
   * Empties the digest and gives its storage up — its pending buffer back to the pool new digests
   * take theirs from — for a digest about to be dropped. It stays usable (empty).
   */
  release(): void {
    this.reset();
    if (this.buf !== EMPTY) releaseBuffer(this.buf);
    this.buf = EMPTY;
    this.wbuf = EMPTY;
    this.m = EMPTY;
    this.w = EMPTY_W;
    this.cap = 0;
  }

  /** Returns an independent deep copy (pending values included, not flushed). */
  clone(): TDigest {
    const d = new TDigest(this.compression, { bufferSize: this.maxBuffer });
    [d.m, d.w] = allocCentroids(this.cap);
    d.m.set(this.m);
    d.w.set(this.w);
    d.cap = this.cap;
    d.n = this.n;
    d.cw = this.cw;
    d.buf = this.buf.length === 0 ? EMPTY : this.buf.slice();
    d.bufLen = this.bufLen;
    d.wbuf = this.wbuf.length === 0 ? EMPTY : this.wbuf.slice();
    d.wLen = this.wLen;
    d.wWeight = this.wWeight;
    d.lo = this.lo;
    d.hi = this.hi;
    d.loW = this.loW;
    d.hiW = this.hiW;
    d.unit = this.unit;
    d.total = this.total;
    return d;
  }

  /**
   * Serialises the digest (flushing pending values first) into a compact little-endian binary
   * form of `72 + 12·centroidCount` bytes (lossless: weights are held as float32 in memory too):
   *
   * | offset | type | field |
   * |---|---|---|
   * | 0 | u8 | format version ({@link TDIGEST_FORMAT_VERSION}) |
   * | 1 | u8 | flags (bit 0: weights are float32 — always set by this version's writer; a reader also accepts float64 weights) |
   * | 2 | u16 | reserved (0) |
   * | 4 | u32 | centroid count `n` |
   * | 8 | f64 | compression |
   * | 16 | f64 | count (total weight) |
   * | 24 | f64 | min (NaN when empty) |
   * | 32 | f64 | max (NaN when empty) |
   * | 40 | f64 | sum |
   * | 48 | f64 | weight at min |
   * | 56 | f64 | weight at max |
   * | 64 | f64 | smallest sample weight (NaN when empty) |
   * | 72 | f64 × n | centroid means, ascending |
   * | 72 + 8n | f32 × n (f64 × n if flag bit 0 is clear) | centroid weights |
   *
   * A digest whose every centroid is a single sample of weight 1 (unit weight 1, count = n, min and
   * max the first and last sample) is written in the points format instead
   * ({@link TDIGEST_POINTS_FORMAT_VERSION}), `24 + 8n` bytes; min, max, the weights at them, the
   * count and the unit weight follow from the samples, and the restored digest is the same:
   *
   * | offset | type | field |
   * |---|---|---|
   * | 0 | u8 | format version 2 |
   * | 1 | u8 | flags (0) |
   * | 2 | u16 | reserved (0) |
   * | 4 | u32 | sample count `n` (≥ 1) |
   * | 8 | f64 | compression |
   * | 16 | f64 | sum |
   * | 24 | f64 × n | samples, ascending |
   *
   * @returns a new `Uint8Array`; {@link TDigest.fromBytes} restores an equivalent digest.
   */
  toBytes(): Uint8Array {
    this.flush();
    return this.writeBytes(this.m, this.w, this.n);
  }

  /**
   * {@link toBytes} then {@link release}, for a digest exported once and dropped (a partition
   * task's closed sub-window): pending values are compressed straight into the bytes, without
   * centroid storage of the digest's own. The bytes are those `toBytes()` would give.
   */
  takeBytes(): Uint8Array {
    const count = this.flushToScratch();
    const out = count >= 0 ? this.writeBytes(flushedM, flushedW, count) : this.writeBytes(this.m, this.w, this.n);
    this.release();
    return out;
  }

  /** The serialised form of this digest's statistics and the centroids `c`/`wts[0, n)`. */
  private writeBytes(c: Float64Array, wts: Float32Array | Float64Array, n: number): Uint8Array {
    if (this.isPoints(c, wts, n)) {
      const out = new Uint8Array(POINTS_HEADER_BYTES + 8 * n);
      const v = new DataView(out.buffer);
      v.setUint8(0, TDIGEST_POINTS_FORMAT_VERSION);
      v.setUint32(4, n, true);
      v.setFloat64(8, this.compression, true);
      v.setFloat64(16, this.total, true);
      for (let i = 0, o = POINTS_HEADER_BYTES; i < n; i++, o += 8) v.setFloat64(o, c[i], true);
      return out;
    }
    const out = new Uint8Array(HEADER_BYTES + 12 * n);
    const v = new DataView(out.buffer);
    const empty = n === 0;
    v.setUint8(0, TDIGEST_FORMAT_VERSION);
    v.setUint8(1, FLAG_F32_WEIGHTS);
    v.setUint16(2, 0, true);
    v.setUint32(4, n, true);
    v.setFloat64(8, this.compression, true);
    v.setFloat64(16, this.cw, true);
    v.setFloat64(24, empty ? NaN : this.lo, true);
    v.setFloat64(32, empty ? NaN : this.hi, true);
    v.setFloat64(40, this.total, true);
    v.setFloat64(48, this.loW, true);
    v.setFloat64(56, this.hiW, true);
    v.setFloat64(64, empty ? NaN : this.unit, true);
    let o = HEADER_BYTES;
    for (let i = 0; i < n; i++, o += 8) v.setFloat64(o, c[i], true);
    for (let i = 0; i < n; i++, o += 4) v.setFloat32(o, wts[i], true);
    return out;
  }

  /**
   * Whether the centroids `c`/`wts[0, n)` are this digest's samples one by one, so that the points
   * format restores exactly these statistics: every weight 1 with unit weight 1 (so every centroid
   * is one sample), min and max the first and last (−0 and +0 told apart) and the weights at them
   * the runs of samples equal to them.
   */
  private isPoints(c: Float64Array, wts: Float32Array | Float64Array, n: number): boolean {
    if (n === 0 || this.cw !== n || this.unit !== 1) return false;
    for (let i = 0; i < n; i++) if (wts[i] !== 1) return false;
    if (!Object.is(this.lo, c[0]) || !Object.is(this.hi, c[n - 1])) return false;
    return this.loW === runAtLow(c, n) && this.hiW === runAtHigh(c, n);
  }

  /**
   * Runs `fn`, in which the serialised digests read ({@link TDigest.fromBytes},
   * {@link TDigest.countOfBytes}, {@link TDigest.mergeBytes}) share one view of the buffer they
   * lie in (e.g. every digest of one fetched message) instead of one per call; the view is let go
   * when `fn` returns or throws. For a caller reading many digests in a row.
   */
  static sharingViews<T>(fn: () => T): T {
    viewHolds++;
    try {
      return fn();
    } finally {
      viewHolds--;
      releaseViews(headerPool.length);
    }
  }

  /**
   * Restores a digest serialised by {@link TDigest.toBytes}. The result is compacted (exactly
   * sized, no buffer) and fully usable. Input is validated so that a corrupt or hostile payload
   * cannot produce a digest holding non-finite or inconsistent state.
   *
   * @param bytes - serialised digest (any `Uint8Array` view, e.g. a Node `Buffer`).
   * @param options - runtime options for the restored digest (not serialised).
   * @throws RangeError on an unknown version, a truncated/oversized payload or invalid content.
   */
  static fromBytes(bytes: Uint8Array, options: TDigestOptions = {}): TDigest {
    try {
      return TDigest.restore(readHeader(bytes, pooledHeader(0)), options);
    } finally {
      releaseViews(1);
    }
  }

  /** The digest of a read header, its centroids read and checked (see {@link TDigest.fromBytes}). */
  private static restore(h: SerializedHeader, options: TDigestOptions): TDigest {
    const d = new TDigest(h.compression, options);
    if (h.n === 0) return d;
    const [c, wts] = allocCentroids(h.n);
    readCentroids(h, c, wts, 0);
    d.m = c;
    d.w = wts;
    d.cap = h.n;
    d.n = h.n;
    d.cw = h.count;
    d.lo = h.lo;
    d.hi = h.hi;
    d.loW = h.loW;
    d.hiW = h.hiW;
    d.unit = h.unit;
    d.total = h.total;
    return d;
  }

  /**
   * Validates a digest serialised by {@link TDigest.toBytes} as {@link TDigest.fromBytes} does,
   * without restoring it, and returns its count (total weight).
   *
   * @throws RangeError / TypeError as {@link TDigest.fromBytes}.
   */
  static countOfBytes(bytes: Uint8Array): number {
    try {
      const h = readHeader(bytes, pooledHeader(0));
      if (h.n > 0) {
        ensureScratch(h.n);
        readCentroids(h, sOM, sOW, 0);
      }
      return h.count;
    } finally {
      releaseViews(1);
    }
  }

  /**
   * Merges serialised digests ({@link TDigest.toBytes}) into `into`, or into a new digest of
   * δ `compression` when `into` is null, in one pass: every centroid of `into` and of `parts` is
   * read straight into the merge scratch, sorted once and folded by one compression pass — no
   * digest object per part and no pass per part, which is what adding up one sub-window's partials
   * of many partition tasks costs. A single part into nothing, of the same δ, is restored as
   * {@link TDigest.fromBytes} restores it (no compression pass). Everything is validated before
   * `into` changes.
   *
   * @param parts - serialised digests, merged in this order (ties of equal means keep it).
   * @param compression - δ of a new digest (ignored when `into` is given).
   * @param into - the digest to merge into (a packed one is thawed), or null.
   * @returns `into` (thawed), or the new digest.
   * @throws RangeError / TypeError as {@link TDigest.fromBytes}, naming what is wrong.
   */
  static mergeBytes(parts: readonly Uint8Array[], compression: number, into: DigestSource | null): TDigest {
    if (into === null && parts.length === 1) {
      const d = TDigest.fromBytes(parts[0]);
      if (d.compression === compression) return d;
    }
    const k = parts.length;
    try {
      for (let i = 0; i < k; i++) readHeader(parts[i], pooledHeader(i));
      return TDigest.mergeHeaders(k, compression, into);
    } finally {
      releaseViews(k);
    }
  }

  /** {@link TDigest.mergeBytes} of the parts whose headers are the first `k` pooled ones. */
  private static mergeHeaders(k: number, compression: number, into: DigestSource | null): TDigest {
    const out = into === null ? new TDigest(compression) : into instanceof PackedDigest ? into.thaw() : into;
    out.flush();
    let N = out.n;
    for (let i = 0; i < k; i++) N += headerPool[i].n;
    if (N === out.n) return out;
    ensureScratch(N);
    let o = out.copyCentroidsTo(0);
    for (let i = 0; i < k; i++) {
      const h = headerPool[i];
      readCentroids(h, sAM, sAW, o);
      o += h.n;
    }
    for (let i = 0; i < k; i++) {
      const h = headerPool[i];
      if (h.n === 0) continue;
      out.cw += h.count;
      out.total += h.total;
      out.noteLow(h.lo, h.loW);
      out.noteHigh(h.hi, h.hiW);
      if (h.unit < out.unit) out.unit = h.unit;
    }
    const inA = sortPairs(N);
    const count = compressStream(inA ? sAM : sBM, inA ? sAW : sBW, N, out.cw, out.compression, out.unit, sOM, sOW);
    out.store(sOM, sOW, count, into === null);
    return out;
  }
}

/**
 * Whether a serialised digest ({@link TDigest.toBytes}, already validated) holds no value: only a
 * digest in the centroids format can be empty, and then it is its header alone.
 */
export function serializedDigestIsEmpty(bytes: Uint8Array): boolean {
  return bytes.length === HEADER_BYTES && bytes[0] === TDIGEST_FORMAT_VERSION;
}

/** The header of a serialised digest, validated (see {@link TDigest.toBytes}). */
interface SerializedHeader {
  view: DataView<ArrayBufferLike>;
  /** Centroid count and bytes per centroid weight (0: the points format, every weight 1). */
  n: number;
  ws: number;
  /** Offset of the first centroid mean. */
  at: number;
  compression: number;
  count: number;
  lo: number;
  hi: number;
  total: number;
  loW: number;
  hiW: number;
  unit: number;
}

function badBytes(why: string): RangeError {
  return new RangeError(`TDigest.fromBytes: ${why}`);
}

// Headers of the digests being read: reused (a header is a dozen doubles, boxed in an object of
// its own), and a view per buffer shared by the parts that lie in it (a fetched message's digests
// all do; a merge of many tasks' partials reads from a few such buffers in turn). Both are let go
// when a read ends, so no caller's buffer is held.
const EMPTY_VIEW: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
const headerPool: SerializedHeader[] = [];
/** Buffers whose views are kept during a read, round robin. */
const VIEW_SLOTS = 16;
const viewBuffers: (ArrayBufferLike | null)[] = new Array<ArrayBufferLike | null>(VIEW_SLOTS).fill(null);
const views: DataView<ArrayBufferLike>[] = new Array<DataView<ArrayBufferLike>>(VIEW_SLOTS).fill(EMPTY_VIEW);
let nextViewSlot = 0;

/** The pooled header `i` (one per part a read holds at once). */
function pooledHeader(i: number): SerializedHeader {
  while (headerPool.length <= i) {
    headerPool.push({ view: EMPTY_VIEW, n: 0, ws: 0, at: 0, compression: 0, count: 0, lo: NaN, hi: NaN, total: 0, loW: 0, hiW: 0, unit: Infinity });
  }
  return headerPool[i];
}

/** A view of the whole buffer under `bytes`: its offsets are `bytes.byteOffset` + offsets in `bytes`. */
function bufferView(bytes: Uint8Array): DataView<ArrayBufferLike> {
  const buffer = bytes.buffer;
  for (let i = 0; i < VIEW_SLOTS; i++) if (viewBuffers[i] === buffer) return views[i];
  const view = new DataView(buffer);
  viewBuffers[nextViewSlot] = buffer;
  views[nextViewSlot] = view;
  nextViewSlot = (nextViewSlot + 1) % VIEW_SLOTS;
  return view;
}

// Depth of TDigest.sharingViews calls: while above 0, reads keep the view for the next one.
let viewHolds = 0;

/**
 * Drops the shared view (see {@link bufferView}) and the pooled headers' references to it, unless
 * a {@link TDigest.sharingViews} call holds it.
 */
function releaseViews(used: number): void {
  if (viewHolds > 0) return;
  viewBuffers.fill(null);
  views.fill(EMPTY_VIEW);
  for (let i = 0; i < used && i < headerPool.length; i++) headerPool[i].view = EMPTY_VIEW;
}

/**
 * Reads and checks the header of a serialised digest (layout: {@link TDigest.toBytes}) into `h`
 * (a pooled header: {@link pooledHeader}); `h.at` is the offset of its first mean in `h.view`.
 */
function readHeader(bytes: Uint8Array, h: SerializedHeader): SerializedHeader {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('TDigest.fromBytes: expected a Uint8Array');
  if (bytes.length === 0) throw badBytes('payload too short (0 bytes)');
  const v = bufferView(bytes);
  const b = bytes.byteOffset;
  const version = bytes[0];
  if (version === TDIGEST_POINTS_FORMAT_VERSION) return readPointsHeader(bytes, v, b, h);
  if (version !== TDIGEST_FORMAT_VERSION) throw badBytes(`unsupported format version ${version}`);
  if (bytes.length < HEADER_BYTES) throw badBytes(`payload too short (${bytes.length} bytes)`);
  const flags = bytes[1];
  if ((flags & ~FLAG_F32_WEIGHTS) !== 0) throw badBytes(`unknown flags 0x${flags.toString(16)}`);
  const ws = flags & FLAG_F32_WEIGHTS ? 4 : 8;
  const n = v.getUint32(b + 4, true);
  if (bytes.length !== HEADER_BYTES + (8 + ws) * n) throw badBytes(`length ${bytes.length} does not match ${n} centroids`);
  const compression = v.getFloat64(b + 8, true);
  checkCompression(compression);
  const count = v.getFloat64(b + 16, true);
  h.view = v;
  h.n = n;
  h.ws = ws;
  h.at = b + HEADER_BYTES;
  h.compression = compression;
  h.count = count;
  if (n === 0) {
    if (count !== 0) throw badBytes('non-zero count without centroids');
    h.lo = NaN;
    h.hi = NaN;
    h.total = 0;
    h.loW = 0;
    h.hiW = 0;
    h.unit = Infinity;
    return h;
  }
  const lo = (h.lo = v.getFloat64(b + 24, true));
  const hi = (h.hi = v.getFloat64(b + 32, true));
  const total = (h.total = v.getFloat64(b + 40, true));
  const loW = (h.loW = v.getFloat64(b + 48, true));
  const hiW = (h.hiW = v.getFloat64(b + 56, true));
  const unit = (h.unit = v.getFloat64(b + 64, true));
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) throw badBytes('invalid min/max');
  if (!(count > 0 && count < Infinity)) throw badBytes('invalid count');
  if (Number.isNaN(total)) throw badBytes('invalid sum');
  if (!(unit > 0 && unit < Infinity)) throw badBytes('invalid unit weight');
  if (!(loW >= unit && loW <= count && hiW >= unit && hiW <= count)) throw badBytes('invalid extreme weights');
  return h;
}

/** Reads and checks the centroids of a serialised digest into `means`/`weights` from `at`. */
function readCentroids(h: SerializedHeader, means: Float64Array, weights: Float32Array | Float64Array, at: number): void {
  const { view: v, n, ws, hi } = h;
  let o = h.at;
  let prev = h.lo;
  for (let i = 0; i < n; i++, o += 8) {
    const m = v.getFloat64(o, true);
    if (!(m >= prev && m <= hi)) throw badBytes(`centroid mean ${i} out of order or range`);
    means[at + i] = prev = m;
  }
  if (ws === 0) {
    weights.fill(1, at, at + n);
    return;
  }
  let wsum = 0;
  for (let i = 0; i < n; i++, o += ws) {
    const w = ws === 4 ? v.getFloat32(o, true) : v.getFloat64(o, true);
    if (!(w > 0 && w < Infinity)) throw badBytes(`centroid weight ${i} invalid`);
    // Stored as float32 weights: round as the centroid arrays would.
    weights[at + i] = ws === 4 ? w : Math.fround(w);
    wsum += w;
  }
  // float32 weights round above 2^24 per centroid: allow a relative slack of 1e-6.
  if (!(Math.abs(wsum - h.count) <= 1e-6 * h.count)) throw badBytes('centroid weights do not sum to count');
}

/** Reads and checks the header of the points format ({@link TDIGEST_POINTS_FORMAT_VERSION}). */
function readPointsHeader(bytes: Uint8Array, v: DataView, b: number, h: SerializedHeader): SerializedHeader {
  if (bytes.length < POINTS_HEADER_BYTES + 8) throw badBytes(`payload too short (${bytes.length} bytes)`);
  const flags = bytes[1];
  if (flags !== 0) throw badBytes(`unknown flags 0x${flags.toString(16)}`);
  const n = v.getUint32(b + 4, true);
  if (n === 0 || bytes.length !== POINTS_HEADER_BYTES + 8 * n) throw badBytes(`length ${bytes.length} does not match ${n} samples`);
  const compression = v.getFloat64(b + 8, true);
  checkCompression(compression);
  const total = v.getFloat64(b + 16, true);
  if (Number.isNaN(total)) throw badBytes('invalid sum');
  const first = b + POINTS_HEADER_BYTES;
  const lo = v.getFloat64(first, true);
  const hi = v.getFloat64(first + 8 * (n - 1), true);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) throw badBytes('invalid min/max');
  // The weights at min and max: the runs of samples equal to them (the samples' order is checked
  // when they are read).
  let loW = 1;
  while (loW < n && v.getFloat64(first + 8 * loW, true) === lo) loW++;
  let hiW = 1;
  while (hiW < n && v.getFloat64(first + 8 * (n - 1 - hiW), true) === hi) hiW++;
  h.view = v;
  h.n = n;
  h.ws = 0;
  h.at = first;
  h.compression = compression;
  h.count = n;
  h.lo = lo;
  h.hi = hi;
  h.total = total;
  h.loW = loW;
  h.hiW = hiW;
  h.unit = 1;
  return h;
}

/** Samples at the start of `c[0, n)` equal to the first (the weight at min of a digest of samples). */
function runAtLow(c: Float64Array, n: number): number {
  let k = 1;
  while (k < n && c[k] === c[0]) k++;
  return k;
}

/** Samples at the end of `c[0, n)` equal to the last. */
function runAtHigh(c: Float64Array, n: number): number {
  let k = 1;
  while (k < n && c[n - 1 - k] === c[n - 1]) k++;
  return k;
}
