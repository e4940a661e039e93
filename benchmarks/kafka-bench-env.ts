/**
 * Shared plumbing of the benchmarks that go through a real Kafka broker
 * (`broker-throughput.bench.ts`, `alert-latency.bench.ts`):
 *
 * - {@link withBenchBroker}: one broker (scripts/kafka-broker.mjs, KRaft, loopback) for a bench or
 *   for both; always stopped, also when a bench throws.
 * - {@link SpanTemplates}: ~50 k distinct realistic spans from the demo `TrafficGenerator`, Avro
 *   encoded once and split around `startTime`, so a copy with new times and ids is two buffer
 *   copies and a varint — producing millions of spans costs no per-span encoding.
 * - {@link spawnVigilRun}: the real `vigil run` CLI as a child process (`node --import tsx
 *   src/cli/main.ts run --config F`, optionally with `--cpu-prof`), its pino log lines parsed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin, type Message, type Producer } from 'kafkajs';

import { startBroker } from '../scripts/kafka-broker.mjs';
import { schemaType } from '../src/codec/schemas.js';
import { validateSpan } from '../src/codec/span-validation.js';
import { TrafficGenerator } from '../src/demo/traffic-generator.js';
import type { VigilConfig } from '../src/config/vigil-config.js';
import type { LlmSpan } from '../src/model/index.js';
import { distStaleness, type BenchRuntime } from './compiled-build.js';

/** The repository root (the CLI runs from here). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A running broker as the benches see it. */
export interface BenchBroker {
  /** `host:port` of the PLAINTEXT listener. */
  readonly brokers: string;
  readonly version: string;
  readonly startupMs: number;
}

/**
 * Starts one broker, runs `fn` with it and stops it (SIGTERM, then SIGKILL; data deleted), whether
 * `fn` resolves or throws. The broker gets 1 GiB of heap: a 2 M-span pre-fill is ~0.8 GB of log.
 */
export async function withBenchBroker<T>(fn: (broker: BenchBroker) => Promise<T>): Promise<T> {
  const broker = await startBroker({ heap: '1g', initialHeap: '512m' });
  try {
    return await fn({ brokers: broker.brokers, version: broker.version, startupMs: broker.startupMs });
  } finally {
    await broker.stop();
  }
}

/** A kafkajs client for bench plumbing (admin, pre-fill, reading alerts), logging errors only. */
export function benchKafka(brokers: string, clientId = 'vigil-bench'): Kafka {
  return new Kafka({ brokers: [brokers], clientId, logLevel: logLevel.ERROR });
}

/** Runs `fn` with a connected admin client. */
export async function withAdmin<T>(brokers: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = benchKafka(brokers, 'vigil-bench-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates a topic and waits for its leaders. A loaded broker can answer the leader check with
 * UNKNOWN_TOPIC_OR_PARTITION for a while; then it checks again, up to 3 times.
 */
export async function createBenchTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await withAdmin(brokers, async (admin) => {
        const exists = (await admin.listTopics()).includes(topic);
        if (!exists) await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const ready = meta.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
        if (ready !== partitions) throw new Error(`topic ${topic}: ${ready} of ${partitions} partitions have a leader`);
      });
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

/** Deletes topics (ignoring ones already gone). */
export async function deleteBenchTopics(brokers: string, topics: readonly string[]): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

/** Sum of the end offsets of every partition of `topic`. */
export async function topicSize(brokers: string, topic: string): Promise<number> {
  return withAdmin(brokers, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  });
}

// ---------------------------------------------------------------------------------------------
// Span templates
// ---------------------------------------------------------------------------------------------

/** One pre-encoded span: the Avro bytes before and after its `startTime`. */
interface Template {
  /** Encoded fields traceId…operation (the id characters are overwritten per copy). */
  readonly prefix: Buffer;
  /** Encoded fields durationMs…attributes. */
  readonly suffix: Buffer;
  /** startTime minus the template set's first startTime, ms. */
  readonly offsetMs: number;
  /** Byte offsets in `prefix` of the 6 id characters a copy overwrites (trace, span, parent span). */
  readonly idSlots: readonly number[];
  /** Byte offset and length of the traceId characters in `prefix` (the message key). */
  readonly traceStart: number;
  readonly traceLength: number;
  /** Index of the span's trace in the template set (spans of one trace share a partition). */
  readonly traceNo: number;
}

const ID_CHARS = 6;
const HEX = '0123456789abcdef';

/** Writes `n` (a safe non-negative integer) as an Avro long (zig-zag varint) at `pos`; returns the next position. */
function writeLong(buf: Buffer, pos: number, n: number): number {
  let z = n * 2; // zig-zag of a non-negative number
  while (z >= 0x80) {
    buf[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[pos++] = z;
  return pos;
}

function longLength(n: number): number {
  let z = n * 2;
  let len = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    len++;
  }
  return len;
}

/**
 * ~`count` distinct realistic spans (demo traffic: several services and models, prompts and answers
 * for the scanners, retrieval and tool steps, users and tenants), Avro encoded once. {@link message}
 * makes copy `k` of template `i` with the times shifted by whole template periods and the ids made
 * unique per copy, as fast as a buffer copy.
 */
export class SpanTemplates {
  /** Templates in generation order (roughly event-time order). */
  private readonly templates: Template[] = [];
  /** Event time covered by one copy of the set, ms (a whole number of seconds). */
  readonly periodMs: number;
  /** Mean encoded value size, bytes. */
  readonly meanBytes: number;
  /** Distinct traces in the set. */
  readonly traces: number;

  constructor(count = 50_000, seed = 7) {
    // ~5 spans per request: requests/s chosen so `count` spans cover ~10 s of event time.
    const requestsPerSecond = Math.max(1, Math.round(count / 10 / 5));
    const gen = new TrafficGenerator({ seed, startTime: 0, requestsPerSecond, incidents: [] });
    let spans: LlmSpan[] = [];
    for (let until = 1000; spans.length < count; until += 1000) spans = spans.concat(gen.spansUntil(until));
    spans = spans.slice(0, count);
    const type = schemaType('LlmSpan') as unknown as { fields: { name: string; type: { toBuffer(v: unknown): Buffer } }[]; toBuffer(v: unknown): Buffer };
    const fields = type.fields;
    const timeField = fields.findIndex((f) => f.name === 'startTime');
    const first = Math.min(...spans.map((s) => s.startTime));
    const last = Math.max(...spans.map((s) => s.startTime));
    this.periodMs = Math.ceil((last - first + 1) / 1000) * 1000;
    const traceNos = new Map<string, number>();
    let bytes = 0;
    for (const raw of spans) {
      const span = validateSpan(raw) as unknown as Record<string, unknown>;
      const full = type.toBuffer(span);
      const offsets: number[] = [];
      let pos = 0;
      for (let f = 0; f < timeField; f++) {
        offsets.push(pos);
        pos += fields[f].type.toBuffer(span[fields[f].name]).length;
      }
      const prefix = Buffer.from(full.subarray(0, pos));
      const timeLength = fields[timeField].type.toBuffer(span.startTime).length;
      const suffix = Buffer.from(full.subarray(pos + timeLength));
      // The string's characters end its field's encoding (after the length varint and, for a union, the branch index).
      const charsAt = (f: number): number => (f + 1 < offsets.length ? offsets[f + 1] : pos) - Buffer.byteLength(span[fields[f].name] as string);
      const idSlots: number[] = [];
      const traceIdx = fields.findIndex((f) => f.name === 'traceId');
      const spanIdx = fields.findIndex((f) => f.name === 'spanId');
      const parentIdx = fields.findIndex((f) => f.name === 'parentSpanId');
      const traceId = span.traceId as string;
      // traceId = 16 random hex + a 16-digit sequence: the sequence's high digits carry the copy.
      idSlots.push(charsAt(traceIdx) + 16);
      idSlots.push(charsAt(spanIdx) + (span.spanId as string).length - ID_CHARS);
      if (typeof span.parentSpanId === 'string') idSlots.push(charsAt(parentIdx) + span.parentSpanId.length - ID_CHARS);
      let traceNo = traceNos.get(traceId);
      if (traceNo === undefined) traceNos.set(traceId, (traceNo = traceNos.size));
      this.templates.push({
        prefix,
        suffix,
        offsetMs: (span.startTime as number) - first,
        idSlots,
        traceStart: charsAt(traceIdx),
        traceLength: traceId.length,
        traceNo,
      });
      bytes += full.length;
    }
    this.meanBytes = bytes / spans.length;
    this.traces = traceNos.size;
  }

  /** Number of templates. */
  get size(): number {
    return this.templates.length;
  }

  /**
   * Message `i` of a stream of copies: template `i % size` of copy `floor(i / size)`, with event
   * time `baseTime + copy · periodMs + offset`, ids unique per copy, key = traceId, partition by trace.
   */
  message(i: number, baseTime: number, partitions: number): Message {
    const copy = Math.floor(i / this.templates.length);
    const t = this.templates[i - copy * this.templates.length];
    return this.build(t, copy, baseTime + copy * this.periodMs + t.offsetMs, (t.traceNo + copy) % partitions);
  }

  /** Template `i % size` with ids of copy `copy` and the given event time (for live streams). */
  messageAt(i: number, copy: number, startTime: number, partitions: number): Message {
    const t = this.templates[i % this.templates.length];
    return this.build(t, copy, startTime, (t.traceNo + copy) % partitions);
  }

  /** Offset of template `i % size` from its copy's start, ms. */
  offsetOf(i: number): number {
    return this.templates[i % this.templates.length].offsetMs;
  }

  private build(t: Template, copy: number, startTime: number, partition: number): Message {
    const timeLength = longLength(startTime);
    const value = Buffer.allocUnsafe(t.prefix.length + timeLength + t.suffix.length);
    t.prefix.copy(value, 0);
    for (const slot of t.idSlots) {
      let c = copy;
      for (let d = ID_CHARS - 1; d >= 0; d--) {
        value[slot + d] = HEX.charCodeAt(c & 15);
        c >>>= 4;
      }
    }
    const end = writeLong(value, t.prefix.length, startTime);
    t.suffix.copy(value, end);
    return { key: value.subarray(t.traceStart, t.traceStart + t.traceLength), value, partition };
  }
}

/**
 * Produces `total` spans (copies of the templates, event times from `baseTime` on) to `topic` in
 * large uncompressed batches with `acks: 1`, several sends in flight. Returns the wall time taken.
 */
export async function prefillTopic(
  brokers: string,
  topic: string,
  partitions: number,
  total: number,
  templates: SpanTemplates,
  baseTime: number,
): Promise<{ ms: number; bytes: number }> {
  const producer: Producer = benchKafka(brokers, 'vigil-bench-prefill').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  // kafkajs writes one record batch per partition and send. ~64 KB batches: what busy Java or
  // librdkafka producers write with some linger, well below the consumer's 1 MiB per partition (a
  // fetch cuts a partition's data mid-batch and drops the cut batch, so big batches waste reads).
  const BATCH = partitions * Math.max(20, Math.floor(64_000 / templates.meanBytes));
  const IN_FLIGHT = 8;
  let bytes = 0;
  try {
    const inFlight = new Set<Promise<unknown>>();
    for (let from = 0; from < total; from += BATCH) {
      const to = Math.min(total, from + BATCH);
      const messages: Message[] = new Array<Message>(to - from);
      for (let i = from; i < to; i++) {
        const m = templates.message(i, baseTime, partitions);
        bytes += (m.value as Buffer).length;
        messages[i - from] = m;
      }
      const p = producer.send({ topic, acks: 1, messages }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return { ms: Date.now() - started, bytes };
}

// ---------------------------------------------------------------------------------------------
// vigil run as a child process
// ---------------------------------------------------------------------------------------------

/**
 * A pino log line of the child (`time` in epoch ms, `msg`, and its fields), plus `cpuSeconds`: the
 * child's CPU time when the bench read the line.
 */
export type LogLine = Record<string, unknown> & { time: number; msg: string; level: number; cpuSeconds?: number };

/** A `vigil run` child process with its parsed log. */
export interface VigilProcess {
  readonly child: ChildProcess;
  /** Epoch ms when it was spawned (≈ the start of a `--cpu-prof` profile). */
  readonly spawnedAt: number;
  /** What runs: the compiled build (`dist/`, as `vigil` runs when built) or the sources through tsx. */
  readonly runtime: BenchRuntime;
  /** Every JSON log line so far. */
  readonly lines: LogLine[];
  /** Resolves with the first log line (past or future) that `match` accepts. */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** SIGTERM, wait for the exit (SIGKILL after `graceMs`); returns the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** The last stderr text, for error messages. */
  tail(): string;
}

/**
 * Spawns `node [--cpu-prof --cpu-prof-dir=D] dist/src/cli/main.js run --config F` from the
 * repository root — the compiled build, as `vigil` runs it — or, when `dist/` is missing or older
 * than the sources, the same through tsx (`--import tsx src/cli/main.ts`). It is SIGKILLed when this process exits, so no child outlives the bench.
 */
export function spawnVigilRun(configPath: string, options: { cpuProfDir?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): VigilProcess {
  const spawnedAt = Date.now();
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  const cwd = options.cwd ?? ROOT;
  const stale = distStaleness(cwd);
  const runtime: BenchRuntime = stale === undefined ? { kind: 'compiled', reason: '' } : { kind: 'tsx', reason: stale };
  const main = stale === undefined ? ['dist/src/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  const child = spawn(process.execPath, [...nodeArgs, ...main, 'run', '--config', configPath], {
    cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const lines: LogLine[] = [];
  let text = '';
  let partial = '';
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    text = (text + chunk).slice(-20_000);
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      let line: LogLine;
      try {
        line = JSON.parse(part) as LogLine;
      } catch {
        continue;
      }
      line.cpuSeconds = processCpuSeconds(child.pid);
      lines.push(line);
      for (let w = waiters.length - 1; w >= 0; w--) {
        if (waiters[w].match(line)) {
          waiters[w].resolve(line);
          waiters.splice(w, 1);
        }
      }
    }
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    spawnedAt,
    runtime,
    lines,
    tail: () => text.slice(-3000),
    waitForLog(what, match, timeoutMs) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (l: LogLine) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`vigil run: no "${what}" log line within ${timeoutMs} ms; stderr tail:\n${text.slice(-3000)}`));
        }, timeoutMs);
        void exited.then(([code, signal]) => {
          if (waiters.includes(waiter)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(waiter), 1);
            reject(new Error(`vigil run exited (code ${code}, signal ${signal}) before "${what}"; stderr tail:\n${text.slice(-3000)}`));
          }
        });
        waiters.push(waiter);
      });
    },
    async stop(graceMs = 30_000) {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const [code] = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * CPU seconds (user + system, all threads) a process has used so far, from `/proc/PID/stat`
 * (Linux; 10 ms resolution); undefined elsewhere. CPU time per span holds on a loaded machine,
 * where wall-clock rates drift with the neighbours' load.
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Busy and total CPU ticks of the whole machine (all cores) from `/proc/stat`, to tell how loaded
 * the machine was over an interval; undefined where there is no /proc.
 */
export function machineCpuTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [, user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Share of the machine's CPU (all cores) that was busy between two {@link machineCpuTicks} readings. */
export function machineBusyShare(from: { busy: number; total: number } | undefined, to: { busy: number; total: number } | undefined): number {
  if (from === undefined || to === undefined || to.total <= from.total) return NaN;
  return (to.busy - from.busy) / (to.total - from.total);
}

/** A fresh temporary directory for configs, rules and profiles; removed by `cleanup`. */
export function benchTempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `kafka.state` of a `vigil run` a bench starts: partition tasks and the partials topic, or one engine. */
export type KafkaState = NonNullable<VigilConfig['kafka']>['state'];

/** A YAML config for `vigil run` (the lines after `kafka:` are indented by the caller). */
export function vigilConfig(options: {
  brokers: string;
  groupId: string;
  tracesTopic: string;
  alertsTopic: string;
  windows?: string;
  rules?: string;
  logLevel?: string;
  /** `kafka.state` (default: vigil's, `partitioned`). */
  state?: KafkaState;
}): string {
  return [
    'kafka:',
    `  brokers: [${options.brokers}]`,
    `  clientId: vigil-bench`,
    `  groupId: ${options.groupId}`,
    `  tracesTopic: ${options.tracesTopic}`,
    `  alertsTopic: ${options.alertsTopic}`,
    '  fromBeginning: true',
    ...(options.state ? [`  state: ${options.state}`] : []),
    ...(options.windows ? [`windows: ${options.windows}`] : []),
    ...(options.rules ? [`rules: ${options.rules}`] : []),
    'api: { enabled: false }',
    `log: { level: ${options.logLevel ?? 'info'} }`,
    '',
  ].join('\n');
}

/** Quantile of sorted numbers (nearest rank). */
export function quantileOf(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** `1.23 M`, `456 k`. */
export function si(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}
