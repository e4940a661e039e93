import type { AlertSink } from '../sinks/index.js';
import { readSpanFile } from '../sources/index.js';
import type { DeadLetter } from '../sources/index.js';
import type { VigilEngine } from '../engine/vigil-engine.js';

/** Progress of a replay, reported about once a second on long files. */
export interface ReplayProgress {
  events: number;
  eventsPerSecond: number;
  elapsedMs: number;
}

/** What a finished replay did. */
export interface ReplaySummary {
  events: number;
  deadLetters: number;
  lateEvents: number;
  alerts: number;
  elapsedMs: number;
  eventsPerSecond: number;
}

/** Options of {@link replayFile}. */
export interface ReplayOptions {
  path: string;
  engine: VigilEngine;
  sink: AlertSink;
  onProgress?: (progress: ReplayProgress) => void;
  onDeadLetter?: (deadLetter: DeadLetter) => void;
  /** How often to report progress, wall ms. Default 1000. */
  progressEveryMs?: number;
}

/**
 * Processes a `.avro` or `.jsonl` replay file through the engine in event time, as fast as it can,
 * sending every alert to the sink in order; at the end closes the windows up to the last event.
 * Spans, user feedback and eval scores all go to the engine (`events` counts all three).
 */
export async function replayFile(options: ReplayOptions): Promise<ReplaySummary> {
  const { engine, sink } = options;
  const every = options.progressEveryMs ?? 1000;
  const started = performance.now();
  let lastReport = started;
  let events = 0;
  let deadLetters = 0;
  let alerts = 0;
  for await (const batch of readSpanFile(options.path)) {
    events += batch.spans.length + (batch.feedback?.length ?? 0) + (batch.evals?.length ?? 0);
    deadLetters += batch.deadLetters.length;
    if (options.onDeadLetter) for (const dl of batch.deadLetters) options.onDeadLetter(dl);
    // The batch carries its feedback and evals along with its spans, all on channel 0.
    const out = engine.process(batch);
    if (out.length > 0) {
      alerts += out.length;
      await sink.send(out);
    }
    const now = performance.now();
    if (options.onProgress && now - lastReport >= every) {
      lastReport = now;
      const elapsedMs = now - started;
      options.onProgress({ events, elapsedMs, eventsPerSecond: (events * 1000) / elapsedMs });
    }
  }
  const tail = engine.complete();
  if (tail.length > 0) {
    alerts += tail.length;
    await sink.send(tail);
  }
  const elapsedMs = performance.now() - started;
  return {
    events,
    deadLetters,
    lateEvents: engine.status().lateEvents,
    alerts,
    elapsedMs,
    eventsPerSecond: elapsedMs > 0 ? (events * 1000) / elapsedMs : events,
  };
}
