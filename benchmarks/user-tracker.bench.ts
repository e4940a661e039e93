/**
 * Benchmark: operators/users/user-activity-tracker.ts with one million distinct users.
 *
 * - admission: observations/s while 1 M new users arrive (one request each: index insert, slot
 *   allocation, column and index growth);
 * - known users, uniform: observations/s over the 1 M held users picked uniformly at random (the
 *   worst case for caches: nearly every request misses on the id index, the id and the user's
 *   columns, and opens a new bucket for its user), ids as the same string objects the table holds
 *   (equal by reference) — 10 M observations, 2 M with --quick — with event time advancing over
 *   10 minutes, `advance` every 1 000 observations, tokens, cost, one of 64 session ids and 0.1 %
 *   probing requests;
 * - known users, uniform, fresh ids: the same with every id built anew (`user-${k}`), as ids decoded
 *   from records are, so finding one compares its characters;
 * - known users, Zipf(1): users drawn with P(rank r) ∝ 1/r (ranks scattered over the slots), closer
 *   to real traffic where a minority of users sends most requests;
 * - bytes per user: RSS delta over building the ids and the tracker (RSS also keeps memory freed
 *   by column growth, so it is an upper bound), the V8 heap + ArrayBuffer delta after a forced GC
 *   when one can be had, and the tracker's own `memoryBytes()` estimate.
 *
 * Run: `node --import tsx benchmarks/user-tracker.bench.ts [--quick]` (prints a markdown table).
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

import type { UserRequestObservation } from '../operators/users/user-activity-tracker.js';
import { UserActivityTracker } from '../operators/users/user-activity-tracker.js';

/** Options of {@link runUserTrackerBench}. */
export interface UserTrackerBenchOptions {
  /** Fewer observations in the timed loops (CI smoke run); still 1 M users. */
  readonly quick: boolean;
}

/** Result of {@link runUserTrackerBench}. */
export interface UserTrackerBenchResult {
  readonly quick: boolean;
  /** Distinct users held. */
  readonly users: number;
  /** New-user observations per second (1 M admissions). */
  readonly admitRate: number;
  /** Observations timed in each known-user loop. */
  readonly knownObservations: number;
  /** Known-user observations per second, uniform users, ids shared with the map (best run). */
  readonly knownRate: number;
  /** Known-user observations per second, uniform users, every id a fresh string (best run). */
  readonly freshIdRate: number;
  /** Known-user observations per second, Zipf(1) users, ids shared with the map (best run). */
  readonly zipfRate: number;
  /** RSS growth per user over building the ids and the tracker. */
  readonly rssBytesPerUser: number;
  /** V8 heap + ArrayBuffer growth per user after a forced GC; undefined when no GC could be had. */
  readonly heapBytesPerUser: number | undefined;
  /** `memoryBytes() / size` of the tracker. */
  readonly estimatedBytesPerUser: number;
  /** Anomalies started during the timed known-user loops (Zipf's hottest users may legitimately spike). */
  readonly anomaliesStarted: number;
  /** Machine context: the figures are only comparable with the same load. */
  readonly environment: { readonly node: string; readonly cpus: number; readonly loadAvg1m: number };
}

const T0 = Date.UTC(2025, 0, 1);

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

const nowNs = (): bigint => process.hrtime.bigint();
const elapsedS = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** `count` user indices in `[0, users)`, uniform or Zipf(1) with ranks scattered over the indices. */
function pickUsers(users: number, count: number, zipf: boolean, seed: number): Int32Array {
  const next = xorshift32(seed);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    if (!zipf) {
      out[i] = next() % users;
      continue;
    }
    // Continuous approximation of P(r) ∝ 1/r: r = ⌊(users + 1)^u⌋ − 1; the odd multiplier (coprime
    // with 10^6) scatters hot ranks so that they do not share cache lines.
    const rank = Math.min(users - 1, Math.floor(Math.pow(users + 1, next() / 4294967296)) - 1);
    out[i] = (rank * 2654435761) % users;
  }
  return out;
}

/**
 * Runs a known-user loop: one observation per entry of `picks` (fresh id strings when `fresh`),
 * event time spread from `from` over 10 minutes. Returns observations/s and anomalies started.
 */
function knownLoop(
  tracker: UserActivityTracker,
  ids: string[],
  sessions: string[],
  picks: Int32Array,
  from: number,
  fresh: boolean,
): { rate: number; started: number } {
  const count = picks.length;
  const obs: UserRequestObservation = { userId: '', time: from, tokens: 0, costUsd: 0, sessionId: null, probing: false };
  const step = (10 * 60_000) / count;
  let started = 0;
  const t0 = nowNs();
  for (let i = 0; i < count; i++) {
    const k = picks[i];
    const r = Math.imul(i, 0x9e3779b1) >>> 0;
    obs.userId = fresh ? `user-${k}` : ids[k];
    obs.time = from + Math.floor(i * step);
    obs.tokens = 200 + (r & 1023);
    obs.costUsd = obs.tokens * 3e-6;
    obs.sessionId = sessions[(r >>> 10) & 63];
    obs.probing = (r >>> 16) % 1000 === 0;
    tracker.observe(obs);
    if (i % 1000 === 999) started += tracker.advance(obs.time).started.length;
  }
  return { rate: count / elapsedS(t0), started };
}

/**
 * Measures admission and steady-state throughput of {@link UserActivityTracker} with 1 M users,
 * and the bytes it retains per user.
 *
 * @param opts - `quick` times 2 M instead of 10 M observations per known-user loop.
 * @returns the figures and the machine context.
 */
export async function runUserTrackerBench(opts: UserTrackerBenchOptions): Promise<UserTrackerBenchResult> {
  const quick = opts.quick;
  const users = 1_000_000;
  const count = quick ? 2_000_000 : 10_000_000;
  const runs = quick ? 1 : 2;
  const gc = getGc();
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc?.();
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const heap0 = used();

  const ids = new Array<string>(users);
  for (let i = 0; i < users; i++) ids[i] = `user-${i}`;
  const sessions = Array.from({ length: 64 }, (_, i) => `session-${i.toString(16).padStart(8, '0')}`);
  // The timed loops span up to 70 minutes of event time and Zipf leaves most users idle: keep them.
  const tracker = new UserActivityTracker({ idleEvictAfterMs: 24 * 3_600_000 });
  const obs: UserRequestObservation = { userId: '', time: T0, tokens: 500, costUsd: 0.0015, sessionId: null, probing: false };
  const tAdmit = nowNs();
  for (let i = 0; i < users; i++) {
    obs.userId = ids[i];
    obs.time = T0 + Math.floor(i / 1000);
    obs.sessionId = sessions[i & 63];
    tracker.observe(obs);
  }
  const admitRate = users / elapsedS(tAdmit);
  await Promise.resolve();

  gc?.();
  gc?.();
  const rssBytesPerUser = (process.memoryUsage().rss - rss0) / users;
  const heapBytesPerUser = gc ? (used() - heap0) / users : undefined;
  const estimatedBytesPerUser = tracker.memoryBytes() / tracker.size;

  const uniform = pickUsers(users, count, false, 1);
  const skewed = pickUsers(users, count, true, 2);
  let from = T0 + 60_000;
  let knownRate = 0;
  let freshIdRate = 0;
  let zipfRate = 0;
  let anomaliesStarted = 0;
  knownLoop(tracker, ids, sessions, uniform.subarray(0, 500_000), from, false); // warm-up
  from += 10 * 60_000;
  for (let r = 0; r < runs; r++) {
    const known = knownLoop(tracker, ids, sessions, uniform, from, false);
    from += 10 * 60_000;
    knownRate = Math.max(knownRate, known.rate);
    await Promise.resolve();
    const freshRun = knownLoop(tracker, ids, sessions, uniform, from, true);
    from += 10 * 60_000;
    freshIdRate = Math.max(freshIdRate, freshRun.rate);
    await Promise.resolve();
    const zipfRun = knownLoop(tracker, ids, sessions, skewed, from, false);
    from += 10 * 60_000;
    zipfRate = Math.max(zipfRate, zipfRun.rate);
    anomaliesStarted += known.started + freshRun.started + zipfRun.started;
    await Promise.resolve();
  }
  if (tracker.size !== users) throw new Error(`expected ${users} users, have ${tracker.size}`);

  return {
    quick,
    users,
    admitRate,
    knownObservations: count,
    knownRate,
    freshIdRate,
    zipfRate,
    rssBytesPerUser,
    heapBytesPerUser,
    estimatedBytesPerUser,
    anomaliesStarted,
    environment: { node: process.version, cpus: os.cpus().length, loadAvg1m: os.loadavg()[0] },
  };
}

function si(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(2)} k`;
  return x.toFixed(1);
}

/** Formats a {@link UserTrackerBenchResult} as a markdown table. */
export function formatUserTrackerBench(r: UserTrackerBenchResult): string {
  const rows: [string, string][] = [
    ['admission, 1 M new users (obs/s)', si(r.admitRate)],
    [`known users, uniform, shared id strings (obs/s, ${si(r.knownObservations)} obs)`, si(r.knownRate)],
    [`known users, uniform, fresh id strings (obs/s, ${si(r.knownObservations)} obs)`, si(r.freshIdRate)],
    [`known users, Zipf(1), shared id strings (obs/s, ${si(r.knownObservations)} obs)`, si(r.zipfRate)],
    ['bytes/user, RSS delta (ids + tracker)', r.rssBytesPerUser.toFixed(0)],
    ['bytes/user, heap + ArrayBuffer delta after GC', r.heapBytesPerUser === undefined ? 'n/a (no GC)' : r.heapBytesPerUser.toFixed(0)],
    ['bytes/user, memoryBytes() estimate', r.estimatedBytesPerUser.toFixed(0)],
    ['anomalies started in the known-user loops', String(r.anomaliesStarted)],
  ];
  return [
    `| metric (${si(r.users)} users) | value |`,
    '|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `Node ${r.environment.node}, ${r.environment.cpus} CPUs, 1-min load average ${r.environment.loadAvg1m.toFixed(2)}${r.quick ? ', --quick' : ''}.`,
  ].join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const result = await runUserTrackerBench({ quick: process.argv.includes('--quick') });
  console.log(formatUserTrackerBench(result));
}
