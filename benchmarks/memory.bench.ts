/**
 * Benchmark: resident memory of the two largest states of a busy engine, measured in a child
 * process (a fresh heap, nothing else in it):
 *
 * - the user tracker holding 1 M distinct users (one request each, then a second request for one
 *   user in ten, within an hour of event time, each with a session id);
 * - a `FamilyWindowStore` of the span family holding 1 000 group keys (distinct service,
 *   operation, model, provider and tenant combinations) × 60 sub-windows of 10 s, with 100 spans
 *   per key and sub-window (6 M spans). Keys are shaped like a pipeline's: 40 % streaming LLM
 *   calls (latency, TTFT, output length and tokens: 4 digests), 20 % non-streaming ones (3), 25 %
 *   pipeline roots and 15 % embedding or retrieval steps (latency only) — 2.6 digests per key and
 *   sub-window; every sub-window closed as the real pipeline closes them.
 *
 * Figures: RSS of the child after a forced GC, before (Node + the modules), after the tracker and
 * after the store, plus the V8 heap + ArrayBuffer bytes and the structures' own estimates
 * (`memoryBytes()`, `stats().approxBytes`). --quick: 50 k users, 100 keys and 10 spans per key
 * and sub-window (same code paths, figures not representative).
 *
 * The child runs what users run: plain `node` on the compiled modules in `dist/` (`npm ci` builds
 * them; `npm run build` refreshes them). This file is transpiled for it (types stripped, its
 * imports pointed at `dist/`) into a temporary directory. When `dist/` is missing or older than a
 * source file, or with --tsx, the child runs the sources through tsx instead, whose loader adds
 * ≈ 30 MiB to every RSS figure; the output says which one was measured and why.
 *
 * Run: `node --import tsx benchmarks/memory.bench.ts [--quick] [--tsx]` (prints a markdown table).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { FamilyWindowStore } from '../operators/family-window-store.js';
import { NO_INJECTION } from '../operators/security/prompt-injection-scanner.js';
import { NO_PII } from '../operators/security/pii-scanner.js';
import { UserActivityTracker, type UserRequestObservation } from '../operators/users/user-activity-tracker.js';
import type { LlmSpan } from '../src/model/index.js';
import type { SpanEnrichment } from '../src/signals/span-enrichment.js';
import { spanFamily } from '../src/signals/span-family.js';
import { distStaleness, type BenchRuntime } from './compiled-build.js';

/** Options of {@link runMemoryBench}. */
export interface MemoryBenchOptions {
  /** 50 k users, 100 keys and 10 spans per key and sub-window (CI smoke run). */
  readonly quick: boolean;
  /** Run the TypeScript sources through tsx even when `dist/` is current. */
  readonly tsx?: boolean;
}

/** Memory of the process at one point, bytes. */
export interface MemoryPoint {
  readonly rss: number;
  /** V8 heap used + ArrayBuffer bytes. */
  readonly heap: number;
}

/** What the child process reports, plus what it ran. */
export interface MemoryBenchResult {
  readonly quick: boolean;
  /** Set by the parent (the child cannot tell). */
  readonly runtime: BenchRuntime;
  readonly users: number;
  readonly keys: number;
  readonly subWindows: number;
  readonly spansPerKeyAndSubWindow: number;
  /** After loading the modules, before building anything. */
  readonly base: MemoryPoint;
  /** After the user tracker. */
  readonly afterUsers: MemoryPoint;
  /** After the store too. */
  readonly afterStore: MemoryPoint;
  /** The tracker's own estimate, bytes. */
  readonly trackerEstimate: number;
  /** The store's own estimate, and its aggregates and digests. */
  readonly storeEstimate: number;
  readonly storeAggregates: number;
  readonly storeDigests: number;
  /** Seconds the child took to build both. */
  readonly buildSeconds: number;
  readonly target: { readonly met: boolean; readonly rssMiB: number };
  readonly environment: { readonly node: string; readonly cpus: number; readonly cpuModel: string };
}

const T0 = Date.UTC(2025, 0, 1);
const SUB = 10_000;
const TARGET_MIB = 512;

function point(): MemoryPoint {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.arrayBuffers };
}

function buildUsers(tracker: UserActivityTracker, users: number): void {
  const obs: UserRequestObservation = { userId: '', time: T0, tokens: 0, costUsd: 0, sessionId: null, probing: false };
  // Event time over 50 minutes: within the tracker's default idle eviction (1 h), so all stay.
  const step = (50 * 60_000) / users;
  for (let i = 0; i < users; i++) {
    obs.userId = `user-${i}`;
    obs.time = T0 + Math.floor(i * step);
    obs.tokens = 200 + (i % 1000);
    obs.costUsd = obs.tokens * 3e-6;
    obs.sessionId = `user-${i}-s${i % 3}`;
    tracker.observe(obs);
    if (i % 10 === 0) {
      obs.sessionId = `user-${i}-s9`;
      tracker.observe(obs);
    }
    if (i % 10_000 === 9_999) tracker.advance(obs.time);
  }
}

/** What spans of a key carry, which decides the key's digests (latency always). */
interface Shape {
  kind: LlmSpan['kind'];
  /** TTFT. */
  streaming: boolean;
  /** Output text length and output tokens. */
  output: boolean;
}

// Keys as a pipeline's spans form them: 8 in 20 streaming LLM calls (4 digests), 4 non-streaming
// ones (3), 5 pipeline roots and 3 embedding or retrieval steps (latency only): 2.6 digests a key.
const SHAPES: readonly Shape[] = [
  ...Array.from({ length: 8 }, (): Shape => ({ kind: 'LLM', streaming: true, output: true })),
  ...Array.from({ length: 4 }, (): Shape => ({ kind: 'LLM', streaming: false, output: true })),
  ...Array.from({ length: 5 }, (): Shape => ({ kind: 'PIPELINE', streaming: false, output: false })),
  { kind: 'EMBEDDING', streaming: false, output: false },
  { kind: 'RETRIEVAL', streaming: false, output: false },
  { kind: 'RETRIEVAL', streaming: false, output: false },
];

function buildStore(keys: number, subWindows: number, perCell: number): FamilyWindowStore<LlmSpan> {
  const enrichment: SpanEnrichment = { costUsd: 0, costSource: 'none', injection: NO_INJECTION, inputScanned: false, pii: NO_PII, outputLength: -1, jsonExpected: false, jsonValid: false };
  const store = new FamilyWindowStore({ family: spanFamily(enrichment), subWindowMs: SUB, retentionMs: 3_600_000 });
  const templates: LlmSpan[] = [];
  const shapes: Shape[] = [];
  for (let k = 0; k < keys; k++) {
    const shape = SHAPES[k % SHAPES.length];
    shapes.push(shape);
    const modelled = shape.kind === 'LLM' || shape.kind === 'EMBEDDING';
    templates.push({
      traceId: 't',
      spanId: 's',
      parentSpanId: shape.kind === 'PIPELINE' ? null : 'p',
      kind: shape.kind,
      service: `service-${k % 20}`,
      operation: `op-${k % 7}`,
      startTime: T0,
      durationMs: 0,
      ttftMs: null,
      provider: modelled ? `provider-${k % 5}` : null,
      model: modelled ? `model-${k % 50}` : null,
      inputTokens: 500,
      outputTokens: 0,
      cachedInputTokens: 0,
      costUsd: 0.001,
      status: 'OK',
      errorType: null,
      retryCount: 0,
      fallback: false,
      finishReason: 'stop',
      userId: null,
      tenantId: `tenant-${Math.floor(k / 20)}`,
      sessionId: null,
      inputText: null,
      outputText: null,
      expectedFormat: null,
      attributes: {},
    });
  }
  let x = 12345;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  for (let w = 0; w < subWindows; w++) {
    const start = T0 + w * SUB;
    for (let i = 0; i < perCell; i++) {
      for (let k = 0; k < keys; k++) {
        const span = templates[k];
        const shape = shapes[k];
        span.startTime = start + Math.floor(next() * SUB);
        span.durationMs = Math.round(Math.exp(6.5 + 1.2 * (next() - 0.5)) * 10) / 10;
        span.ttftMs = shape.streaming ? Math.round(span.durationMs * 0.2) : null;
        span.outputTokens = shape.output ? 50 + Math.floor(next() * 700) : null;
        enrichment.outputLength = shape.output ? (span.outputTokens ?? 0) * 4 : -1;
        store.add(span);
      }
    }
    store.closeThrough(start + SUB);
  }
  return store;
}

function child(quick: boolean): Omit<MemoryBenchResult, 'runtime'> {
  const users = quick ? 50_000 : 1_000_000;
  const keys = quick ? 100 : 1000;
  const subWindows = 60;
  const perCell = quick ? 10 : 100;
  const base = point();
  const started = process.hrtime.bigint();
  const tracker = new UserActivityTracker();
  buildUsers(tracker, users);
  if (tracker.size !== users) throw new Error(`tracker holds ${tracker.size} users, expected ${users}`);
  const afterUsers = point();
  const store = buildStore(keys, subWindows, perCell);
  const stats = store.stats();
  if (stats.keys !== keys * subWindows) throw new Error(`store holds ${stats.keys} aggregates, expected ${keys * subWindows}`);
  const buildSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const afterStore = point();
  // Both must still be alive at the last measurement.
  if (tracker.size !== users || store.stats().keys === 0) throw new Error("unreachable");
  const rssMiB = afterStore.rss / 2 ** 20;
  return {
    quick,
    users,
    keys,
    subWindows,
    spansPerKeyAndSubWindow: perCell,
    base,
    afterUsers,
    afterStore,
    trackerEstimate: tracker.memoryBytes(),
    storeEstimate: stats.approxBytes,
    storeAggregates: stats.keys,
    storeDigests: stats.digests,
    buildSeconds,
    target: { met: rssMiB <= TARGET_MIB, rssMiB },
    environment: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' },
  };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * This file and the sibling bench modules it imports (`./x.js`), as plain JavaScript modules
 * importing the compiled ones: types stripped by the TypeScript compiler (loaded here only, not in
 * the child), relative imports of `src/` and `operators/` rewritten to `dist/`. File name → source.
 */
async function compiledChildSources(): Promise<Map<string, string>> {
  const ts = (await import('typescript')).default;
  const dist = (spec: string): string => pathToFileURL(path.join(ROOT, 'dist', spec)).href;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const out = new Map<string, string>();
  const pending = [path.basename(fileURLToPath(import.meta.url), '.ts')];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (out.has(`${name}.mjs`)) continue;
    const { outputText } = ts.transpileModule(readFileSync(path.join(here, `${name}.ts`), 'utf8'), {
      fileName: `${name}.ts`,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const js = outputText
      .replace(/(\bfrom\s*|\bimport\s*\(\s*)(['"])\.\.\/((?:src|operators)\/[^'"]+)\2/g, (_m, lead: string, q: string, spec: string) => `${lead}${q}${dist(spec)}${q}`)
      .replace(/(\bfrom\s*)(['"])\.\/([\w.-]+)\.js\2/g, (_m, lead: string, q: string, sibling: string) => {
        pending.push(sibling);
        return `${lead}${q}./${sibling}.mjs${q}`;
      });
    const left = /(?:\bfrom\s*|\bimport\s*\(\s*)['"]\.\.?\/(?![\w.-]+\.mjs['"])/.exec(js);
    if (left) throw new Error(`memory bench: a relative import the compiled child cannot resolve: ${js.slice(left.index, left.index + 80)}`);
    out.set(`${name}.mjs`, js);
  }
  return out;
}

/**
 * Runs the measurement in a child process with a fresh heap and returns what it reports: on the
 * compiled build when `dist/` is current, else (or with `tsx`) on the sources through tsx.
 */
export async function runMemoryBench(opts: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const childArgs = ['--child', ...(opts.quick ? ['--quick'] : [])];
  const staleness = opts.tsx ? undefined : distStaleness(ROOT);
  const stale = opts.tsx ? 'asked for with --tsx' : staleness === undefined ? undefined : `${staleness}; \`npm run build\` to measure the compiled build`;
  let out: string;
  if (stale === undefined) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-memory-bench-'));
    try {
      for (const [name, source] of await compiledChildSources()) writeFileSync(path.join(dir, name), source);
      const file = path.join(dir, 'memory.bench.mjs');
      out = execFileSync(process.execPath, ['--expose-gc', file, ...childArgs], { encoding: 'utf8', maxBuffer: 1 << 20 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const self = fileURLToPath(import.meta.url);
    out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, ...childArgs], { encoding: 'utf8', maxBuffer: 1 << 20 });
  }
  const reported = JSON.parse(out.trim().split('\n').pop() ?? '') as Omit<MemoryBenchResult, 'runtime'>;
  return { ...reported, runtime: stale === undefined ? { kind: 'compiled', reason: '' } : { kind: 'tsx', reason: stale } };
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Formats a {@link MemoryBenchResult} as a markdown table. */
export function formatMemoryBench(r: MemoryBenchResult): string {
  const users = r.afterUsers;
  const store = r.afterStore;
  const lines = [
    '| state | RSS | Δ RSS | V8 heap + ArrayBuffers | Δ heap | own estimate |',
    '|---|---|---|---|---|---|',
    `| Node + modules | ${mib(r.base.rss)} | | ${mib(r.base.heap)} | | |`,
    `| + user tracker, ${r.users.toLocaleString('en-US')} users | ${mib(users.rss)} | ${mib(users.rss - r.base.rss)} (${((users.rss - r.base.rss) / r.users).toFixed(0)} B/user) | ${mib(users.heap)} | ${mib(users.heap - r.base.heap)} | ${mib(r.trackerEstimate)} |`,
    `| + span store, ${r.keys.toLocaleString('en-US')} keys × ${r.subWindows} sub-windows (${r.storeDigests.toLocaleString('en-US')} digests) | ${mib(store.rss)} | ${mib(store.rss - users.rss)} (${((store.rss - users.rss) / r.storeAggregates).toFixed(0)} B/aggregate) | ${mib(store.heap)} | ${mib(store.heap - users.heap)} | ${mib(r.storeEstimate)} |`,
    '',
    `- target ${r.target.met ? 'met' : '**not met**'}: RSS ≤ ${TARGET_MIB} MiB — ${r.target.rssMiB.toFixed(0)} MiB`,
    `- measured: ${
      r.runtime.kind === 'compiled'
        ? 'the compiled build (dist/ on plain node), as `vigil` runs'
        : `the TypeScript sources through tsx (${r.runtime.reason}), whose loader adds ≈ 30 MiB to every RSS figure compared with the compiled build`
    }`,
    '',
    `Child process with a fresh heap, RSS after a forced GC. ${r.spansPerKeyAndSubWindow} spans per key and sub-window (${(r.keys * r.subWindows * r.spansPerKeyAndSubWindow).toLocaleString('en-US')} spans), ` +
      `sub-windows closed (digests packed); built in ${r.buildSeconds.toFixed(1)} s. Node ${r.environment.node}, ${r.environment.cpus} × ${r.environment.cpuModel}${r.quick ? ', --quick' : ''}.`,
  ];
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const quick = process.argv.includes('--quick');
  if (process.argv.includes('--child')) console.log(JSON.stringify(child(quick)));
  else console.log(formatMemoryBench(await runMemoryBench({ quick, tsx: process.argv.includes('--tsx') })));
}
