import { parseConfig } from '../config/vigil-config.js';
import { createEngine, demoRulesFile, loadRules } from '../engine/engine-factory.js';
import { createQueryServer } from '../api/query-server.js';
import { createLogger } from '../logger.js';
import { runDemo } from '../runtime/demo.js';
import { openJsonlAlertSink } from './alert-output.js';

/** Options `vigil demo` takes (see `vigil demo --help`). */
export interface DemoCommandOptions {
  speed: number;
  fast: boolean;
  duration?: number;
  seed: number;
  rate: number;
  start?: string;
  rules?: string;
  alertsOut?: string;
  host: string;
  port: number;
  serve: boolean;
  summaryEvery: number;
}

/** `vigil demo`: the embedded engine on synthetic traffic, with the query API. */
export async function runDemoCommand(opts: DemoCommandOptions): Promise<void> {
  const config = parseConfig({}, { env: {} });
  const windows = config.windows;
  const rules = await loadRules(opts.rules ?? demoRulesFile(), config);
  const engine = createEngine(config, rules, { idle: false });
  const startTime = opts.start === undefined ? Math.floor(Date.now() / windows.slide) * windows.slide : Date.parse(opts.start);
  if (Number.isNaN(startTime)) throw new Error(`--start: "${opts.start}" is not an ISO-8601 time`);
  const sink = opts.alertsOut ? await openJsonlAlertSink(opts.alertsOut) : undefined;
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const api = opts.serve ? createQueryServer({ backend: engine, logger: createLogger('warn') }) : null;
  let banner: string | undefined;
  if (api) {
    const address = await api.listen({ host: opts.host, port: opts.port });
    banner = `dashboard: ${address}/`;
    process.stdout.write(`${banner}\nquery API: ${address}/v1/percentiles?metric=latency&groupBy=model (OpenAPI: ${address}/docs, Prometheus: ${address}/metrics)\n`);
  }
  try {
    const result = await runDemo({
      engine,
      sink,
      speed: opts.speed,
      fast: opts.fast,
      durationMs: opts.duration,
      seed: opts.seed,
      startTime,
      requestsPerSecond: opts.rate,
      out: process.stdout,
      summaryEveryMs: opts.fast ? 0 : opts.summaryEvery,
      banner,
      signal: controller.signal,
    });
    const firing = result.alerts.filter((a) => a.state === 'FIRING').length;
    process.stdout.write(`\nvigil demo: ${result.events.toLocaleString('en-US')} spans over ${Math.round(result.eventTimeMs / 1000)}s of event time, ${firing} alerts fired, ${result.alerts.length - firing} resolved\n`);
  } finally {
    await sink?.close();
    await api?.close();
    engine.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
