import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FamilyWindowStore } from '../../operators/family-window-store.js';
import type { AssembledRequest } from '../../operators/requests/request-assembler.js';
import { NO_PII, type PiiScanResult } from '../../operators/security/pii-scanner.js';
import { NO_INJECTION, type InjectionCategory, type InjectionVerdict } from '../../operators/security/prompt-injection-scanner.js';
import type { SignalFamily } from '../../operators/signal-family.js';
import type { SubWindowPartial } from '../../operators/sub-window-partial.js';
import { OVERFLOW_KEY } from '../../operators/sub-window-ring.js';
import { TDigest } from '../../operators/t-digest.js';
import { SeededRandom } from '../../src/demo/random.js';
import type { ErrorType, LlmSpan } from '../../src/model/index.js';
import { requestFamily, type RequestVerdicts } from '../../src/signals/request-family.js';
import type { SpanEnrichment } from '../../src/signals/span-enrichment.js';
import { spanFamily } from '../../src/signals/span-family.js';
import { BASE_TIME, makeSpan } from '../helpers/span-factory.js';

// What FamilyWindowStore.add saves work with — counting straight into the open aggregate, the
// trie nodes' last-child memo, the fine key's cached aggregate, slab-backed counter arrays — must
// not change a single bit of what the store holds. Checked against a plain model of the store and
// between a family counting straight into aggregates and the same family counting into a scratch.

/** A toy event: a call in a region and tier, with an amount that is not a whole number. */
interface Call {
  region: string | null;
  tier: string | null;
  time: number;
  amount: number;
  flagged: boolean;
  latency: number | null;
  size: number;
}

/** Three counters (calls, amount, flagged) and two distributions (latency, nullable; size). */
function callFamily(countsEveryEvent: boolean): SignalFamily<Call> {
  return {
    name: 'calls',
    dimensions: ['region', 'tier'],
    dimension: (call, index) => (index === 0 ? call.region : call.tier),
    time: (call) => call.time,
    counterSignals: [{ signal: 'calls', counters: ['calls', 'amount', 'flagged'], description: 'calls' }],
    countsEveryEvent,
    count(call, c) {
      c[0] += 1;
      c[1] += call.amount;
      if (call.flagged) c[2] += 1;
      return true;
    },
    distributions: [
      { signal: 'latency', description: 'latency', value: (call) => call.latency },
      { signal: 'size', description: 'size', value: (call) => call.size },
    ],
  };
}

const SUB = 1000;
const RETENTION = 6 * SUB;
const MAX_KEYS = 6;
const T0 = 1_700_000_000_000;

// Deterministic uniform numbers in [0, 1) (the demo's mulberry32).
function rng(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

/** One fine key's figures in the model: what the store should export for it. */
interface ModelEntry {
  values: string[];
  count: number;
  counters: Float64Array;
  /** Per distribution: values seen (finite ones), min and max. */
  seen: number[];
  min: number[];
  max: number[];
}

/**
 * The store's contract written plainly: per sub-window a map of fine keys in arrival order, a key
 * beyond `MAX_KEYS` sent to the overflow entry, every counter summed in event order; eviction
 * drops whole sub-windows and a later event re-creates its sub-window.
 */
class Model {
  readonly subWindows = new Map<number, Map<string, ModelEntry>>();
  overflowCount = 0;
  invalid = 0;

  constructor(private readonly maxKeys = MAX_KEYS) {}

  add(call: Call): boolean {
    if (!Number.isFinite(call.time)) {
      this.invalid++;
      return false;
    }
    const start = Math.floor(call.time / SUB) * SUB;
    let sw = this.subWindows.get(start);
    if (sw === undefined) this.subWindows.set(start, (sw = new Map<string, ModelEntry>()));
    const values = [call.region ?? '(none)', call.tier ?? '(none)'];
    let key = values.join('\u0001');
    let entry = sw.get(key);
    if (entry === undefined && sw.size >= this.maxKeys) {
      this.overflowCount++;
      key = OVERFLOW_KEY;
      entry = sw.get(key);
    }
    if (entry === undefined) {
      const v = key === OVERFLOW_KEY ? [OVERFLOW_KEY, OVERFLOW_KEY] : values;
      entry = { values: v, count: 0, counters: new Float64Array(3), seen: [0, 0], min: [Infinity, Infinity], max: [-Infinity, -Infinity] };
      sw.set(key, entry);
    }
    entry.count++;
    entry.counters[0] += 1;
    entry.counters[1] += call.amount;
    if (call.flagged) entry.counters[2] += 1;
    const dist = [call.latency, call.size];
    for (let i = 0; i < 2; i++) {
      const v = dist[i];
      if (v === null) continue;
      if (!Number.isFinite(v)) {
        this.invalid++;
        continue;
      }
      entry.seen[i]++;
      entry.min[i] = Math.min(entry.min[i], v);
      entry.max[i] = Math.max(entry.max[i], v);
    }
    return true;
  }

  evictBefore(t: number): void {
    for (const start of [...this.subWindows.keys()]) if (start + SUB <= t) this.subWindows.delete(start);
  }

  /** Distinct dimension-value combinations with an entry of their own in a live sub-window. */
  labelCombinations(): number {
    const keys = new Set<string>();
    for (const sw of this.subWindows.values()) for (const key of sw.keys()) if (key !== OVERFLOW_KEY) keys.add(key);
    return keys.size;
  }

  keys(): number {
    let n = 0;
    for (const sw of this.subWindows.values()) n += sw.size;
    return n;
  }
}

/** The bits of a counter array, so that equal means identical to the last bit. */
function bits(counters: readonly number[] | Float64Array): string {
  return Buffer.from(Float64Array.from(counters).buffer).toString('hex');
}

/** Asserts the store's export of every live sub-window is the model's, to the last bit of each counter. */
function assertMatchesModel(store: FamilyWindowStore<Call>, model: Model, context: string): void {
  for (const [start, sw] of model.subWindows) {
    const partial = store.exportSubWindow(start);
    assert.ok(partial !== null, `${context}: sub-window ${start} missing`);
    const expected = [...sw.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
    assert.equal(partial.entries.length, expected.length, `${context}: keys of sub-window ${start}`);
    partial.entries.forEach((entry, i) => {
      const want = expected[i];
      const at = `${context}: sub-window ${start}, key ${want.values.join('/')}`;
      assert.deepEqual(entry.values, want.values, at);
      assert.equal(entry.count, want.count, at);
      assert.equal(bits(entry.counters), bits(want.counters), `${at}: counters`);
      for (let d = 0; d < 2; d++) {
        const bytes = entry.digests[d];
        if (want.seen[d] === 0) {
          assert.equal(bytes, null, `${at}: digest ${d}`);
          continue;
        }
        assert.ok(bytes !== null, `${at}: digest ${d}`);
        const digest = TDigest.fromBytes(bytes);
        assert.equal(digest.count, want.seen[d], `${at}: digest ${d} count`);
        assert.equal(digest.min, want.min[d], `${at}: digest ${d} min`);
        assert.equal(digest.max, want.max[d], `${at}: digest ${d} max`);
      }
    });
  }
  const stats = store.stats();
  assert.equal(stats.subWindows, model.subWindows.size, `${context}: sub-windows`);
  assert.equal(stats.keys, model.keys(), `${context}: keys`);
  assert.equal(stats.labelCombinations, model.labelCombinations(), `${context}: label combinations`);
  assert.equal(stats.overflowCount, model.overflowCount, `${context}: overflow count`);
  assert.equal(stats.invalidValues, model.invalid, `${context}: invalid values`);
}

const REGIONS = ['eu', 'us', 'ap', null];
const TIERS = ['gold', 'free', null];

/**
 * Runs a random stream through a store and the model: events mostly around an advancing clock,
 * some late into closed sub-windows and some into evicted ones (which the store re-creates);
 * bursts of distinct regions overflow sub-windows; the clock closes and evicts as a pipeline would.
 */
function runAgainstModel(seed: number, countsEveryEvent: boolean): void {
  const random = rng(seed);
  const store = new FamilyWindowStore({ family: callFamily(countsEveryEvent), subWindowMs: SUB, retentionMs: RETENTION, maxKeysPerSubWindow: MAX_KEYS });
  const model = new Model();
  let clock = T0;
  let closed = -Infinity;
  for (let step = 0; step < 3000; step++) {
    clock += Math.floor(random() * 40);
    const r = random();
    // Mostly on time; some a few sub-windows late; a few older than the retention.
    const lag = r < 0.8 ? random() * 1500 : r < 0.97 ? random() * 4 * SUB : RETENTION + random() * 3 * SUB;
    const flood = random() < 0.05;
    const call: Call = {
      region: flood ? `flood-${Math.floor(random() * 50)}` : REGIONS[Math.floor(random() * REGIONS.length)],
      tier: TIERS[Math.floor(random() * TIERS.length)],
      time: random() < 0.005 ? NaN : Math.floor(clock - lag),
      amount: random() < 0.01 ? 0.1 * Math.floor(random() * 7) : random() * 3.7 - 0.3,
      flagged: random() < 0.3,
      latency: random() < 0.2 ? null : random() < 0.01 ? Infinity : 10 + random() * 500,
      size: Math.floor(random() * 1000),
    };
    assert.equal(store.add(call), model.add(call), `step ${step}`);
    const boundary = Math.floor((clock - 2 * SUB) / SUB) * SUB;
    if (boundary > closed) {
      store.closeThrough(boundary);
      closed = boundary;
      if (random() < 0.5) {
        store.evictBefore(boundary - RETENTION + 2 * SUB);
        model.evictBefore(boundary - RETENTION + 2 * SUB);
      }
    }
    if (step % 500 === 499) assertMatchesModel(store, model, `seed ${seed}, step ${step}`);
  }
  assertMatchesModel(store, model, `seed ${seed}, end`);
}

describe('FamilyWindowStore.add', () => {
  for (const countsEveryEvent of [true, false]) {
    it(`holds exactly what a plain model of the store holds (countsEveryEvent ${countsEveryEvent}): late writes, eviction, re-created sub-windows, overflow`, () => {
      for (const seed of [1, 2, 3, 4]) runAgainstModel(seed, countsEveryEvent);
    });
  }

  it('counting straight into the aggregate exports the same partials, bit for bit, as counting into a scratch', () => {
    const random = rng(99);
    const direct = new FamilyWindowStore({ family: callFamily(true), subWindowMs: SUB, retentionMs: RETENTION, maxKeysPerSubWindow: MAX_KEYS });
    const scratch = new FamilyWindowStore({ family: callFamily(false), subWindowMs: SUB, retentionMs: RETENTION, maxKeysPerSubWindow: MAX_KEYS });
    for (let i = 0; i < 4000; i++) {
      const call: Call = {
        region: REGIONS[Math.floor(random() * REGIONS.length)],
        tier: random() < 0.1 ? `t${Math.floor(random() * 9)}` : TIERS[Math.floor(random() * TIERS.length)],
        time: T0 + Math.floor(random() * 5 * SUB),
        amount: random() * 1e-3 + random() * 1e6,
        flagged: random() < 0.5,
        latency: random() * 100,
        size: random(),
      };
      direct.add(call);
      scratch.add(call);
      // Closing while events keep coming sends later ones into packed, shared counter arrays.
      if (i === 2000) {
        direct.closeThrough(T0 + 3 * SUB);
        scratch.closeThrough(T0 + 3 * SUB);
      }
    }
    for (let s = 0; s < 5; s++) assert.deepEqual(direct.exportSubWindow(T0 + s * SUB), scratch.exportSubWindow(T0 + s * SUB));
    assert.deepEqual(direct.stats(), scratch.stats());
  });

  it("forgets a fine key's aggregate when its sub-window is evicted: an event there again counts in a new one", () => {
    const store = new FamilyWindowStore({ family: callFamily(true), subWindowMs: SUB, retentionMs: RETENTION });
    const call = (time: number): Call => ({ region: 'eu', tier: 'gold', time, amount: 1.5, flagged: false, latency: 5, size: 1 });
    store.add(call(T0));
    // The key stays interned: it also has an aggregate in the next sub-window.
    store.add(call(T0 + SUB));
    store.add(call(T0));
    store.evictBefore(T0 + SUB);
    assert.equal(store.exportSubWindow(T0), null);
    store.add(call(T0));
    const again = store.exportSubWindow(T0);
    assert.equal(again?.entries.length, 1);
    assert.equal(again.entries[0].count, 1);
    assert.deepEqual([...again.entries[0].counters], [1, 1.5, 0]);
    assert.equal(store.stats().keys, 2);
    assert.equal(store.stats().labelCombinations, 1);
  });

  it('finds a fine key whose trie branch was dropped and rebuilt through the trie, not a detached node', () => {
    const store = new FamilyWindowStore({ family: callFamily(true), subWindowMs: SUB, retentionMs: RETENTION });
    const call = (tier: string, time: number): Call => ({ region: 'eu', tier, time, amount: 1, flagged: false, latency: null, size: 1 });
    store.add(call('gold', T0 + SUB));
    // The `eu` node now remembers its `free` child, which the eviction drops with the key.
    store.add(call('free', T0));
    store.evictBefore(T0 + SUB);
    assert.equal(store.stats().labelCombinations, 1);
    store.add(call('free', T0 + SUB));
    assert.equal(store.stats().labelCombinations, 2);
    // A partial naming the same key merges into the same aggregate, found through the trie.
    const other = new FamilyWindowStore({ family: callFamily(true), subWindowMs: SUB, retentionMs: RETENTION });
    other.add(call('free', T0 + SUB));
    assert.equal(store.mergeSubWindow(other.exportSubWindow(T0 + SUB) as SubWindowPartial), true);
    assert.equal(store.stats().labelCombinations, 2);
    assert.equal(store.stats().keys, 2);
    const entry = store.exportSubWindow(T0 + SUB)?.entries.find((e) => e.values[1] === 'free');
    assert.equal(entry?.count, 2);
    // Evicting everything leaves nothing interned.
    store.evictBefore(T0 + 2 * SUB);
    assert.equal(store.stats().labelCombinations, 0);
  });

  it('keeps the counters of aggregates sharing a slab apart', () => {
    const store = new FamilyWindowStore({ family: callFamily(true), subWindowMs: SUB, retentionMs: RETENTION });
    const model = new Model(Infinity);
    // Several slabs' worth of keys over three sub-windows, interleaved, one closed midway.
    for (let i = 0; i < 1200; i++) {
      if (i === 800) store.closeThrough(T0 + SUB);
      store.add({ region: `r${i % 170}`, tier: i % 7 === 0 ? null : 't', time: T0 + (i % 3) * SUB, amount: i + 0.25, flagged: i % 5 === 0, latency: i, size: 1 });
      model.add({ region: `r${i % 170}`, tier: i % 7 === 0 ? null : 't', time: T0 + (i % 3) * SUB, amount: i + 0.25, flagged: i % 5 === 0, latency: i, size: 1 });
    }
    assert.ok(store.stats().keys > 3 * 64);
    assertMatchesModel(store, model, 'slabs');
  });
});

// ---------------------------------------------------------------------------------------------
// The engine's span and request families: counting straight into aggregates is exact
// ---------------------------------------------------------------------------------------------

const ERROR_TYPES: readonly ErrorType[] = ['TIMEOUT', 'RATE_LIMIT', 'MODEL_ERROR', 'CONTENT_FILTER', 'INVALID_REQUEST', 'NETWORK', 'OTHER'];
const CATEGORIES: readonly InjectionCategory[] = ['instruction_override', 'roleplay_jailbreak', 'system_prompt_extraction', 'delimiter_abuse', 'obfuscation'];

/** The same family with `countsEveryEvent` cleared: the store counts into its scratch. */
function viaScratch<E>(family: SignalFamily<E>): SignalFamily<E> {
  return { ...family, countsEveryEvent: false };
}

describe('span and request families count every event', () => {
  it('the span family declares it, and its counters come out bit for bit as through a scratch (repeated injection categories, fractional costs, late spans)', () => {
    const enrichment: SpanEnrichment = { costUsd: 0, costSource: 'none', injection: NO_INJECTION, inputScanned: false, pii: NO_PII, outputLength: -1, jsonExpected: false, jsonValid: false };
    const family = spanFamily(enrichment);
    assert.equal(family.countsEveryEvent, true);
    const direct = new FamilyWindowStore({ family, subWindowMs: SUB, retentionMs: RETENTION });
    const scratch = new FamilyWindowStore({ family: viaScratch(family), subWindowMs: SUB, retentionMs: RETENTION });
    const random = rng(7);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
    for (let i = 0; i < 3000; i++) {
      const failed = random() < 0.2;
      const span: LlmSpan = makeSpan({
        kind: pick(['LLM', 'LLM', 'PIPELINE', 'EMBEDDING'] as const),
        startTime: BASE_TIME + Math.floor(random() * 4 * SUB),
        durationMs: random() * 2000,
        ttftMs: random() < 0.5 ? random() * 300 : null,
        service: pick(['chat-api', 'search']),
        operation: pick(['chat', 'tool']),
        model: random() < 0.2 ? null : pick(['gpt-4o', 'claude']),
        provider: random() < 0.2 ? null : pick(['openai', 'anthropic']),
        tenantId: random() < 0.2 ? null : `tenant-${Math.floor(random() * 5)}`,
        status: failed ? 'ERROR' : 'OK',
        errorType: failed && random() < 0.9 ? pick(ERROR_TYPES) : null,
        retryCount: random() < 0.2 ? 1 + Math.floor(random() * 3) : 0,
        fallback: random() < 0.1,
        inputTokens: random() < 0.1 ? null : Math.floor(random() * 3000),
        outputTokens: random() < 0.1 ? null : Math.floor(random() * 800),
        finishReason: random() < 0.3 ? null : pick(['stop', 'length', 'tool_calls', 'SAFETY', 'weird']),
      });
      enrichment.costUsd = random() < 0.2 ? 0 : random() * 0.013;
      enrichment.costSource = pick(['producer', 'table', 'unpriced', 'none'] as const);
      enrichment.inputScanned = random() < 0.7;
      const attempt = random() < 0.3;
      const injection: InjectionVerdict = attempt
        ? { ...NO_INJECTION, attempt: true, categories: [pick(CATEGORIES), pick(CATEGORIES), pick(CATEGORIES)], sophistication: 1 + Math.floor(random() * 5) }
        : NO_INJECTION;
      enrichment.injection = injection;
      enrichment.outputLength = random() < 0.3 ? -1 : Math.floor(random() * 900);
      const pii: PiiScanResult =
        random() < 0.2 ? { total: 3, counts: { email: 1, phone: 2, credit_card: 0, ssn: 0, iban: 0, ip_address: 0, secret: 0 }, findings: [] } : NO_PII;
      enrichment.pii = pii;
      enrichment.jsonExpected = random() < 0.3;
      enrichment.jsonValid = random() < 0.5;
      assert.equal(direct.add(span), true);
      assert.equal(scratch.add(span), true);
      if (i === 1500) {
        direct.closeThrough(BASE_TIME + 2 * SUB);
        scratch.closeThrough(BASE_TIME + 2 * SUB);
      }
    }
    for (let s = 0; s < 4; s++) {
      const a = direct.exportSubWindow(BASE_TIME + s * SUB);
      const b = scratch.exportSubWindow(BASE_TIME + s * SUB);
      assert.ok(a !== null && b !== null);
      assert.deepEqual(a.entries.map((e) => bits(e.counters)), b.entries.map((e) => bits(e.counters)));
      assert.deepEqual(a, b);
    }
  });

  it('the request family declares it, and its counters come out as through a scratch', () => {
    const verdicts: RequestVerdicts = { costAnomaly: false, time: BASE_TIME };
    const family = requestFamily(verdicts);
    assert.equal(family.countsEveryEvent, true);
    const direct = new FamilyWindowStore({ family, subWindowMs: SUB, retentionMs: RETENTION });
    const scratch = new FamilyWindowStore({ family: viaScratch(family), subWindowMs: SUB, retentionMs: RETENTION });
    const random = rng(11);
    const flag = (p: number): boolean => random() < p;
    for (let i = 0; i < 1000; i++) {
      const request = {
        service: flag(0.5) ? 'chat-api' : 'search',
        operation: 'chat',
        model: flag(0.2) ? null : 'gpt-4o',
        provider: flag(0.2) ? null : 'openai',
        tenantId: flag(0.2) ? null : `tenant-${i % 3}`,
        failed: flag(0.1),
        degraded: flag(0.1),
        retries: flag(0.2) ? 2 : 0,
        fallback: flag(0.1),
        timeouts: flag(0.1) ? 1 : 0,
        rateLimits: flag(0.1) ? 1 : 0,
        rootMissing: flag(0.05),
        evicted: flag(0.05),
        injection: flag(0.1),
        piiFindings: flag(0.1) ? 2 : 0,
        unpricedSpans: flag(0.1) ? 1 : 0,
        costUsd: random() * 0.05,
        durationMs: random() * 5000,
        inputTokens: Math.floor(random() * 4000),
        outputTokens: Math.floor(random() * 900),
      } as unknown as AssembledRequest;
      verdicts.costAnomaly = flag(0.05);
      verdicts.time = BASE_TIME + Math.floor(random() * 3 * SUB);
      assert.equal(direct.add(request), true);
      assert.equal(scratch.add(request), true);
    }
    for (let s = 0; s < 3; s++) assert.deepEqual(direct.exportSubWindow(BASE_TIME + s * SUB), scratch.exportSubWindow(BASE_TIME + s * SUB));
    assert.deepEqual(direct.stats(), scratch.stats());
  });
});
