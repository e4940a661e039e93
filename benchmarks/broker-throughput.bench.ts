/**
 * Benchmark: sustained spans/s of the real `vigil run` CLI process through a real Kafka broker on
 * loopback, against a raw kafkajs consumer reading the same topic in the same run.
 *
 * - The topic (12 partitions, 2 M spans; `--quick`: 3 partitions, 20 k spans) is pre-filled with
 *   copies of ~50 k distinct realistic demo spans (prompts and answers included, ~400 B each),
 *   Avro-encoded once and re-used with rewritten times and ids; uncompressed, `acks: 1`, keyed by
 *   traceId, one trace per partition. Event times end about now.
 * - `vigil run`: `node dist/src/cli/main.js run --config F` (the compiled build, as `vigil` runs;
 *   the sources through tsx when `dist/` is not current, and the result says so) — default rules,
 *   default windows, both scanners on, query API off — reading the topic from the beginning in a
 *   fresh group; once with Node's defaults and (not with `--quick`) once with the Docker image's
 *   Node options (`IMAGE_NODE_OPTIONS`), each in a fresh group. Timed
 *   from its `first batch` log line to its `caught up` log line (every partition read to its high
 *   watermark, each batch processed, its alerts acknowledged and its offsets committed); it must
 *   have counted every span (`events`).
 * - Baseline: `raw-kafka-consumer.ts`, a bare kafkajs consumer with the same fetch settings
 *   (`KAFKA_FETCH_DEFAULTS`) and `eachBatch` that only counts messages, timed from its first batch
 *   to the last message; run before and after `vigil run` (the machine is shared and noisy), the
 *   ratio is against their mean.
 * - With `profileDir` (env `VIGIL_BENCH_PROFILE=DIR` when run directly) `vigil run` is started with
 *   `--cpu-prof` and the result carries the self-time summary of its profile.
 *
 * Run: `node --import tsx benchmarks/broker-throughput.bench.ts [--quick]` (starts its own broker;
 * `npm run bench` starts one broker for this and the alert-latency bench).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { IMAGE_NODE_OPTIONS } from './alert-latency.bench.js';
import { runtimeText, type BenchRuntime } from './compiled-build.js';
import { formatProfile, summarizeProfileDir, type ProfileSummary, type ProfileWindow } from './cpu-profile-summary.js';
import {
  ROOT,
  SpanTemplates,
  benchTempDir,
  createBenchTopic,
  machineBusyShare,
  machineCpuTicks,
  deleteBenchTopics,
  prefillTopic,
  si,
  spawnVigilRun,
  topicSize,
  vigilConfig,
  withBenchBroker,
  type BenchBroker,
  type KafkaState,
} from './kafka-bench-env.js';
import { KAFKA_FETCH_DEFAULTS } from '../src/sources/kafka-fetch-defaults.js';

/** Options of {@link runBrokerThroughputBench}. */
export interface BrokerThroughputOptions {
  /** 20 k spans over 3 partitions instead of 2 M over 12. */
  readonly quick: boolean;
  /** A running broker to use (run.ts shares one); default: start and stop one. */
  readonly broker?: BenchBroker;
  /** Profile `vigil run` with `--cpu-prof` into this directory and summarise it. */
  readonly profileDir?: string;
  /** Override the number of spans (tests of the bench itself). */
  readonly spans?: number;
  readonly partitions?: number;
  /** Run the CLI from this checkout instead of this one (A/B comparisons of two versions). */
  readonly vigilRoot?: string;
}

/** One timed read of the topic. */
export interface ThroughputRun {
  readonly spans: number;
  readonly seconds: number;
  readonly spansPerSecond: number;
  /** CPU time of the reader process (all threads) per span over the same interval, µs. */
  readonly cpuMicrosPerSpan: number;
}

/** One `vigil run` of the topic. */
export interface VigilThroughputRun extends ThroughputRun {
  readonly alerts: number;
  readonly exitCode: number | null;
  /** NODE_OPTIONS it ran with ('' for Node's defaults). */
  readonly nodeOptions: string;
  readonly runtime: BenchRuntime;
  /** Share of the machine's CPU (all cores, every process) busy from its start to its catch-up, 0–1. */
  readonly machineBusy: number;
}

/** Result of {@link runBrokerThroughputBench}. */
export interface BrokerThroughputResult {
  readonly quick: boolean;
  readonly spans: number;
  readonly partitions: number;
  readonly meanValueBytes: number;
  readonly distinctTemplates: number;
  readonly prefill: { readonly seconds: number; readonly spansPerSecond: number; readonly megabytes: number };
  readonly rawBefore: ThroughputRun;
  readonly vigil: VigilThroughputRun;
  /** The same with the Docker image's Node options; absent with --quick. */
  readonly vigilImage?: VigilThroughputRun;
  /** The same with `kafka.state: local` (one engine, no partition tasks or partials topic); absent with --quick. */
  readonly vigilLocal?: VigilThroughputRun;
  readonly rawAfter: ThroughputRun;
  /** vigil / mean(raw before, raw after), spans/s. */
  readonly ratio: number;
  /** mean(raw) / vigil CPU µs per span: the share of the CPU cost per span that is reading Kafka. */
  readonly cpuRatio: number;
  readonly target: number;
  readonly fetch: typeof KAFKA_FETCH_DEFAULTS;
  readonly profile?: ProfileSummary;
  readonly brokerVersion: string;
  readonly tookSeconds: number;
  readonly environment: { readonly node: string; readonly cpus: number; readonly cpuModel: string; readonly loadAvg1m: number };
}

const TARGET = 0.8;

/** Runs the raw consumer child until it has read `expected` messages. */
async function rawConsumerRun(brokers: string, topic: string, expected: number): Promise<ThroughputRun> {
  const group = `bench-raw-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/raw-kafka-consumer.ts', brokers, topic, group, String(expected)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  process.removeListener('exit', killOnExit);
  if (code !== 0) throw new Error(`raw consumer failed (exit ${code}): ${err.slice(-2000)}`);
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { count: number; firstMs: number; lastMs: number; cpuMs: number };
  const seconds = Math.max(0.001, (r.lastMs - r.firstMs) / 1000);
  return { spans: r.count, seconds, spansPerSecond: r.count / seconds, cpuMicrosPerSpan: (r.cpuMs * 1000) / r.count };
}

/**
 * Times one `vigil run` (NODE_OPTIONS `nodeOptions`, `kafka.state` `state`) reading `topic` from the
 * beginning in a fresh group, from its first batch to its catch-up; it must have counted all `spans`.
 */
async function vigilRunOnce(
  broker: BenchBroker,
  topic: string,
  alertsTopic: string,
  spans: number,
  nodeOptions: string,
  dir: string,
  opts: BrokerThroughputOptions,
  state: KafkaState = 'partitioned',
): Promise<{ run: VigilThroughputRun; profileWindow: ProfileWindow }> {
  process.stderr.write(`  vigil run${nodeOptions === '' ? '' : ` (NODE_OPTIONS ${nodeOptions})`}${state === 'local' ? ' (kafka.state: local)' : ''}…\n`);
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const configPath = join(dir, `vigil-${suffix}.yaml`);
  writeFileSync(configPath, vigilConfig({ brokers: broker.brokers, groupId: `bench-vigil-${suffix}`, tracesTopic: topic, alertsTopic, state }));
  const machineFrom = machineCpuTicks();
  const vigil = spawnVigilRun(configPath, { cpuProfDir: opts.profileDir, cwd: opts.vigilRoot, env: { NODE_OPTIONS: nodeOptions } });
  try {
    const first = await vigil.waitForLog('first batch', (l) => l.msg === 'first batch', 120_000);
    const done = await vigil.waitForLog('caught up', (l) => l.msg.startsWith('caught up'), 30 * 60_000);
    const events = Number(done.events);
    if (events !== spans) throw new Error(`vigil run caught up after ${events} events, expected ${spans}`);
    const seconds = Math.max(0.001, (done.time - first.time) / 1000);
    const machineBusy = machineBusyShare(machineFrom, machineCpuTicks());
    const alerts = vigil.lines.filter((l) => l.msg === 'alert').length;
    const exitCode = await vigil.stop();
    const cpuSeconds = first.cpuSeconds !== undefined && done.cpuSeconds !== undefined ? done.cpuSeconds - first.cpuSeconds : NaN;
    return {
      run: { spans: events, seconds, spansPerSecond: events / seconds, cpuMicrosPerSpan: (cpuSeconds * 1e6) / events, alerts, exitCode, nodeOptions, runtime: vigil.runtime, machineBusy },
      profileWindow: { fromMs: first.time - vigil.spawnedAt, toMs: done.time - vigil.spawnedAt },
    };
  } finally {
    await vigil.stop();
  }
}

/**
 * Pre-fills a topic, then times the raw consumer, `vigil run` and the raw consumer again reading it
 * from the beginning.
 */
export async function runBrokerThroughputBench(opts: BrokerThroughputOptions): Promise<BrokerThroughputResult> {
  if (!opts.broker) return withBenchBroker((broker) => runBrokerThroughputBench({ ...opts, broker }));
  const broker = opts.broker;
  const started = Date.now();
  const quick = opts.quick;
  const spans = opts.spans ?? (quick ? 20_000 : 2_000_000);
  const partitions = opts.partitions ?? (quick ? 3 : 12);
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const topic = `bench-traces-${suffix}`;
  const alertsTopic = `bench-alerts-${suffix}`;
  const tmp = benchTempDir('vigil-bench-throughput-');
  try {
    const templates = new SpanTemplates(50_000);
    await createBenchTopic(broker.brokers, topic, partitions);
    await createBenchTopic(broker.brokers, alertsTopic, 1);
    const copies = Math.ceil(spans / templates.size);
    // Event times end a minute before now: a backlog a restarted consumer has to catch up on.
    const baseTime = Date.now() - copies * templates.periodMs - 60_000;
    process.stderr.write(`  pre-filling ${si(spans)} spans into ${partitions} partitions…\n`);
    const fill = await prefillTopic(broker.brokers, topic, partitions, spans, templates, baseTime);
    const stored = await topicSize(broker.brokers, topic);
    if (stored !== spans) throw new Error(`pre-fill: the topic holds ${stored} messages, expected ${spans}`);

    process.stderr.write('  raw kafkajs consumer (1/2)…\n');
    const rawBefore = await rawConsumerRun(broker.brokers, topic, spans);

    const vigilRun = await vigilRunOnce(broker, topic, alertsTopic, spans, '', tmp.dir, opts);
    const vigilImage = quick ? undefined : await vigilRunOnce(broker, topic, alertsTopic, spans, IMAGE_NODE_OPTIONS, tmp.dir, { ...opts, profileDir: undefined });
    const vigilLocal = quick ? undefined : await vigilRunOnce(broker, topic, alertsTopic, spans, '', tmp.dir, { ...opts, profileDir: undefined }, 'local');

    process.stderr.write('  raw kafkajs consumer (2/2)…\n');
    const rawAfter = await rawConsumerRun(broker.brokers, topic, spans);
    const rawMean = (rawBefore.spansPerSecond + rawAfter.spansPerSecond) / 2;
    return {
      quick,
      spans,
      partitions,
      meanValueBytes: templates.meanBytes,
      distinctTemplates: templates.size,
      prefill: { seconds: fill.ms / 1000, spansPerSecond: spans / (fill.ms / 1000), megabytes: fill.bytes / 1e6 },
      rawBefore,
      vigil: vigilRun.run,
      vigilImage: vigilImage?.run,
      vigilLocal: vigilLocal?.run,
      rawAfter,
      ratio: vigilRun.run.spansPerSecond / rawMean,
      cpuRatio: (rawBefore.cpuMicrosPerSpan + rawAfter.cpuMicrosPerSpan) / 2 / vigilRun.run.cpuMicrosPerSpan,
      target: TARGET,
      fetch: KAFKA_FETCH_DEFAULTS,
      // Only the samples between the first batch and the catch-up: no start-up, no shutdown.
      profile: opts.profileDir ? summarizeProfileDir(opts.profileDir, 20, vigilRun.profileWindow) : undefined,
      brokerVersion: broker.version,
      tookSeconds: (Date.now() - started) / 1000,
      environment: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAvg1m: os.loadavg()[0] },
    };
  } finally {
    await deleteBenchTopics(broker.brokers, [topic, alertsTopic]).catch(() => undefined);
    tmp.cleanup();
  }
}

/** Formats a {@link BrokerThroughputResult} as markdown. */
export function formatBrokerThroughputBench(r: BrokerThroughputResult): string {
  const row = (name: string, run: ThroughputRun, ratio: string): string =>
    `| ${name} | ${si(run.spans)} | ${run.seconds.toFixed(2)} | ${si(run.spansPerSecond)} | ${ratio} | ${run.cpuMicrosPerSpan.toFixed(1)} |`;
  const rawMean = (r.rawBefore.spansPerSecond + r.rawAfter.spansPerSecond) / 2;
  const lines = [
    '| reader | spans | seconds | spans/s | ÷ raw mean | CPU µs/span (process, all threads) |',
    '|---|---|---|---|---|---|',
    row('raw kafkajs consumer (before)', r.rawBefore, `${(r.rawBefore.spansPerSecond / rawMean).toFixed(2)}×`),
    row('`vigil run` (default rules, scanners on, API off)', r.vigil, `**${r.ratio.toFixed(2)}×**`),
    ...(r.vigilImage ? [row(`\`vigil run\`, the same, \`${r.vigilImage.nodeOptions}\` (the Docker image's)`, r.vigilImage, `${(r.vigilImage.spansPerSecond / rawMean).toFixed(2)}×`)] : []),
    ...(r.vigilLocal ? [row('`vigil run`, the same, `kafka.state: local` (one engine: no partition tasks, no partials topic)', r.vigilLocal, `${(r.vigilLocal.spansPerSecond / rawMean).toFixed(2)}×`)] : []),
    row('raw kafkajs consumer (after)', r.rawAfter, `${(r.rawAfter.spansPerSecond / rawMean).toFixed(2)}×`),
    '',
    `Target ≥ ${r.target}×: **${r.ratio >= r.target ? 'met' : 'not met'}**. ` +
      `Reading Kafka is ${(100 * r.cpuRatio).toFixed(0)} % of vigil run's CPU per span (raw consumer's CPU µs/span ÷ vigil's; CPU time holds where wall rates drift with the machine's load). ` +
      `${si(r.spans)} spans in ${r.partitions} partitions ` +
      `(${r.distinctTemplates / 1000} k distinct demo spans re-used with new times and ids, mean value ${r.meanValueBytes.toFixed(0)} B, ` +
      `pre-filled at ${si(r.prefill.spansPerSecond)} spans/s, ${r.prefill.megabytes.toFixed(0)} MB), Kafka ${r.brokerVersion} on loopback, same machine. ` +
      `Fetch settings of both: ${Object.entries(r.fetch.consumer).map(([k, v]) => `${k} ${v}`).join(', ')}, partitionsConsumedConcurrently ${r.fetch.partitionsConsumedConcurrently}. ` +
      `Machine CPU busy (all ${r.environment.cpus} cores, every process) while vigil run started and caught up: ${(100 * r.vigil.machineBusy).toFixed(0)} %. ` +
      `vigil run: ${runtimeText(r.vigil.runtime)}; first-batch to caught-up log lines (every batch processed, alerts acknowledged, offsets committed), ${r.vigil.alerts} alerts, exit code ${r.vigil.exitCode}` +
      (r.vigilImage ? `; with the image's options ${r.vigilImage.alerts} alerts, exit code ${r.vigilImage.exitCode}` : '') +
      (r.vigilLocal ? `; with \`kafka.state: local\` ${r.vigilLocal.alerts} alerts, exit code ${r.vigilLocal.exitCode}. ` : '. ') +
      `Took ${r.tookSeconds.toFixed(0)} s. Node ${r.environment.node}, ${r.environment.cpus} CPUs, 1-min load average ${r.environment.loadAvg1m.toFixed(2)}${r.quick ? ', --quick' : ''}.`,
  ];
  if (r.profile) lines.push('', `CPU profile of \`vigil run\` from its first batch to the catch-up (${(r.profile.totalMs / 1000).toFixed(1)} s sampled):`, '', formatProfile(r.profile));
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const result = await runBrokerThroughputBench({ quick: process.argv.includes('--quick'), profileDir: process.env.VIGIL_BENCH_PROFILE || undefined });
  console.log(formatBrokerThroughputBench(result));
}
