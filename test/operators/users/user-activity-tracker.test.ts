import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { RobustBaseline } from '../../../operators/users/robust-baseline.js';
import type { UserAnomaly, UserRequestObservation, UserTrackerInit } from '../../../operators/users/user-activity-tracker.js';
import { DEFAULT_USER_TRACKER_OPTIONS, UserActivityTracker } from '../../../operators/users/user-activity-tracker.js';
import { hashString } from '../../../operators/users/user-table.js';
import { isVigilError } from '../../../src/errors.js';

const MIN = 60_000;
/** A bucket-aligned event-time origin (2025-01-01T00:00Z). */
const T0 = Date.UTC(2025, 0, 1);

function req(userId: string, time: number, extra: Partial<UserRequestObservation> = {}): UserRequestObservation {
  return { userId, time, tokens: 50, costUsd: 0.0001, sessionId: null, probing: false, ...extra };
}

/** `n` requests of `userId` spread evenly over minute `minute` (counted from T0). */
function minuteOf(tracker: UserActivityTracker, userId: string, minute: number, n: number, extra: Partial<UserRequestObservation> = {}): void {
  for (let i = 0; i < n; i++) tracker.observe(req(userId, T0 + minute * MIN + Math.floor((i * MIN) / n), extra));
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(rng: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng();
  } while (p > limit);
  return k - 1;
}

function gaussian(rng: () => number): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function kinds(list: UserAnomaly[]): string[] {
  return list.map((a) => `${a.userId}:${a.kind}`).sort();
}

function approx(actual: number, expected: number, tol = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} ≉ ${expected}`);
}

describe('UserActivityTracker', () => {
  describe('robust baselines', () => {
    it('catches up the baseline over a gap of empty buckets exactly as bucket-by-bucket folding does', () => {
      const tracker = new UserActivityTracker();
      const params = { alpha: 0.05, minHistoryBuckets: 10, winsorizeK: 3 };
      const ref = new RobustBaseline(params, DEFAULT_USER_TRACKER_OPTIONS.rate, true);
      const pattern = [4, 9, 2, 7, 7, 1, 12, 5, 3, 8, 6, 10, 2, 2, 9];
      pattern.forEach((n, minute) => minuteOf(tracker, 'u', minute, n));
      // Silent for minutes 15..36, back at minute 37: 22 empty buckets in between.
      minuteOf(tracker, 'u', 37, 1);
      for (const n of pattern) ref.close(n);
      for (let i = 0; i < 22; i++) ref.close(0);
      const p = tracker.profile('u');
      assert.ok(p);
      approx(p.rateBaseline, ref.mean);
      approx(p.rateSpread, ref.spread);
      assert.equal(p.requestsInBucket, 1);
    });

    it('shows a profile with the open bucket closed by advance, without changing the tracker', () => {
      const tracker = new UserActivityTracker();
      for (let m = 0; m < 5; m++) minuteOf(tracker, 'u', m, 10);
      tracker.advance(T0 + 8 * MIN);
      const p = tracker.profile('u');
      assert.ok(p);
      // Five closed buckets of 10, then minutes 5..7 empty: mean 10·0.95³, spread 3·0.05·0.95²·10.
      approx(p.rateBaseline, 10 * 0.95 ** 3);
      approx(p.rateSpread, 3 * 0.05 * 0.95 ** 2 * 10);
      assert.equal(p.requestsInBucket, 0);
      assert.equal(p.lastSeen, T0 + 4 * MIN + 54_000);
      assert.deepEqual(tracker.profile('u'), p);
    });
  });

  describe('rate spikes', () => {
    it('flags a steady 10 req/min user that jumps to 200 req/min and clears it when the rate is back', () => {
      const tracker = new UserActivityTracker();
      for (let m = 0; m < 60; m++) minuteOf(tracker, 'steady', m, 10);
      assert.deepEqual(tracker.advance(T0 + 60 * MIN).started, []);
      const p = tracker.profile('steady');
      assert.ok(p);
      assert.equal(p.rateBaseline, 10);
      assert.equal(p.rateSpread, 0);

      // Threshold max(30, 10 + 6·√10 = 28.97) = 30: the 31st request of minute 60 crosses it.
      minuteOf(tracker, 'steady', 60, 30);
      assert.equal(tracker.anomalousCounts().rate_spike, 0);
      tracker.observe(req('steady', T0 + 60 * MIN + 59_000));
      assert.equal(tracker.anomalousCounts().rate_spike, 1);
      for (let i = 0; i < 169; i++) tracker.observe(req('steady', T0 + 60 * MIN + 59_500));
      const first = tracker.advance(T0 + 61 * MIN);
      assert.deepEqual(first.started, [
        { userId: 'steady', kind: 'rate_spike', time: T0 + 60 * MIN + 59_000, value: 200, baseline: 10, threshold: 30, global: false },
      ]);
      assert.deepEqual(first.resolved, []);

      // The spike bucket is folded clipped at 10 + 3·√10: mean 10 + 0.05·3√10, spread 0.05·3√10.
      const clipped = tracker.profile('steady');
      assert.ok(clipped);
      approx(clipped.rateBaseline, 10 + 0.15 * Math.sqrt(10));
      approx(clipped.rateSpread, 0.15 * Math.sqrt(10));
      assert.deepEqual(clipped.flags, ['rate_spike']);

      minuteOf(tracker, 'steady', 61, 200);
      minuteOf(tracker, 'steady', 62, 200);
      const during = tracker.advance(T0 + 63 * MIN);
      assert.deepEqual(during.started, []);
      assert.deepEqual(during.resolved, []);
      assert.equal(during.counts.rate_spike, 1);

      minuteOf(tracker, 'steady', 63, 10);
      assert.equal(tracker.advance(T0 + 63 * MIN + 59_999).resolved.length, 0, 'not resolved before the bucket closes');
      const back = tracker.advance(T0 + 64 * MIN);
      assert.deepEqual(kinds(back.resolved), ['steady:rate_spike']);
      assert.equal(back.resolved[0].value, 200);
      assert.equal(back.counts.rate_spike, 0);
      assert.deepEqual(tracker.profile('steady')?.flags, []);
    });

    it('resolves a spiking user that goes silent at the next bucket close', () => {
      const tracker = new UserActivityTracker();
      for (let m = 0; m < 20; m++) minuteOf(tracker, 'u', m, 10);
      minuteOf(tracker, 'u', 20, 100);
      assert.equal(tracker.advance(T0 + 21 * MIN).started.length, 1);
      assert.equal(tracker.advance(T0 + 21 * MIN + 30_000).resolved.length, 0);
      assert.deepEqual(kinds(tracker.advance(T0 + 22 * MIN).resolved), ['u:rate_spike']);
    });

    it('does not flag a noisy user with a diurnal rate over 24 hours of event time', () => {
      const rng = mulberry32(7);
      const tracker = new UserActivityTracker();
      const started: UserAnomaly[] = [];
      let session = 0;
      for (let m = 0; m < 1440; m++) {
        // Poisson arrivals at 10..40 req/min, lognormal tokens, 1–2 sessions rotating every 30 min.
        const lambda = 25 + 15 * Math.sin((2 * Math.PI * m) / 1440);
        const n = poisson(rng, lambda);
        if (m % 30 === 0) session++;
        for (let i = 0; i < n; i++) {
          const tokens = Math.round(600 * Math.exp(0.7 * gaussian(rng)));
          tracker.observe({
            userId: 'noisy',
            time: T0 + m * MIN + Math.floor(rng() * MIN),
            tokens,
            costUsd: tokens * 3e-6,
            sessionId: `s${rng() < 0.3 ? session + 1 : session}`,
            probing: false,
          });
        }
        started.push(...tracker.advance(T0 + (m + 1) * MIN).started);
      }
      assert.deepEqual(started, []);
      const p = tracker.profile('noisy');
      assert.ok(p && p.rateBaseline > 20 && p.rateBaseline < 30, `baseline ${p?.rateBaseline}`);

      // The same detector still sees a fourfold minute: 100 requests against ≈ 25 ± 5.
      minuteOf(tracker, 'noisy', 1440, 100, { sessionId: `s${session}` });
      assert.deepEqual(kinds(tracker.advance(T0 + 1441 * MIN).started), ['noisy:rate_spike']);
    });

    it('judges a user without history against the global cap and marks the anomaly global', () => {
      const tracker = new UserActivityTracker();
      minuteOf(tracker, 'flood', 0, 121);
      minuteOf(tracker, 'at-cap', 0, 120);
      minuteOf(tracker, 'busy', 0, 100);
      const { started } = tracker.advance(T0 + MIN);
      assert.equal(started.length, 1);
      assert.deepEqual({ ...started[0], time: 0 }, {
        userId: 'flood',
        kind: 'rate_spike',
        time: 0,
        value: 121,
        baseline: 0,
        threshold: 120,
        global: true,
      });
    });

    it('switches from the global cap to the own baseline after minHistoryBuckets closed buckets', () => {
      const tracker = new UserActivityTracker({ minHistoryBuckets: 3 });
      for (let m = 0; m < 3; m++) minuteOf(tracker, 'u', m, 5);
      // Three closed buckets of 5: threshold max(30, 5 + 6·√5) = 30, far below the global cap of 120.
      minuteOf(tracker, 'u', 3, 31);
      const { started } = tracker.advance(T0 + 4 * MIN);
      assert.equal(started.length, 1);
      assert.equal(started[0].global, false);
      assert.equal(started[0].threshold, 30);
    });

    it('lists current anomalies most severe first, bounded by the limit', () => {
      const tracker = new UserActivityTracker();
      const sizes: [string, number][] = [
        ['a', 130],
        ['b', 150],
        ['c', 200],
        ['d', 125],
        ['e', 300],
      ];
      for (const [id, n] of sizes) minuteOf(tracker, id, 0, n);
      assert.deepEqual(
        tracker.anomalous('rate_spike', 3).map((a) => [a.userId, a.value]),
        [
          ['e', 300],
          ['c', 200],
          ['b', 150],
        ],
      );
      assert.equal(tracker.anomalous('rate_spike', 10).length, 5);
      assert.deepEqual(tracker.anomalous('rate_spike', 0), []);
      assert.deepEqual(tracker.anomalous('probing', 5), []);
      assert.deepEqual(tracker.anomalousCounts(), { rate_spike: 5, token_spike: 0, cost_spike: 0, probing: 0, session_spread: 0 });
    });

    it('buffers at most maxReportsPerAdvance reports between two advances and counts the rest as dropped', () => {
      const tracker = new UserActivityTracker({ maxReportsPerAdvance: 2 });
      for (let u = 0; u < 5; u++) minuteOf(tracker, `flood-${u}`, 0, 121);
      const r = tracker.advance(T0 + MIN);
      assert.equal(r.started.length, 2);
      assert.equal(tracker.droppedReports, 3);
      assert.equal(r.counts.rate_spike, 5);
      assert.equal(tracker.anomalous('rate_spike', Infinity).length, 5);
      assert.deepEqual(tracker.anomalous('rate_spike', Number.NaN), []);
    });

    it('counts a slightly late request in the current bucket and reaches the same verdicts as in order', () => {
      const run = (shuffle: boolean): string[] => {
        const rng = mulberry32(3);
        const tracker = new UserActivityTracker();
        const out: string[] = [];
        for (let m = 0; m < 90; m++) {
          const n = m >= 60 && m < 63 ? 200 : 10;
          const times = Array.from({ length: n }, (_, i) => T0 + m * MIN + Math.floor(((i + 0.5) * MIN) / n));
          // Out of order by up to 5 s, across the bucket boundary too.
          if (shuffle) for (let i = 0; i < times.length; i++) times[i] += Math.floor((rng() - 0.5) * 10_000);
          for (const t of times) tracker.observe(req('u', t));
          const r = tracker.advance(T0 + (m + 1) * MIN - 5_000);
          for (const a of r.started) out.push(`start ${a.kind} @${m}`);
          for (const a of r.resolved) out.push(`resolve ${a.kind} @${m}`);
        }
        return out;
      };
      assert.deepEqual(run(false), ['start rate_spike @60', 'resolve rate_spike @64']);
      assert.deepEqual(run(true), run(false));
    });
  });

  describe('token and cost spikes', () => {
    it('flags a tenfold token bucket as token_spike and a costly bucket as cost_spike, each on its own', () => {
      const tracker = new UserActivityTracker();
      for (let m = 0; m < 30; m++) {
        minuteOf(tracker, 'tok', m, 10, { tokens: 500, costUsd: 0.001 });
        minuteOf(tracker, 'usd', m, 10, { tokens: 500, costUsd: 0.001 });
      }
      // Tokens: max(20 000, 5 000 + 6·max(500, 0.5·5 000)) = 20 000. Cost: max(0.5, 0.01 + 6·0.01) = 0.5.
      minuteOf(tracker, 'tok', 30, 10, { tokens: 10_000, costUsd: 0.001 });
      minuteOf(tracker, 'usd', 30, 10, { tokens: 500, costUsd: 0.2 });
      const { started } = tracker.advance(T0 + 31 * MIN);
      const byUser = Object.fromEntries(started.map((a) => [a.userId, a]));
      assert.deepEqual(kinds(started), ['tok:token_spike', 'usd:cost_spike']);
      assert.deepEqual([byUser.tok.value, byUser.tok.baseline, byUser.tok.threshold, byUser.tok.global], [100_000, 5000, 20_000, false]);
      approx(byUser.usd.value, 2);
      approx(byUser.usd.baseline, 0.01);
      assert.equal(byUser.usd.threshold, 0.5);
      assert.equal(tracker.profile('usd')?.costInBucket, 0);
      const resolved = tracker.advance(T0 + 32 * MIN).resolved;
      assert.deepEqual(kinds(resolved), ['tok:token_spike', 'usd:cost_spike']);
    });

    it('ignores non-finite and negative tokens and cost', () => {
      const tracker = new UserActivityTracker();
      tracker.observe(req('u', T0, { tokens: Number.NaN, costUsd: -5 }));
      tracker.observe(req('u', T0 + 1, { tokens: Infinity, costUsd: Infinity }));
      tracker.observe(req('u', Number.NaN));
      assert.equal(tracker.invalidCount, 1);
      const p = tracker.profile('u');
      assert.equal(p?.requestsInBucket, 2);
      assert.equal(p?.costInBucket, 0);
    });
  });

  describe('probing', () => {
    it('flags three probing attempts within ten minutes and not two', () => {
      const tracker = new UserActivityTracker();
      tracker.observe(req('twice', T0, { probing: true }));
      tracker.observe(req('twice', T0 + 1_000, { probing: true }));
      tracker.observe(req('thrice', T0, { probing: true }));
      tracker.observe(req('thrice', T0 + 4 * MIN, { probing: true }));
      tracker.observe(req('thrice', T0 + 9 * MIN, { probing: true }));
      const { started } = tracker.advance(T0 + 9 * MIN);
      assert.deepEqual(started, [
        { userId: 'thrice', kind: 'probing', time: T0 + 9 * MIN, value: 3, baseline: 0, threshold: 3, global: false },
      ]);
      assert.equal(tracker.profile('twice')?.probingAttempts, 2);
    });

    it('ages old attempts out of the window, both for starting and for resolving', () => {
      const tracker = new UserActivityTracker();
      // 0, 10 min, 10 min: the window (newest − 10 min, newest] excludes the attempt at 0.
      for (const t of [0, 10 * MIN, 10 * MIN]) tracker.observe(req('edge', T0 + t, { probing: true }));
      // 0, 11, 12 min: three attempts in 12 minutes, never three in 10.
      for (const t of [0, 11 * MIN, 12 * MIN]) tracker.observe(req('slow', T0 + t, { probing: true }));
      assert.equal(tracker.advance(T0 + 12 * MIN).started.length, 0);
      assert.equal(tracker.profile('slow')?.probingAttempts, 2);

      tracker.observe(req('slow', T0 + 13 * MIN, { probing: true }));
      assert.deepEqual(kinds(tracker.advance(T0 + 13 * MIN).started), ['slow:probing']);
      // At 21 min the window (11, 21] holds 12 and 13: two attempts, resolved.
      assert.equal(tracker.advance(T0 + 20 * MIN).resolved.length, 0);
      assert.deepEqual(kinds(tracker.advance(T0 + 21 * MIN).resolved), ['slow:probing']);
      assert.deepEqual(tracker.profile('slow')?.flags, []);
    });
  });

  describe('session spreading', () => {
    it('flags a user going from 1–2 sessions per bucket to 40, not one going to 9', () => {
      const tracker = new UserActivityTracker();
      for (const id of ['spread', 'mild']) {
        for (let m = 0; m < 60; m++) {
          for (let i = 0; i < 30; i++) tracker.observe(req(id, T0 + m * MIN + i * 1000, { sessionId: `s${m}-${m % 2 === 0 ? 0 : i % 2}` }));
        }
      }
      // Minute 59 (odd) used two sessions.
      assert.equal(tracker.profile('spread')?.sessionsInBucket, 2);
      // 40 requests is no rate spike for a 30 req/min user (threshold 30 + 6·√30 ≈ 63).
      for (let i = 0; i < 40; i++) tracker.observe(req('spread', T0 + 60 * MIN + i * 100, { sessionId: `burst-${i}` }));
      for (let i = 0; i < 40; i++) tracker.observe(req('mild', T0 + 60 * MIN + i * 100, { sessionId: `burst-${i % 9}` }));
      // Baseline ≈ 1.5 distinct sessions, spread ≈ 0.5: max(10, 1.5 + 6·√1.5) = 10.
      const { started } = tracker.advance(T0 + 60 * MIN + 30_000);
      assert.deepEqual(kinds(started), ['spread:session_spread']);
      const a = started[0];
      assert.equal(a.threshold, 10);
      assert.ok(a.baseline > 1.3 && a.baseline < 1.7, `baseline ${a.baseline}`);
      assert.ok(Math.abs(a.value - 40) <= 6, `estimate ${a.value}`);
      // Nine distinct ids exceed the 8 exact hashes: the linear counter says −256·ln(1 − 9/256) ≈ 9.16.
      approx(tracker.profile('mild')?.sessionsInBucket ?? 0, -256 * Math.log(1 - 9 / 256));
    });

    it('counts up to 8 sessions exactly and estimates beyond with the linear counter', () => {
      const tracker = new UserActivityTracker({ sessions: { globalCap: 1e9 } });
      for (let i = 0; i < 8; i++) {
        tracker.observe(req('u', T0 + i, { sessionId: `s${i}` }));
        tracker.observe(req('u', T0 + i, { sessionId: `s${i}` }));
      }
      tracker.observe(req('u', T0 + 9, { sessionId: null }));
      assert.equal(tracker.profile('u')?.sessionsInBucket, 8);
      for (let i = 8; i < 300; i++) tracker.observe(req('u', T0 + i, { sessionId: `session-${i}` }));
      const est = tracker.profile('u')?.sessionsInBucket ?? 0;
      assert.ok(Math.abs(est - 300) / 300 < 0.15, `estimate ${est}`);
    });

    it("keeps each user's sessions apart while session blocks are reused across buckets and evictions", () => {
      const tracker = new UserActivityTracker({ maxUsers: 50, initialCapacity: 4 });
      let settled = 0;
      for (let minute = 0; minute < 30; minute++) {
        if (minute === 5) settled = tracker.memoryBytes();
        // 80 users for 50 slots: every minute evicts users holding blocks and reuses their slots.
        for (let u = 0; u < 80; u++) {
          const n = (u + minute) % 12;
          const at = T0 + minute * MIN + u * 100;
          tracker.observe(req(`u${u}`, at));
          for (let k = 0; k < 2 * n; k++) tracker.observe(req(`u${u}`, at + 1, { sessionId: `u${u}-m${minute}-s${k % n}` }));
          // Beyond 8 the linear counter's estimate, from the bits the ids' hashes set.
          const bits = new Set(Array.from({ length: n }, (_, k) => hashString(`u${u}-m${minute}-s${k}`) & 255)).size;
          const expected = n <= 8 ? n : -256 * Math.log(1 - bits / 256);
          assert.equal(tracker.profile(`u${u}`)?.sessionsInBucket, expected, `u${u} minute ${minute}`);
        }
      }
      assert.equal(tracker.size, 50);
      assert.equal(tracker.memoryBytes(), settled, 'evicted and closed buckets return their blocks');
    });
  });

  describe('eviction and memory', () => {
    it('evicts users idle for an hour of event time and reuses their slots', () => {
      const tracker = new UserActivityTracker({ initialCapacity: 1024 });
      for (let i = 0; i < 1000; i++) tracker.observe(req(`old-${i}`, T0));
      tracker.observe(req('old-7', T0 + 30 * MIN));
      const capacity = tracker.capacity;
      tracker.advance(T0 + 60 * MIN - 1);
      assert.equal(tracker.size, 1000);
      tracker.advance(T0 + 60 * MIN);
      assert.equal(tracker.size, 1);
      assert.equal(tracker.profile('old-1'), undefined);
      assert.ok(tracker.profile('old-7'));
      for (let i = 0; i < 1000; i++) tracker.observe(req(`new-${i}`, T0 + 61 * MIN));
      assert.equal(tracker.size, 1001);
      assert.equal(tracker.capacity, capacity);
      const fresh = tracker.profile('new-0');
      assert.deepEqual([fresh?.requestsInBucket, fresh?.rateBaseline, fresh?.flags], [1, 0, []]);
    });

    it('evicts the user least recently seen in a new bucket at maxUsers and resolves its anomalies', () => {
      const tracker = new UserActivityTracker({ maxUsers: 3, initialCapacity: 2 });
      minuteOf(tracker, 'a', 0, 1);
      minuteOf(tracker, 'b', 0, 130);
      minuteOf(tracker, 'c', 0, 1);
      // The eviction order is refreshed once per user and bucket: here b, a, c at minute 1.
      tracker.observe(req('b', T0 + MIN + 1000));
      tracker.observe(req('a', T0 + MIN + 2000));
      tracker.observe(req('c', T0 + MIN + 3000));
      tracker.observe(req('b', T0 + MIN + 3500));
      tracker.observe(req('d', T0 + MIN + 4000));
      assert.equal(tracker.size, 3);
      assert.equal(tracker.capacity, 3);
      assert.equal(tracker.profile('b'), undefined);
      assert.ok(tracker.profile('a'));
      const r = tracker.advance(T0 + MIN + 5000);
      assert.deepEqual(kinds(r.started), ['b:rate_spike']);
      assert.deepEqual(kinds(r.resolved), ['b:rate_spike']);
      assert.equal(r.counts.rate_spike, 0);
    });

    it('keeps a million users within 300 bytes each', (t) => {
      const gc = getGc();
      const used = (): number => {
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      gc?.();
      const before = used();
      const started = process.hrtime.bigint();
      const tracker = new UserActivityTracker();
      const N = 1_000_000;
      for (let i = 0; i < N; i++) {
        tracker.observe({ userId: `user-${i}`, time: T0 + Math.floor(i / 100), tokens: 700, costUsd: 0.002, sessionId: 'sess', probing: false });
      }
      tracker.advance(T0 + 10 * MIN);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      assert.equal(tracker.size, N);
      const perUser = tracker.memoryBytes() / tracker.size;
      assert.ok(perUser <= 300, `estimate ${perUser.toFixed(1)} B/user`);
      if (gc) {
        gc();
        const grown = used() - before;
        assert.ok(grown < 400 * 2 ** 20, `heap grew ${(grown / 2 ** 20).toFixed(0)} MiB`);
        t.diagnostic(`measured ${(grown / N).toFixed(0)} B/user (heap + array buffers after GC)`);
      }
      t.diagnostic(`estimate ${perUser.toFixed(0)} B/user, ${seconds.toFixed(2)} s for ${N} users`);
      assert.ok(seconds < 10, `${seconds.toFixed(1)} s`);
      assert.equal(tracker.size, N);
    });
  });

  it('rejects invalid options with the key at fault', () => {
    const bad: [UserTrackerInit, string][] = [
      [{ bucketMs: 0 }, 'bucketMs'],
      [{ alpha: 1 }, 'alpha'],
      [{ probingThreshold: 256 }, 'probingThreshold'],
      [{ rate: { k: -1 } }, 'rate.k'],
      [{ sessions: { minSpread: 0 } }, 'sessions.minSpread'],
      [{ maxUsers: 0 }, 'maxUsers'],
      [{ idleEvictAfterMs: Number.NaN }, 'idleEvictAfterMs'],
    ];
    for (const [options, key] of bad) {
      assert.throws(
        () => new UserActivityTracker(options),
        (err: unknown) => isVigilError(err, 'VIGIL_CONFIG_INVALID') && err.details.key === key,
        key,
      );
    }
  });
});

/** A forced-GC function when one is available (exposed, or enabled at runtime); else undefined. */
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
