/**
 * Benchmark: the query API under load — requests/s and latency of `GET /v1/percentiles` against a
 * bare fastify route that returns a constant body of the same size, measured in the same run on
 * the same machine.
 *
 * - The engine: default config and rules, fed 10 minutes of event time of the demo's traffic
 *   (`TrafficGenerator`, seed 42, 100 requests/s with feedback and eval scores; 2 minutes with
 *   --quick), then left as it is.
 * - The server: `createQueryServer` as `vigil run` builds it (rate limiter on, raised so the load
 *   is never refused), on 127.0.0.1, port chosen by the OS.
 * - The baseline: a bare fastify instance with one GET route replying with the real route's
 *   response body as a constant string (same bytes, no work, no schema, no plugins).
 * - The load: autocannon in this process, its client in a worker thread (so the servers keep the
 *   main thread), 10 connections, no pipelining, 5 s per run; the bare route and the real one run
 *   alternately, twice each, and the better run of each counts (--quick: the first query only, one
 *   1 s run each).
 * - Queries: the dashboard's percentile table (latency by model, 5 min window, p50/p95/p99) — the
 *   target — and a heavier one (latency by service and model over the hour, five quantiles).
 * - Also: the time to compute an answer the API has not kept (distinct quantile lists through
 *   `inject`), what the first request after each batch pays while the engine ingests.
 *
 * Run: `node --import tsx benchmarks/query-api.bench.ts [--quick]` (prints a markdown table).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';

import { createQueryServer } from '../src/api/query-server.js';
import { parseConfig } from '../src/config/vigil-config.js';
import { TrafficGenerator } from '../src/demo/traffic-generator.js';
import { createEngine, defaultRulesFile, loadRules } from '../src/engine/engine-factory.js';
import type { VigilEngine } from '../src/engine/vigil-engine.js';

/** Options of {@link runQueryApiBench}. */
export interface QueryApiBenchOptions {
  /** 2 minutes of traffic and 1 s load runs (CI smoke run). */
  readonly quick: boolean;
}

/** One load run's figures. */
export interface LoadFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests that failed or did not answer 200. */
  readonly errors: number;
}

/** The real route and the bare one for one query. */
export interface QueryApiRow {
  readonly name: string;
  readonly path: string;
  readonly bodyBytes: number;
  readonly real: LoadFigures;
  readonly bare: LoadFigures;
  /** real / bare requests per second. */
  readonly ratio: number;
}

/** Result of {@link runQueryApiBench}. */
export interface QueryApiBenchResult {
  readonly quick: boolean;
  readonly eventMinutes: number;
  readonly spans: number;
  readonly durationS: number;
  readonly connections: number;
  readonly rows: readonly QueryApiRow[];
  readonly target: { readonly met: boolean; readonly ratio: number };
  /**
   * Milliseconds to answer the first query without the answer cache (each with another quantile
   * list, through `inject`, no load): what the first request after each batch pays while ingesting.
   */
  readonly uncachedMs: { readonly p50: number; readonly max: number };
  readonly environment: { readonly node: string; readonly cpus: number; readonly cpuModel: string; readonly loadAvg1m: number };
}

// autocannon ships no types: the surface used here.
interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining: number; workers?: number }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const T0 = Date.UTC(2025, 0, 1);
const CONNECTIONS = 10;

const QUERIES: readonly { name: string; path: string }[] = [
  { name: 'latency by model, 5 min, p50/p95/p99 (dashboard table)', path: '/v1/percentiles?metric=latency&window=5m&groupBy=model&q=0.5,0.95,0.99' },
  { name: 'latency by service and model, 1 h, five quantiles', path: '/v1/percentiles?metric=latency&window=1h&groupBy=service,model&q=0.5,0.9,0.95,0.99,0.999' },
];

async function populate(engine: VigilEngine, minutes: number): Promise<number> {
  const generator = new TrafficGenerator({ seed: 42, startTime: T0, requestsPerSecond: 100 });
  let spans = 0;
  // A minute at a time, as batches of at most 500 spans.
  for (let m = 1; m <= minutes; m++) {
    const events = generator.eventsUntil(T0 + m * 60_000);
    spans += events.spans.length;
    for (let i = 0; i < events.spans.length; i += 500) {
      const first = i === 0;
      engine.process({ source: 'bench', spans: events.spans.slice(i, i + 500), deadLetters: [], feedback: first ? events.feedback : [], evals: first ? events.evals : [] });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return spans;
}

async function load(url: string, durationS: number): Promise<LoadFigures> {
  let r: AutocannonResult;
  try {
    r = await autocannon({ url, connections: CONNECTIONS, duration: durationS, pipelining: 1, workers: 1 });
  } catch {
    // No worker threads here: the client shares the servers' thread (both routes alike).
    r = await autocannon({ url, connections: CONNECTIONS, duration: durationS, pipelining: 1 });
  }
  return { requestsPerSecond: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

const better = (a: LoadFigures | undefined, b: LoadFigures): LoadFigures => (a === undefined || b.requestsPerSecond > a.requestsPerSecond ? b : a);

/** Populates an engine, serves it, and loads `/v1/percentiles` and a bare constant route alternately. */
export async function runQueryApiBench(opts: QueryApiBenchOptions): Promise<QueryApiBenchResult> {
  const quick = opts.quick;
  const minutes = quick ? 2 : 10;
  const durationS = quick ? 1 : 5;
  const config = parseConfig({}, { env: {} });
  const engine = createEngine(config, await loadRules(defaultRulesFile(), config), { idle: false });
  const spans = await populate(engine, minutes);

  const app = createQueryServer({ backend: engine, logger: false, security: { rateLimit: { max: 1_000_000_000, windowMs: 60_000 } } });
  const bare = Fastify({ logger: false });
  const bodies = new Map<string, string>();
  for (const q of QUERIES) {
    const res = await app.inject({ method: 'GET', url: q.path });
    if (res.statusCode !== 200) throw new Error(`${q.path} answered ${res.statusCode}: ${res.body}`);
    bodies.set(q.path.split('?')[1], res.body);
  }
  bare.get('/v1/percentiles', async (request, reply) => {
    const query = request.url.slice(request.url.indexOf('?') + 1);
    return reply.header('content-type', 'application/json; charset=utf-8').send(bodies.get(query) ?? '{}');
  });
  // Answers are cached until the engine changes: distinct quantile lists each miss.
  const uncached: number[] = [];
  for (let i = 0; i < (quick ? 10 : 50); i++) {
    const t0 = process.hrtime.bigint();
    const res = await app.inject({ method: 'GET', url: `${QUERIES[0].path},0.${(1000 + i).toString()}` });
    uncached.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (res.statusCode !== 200) throw new Error(`uncached query answered ${res.statusCode}`);
  }
  uncached.sort((a, b) => a - b);
  const realBase = await app.listen({ host: '127.0.0.1', port: 0 });
  const bareBase = await bare.listen({ host: '127.0.0.1', port: 0 });
  const rows: QueryApiRow[] = [];
  try {
    for (const q of quick ? QUERIES.slice(0, 1) : QUERIES) {
      let real: LoadFigures | undefined;
      let baseline: LoadFigures | undefined;
      for (let round = 0; round < (quick ? 1 : 2); round++) {
        baseline = better(baseline, await load(bareBase + q.path, durationS));
        real = better(real, await load(realBase + q.path, durationS));
      }
      if (real === undefined || baseline === undefined) throw new Error('unreachable');
      rows.push({ name: q.name, path: q.path, bodyBytes: Buffer.byteLength(bodies.get(q.path.split('?')[1]) ?? ''), real, bare: baseline, ratio: real.requestsPerSecond / baseline.requestsPerSecond });
    }
  } finally {
    await app.close();
    await bare.close();
    engine.close();
  }
  return {
    quick,
    eventMinutes: minutes,
    spans,
    durationS,
    connections: CONNECTIONS,
    rows,
    target: { met: rows[0].ratio >= 0.5, ratio: rows[0].ratio },
    uncachedMs: { p50: uncached[Math.floor(uncached.length / 2)], max: uncached[uncached.length - 1] },
    environment: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAvg1m: os.loadavg()[0] },
  };
}

function fmt(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} k` : x.toFixed(0);
}

/** Formats a {@link QueryApiBenchResult} as a markdown table. */
export function formatQueryApiBench(r: QueryApiBenchResult): string {
  const lines = [
    '| query | body | /v1/percentiles req/s | p50 / p99 ms | bare route req/s | p50 / p99 ms | req/s ratio | errors |',
    '|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.name} | ${x.bodyBytes} B | ${fmt(x.real.requestsPerSecond)} | ${x.real.p50Ms} / ${x.real.p99Ms} | ${fmt(x.bare.requestsPerSecond)} | ${x.bare.p50Ms} / ${x.bare.p99Ms} | ${x.ratio.toFixed(2)}× | ${x.real.errors + x.bare.errors} |`,
    ),
    '',
    `- target ${r.target.met ? 'met' : '**not met**'}: /v1/percentiles ≥ 0.5× the bare route's requests/s — ${r.target.ratio.toFixed(2)}×`,
    '',
    `The API keeps the serialized answer to a URL until the engine's answers change (new events, event time moving on), so under this load (nothing ingested meanwhile) requests after the first are served from it. ` +
      `Computing an answer — the first request after each batch while ingesting — takes ${r.uncachedMs.p50.toFixed(1)} ms for the dashboard table (median of distinct queries through \`inject\`; max ${r.uncachedMs.max.toFixed(1)} ms).`,
    '',
    `Engine fed ${r.spans.toLocaleString('en-US')} spans (${r.eventMinutes} min of demo traffic at 100 requests/s, with feedback and evals), default config and rules. ` +
      `autocannon in-process (client in a worker thread), ${r.connections} connections, ${r.durationS} s per run, bare and real alternately, ${r.quick ? 'one run each' : 'better of 2 runs each'}. ` +
      `Node ${r.environment.node}, ${r.environment.cpus} × ${r.environment.cpuModel}, 1-min load average ${r.environment.loadAvg1m.toFixed(2)}${r.quick ? ', --quick' : ''}.`,
  ];
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  console.log(formatQueryApiBench(await runQueryApiBench({ quick: process.argv.includes('--quick') })));
}
