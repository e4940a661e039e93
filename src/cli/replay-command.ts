import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createQueryServer } from '../api/query-server.js';
import { loadConfigFile, parseConfig } from '../config/vigil-config.js';
import { createEngine, defaultRulesFile, loadRules } from '../engine/engine-factory.js';
import { createLogger } from '../logger.js';
import { replayFile } from '../runtime/replay.js';
import { openJsonlAlertSink, stdoutAlertSink } from './alert-output.js';

/** Options `vigil replay` takes (see `vigil replay --help`). */
export interface ReplayCommandOptions {
  rules?: string;
  config?: string;
  alertsOut?: string;
  deadLetters?: string;
  serve: boolean;
  host: string;
  port: number;
}

/** `vigil replay FILE`: a span file through the engine in event time, alerts as JSON lines. */
export async function runReplayCommand(file: string, opts: ReplayCommandOptions): Promise<void> {
  const config = opts.config ? loadConfigFile(opts.config) : parseConfig({}, { env: {} });
  const rules = await loadRules(opts.rules ?? config.rules ?? defaultRulesFile(), config);
  const engine = createEngine(config, rules, { idle: false });
  let loaded = false;
  engine.setReadiness(() => (loaded ? { ready: true, reason: `replayed ${file}` } : { ready: false, reason: `replaying ${file}` }));
  const sink = opts.alertsOut ? await openJsonlAlertSink(opts.alertsOut) : stdoutAlertSink();
  const deadLetterOut = opts.deadLetters ? createWriteStream(opts.deadLetters) : null;
  const api = opts.serve ? createQueryServer({ backend: engine, logger: createLogger('warn') }) : null;
  if (api) {
    const address = await api.listen({ host: opts.host, port: opts.port });
    process.stderr.write(`query API: ${address}\n`);
  }
  const summary = await replayFile({
    path: file,
    engine,
    sink,
    onProgress: (p) => process.stderr.write(`replay: ${p.events.toLocaleString('en-US')} events, ${Math.round(p.eventsPerSecond).toLocaleString('en-US')} events/s\n`),
    onDeadLetter: (dl) => {
      // Reason and position only: the payload may hold prompt text.
      deadLetterOut?.write(JSON.stringify({ reason: dl.reason, field: dl.field, source: dl.source, position: dl.position }) + '\n');
    },
  });
  await sink.close();
  if (deadLetterOut) {
    deadLetterOut.end();
    await once(deadLetterOut, 'finish');
  }
  loaded = true;
  process.stderr.write(
    `replay: done, ${summary.events.toLocaleString('en-US')} events in ${(summary.elapsedMs / 1000).toFixed(1)}s ` +
      `(${Math.round(summary.eventsPerSecond).toLocaleString('en-US')} events/s), ${summary.alerts} alerts, ` +
      `${summary.deadLetters} dead letters, ${summary.lateEvents} late events\n`,
  );
  if (api) {
    process.stderr.write('replay: serving the query API as of the last event; Ctrl-C to stop\n');
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    await api.close();
  }
  engine.close();
}
