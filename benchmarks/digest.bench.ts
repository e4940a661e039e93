/**
 * Benchmark: operators/t-digest.ts vs the npm `tdigest` package (0.1.3), measured in one run on
 * the same seeded lognormal latencies (μ = ln 800 ms, σ = 0.6).
 *
 * - push rate: values/s to add N values to one digest (N = 10 M, 1 M with --quick; the npm
 *   package gets at most 1 M / 200 k values because it runs at ~1–2 M/s), final flush included,
 *   after a warm-up run; best of several runs (the machine may be shared).
 * - merge-60 + p99: ops/s of "merge 60 compacted sub-window digests of 1 000 values and read
 *   p99". Ours uses `TDigest.merge`; the npm package has no merge, so its centroids are pushed
 *   into a fresh digest (`push_centroid`), which is the documented way to combine them.
 * - bytes per sub-window digest (1 000 and 10 000 values): measured as the V8 heap +
 *   ArrayBuffer delta over many retained digests when a GC can be forced (always attempted);
 *   otherwise ours falls back to `byteSize()` and npm to centroids × 160 B (RB-tree node +
 *   centroid object + boxed doubles). The `bytesMethod` field says which was used.
 * - relative error at p50 / p95 / p99 / p99.9 of the push digest vs the exact sorted values
 *   (convention sorted[⌊q·n⌋]), plus p99 of the merged 60-sub-window digest.
 *
 * Run: `node --import tsx benchmarks/digest.bench.ts [--quick]` (prints a markdown table).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

import { DEFAULT_COMPRESSION, TDigest } from '../operators/t-digest.js';

/** Options for {@link runDigestBench}. */
export interface DigestBenchOptions {
  /** Smaller sizes and shorter timing loops (CI smoke run). */
  readonly quick: boolean;
}

/** Relative errors vs exact sorted values, as fractions (0.001 = 0.1 %). */
export interface QuantileErrors {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
}

/** Measurements for one implementation. */
export interface DigestImplResult {
  readonly name: string;
  /** Values pushed in the timed push run. */
  readonly pushValues: number;
  /** Push throughput, values per second (best run). */
  readonly pushRate: number;
  /** Merge 60 sub-window digests (1 000 values each) + read p99, operations per second. */
  readonly mergeP99Rate: number;
  /** Retained bytes per compacted sub-window digest of 1 000 values. */
  readonly bytesPerDigest1k: number;
  /** Retained bytes per compacted digest of 10 000 values. */
  readonly bytesPerDigest10k: number;
  /** How the byte figures were obtained. */
  readonly bytesMethod: string;
  /** Centroids in a 1 000-value and a 10 000-value digest. */
  readonly centroids1k: number;
  readonly centroids10k: number;
  /** Errors of the push digest. */
  readonly errors: QuantileErrors;
  /** Relative p99 error of the merged 60-sub-window digest. */
  readonly mergedP99Error: number;
}

/** Result of {@link runDigestBench}. */
export interface DigestBenchResult {
  readonly quick: boolean;
  readonly compression: number;
  readonly ours: DigestImplResult;
  readonly npm: DigestImplResult;
  /** ours / npm for each metric (for errors: < 1 means ours is more accurate). */
  readonly ratios: {
    readonly pushRate: number;
    readonly mergeP99Rate: number;
    readonly bytesPerDigest1k: number;
    readonly bytesPerDigest10k: number;
    readonly errors: QuantileErrors;
    readonly mergedP99Error: number;
  };
  /** Machine context: the figures are only comparable with the same load. */
  readonly environment: { readonly node: string; readonly cpus: number; readonly loadAvg1m: number };
}

// ---------------------------------------------------------------------------------------------
// npm tdigest (CommonJS, untyped): the minimal surface used here.
// ---------------------------------------------------------------------------------------------

interface NpmCentroid {
  mean: number;
  n: number;
}
interface NpmDigest {
  push(x: number): void;
  push_centroid(c: NpmCentroid[]): void;
  percentile(p: number): number;
  size(): number;
  toArray(): NpmCentroid[];
}
const { TDigest: NpmTDigest } = createRequire(import.meta.url)('tdigest') as {
  TDigest: new (delta?: number) => NpmDigest;
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function lognormalData(n: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const out = new Float64Array(n);
  const mu = Math.log(800);
  for (let i = 0; i < n; i++) {
    let u = 0;
    while (u === 0) u = rng();
    out[i] = Math.exp(mu + 0.6 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng()));
  }
  return out;
}

const nowNs = (): bigint => process.hrtime.bigint();
const elapsedS = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

function exactQuantile(sortedData: Float64Array, q: number): number {
  return sortedData[Math.min(sortedData.length - 1, Math.floor(q * sortedData.length))];
}

function errorsOf(answer: (q: number) => number, sortedData: Float64Array): QuantileErrors {
  const e = (q: number): number => Math.abs(answer(q) / exactQuantile(sortedData, q) - 1);
  return { p50: e(0.5), p95: e(0.95), p99: e(0.99), p999: e(0.999) };
}

/** Runs `op` repeatedly for at least `minSeconds` (after `warmup` calls); returns ops/s. */
function opsPerSecond(op: () => void, minSeconds: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) op();
  let ops = 0;
  const t0 = nowNs();
  let s: number;
  do {
    op();
    ops++;
    s = elapsedS(t0);
  } while (s < minSeconds);
  return ops / s;
}

/** A forced-GC function: the exposed one, or one enabled at runtime; undefined if neither. */
function getGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = vm.runInNewContext('gc');
    return typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** Heap + ArrayBuffer bytes retained per object built by `make`, or undefined without GC. */
function retainedBytesPer(make: (i: number) => unknown, count: number, gc: (() => void) | undefined): number | undefined {
  if (!gc) return undefined;
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc();
  gc();
  const before = used();
  const keep: unknown[] = new Array<unknown>(count);
  for (let i = 0; i < count; i++) keep[i] = make(i);
  gc();
  gc();
  const after = used();
  if (keep.length !== count) throw new Error('unreachable');
  return (after - before) / count;
}

function oursDigest(values: Float64Array): TDigest {
  const d = new TDigest();
  for (let i = 0; i < values.length; i++) d.add(values[i]);
  return d.compact();
}

function npmDigest(values: Float64Array): NpmDigest {
  const d = new NpmTDigest();
  for (let i = 0; i < values.length; i++) d.push(values[i]);
  return d;
}

/** Estimated npm tdigest bytes per centroid when no GC is available (see file header). */
const NPM_BYTES_PER_CENTROID = 160;

// ---------------------------------------------------------------------------------------------
// Benchmark
// ---------------------------------------------------------------------------------------------

/**
 * Measures push rate, merge-60+p99 rate, bytes per sub-window digest and quantile errors for
 * operators/t-digest.ts and the npm `tdigest` package in the same run.
 *
 * @param opts - `quick` shrinks sizes (1 M instead of 10 M pushed values) and timing loops.
 * @returns all figures plus ours/npm ratios and the machine context.
 */
export async function runDigestBench(opts: DigestBenchOptions): Promise<DigestBenchResult> {
  const quick = opts.quick;
  const N = quick ? 1_000_000 : 10_000_000;
  const npmN = quick ? 200_000 : 1_000_000;
  const runs = quick ? 2 : 3;
  const mergeSeconds = quick ? 0.3 : 1;
  const gc = getGc();
  const data = lognormalData(N, 42);

  // ---- push rate (ours): warm-up, then best of `runs` ----
  {
    const warm = new TDigest();
    for (let i = 0; i < Math.min(N, 1_000_000); i++) warm.add(data[i]);
    warm.quantile(0.5);
  }
  let oursPushBest = Infinity;
  let oursPushDigest = new TDigest();
  for (let r = 0; r < runs; r++) {
    const d = new TDigest();
    const t0 = nowNs();
    for (let i = 0; i < N; i++) d.add(data[i]);
    d.quantile(0.5); // include the final flush
    const s = elapsedS(t0);
    if (s < oursPushBest) oursPushBest = s;
    oursPushDigest = d;
    await Promise.resolve();
  }

  // ---- push rate (npm) on a prefix ----
  npmDigest(data.subarray(0, 50_000)); // warm-up
  let npmPushBest = Infinity;
  let npmPushDigest = new NpmTDigest();
  for (let r = 0; r < Math.min(runs, 2); r++) {
    const d = new NpmTDigest();
    const t0 = nowNs();
    for (let i = 0; i < npmN; i++) d.push(data[i]);
    d.percentile(0.5);
    const s = elapsedS(t0);
    if (s < npmPushBest) npmPushBest = s;
    npmPushDigest = d;
    await Promise.resolve();
  }

  // ---- accuracy of the push digests ----
  const sortedAll = data.slice().sort();
  const sortedNpm = data.slice(0, npmN).sort();
  const oursErrors = errorsOf((q) => oursPushDigest.quantile(q), sortedAll);
  const npmErrors = errorsOf((q) => npmPushDigest.percentile(q), sortedNpm);

  // ---- merge 60 sub-windows + p99 ----
  const SUB = 1000;
  const WINDOWS = 60;
  const windowData = data.subarray(0, SUB * WINDOWS);
  const sortedWindow = windowData.slice().sort();
  const oursSubs = Array.from({ length: WINDOWS }, (_, w) => oursDigest(windowData.subarray(w * SUB, (w + 1) * SUB)));
  const npmSubs = Array.from({ length: WINDOWS }, (_, w) => npmDigest(windowData.subarray(w * SUB, (w + 1) * SUB)));
  const npmSubCentroids = npmSubs.map((d) => d.toArray());
  let sink = 0;
  const oursMerge = (): number => TDigest.merge(oursSubs).quantile(0.99);
  const npmMerge = (): number => {
    const m = new NpmTDigest();
    for (const cs of npmSubCentroids) m.push_centroid(cs);
    return m.percentile(0.99);
  };
  const oursMergeRate = opsPerSecond(() => (sink += oursMerge()), mergeSeconds, 200);
  const npmMergeRate = opsPerSecond(() => (sink += npmMerge()), mergeSeconds, 3);
  const exactWindowP99 = exactQuantile(sortedWindow, 0.99);
  const oursMergedErr = Math.abs(oursMerge() / exactWindowP99 - 1);
  const npmMergedErr = Math.abs(npmMerge() / exactWindowP99 - 1);

  // ---- bytes per digest ----
  const slice = (i: number, size: number): Float64Array => {
    const start = (i * size) % (N - size);
    return data.subarray(start, start + size);
  };
  const ours1kMeasured = retainedBytesPer((i) => oursDigest(slice(i, 1000)), quick ? 500 : 2000, gc);
  const ours10kMeasured = retainedBytesPer((i) => oursDigest(slice(i, 10_000)), quick ? 100 : 400, gc);
  const npm1kMeasured = retainedBytesPer((i) => npmDigest(slice(i, 1000)), quick ? 100 : 300, gc);
  const npm10kMeasured = retainedBytesPer((i) => npmDigest(slice(i, 10_000)), quick ? 20 : 60, gc);
  const ours1k = oursSubs[0];
  const ours10k = oursDigest(slice(7, 10_000));
  const npm1k = npmSubs[0];
  const npm10k = npmDigest(slice(7, 10_000));
  const measured = ours1kMeasured !== undefined && npm1kMeasured !== undefined;

  if (sink === 0) throw new Error('unreachable');

  const ours: DigestImplResult = {
    name: `operators/t-digest.ts (δ=${DEFAULT_COMPRESSION})`,
    pushValues: N,
    pushRate: N / oursPushBest,
    mergeP99Rate: oursMergeRate,
    bytesPerDigest1k: ours1kMeasured ?? ours1k.byteSize(),
    bytesPerDigest10k: ours10kMeasured ?? ours10k.byteSize(),
    bytesMethod: measured ? 'V8 heap + ArrayBuffer delta (forced GC)' : 'byteSize()',
    centroids1k: ours1k.centroidCount,
    centroids10k: ours10k.centroidCount,
    errors: oursErrors,
    mergedP99Error: oursMergedErr,
  };
  const npm: DigestImplResult = {
    name: 'npm tdigest 0.1.3 (delta=0.01)',
    pushValues: npmN,
    pushRate: npmN / npmPushBest,
    mergeP99Rate: npmMergeRate,
    bytesPerDigest1k: npm1kMeasured ?? npm1k.size() * NPM_BYTES_PER_CENTROID,
    bytesPerDigest10k: npm10kMeasured ?? npm10k.size() * NPM_BYTES_PER_CENTROID,
    bytesMethod: measured
      ? 'V8 heap + ArrayBuffer delta (forced GC)'
      : `estimate: centroids × ${NPM_BYTES_PER_CENTROID} B`,
    centroids1k: npm1k.size(),
    centroids10k: npm10k.size(),
    errors: npmErrors,
    mergedP99Error: npmMergedErr,
  };
  const ratio = (a: number, b: number): number => a / b;
  return {
    quick,
    compression: DEFAULT_COMPRESSION,
    ours,
    npm,
    ratios: {
      pushRate: ratio(ours.pushRate, npm.pushRate),
      mergeP99Rate: ratio(ours.mergeP99Rate, npm.mergeP99Rate),
      bytesPerDigest1k: ratio(ours.bytesPerDigest1k, npm.bytesPerDigest1k),
      bytesPerDigest10k: ratio(ours.bytesPerDigest10k, npm.bytesPerDigest10k),
      errors: {
        p50: ratio(ours.errors.p50, npm.errors.p50),
        p95: ratio(ours.errors.p95, npm.errors.p95),
        p99: ratio(ours.errors.p99, npm.errors.p99),
        p999: ratio(ours.errors.p999, npm.errors.p999),
      },
      mergedP99Error: ratio(ours.mergedP99Error, npm.mergedP99Error),
    },
    environment: { node: process.version, cpus: os.cpus().length, loadAvg1m: os.loadavg()[0] },
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown report
// ---------------------------------------------------------------------------------------------

function si(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(2)} k`;
  return x.toFixed(1);
}
const pct = (x: number): string => `${(100 * x).toFixed(3)} %`;
const times = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

/** Formats a {@link DigestBenchResult} as a markdown table. */
export function formatDigestBench(r: DigestBenchResult): string {
  const { ours, npm, ratios } = r;
  const rows: [string, string, string, string][] = [
    ['push rate (values/s)', `${si(ours.pushRate)} (${si(ours.pushValues)} values)`, `${si(npm.pushRate)} (${si(npm.pushValues)} values)`, times(ratios.pushRate)],
    ['merge 60 sub-windows + p99 (ops/s)', si(ours.mergeP99Rate), si(npm.mergeP99Rate), times(ratios.mergeP99Rate)],
    ['bytes per sub-window digest, 1k values (ours compacted)', `${ours.bytesPerDigest1k.toFixed(0)} (${ours.centroids1k} centroids)`, `${npm.bytesPerDigest1k.toFixed(0)} (${npm.centroids1k} centroids)`, times(ratios.bytesPerDigest1k)],
    ['bytes per digest, 10k values (ours compacted)', `${ours.bytesPerDigest10k.toFixed(0)} (${ours.centroids10k} centroids)`, `${npm.bytesPerDigest10k.toFixed(0)} (${npm.centroids10k} centroids)`, times(ratios.bytesPerDigest10k)],
    ['p50 relative error', pct(ours.errors.p50), pct(npm.errors.p50), times(ratios.errors.p50)],
    ['p95 relative error', pct(ours.errors.p95), pct(npm.errors.p95), times(ratios.errors.p95)],
    ['p99 relative error', pct(ours.errors.p99), pct(npm.errors.p99), times(ratios.errors.p99)],
    ['p99.9 relative error', pct(ours.errors.p999), pct(npm.errors.p999), times(ratios.errors.p999)],
    ['p99 relative error, 60 merged sub-windows', pct(ours.mergedP99Error), pct(npm.mergedP99Error), times(ratios.mergedP99Error)],
  ];
  const lines = [
    `| metric | ${ours.name} | ${npm.name} | ours/npm |`,
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `Lognormal latencies (μ = ln 800, σ = 0.6), seeded. Bytes: ${ours.bytesMethod}. ` +
      `Push: best of several runs, final flush included. Errors vs sorted[⌊q·n⌋] of the values each digest saw. ` +
      `Node ${r.environment.node}, ${r.environment.cpus} CPUs, 1-min load average ${r.environment.loadAvg1m.toFixed(2)}${r.quick ? ', --quick' : ''}.`,
  ];
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const result = await runDigestBench({ quick: process.argv.includes('--quick') });
  console.log(formatDigestBench(result));
}
