/**
 * Benchmark: the in-process pipeline, in spans per second, each figure a ratio to avsc decode-only
 * throughput of the same records (`type.fromBuffer` in a loop) measured in the same run.
 *
 * Records: 10 minutes of event time of the demo's synthetic traffic (`TrafficGenerator`, seed 42,
 * 100 requests/s, its planted incidents; ~160 k spans; 1 minute with --quick), Avro-encoded with
 * the shipped schema. Its texts are the demo's (prompts ~70 chars, answers ~0.5 KB); a second
 * record set pads every prompt and answer (not the JSON outputs) with more of the same kind of text
 * to ~1 KB, keeping the planted attacks and leaks.
 *
 * - decode-only: `type.fromBuffer` over every record — the baseline, measured twice: beside the
 *   operator cases (with the decoded spans, a reference pipeline and its snapshots in memory, which
 *   they read) and beside the whole-pipeline-from-bytes cases, which run last with only the encoded
 *   records in memory (see `CaseDef.lean`).
 * - decode + validate: `SpanCodec.decode` (what the Kafka source does per message).
 * - operators alone, on decoded spans, each over the whole stream and counted per span of it:
 *   span family store (`FamilyWindowStore.add`, sub-windows closed as the watermark passes them),
 *   request assembler (add + advance), user tracker (one observation per assembled request +
 *   advance per boundary), injection scanner (every `inputText`), PII scanner (every
 *   `outputText`), rule views (every default rule's view snapshot at every boundary) and rule
 *   evaluation (`RuleSet.evaluate` over those snapshots).
 * - whole pipeline: `VigilEngine.process` with the default rules and config, from Avro bytes
 *   (decode + validate + process, batches of 500 as the Kafka source hands them over, then
 *   `complete`), scanners off and on; also from decoded spans (process only).
 *
 * Time is the process's CPU time (`process.cpuUsage`, user + system, all threads), not wall time:
 * on a shared machine wall time mostly measures waiting for a core. Cases run interleaved, one
 * pass each per round; each figure is the best round (the least disturbed pass; the interleaving
 * exposes every case to the same load). Ratios are of best to best.
 *
 * Run: `node --import tsx benchmarks/pipeline.bench.ts [--quick] [--only CASE] [--rounds N]`
 * (prints a markdown table; `--only` repeats one case, e.g. under `node --cpu-prof`).
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

import { FamilyWindowStore } from '../operators/family-window-store.js';
import { RequestAssembler, type AssembledRequest } from '../operators/requests/request-assembler.js';
import { NO_INJECTION, PromptInjectionScanner } from '../operators/security/prompt-injection-scanner.js';
import { NO_PII, PiiScanner } from '../operators/security/pii-scanner.js';
import { UserActivityTracker, type UserRequestObservation } from '../operators/users/user-activity-tracker.js';
import { SpanCodec } from '../src/codec/avro-codec.js';
import { parseConfig, type VigilConfig } from '../src/config/vigil-config.js';
import { benignPrompt, answerText } from '../src/demo/demo-texts.js';
import { SeededRandom } from '../src/demo/random.js';
import { TrafficGenerator } from '../src/demo/traffic-generator.js';
import { createEngine, defaultRulesFile, loadRules, priceTableOf } from '../src/engine/engine-factory.js';
import type { LlmSpan, SignalSnapshot } from '../src/model/index.js';
import { RuleSet, ruleViews, type RuleDefinition } from '../src/rules/index.js';
import { SignalPipeline } from '../src/signals/signal-pipeline.js';
import type { SpanEnrichment } from '../src/signals/span-enrichment.js';
import { spanFamily } from '../src/signals/span-family.js';
import { userSnapshot } from '../src/signals/user-signals.js';
import type { DeadLetter } from '../src/sources/span-source.js';

/** Options of {@link runPipelineBench}. */
export interface PipelineBenchOptions {
  /** 1 minute of traffic instead of 10, one round (CI smoke run). */
  readonly quick: boolean;
  /** Rounds of interleaved passes (default 9, 1 with --quick). */
  readonly rounds?: number;
  /** Run only the cases with these ids (comma-separated; for profiling); the other figures are then absent. */
  readonly only?: string;
  /**
   * The Node options this process was started with, when the run stands for a deployment that
   * sets them (the Docker image's, {@link DEPLOYED_CASES}); labels the report and its targets.
   */
  readonly nodeOptions?: string;
}

/**
 * The cases run again under the Docker image's Node options: the targets' whole-pipeline cases
 * and their decode-only baselines, measured in the same process as each other.
 */
export const DEPLOYED_CASES = 'decode,engine-noscan,decode-1kb,engine-scan-1kb';

/** One measured case. */
export interface PipelineBenchRow {
  readonly id: string;
  readonly name: string;
  /** Which record set: the demo's texts or the ~1 KB ones. */
  readonly texts: 'demo' | '1kb';
  /** Spans of the stream per second of the best pass. */
  readonly spansPerSecond: number;
  /** spansPerSecond / decode-only spans per second of the same record set. */
  readonly ratio: number;
}

/** A target the issue sets and whether this run met it. */
export interface PipelineTarget {
  readonly name: string;
  readonly met: boolean;
  readonly value: string;
}

/** Result of {@link runPipelineBench}. */
export interface PipelineBenchResult {
  readonly quick: boolean;
  readonly rounds: number;
  readonly spans: number;
  readonly eventMinutes: number;
  readonly meanRecordBytes: { readonly demo: number; readonly '1kb': number };
  readonly meanTextChars: { readonly demo: { input: number; output: number }; readonly '1kb': { input: number; output: number } };
  readonly rows: readonly PipelineBenchRow[];
  readonly targets: readonly PipelineTarget[];
  readonly environment: { readonly node: string; readonly cpus: number; readonly cpuModel: string; readonly loadAvg1m: number };
  /** {@link PipelineBenchOptions.nodeOptions}. */
  readonly nodeOptions?: string;
}

const T0 = Date.UTC(2025, 0, 1);
const REQUESTS_PER_SECOND = 100;
/** The same traffic ten times denser in event time: ten times the spans per slide boundary. */
const DENSE_REQUESTS_PER_SECOND = 1000;
const FULL_MINUTES = 10;
const QUICK_MINUTES = 1;
const BATCH = 500;
const SLIDE_MS = 10_000;
const LATENESS_MS = 30_000;

/** A record set: the encoded stream, and decoded spans for the cases that start from spans. */
interface RecordSet {
  /** Decoded spans: all of them, or (~1 KB set) a prefix for the scanner cases. */
  readonly spans: LlmSpan[];
  readonly buffers: Buffer[];
}

/** What the cases of one record set read. The ~1 KB phase only fills `set`, `config` and `rules`. */
interface Fixture {
  readonly set: RecordSet;
  readonly config: VigilConfig;
  readonly rules: RuleDefinition[];
  /** The requests the demo spans assemble into, as user-tracker observations. */
  readonly observations: UserRequestObservation[];
  /** Every slide boundary the demo stream closes, in order, with the observations before it. */
  readonly boundaries: number[];
  readonly observationsBefore: number[];
  /** The snapshots the default rules' views produce over the demo stream (scanners on). */
  readonly snapshots: SignalSnapshot[];
  /** The pipeline that produced them, fully populated, for re-taking snapshots. */
  readonly pipeline: SignalPipeline;
  /**
   * The same traffic at {@link DENSE_REQUESTS_PER_SECOND} requests/s over a tenth of the event
   * time (about as many spans), encoded: what the per-boundary work costs shows as the difference.
   */
  readonly dense: RecordSet;
}

// Padding keeps the kind of text: more prompts after a prompt (an attack stays in front), more
// answer prose before any planted leak (the leak stays at the end).
function padTo1k(span: LlmSpan, rng: SeededRandom): LlmSpan {
  const target = 1000;
  let input = span.inputText;
  if (input !== null) while (input.length < target) input += ' ' + benignPrompt(rng);
  let output = span.outputText;
  if (output !== null && span.expectedFormat !== 'json' && output.length < target) {
    const cut = output.search(/ (For follow-up|The card on file|Their account email|Use the key) /);
    const head = cut < 0 ? output : output.slice(0, cut);
    const tail = cut < 0 ? '' : output.slice(cut);
    output = head + ' ' + answerText(rng, target - head.length - tail.length - 1, false) + tail;
  }
  return { ...span, inputText: input, outputText: output };
}

function meanChars(spans: readonly LlmSpan[], field: 'inputText' | 'outputText'): number {
  let n = 0;
  let chars = 0;
  for (const s of spans) {
    const t = s[field];
    if (t === null) continue;
    n++;
    chars += t.length;
  }
  return n === 0 ? 0 : chars / n;
}

function defaultConfig(scan: boolean): VigilConfig {
  return parseConfig({ signals: { scanInjection: scan, scanPii: scan } }, { env: {} });
}

function demoSpans(quick: boolean): LlmSpan[] {
  const generator = new TrafficGenerator({ seed: 42, startTime: T0, requestsPerSecond: REQUESTS_PER_SECOND });
  return generator.spansUntil(T0 + (quick ? QUICK_MINUTES : FULL_MINUTES) * 60_000);
}

/** The ~1 KB record set: every span padded and encoded; the first `keep` kept decoded for the scanner cases. */
function kbFixture(spans: readonly LlmSpan[], keep: number, config: VigilConfig, rules: RuleDefinition[]): Fixture {
  const codec = new SpanCodec();
  const rng = new SeededRandom(7);
  const kept: LlmSpan[] = [];
  const buffers: Buffer[] = [];
  for (const span of spans) {
    const padded = padTo1k(span, rng);
    buffers.push(codec.encode(padded));
    if (kept.length < keep) kept.push(padded);
  }
  const none: never[] = [];
  return { set: { spans: kept, buffers }, config, rules, observations: none, boundaries: none, observationsBefore: none, snapshots: none, pipeline: null as never, dense: { spans: none, buffers: none } };
}

/** {@link Fixture.dense}: the demo traffic at the dense rate, encoded (no decoded spans kept). */
function denseSet(quick: boolean): RecordSet {
  const generator = new TrafficGenerator({ seed: 42, startTime: T0, requestsPerSecond: DENSE_REQUESTS_PER_SECOND });
  const minutes = ((quick ? QUICK_MINUTES : FULL_MINUTES) * REQUESTS_PER_SECOND) / DENSE_REQUESTS_PER_SECOND;
  const codec = new SpanCodec();
  return { spans: [], buffers: generator.spansUntil(T0 + minutes * 60_000).map((s) => codec.encode(s)) };
}

/** The demo fixture's encoded records alone (the lean cases'), the rest left to be collected. */
function encodedOnly(fx: Fixture): Fixture {
  const none: never[] = [];
  return {
    set: { spans: none, buffers: fx.set.buffers },
    config: fx.config,
    rules: fx.rules,
    observations: none,
    boundaries: none,
    observationsBefore: none,
    snapshots: none,
    pipeline: null as never,
    dense: fx.dense,
  };
}

function demoFixture(spans: LlmSpan[], config: VigilConfig, rules: RuleDefinition[], quick: boolean): Fixture {
  const codec = new SpanCodec();
  const set = { spans, buffers: spans.map((s) => codec.encode(s)) };

  // One reference run of the signal pipeline gives the requests, boundaries and snapshots.
  const w = config.windows;
  const pipeline = new SignalPipeline({
    slideMs: w.slide,
    allowedLatenessMs: w.allowedLateness,
    retentionMs: w.retention,
    slowSubWindowMs: w.slowSubWindow,
    slowRetentionMs: w.slowRetention,
    prices: priceTableOf(config),
    scanInjection: true,
    scanPii: true,
    requestTimeoutMs: config.signals.requestTimeout,
    views: ruleViews(rules),
  });
  const snapshots: SignalSnapshot[] = [];
  for (let i = 0; i < spans.length; i += BATCH) pipeline.ingest({ channel: 0, spans: spans.slice(i, i + BATCH) }, (s) => snapshots.push(s));
  pipeline.complete((s) => snapshots.push(s));

  const assembler = new RequestAssembler({ timeoutMs: config.signals.requestTimeout, cost: priceTableOf(config) });
  const observations: UserRequestObservation[] = [];
  const boundaries: number[] = [];
  const observationsBefore: number[] = [];
  const observe = (r: AssembledRequest, time: number): void => {
    if (r.userId !== null) {
      observations.push({ userId: r.userId, time, tokens: r.inputTokens + r.outputTokens, costUsd: r.costUsd, sessionId: r.sessionId, probing: r.injection });
    }
  };
  let closed = -Infinity;
  for (const span of spans) {
    assembler.add(span);
    const b = Math.floor((span.startTime - LATENESS_MS) / SLIDE_MS) * SLIDE_MS;
    if (b > closed) {
      for (let next = closed === -Infinity ? b : closed + SLIDE_MS; next <= b; next += SLIDE_MS) {
        for (const r of assembler.advance(next)) observe(r, next - 1);
        boundaries.push(next);
        observationsBefore.push(observations.length);
      }
      closed = b;
    }
  }
  for (const r of assembler.flush()) observe(r, closed);
  return { set, config, rules, observations, boundaries, observationsBefore, snapshots, pipeline, dense: denseSet(quick) };
}

// ---------------------------------------------------------------------------------------------
// Cases: each returns the CPU seconds of one pass over its stream.
// ---------------------------------------------------------------------------------------------

let sink = 0;
// CPU time of this process (all its threads: GC helpers work for the case too), not wall time:
// on a shared machine wall time mostly measures how long the process waited for a core.
const cpuNow = (): bigint => {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system);
};
const seconds = (t0: bigint): number => Number(cpuNow() - t0) / 1e6;

function decodeOnly(set: RecordSet): number {
  const type = new SpanCodec().type;
  const buffers = set.buffers;
  const t0 = cpuNow();
  for (let i = 0; i < buffers.length; i++) sink += (type.fromBuffer(buffers[i]) as LlmSpan).durationMs;
  return seconds(t0);
}

function decodeValidate(set: RecordSet): number {
  const codec = new SpanCodec();
  const buffers = set.buffers;
  const t0 = cpuNow();
  for (let i = 0; i < buffers.length; i++) sink += codec.decode(buffers[i]).durationMs;
  return seconds(t0);
}

function storeAdd(set: RecordSet): number {
  const enrichment: SpanEnrichment = { costUsd: 0, costSource: 'none', injection: NO_INJECTION, inputScanned: false, pii: NO_PII, outputLength: -1, jsonExpected: false, jsonValid: false };
  const store = new FamilyWindowStore({ family: spanFamily(enrichment), subWindowMs: SLIDE_MS, retentionMs: 3_600_000 });
  const spans = set.spans;
  let closed = -Infinity;
  const t0 = cpuNow();
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    enrichment.outputLength = span.outputText === null ? -1 : span.outputText.length;
    store.add(span);
    const b = Math.floor((span.startTime - LATENESS_MS) / SLIDE_MS) * SLIDE_MS;
    if (b > closed) {
      store.closeThrough(b);
      closed = b;
    }
  }
  const s = seconds(t0);
  sink += store.stats().keys;
  return s;
}

function assemble(set: RecordSet, fx: Fixture): number {
  const assembler = new RequestAssembler({ timeoutMs: fx.config.signals.requestTimeout, cost: priceTableOf(fx.config) });
  const spans = set.spans;
  let closed = -Infinity;
  const t0 = cpuNow();
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    assembler.add(span);
    const b = Math.floor((span.startTime - LATENESS_MS) / SLIDE_MS) * SLIDE_MS;
    if (b > closed) {
      sink += assembler.advance(b).length;
      closed = b;
    }
  }
  sink += assembler.flush().length;
  return seconds(t0);
}

function trackUsers(fx: Fixture): number {
  const tracker = new UserActivityTracker();
  const obs = fx.observations;
  const t0 = cpuNow();
  let next = 0;
  for (let b = 0; b < fx.boundaries.length; b++) {
    const until = fx.observationsBefore[b];
    for (; next < until; next++) tracker.observe(obs[next]);
    tracker.advance(fx.boundaries[b]);
  }
  for (; next < obs.length; next++) tracker.observe(obs[next]);
  const s = seconds(t0);
  sink += tracker.size;
  return s;
}

function scanInjection(set: RecordSet): number {
  const scanner = new PromptInjectionScanner();
  const spans = set.spans;
  const t0 = cpuNow();
  for (let i = 0; i < spans.length; i++) {
    const text = spans[i].inputText;
    if (text !== null && scanner.scan(text).attempt) sink++;
  }
  return seconds(t0);
}

function scanPii(set: RecordSet): number {
  const scanner = new PiiScanner();
  const spans = set.spans;
  const t0 = cpuNow();
  for (let i = 0; i < spans.length; i++) {
    const text = spans[i].outputText;
    if (text !== null) sink += scanner.scan(text).total;
  }
  return seconds(t0);
}

function ruleViewSnapshots(fx: Fixture): number {
  const p = fx.pipeline;
  const views = ruleViews(fx.rules);
  const sources = views.map((v) => p.sourceOf(v.signal));
  const t0 = cpuNow();
  for (const b of fx.boundaries) {
    for (let i = 0; i < views.length; i++) {
      const source = sources[i];
      if (source === 'users') sink += userSnapshot(p.users, views[i], b).groups.length;
      else if (b % source.subWindowMs === 0) sink += source.snapshot(views[i], b).groups.length;
    }
  }
  return seconds(t0);
}

function evaluateRuleSet(fx: Fixture): number {
  const ruleSet = new RuleSet(fx.rules);
  const snapshots = fx.snapshots;
  const t0 = cpuNow();
  for (let i = 0; i < snapshots.length; i++) sink += ruleSet.evaluate(snapshots[i]).length;
  return seconds(t0);
}

function engineFromBytes(set: RecordSet, fx: Fixture, scan: boolean): number {
  const config = defaultConfig(scan);
  const engine = createEngine(config, fx.rules, { idle: false });
  const codec = new SpanCodec();
  const buffers = set.buffers;
  const t0 = cpuNow();
  for (let i = 0; i < buffers.length; i += BATCH) {
    const end = Math.min(buffers.length, i + BATCH);
    const spans: LlmSpan[] = [];
    const deadLetters: DeadLetter[] = [];
    for (let j = i; j < end; j++) {
      try {
        spans.push(codec.decode(buffers[j]));
      } catch (error) {
        deadLetters.push({ reason: String(error), source: 'bench', position: j + 1, payload: buffers[j] });
      }
    }
    sink += engine.process({ source: 'bench', spans, deadLetters }).length;
  }
  sink += engine.complete().length;
  const s = seconds(t0);
  engine.close();
  return s;
}

function engineFromSpans(set: RecordSet, fx: Fixture, scan: boolean): number {
  const engine = createEngine(defaultConfig(scan), fx.rules, { idle: false });
  const spans = set.spans;
  const batches: LlmSpan[][] = [];
  for (let i = 0; i < spans.length; i += BATCH) batches.push(spans.slice(i, i + BATCH));
  const t0 = cpuNow();
  for (const batch of batches) sink += engine.process({ source: 'bench', spans: batch, deadLetters: [] }).length;
  sink += engine.complete().length;
  const s = seconds(t0);
  engine.close();
  return s;
}

interface CaseDef {
  readonly id: string;
  readonly name: string;
  readonly texts: 'demo' | '1kb';
  readonly run: (fx: Fixture) => number;
  /** Spans of one pass (default: the whole stream). */
  readonly spans?: (fx: Fixture) => number;
  /** The decode-only case its ratio is to (default: that of its record set). */
  readonly baseline?: string;
  /**
   * Runs after the demo fixture's decoded spans, reference pipeline and snapshots are gone, with
   * only the encoded records in memory: the process's CPU time counts its GC threads, whose
   * marking grows with everything live — a resident fixture of a million-odd objects that `vigil
   * run` never holds made these cases read up to twice as slow from one process to the next.
   */
  readonly lean?: boolean;
}

/** The decode-only case the operator rows (measured with the whole demo fixture in memory) are compared to. */
const OPS_BASELINE = 'decode-ops';

const decodedSpans = (fx: Fixture): number => fx.set.spans.length;
const denseSpans = (fx: Fixture): number => fx.dense.buffers.length;

const CASES: readonly CaseDef[] = [
  {
    id: 'decode-ops',
    name: 'decode only (`type.fromBuffer`) — baseline of the operator rows below (beside them: decoded spans and a reference pipeline in memory)',
    texts: 'demo',
    run: (fx) => decodeOnly(fx.set),
    baseline: OPS_BASELINE,
  },
  { id: 'decode-validate', name: 'decode + validate (`SpanCodec.decode`)', texts: 'demo', run: (fx) => decodeValidate(fx.set), baseline: OPS_BASELINE },
  { id: 'store', name: 'span family store add (+ close)', texts: 'demo', run: (fx) => storeAdd(fx.set), baseline: OPS_BASELINE },
  { id: 'assembler', name: 'request assembler (add + advance)', texts: 'demo', run: (fx) => assemble(fx.set, fx), baseline: OPS_BASELINE },
  { id: 'users', name: 'user tracker (observe per request + advance)', texts: 'demo', run: (fx) => trackUsers(fx), baseline: OPS_BASELINE },
  { id: 'injection', name: 'injection scanner (every inputText)', texts: 'demo', run: (fx) => scanInjection(fx.set), baseline: OPS_BASELINE },
  { id: 'pii', name: 'PII scanner (every outputText)', texts: 'demo', run: (fx) => scanPii(fx.set), baseline: OPS_BASELINE },
  { id: 'views', name: 'rule views (snapshot of every default rule view per boundary)', texts: 'demo', run: (fx) => ruleViewSnapshots(fx), baseline: OPS_BASELINE },
  { id: 'rules', name: 'rule evaluation (`RuleSet.evaluate` of those snapshots)', texts: 'demo', run: (fx) => evaluateRuleSet(fx), baseline: OPS_BASELINE },
  { id: 'engine-spans-noscan', name: 'whole pipeline from decoded spans, scanners off', texts: 'demo', run: (fx) => engineFromSpans(fx.set, fx, false), baseline: OPS_BASELINE },
  {
    id: 'decode',
    name: 'decode only (`type.fromBuffer`) — baseline of the rows below (beside them only the encoded records, as `vigil run` holds its input)',
    texts: 'demo',
    run: (fx) => decodeOnly(fx.set),
    lean: true,
  },
  { id: 'engine-noscan', name: '**whole pipeline from Avro bytes, scanners off**', texts: 'demo', run: (fx) => engineFromBytes(fx.set, fx, false), lean: true },
  { id: 'engine-scan', name: '**whole pipeline from Avro bytes, scanners on**', texts: 'demo', run: (fx) => engineFromBytes(fx.set, fx, true), lean: true },
  {
    id: 'decode-dense',
    name: `the same traffic at ${DENSE_REQUESTS_PER_SECOND} requests/s (10× the spans per boundary): decode only — its baseline`,
    texts: 'demo',
    run: (fx) => decodeOnly(fx.dense),
    spans: denseSpans,
    baseline: 'decode-dense',
    lean: true,
  },
  {
    id: 'engine-noscan-dense',
    name: `the same traffic at ${DENSE_REQUESTS_PER_SECOND} requests/s: whole pipeline from Avro bytes, scanners off`,
    texts: 'demo',
    run: (fx) => engineFromBytes(fx.dense, fx, false),
    spans: denseSpans,
    baseline: 'decode-dense',
    lean: true,
  },
  { id: 'decode-1kb', name: 'decode only (`type.fromBuffer`) — baseline', texts: '1kb', run: (fx) => decodeOnly(fx.set) },
  { id: 'injection-1kb', name: 'injection scanner (every inputText)', texts: '1kb', run: (fx) => scanInjection(fx.set), spans: decodedSpans },
  { id: 'pii-1kb', name: 'PII scanner (every outputText)', texts: '1kb', run: (fx) => scanPii(fx.set), spans: decodedSpans },
  { id: 'engine-noscan-1kb', name: '**whole pipeline from Avro bytes, scanners off**', texts: '1kb', run: (fx) => engineFromBytes(fx.set, fx, false) },
  { id: 'engine-scan-1kb', name: '**whole pipeline from Avro bytes, scanners on**', texts: '1kb', run: (fx) => engineFromBytes(fx.set, fx, true) },
];

/** Ids of the cases, for `--only`. */
export const PIPELINE_CASES: readonly string[] = CASES.map((c) => c.id);

/** A forced-GC function, or undefined when none can be had (between phases only). */
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

/** Runs `cases` on `fx` in interleaved rounds after one warm-up pass each; returns spans/s of the best pass. */
async function measure(cases: readonly CaseDef[], fx: Fixture, rounds: number): Promise<Map<string, number>> {
  const best = new Map<string, number>();
  for (const c of cases) c.run(fx);
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const s = c.run(fx);
      const rate = (c.spans?.(fx) ?? fx.set.buffers.length) / s;
      if (!(rate <= (best.get(c.id) ?? 0))) best.set(c.id, rate);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return best;
}

/**
 * Measures every case (or only `opts.only`) and returns spans/s and ratios to decode-only, with
 * the targets evaluated. Two phases, each with only its own records in memory (a large
 * live heap makes every collection slower): the demo texts, then the ~1 KB ones.
 */
export async function runPipelineBench(opts: PipelineBenchOptions): Promise<PipelineBenchResult> {
  const quick = opts.quick;
  // Best of 9: on a shared machine a case's single passes swing by ±30 %, its best far less.
  const rounds = opts.rounds ?? (quick ? 1 : 9);
  const started = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  if (opts.nodeOptions !== undefined && !opts.nodeOptions.split(' ').every((o) => started.includes(o))) {
    throw new Error(`pipeline bench: labelled ${opts.nodeOptions} but this process was started with "${started.trim()}"`);
  }
  const only = opts.only?.split(',');
  const unknown = only?.filter((id) => !PIPELINE_CASES.includes(id)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown case ${unknown.join(', ')} (one of ${PIPELINE_CASES.join(', ')})`);
  const selected = only === undefined ? CASES : CASES.filter((c) => only.includes(c.id));
  const gc = getGc();
  const config = defaultConfig(true);
  const rules = await loadRules(defaultRulesFile(), config);

  const spans = demoSpans(quick);
  const n = spans.length;
  const rates = new Map<string, number>();
  const bytes = { demo: 0, '1kb': 0 };
  const chars = { demo: { input: meanChars(spans, 'inputText'), output: meanChars(spans, 'outputText') }, '1kb': { input: 0, output: 0 } };
  const meanBytes = (set: RecordSet): number => set.buffers.reduce((a, b) => a + b.length, 0) / set.buffers.length;
  const demoCases = selected.filter((c) => c.texts === 'demo');
  // What the lean cases need of the demo fixture: its encoded records, nothing decoded.
  let encoded: Fixture | null = null;
  if (demoCases.length > 0) {
    const fx = demoFixture(spans, config, rules, quick);
    bytes.demo = meanBytes(fx.set);
    const heavy = demoCases.filter((c) => c.lean !== true);
    for (const [id, rate] of await measure(heavy, fx, rounds)) rates.set(id, rate);
    encoded = encodedOnly(fx);
  }
  gc?.();
  const kbCases = selected.filter((c) => c.texts === '1kb');
  if (kbCases.length > 0) {
    const fx = kbFixture(spans, quick ? n : Math.min(n, 40_000), config, rules);
    spans.length = 0;
    gc?.();
    bytes['1kb'] = meanBytes(fx.set);
    chars['1kb'] = { input: meanChars(fx.set.spans, 'inputText'), output: meanChars(fx.set.spans, 'outputText') };
    for (const [id, rate] of await measure(kbCases, fx, rounds)) rates.set(id, rate);
  }
  spans.length = 0;
  gc?.();
  const leanCases = demoCases.filter((c) => c.lean === true);
  if (encoded !== null && leanCases.length > 0) {
    for (const [id, rate] of await measure(leanCases, encoded, rounds)) rates.set(id, rate);
  }
  if (sink === 0) throw new Error('unreachable');

  const rows: PipelineBenchRow[] = selected.map((c) => {
    const rate = rates.get(c.id) ?? NaN;
    const baseline = c.baseline ?? (c.texts === 'demo' ? 'decode' : 'decode-1kb');
    return { id: c.id, name: c.name, texts: c.texts, spansPerSecond: rate, ratio: rate / (rates.get(baseline) ?? NaN) };
  });
  const row = (id: string): PipelineBenchRow | undefined => rows.find((x) => x.id === id);
  const targets: PipelineTarget[] = [];
  const under = opts.nodeOptions === undefined ? '' : `, with \`${opts.nodeOptions}\` (the Docker image's)`;
  const noscan = row('engine-noscan');
  if (noscan) targets.push({ name: `whole pipeline, scanners off ≥ 0.5× decode-only${under}`, met: noscan.ratio >= 0.5, value: `${noscan.ratio.toFixed(2)}×` });
  const scan1k = row('engine-scan-1kb');
  if (scan1k) targets.push({ name: `whole pipeline, scanners on, ~1 KB texts ≥ 100 k spans/s${under}`, met: scan1k.spansPerSecond >= 100_000, value: `${si(scan1k.spansPerSecond)} spans/s` });
  return {
    quick,
    rounds,
    spans: n,
    eventMinutes: quick ? QUICK_MINUTES : FULL_MINUTES,
    meanRecordBytes: bytes,
    meanTextChars: chars,
    rows,
    targets,
    environment: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAvg1m: os.loadavg()[0] },
    nodeOptions: opts.nodeOptions,
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown report
// ---------------------------------------------------------------------------------------------

function si(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

/** µs of CPU per span of a case, from its spans/s. */
function micros(r: PipelineBenchResult, id: string): number {
  const row = r.rows.find((x) => x.id === id);
  return row === undefined ? NaN : 1e6 / row.spansPerSecond;
}

/**
 * What a missed target is made of, from the same run's figures: the whole pipeline's CPU time per
 * span split into the stages measured alone (what is left is the rest of the pipeline).
 */
function boundedBy(r: PipelineBenchResult, t: PipelineTarget): string {
  const us = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)} µs` : 'n/a');
  if (r.nodeOptions !== undefined) {
    const [id, baseline] = t.name.includes('scanners off') ? ['engine-noscan', 'decode'] : ['engine-scan-1kb', 'decode-1kb'];
    return `CPU per span in this process: whole pipeline ${us(micros(r, id))} against ${us(micros(r, baseline))} for decode-only (the split by stage: the section above)`;
  }
  if (t.name.includes('scanners off')) {
    const total = micros(r, 'engine-noscan');
    const parts: [string, number][] = [
      ['decode + validate', micros(r, 'decode-validate')],
      ['span family store', micros(r, 'store')],
      ['request assembler', micros(r, 'assembler')],
      ['rule views', micros(r, 'views')],
      ['user tracker', micros(r, 'users')],
      ['rule evaluation', micros(r, 'rules')],
    ];
    const known = parts.reduce((a, [, x]) => a + (Number.isFinite(x) ? x : 0), 0);
    const perBoundary = r.spans / ((r.eventMinutes * 60_000) / SLIDE_MS);
    const dense = micros(r, 'engine-noscan-dense');
    const denseRow = r.rows.find((x) => x.id === 'engine-noscan-dense');
    return (
      `bounded by (CPU per span, this run): whole pipeline ${us(total)} against ${us(micros(r, 'decode'))} for decode-only — ` +
      parts.map(([name, x]) => `${name} ${us(x)}`).join(', ') +
      `; the rest (enrichment and pricing, request signals and their store, sub-window closing and packing, cost anomalies, watermark, RxJS, GC of the decoded spans) ${us(total - known)}. ` +
      // The rule views merge every window at every boundary, whatever the rate: their share per span is this stream's.
      `Rule views are work per slide boundary (per group, the blocks of sub-windows not built yet and the window's O(log n) blocks merged), not per span: this stream has ` +
      `${Math.round(perBoundary).toLocaleString('en-US')} spans per ${SLIDE_MS / 1000} s boundary, so replaying it at full speed pays them every ` +
      `${((perBoundary * total) / 1000).toFixed(1)} ms of CPU; a live stream arriving at the pipeline's rate would pay them once per ${SLIDE_MS / 1000} s of event time. ` +
      (denseRow === undefined || !Number.isFinite(dense)
        ? ''
        : dense >= total
          ? // Fewer boundaries per span cannot cost more: the denser case was slowed by something else.
            `The same traffic ten times denser in event time ran at ${us(dense)} per span (${denseRow.ratio.toFixed(2)}× its decode-only) in this run, ` +
            `not below this stream's figure, so this run does not split work per boundary from work per span (that row reads faster measured alone ` +
            `with its baseline than after every other case in one process, old code and new alike)`
          : `The same traffic ten times denser in event time runs at ${us(dense)} per span (${denseRow.ratio.toFixed(2)}× its decode-only): ` +
            `the work per boundary (window merges of the rule views, closing and packing sub-windows, snapshots) is ≈ ${us(total - dense)} per span of this stream, the work per span ≈ ${us(dense)}`)
    );
  }
  return (
    `bounded by the scanners (CPU per span, this run, ~1 KB texts): injection scanner ${us(micros(r, 'injection-1kb'))}, PII scanner ${us(micros(r, 'pii-1kb'))}, ` +
    `the pipeline without them ${us(micros(r, 'engine-noscan-1kb'))}; with them ${us(micros(r, 'engine-scan-1kb'))}`
  );
}

/** Formats a {@link PipelineBenchResult} as markdown: one table per record set, then the targets. */
export function formatPipelineBench(r: PipelineBenchResult): string {
  const table = (texts: 'demo' | '1kb'): string[] => {
    const rows = r.rows.filter((x) => x.texts === texts);
    if (rows.length === 0) return [];
    const chars = r.meanTextChars[texts];
    const title =
      texts === 'demo'
        ? `Demo texts (prompts ~${chars.input.toFixed(0)} chars, answers ~${chars.output.toFixed(0)} chars; records ~${r.meanRecordBytes.demo.toFixed(0)} B)`
        : `~1 KB texts (prompts ~${chars.input.toFixed(0)} chars, answers ~${chars.output.toFixed(0)} chars; records ~${r.meanRecordBytes['1kb'].toFixed(0)} B)`;
    return [`**${title}**`, '', '| case | spans/s | × decode-only |', '|---|---|---|', ...rows.map((x) => `| ${x.name} | ${si(x.spansPerSecond)} | ${x.ratio.toFixed(2)}× |`), ''];
  };
  const lines = [
    ...table('demo'),
    ...table('1kb'),
    ...r.targets.flatMap((t) => [`- target ${t.met ? 'met' : '**not met**'}: ${t.name} — ${t.value}`, ...(t.met ? [] : [`  - ${boundedBy(r, t)}`])]),
    '',
    `${r.spans.toLocaleString('en-US')} spans (${r.eventMinutes} min of demo traffic at ${REQUESTS_PER_SECOND} requests/s, seed 42), default config and rules, ` +
      `batches of ${BATCH}; operators alone are counted per span of the same stream. Best of ${r.rounds} interleaved rounds. ` +
      (r.nodeOptions === undefined ? '' : `Node options \`${r.nodeOptions}\` (as the Docker image runs \`vigil run\`), the baselines measured under them too. `) +
      `Node ${r.environment.node}, ${r.environment.cpus} × ${r.environment.cpuModel}, 1-min load average ${r.environment.loadAvg1m.toFixed(2)}${r.quick ? ', --quick' : ''}.`,
  ];
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const arg = (name: string): string | undefined => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const rounds = arg('--rounds');
  const result = await runPipelineBench({ quick: process.argv.includes('--quick'), only: arg('--only'), rounds: rounds === undefined ? undefined : Number(rounds) });
  console.log(formatPipelineBench(result));
}
