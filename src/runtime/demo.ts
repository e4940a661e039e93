import { setTimeout as sleep } from 'node:timers/promises';
import { TrafficGenerator, DEFAULT_INCIDENTS } from '../demo/traffic-generator.js';
import type { VigilEngine } from '../engine/vigil-engine.js';
import type { AlertEvent } from '../model/index.js';
import type { AlertSink } from '../sinks/index.js';
import { formatAlertLine, renderSummary } from './summary-screen.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  engine: VigilEngine;
  /** Where FIRING/RESOLVED alerts go besides the screen (e.g. a JSONL file). */
  sink?: AlertSink;
  /** Event-time seconds per wall-clock second; ignored when `fast`. */
  speed: number;
  /** Run as fast as the engine goes, without waiting for the wall clock. */
  fast: boolean;
  /** Stop after this much event time; unset runs until `signal` aborts. */
  durationMs?: number;
  seed: number;
  /** Event time of the first request, epoch ms. */
  startTime: number;
  requestsPerSecond: number;
  /** Where the alert lines and the summary go. */
  out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Redraw the summary this often (wall ms); 0 never. */
  summaryEveryMs: number;
  /** A line kept under the live summary on a terminal, e.g. the dashboard's URL. */
  banner?: string;
  signal?: AbortSignal;
}

/** What a demo run did. */
export interface DemoResult {
  events: number;
  alerts: AlertEvent[];
  eventTimeMs: number;
}

const TICK_MS = 100;

/**
 * `vigil demo`: drives the engine with synthetic LLM traffic carrying planted incidents (a latency
 * regression on one model, a TTFT regression on another), printing each alert as it fires and a
 * live summary. Event time runs `speed` times faster than the wall clock.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { engine, out } = options;
  const gen = new TrafficGenerator({ seed: options.seed, startTime: options.startTime, requestsPerSecond: options.requestsPerSecond });
  const tty = out.isTTY === true;
  const log: string[] = [];
  const alerts: AlertEvent[] = [];
  const end = options.durationMs === undefined ? Infinity : options.startTime + options.durationMs;
  const stepMs = options.fast ? 1000 : TICK_MS * options.speed;
  let simNow = options.startTime;
  let events = 0;
  let lastSummary = performance.now();
  let rateWindowStart = performance.now();
  let rateEvents = 0;
  let rate = 0;

  out.write(
    `vigil demo: synthetic LLM traffic at ${options.requestsPerSecond} requests/s of event time, ${options.fast ? 'as fast as possible' : `${options.speed}x real time`}\n` +
      `planted incidents (event time after start):\n${DEFAULT_INCIDENTS.map((i) => `  +${i.fromMs / 60_000}m${Number.isFinite(i.toMs) ? ` to +${i.toMs / 60_000}m` : ' on'}: ${i.name}`).join('\n')}\n\n`,
  );

  const emit = (batch: AlertEvent[]): void => {
    for (const a of batch) {
      alerts.push(a);
      const line = formatAlertLine(a);
      log.push(line);
      if (!tty) out.write(line + '\n');
    }
  };

  while (simNow < end && !options.signal?.aborted) {
    const tickStart = performance.now();
    simNow = Math.min(simNow + stepMs, end);
    const produced = gen.eventsUntil(simNow);
    const n = produced.spans.length + produced.feedback.length + produced.evals.length;
    events += n;
    rateEvents += n;
    const batch = engine.process({ source: 'demo', spans: produced.spans, feedback: produced.feedback, evals: produced.evals, deadLetters: [] });
    emit(batch);
    if (options.sink && batch.length > 0) await options.sink.send(batch);

    const now = performance.now();
    if (now - rateWindowStart >= 1000) {
      rate = (rateEvents * 1000) / (now - rateWindowStart);
      rateWindowStart = now;
      rateEvents = 0;
    }
    if (options.summaryEveryMs > 0 && now - lastSummary >= options.summaryEveryMs) {
      lastSummary = now;
      const screen = renderSummary(engine, { title: 'vigil demo', eventsPerSecond: rate });
      if (tty) out.write('\x1b[2J\x1b[H' + screen + (options.banner ? '\n\n' + options.banner : '') + '\n\nrecent alerts:\n' + log.slice(-8).join('\n') + '\n');
      else out.write('\n' + screen + '\n\n');
    }
    if (!options.fast) {
      const wait = TICK_MS - (performance.now() - tickStart);
      if (wait > 0) await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
    } else if (events % 50_000 < n) {
      // Let the query API and signals in while running flat out.
      await new Promise((r) => setImmediate(r));
    }
  }
  const tail = engine.complete();
  emit(tail);
  if (options.sink && tail.length > 0) await options.sink.send(tail);
  if (tty) out.write(log.slice(-8).join('\n') + '\n');
  return { events, alerts, eventTimeMs: simNow - options.startTime };
}
