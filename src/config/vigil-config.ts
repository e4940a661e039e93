import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { VigilError } from '../errors.js';
import { forwardConfigSchema } from '../forwarders/forward-config.js';
import { parseDuration } from '../rules/duration.js';
import { KAFKA_FETCH_DEFAULTS } from '../sources/kafka-fetch-defaults.js';

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

/** Longest `kafka.fetch.maxWait`. */
const MAX_FETCH_WAIT_MS = 10_000;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const configSchema = z.strictObject({
  kafka: z
    .strictObject({
      brokers: z.array(z.string().min(1)).min(1),
      clientId: z.string().min(1).default('vigil'),
      groupId: z.string().min(1).default('vigil'),
      tracesTopic: z.string().min(1).default('llm-traces'),
      /** Topic of Avro `FeedbackEvent`s to consume as well; unset: no feedback from Kafka. */
      feedbackTopic: z.string().min(1).optional(),
      /** Topic of Avro `EvalScoreEvent`s to consume as well; unset: no eval scores from Kafka. */
      evalsTopic: z.string().min(1).optional(),
      alertsTopic: z.string().min(1).default('vigil-alerts'),
      fromBeginning: z.boolean().default(false),
      /** Topic for records Vigil cannot use (Avro `DeadLetter`); unset: they are logged (reason and position only). */
      deadLetterTopic: z.string().min(1).optional(),
      /** Most bytes of original key plus value kept per dead letter; the rest is cut (`truncated`). */
      deadLetterMaxBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(512 * 1024),
      /** Alerts and dead letters waiting for their sinks above which the consumer pauses fetching. */
      maxPendingAlerts: z.number().int().min(1).default(10_000),
      /** Backoff of retries to a failing alert or dead-letter sink (doubling from initialBackoff up to maxBackoff). */
      sinkRetry: z.strictObject({ initialBackoff: duration.default(200), maxBackoff: duration.default(30_000) }).default({ initialBackoff: 200, maxBackoff: 30_000 }),
      /**
       * `partitioned` (default): window and detector state is owned per input partition and moves
       * with it; every instance merges the partitions' closed sub-windows from the partials topic, so
       * rules and queries see the whole group. `local`: one engine over whatever partitions this
       * instance holds (a single instance only; state does not survive a rebalance).
       */
      state: z.enum(['partitioned', 'local']).default('partitioned'),
      /** Internal compacted topic of the partition tasks' closed sub-windows and checkpoints; default `<groupId>-vigil-partials`. */
      partialsTopic: z.string().min(1).optional(),
      /**
       * How far back of its last checkpoint a partition's new owner replays to rebuild the
       * partition's detectors (cost-anomaly baseline 1 h + one bucket, request timeout, longest span).
       */
      recoveryHorizon: duration.default(70 * 60_000),
      /**
       * How the input consumer batches a live stream: a fetch returns once `minBytes` are there or
       * `maxWait` has passed (Kafka's `fetch.min.bytes` and `fetch.max.wait.ms`).
       */
      fetch: z
        .strictObject({
          minBytes: z.number().int().min(1).max(32 * 1024 * 1024).default(KAFKA_FETCH_DEFAULTS.consumer.minBytes),
          maxWait: duration.default(KAFKA_FETCH_DEFAULTS.consumer.maxWaitTimeInMs),
        })
        .default({ minBytes: KAFKA_FETCH_DEFAULTS.consumer.minBytes, maxWait: KAFKA_FETCH_DEFAULTS.consumer.maxWaitTimeInMs }),
    })
    .superRefine((k, ctx) => {
      // Messages are decoded by their topic's schema, so every input topic carries one kind.
      const inputs: [string, string | undefined][] = [
        ['tracesTopic', k.tracesTopic],
        ['feedbackTopic', k.feedbackTopic],
        ['evalsTopic', k.evalsTopic],
      ];
      // A dead-letter topic that is also read or written would loop or mix record types.
      for (const [key, topic] of [...inputs, ['alertsTopic', k.alertsTopic], ['partialsTopic', k.partialsTopic]] as const) {
        if (k.deadLetterTopic !== undefined && topic === k.deadLetterTopic) {
          ctx.addIssue({ code: 'custom', path: ['deadLetterTopic'], message: `must differ from kafka.${key}` });
        }
      }
      // 0 would make an idle consumer fetch back to back; past 10 s a fetch nears kafkajs' request timeout.
      if (!(k.fetch.maxWait >= 1 && k.fetch.maxWait <= MAX_FETCH_WAIT_MS)) {
        ctx.addIssue({ code: 'custom', path: ['fetch', 'maxWait'], message: `must be between 1ms and ${MAX_FETCH_WAIT_MS / 1000}s` });
      }
      if (k.sinkRetry.initialBackoff <= 0 || k.sinkRetry.initialBackoff > k.sinkRetry.maxBackoff) {
        ctx.addIssue({ code: 'custom', path: ['sinkRetry', 'initialBackoff'], message: 'must be > 0 and at most kafka.sinkRetry.maxBackoff' });
      }
      for (let i = 1; i < inputs.length; i++) {
        const [key, topic] = inputs[i];
        const earlier = inputs.slice(0, i).find(([, t]) => t !== undefined && t === topic);
        if (topic !== undefined && earlier !== undefined) {
          ctx.addIssue({ code: 'custom', path: [key], message: `must differ from kafka.${earlier[0]} (each kind of event needs its own topic)` });
        }
      }
    })
    .optional(),
  windows: z
    .strictObject({
      slide: duration.default(10_000),
      window: duration.default(300_000),
      retention: duration.default(3_600_000),
      allowedLateness: duration.default(30_000),
      idleAdvanceAfter: duration.default(30_000),
      slowSubWindow: duration.default(60_000),
      slowRetention: duration.default(25 * 3_600_000),
    })
    .default({ slide: 10_000, window: 300_000, retention: 3_600_000, allowedLateness: 30_000, idleAdvanceAfter: 30_000, slowSubWindow: 60_000, slowRetention: 25 * 3_600_000 }),
  signals: z
    .strictObject({
      prices: z
        .strictObject({
          file: z.string().min(1).optional(),
          overrides: z
            .array(
              z.strictObject({
                provider: z.string().min(1).optional(),
                model: z.string().min(1),
                input: z.number().min(0),
                output: z.number().min(0).optional(),
                cachedInput: z.number().min(0).optional(),
              }),
            )
            .default([]),
        })
        .default({ overrides: [] }),
      scanInjection: z.boolean().default(true),
      scanPii: z.boolean().default(true),
      requestTimeout: duration.default(300_000),
      users: z
        .strictObject({
          bucket: duration.default(60_000),
          minHistoryBuckets: z.number().int().min(1).default(10),
          rateGlobalCap: z.number().positive().default(120),
          rateK: z.number().positive().default(6),
          probingThreshold: z.number().int().min(1).default(3),
          probingWindow: duration.default(600_000),
          idleEvictAfter: duration.default(3_600_000),
          maxUsers: z.number().int().min(1).default(2_000_000),
        })
        .default({ bucket: 60_000, minHistoryBuckets: 10, rateGlobalCap: 120, rateK: 6, probingThreshold: 3, probingWindow: 600_000, idleEvictAfter: 3_600_000, maxUsers: 2_000_000 }),
    })
    .default({
      prices: { overrides: [] },
      scanInjection: true,
      scanPii: true,
      requestTimeout: 300_000,
      users: { bucket: 60_000, minHistoryBuckets: 10, rateGlobalCap: 120, rateK: 6, probingThreshold: 3, probingWindow: 600_000, idleEvictAfter: 3_600_000, maxUsers: 2_000_000 },
    }),
  /** Plausibility limits on every event read from Kafka; see `src/codec/input-guard.ts`. */
  limits: z
    .strictObject({
      maxDuration: duration.default(3_600_000),
      maxTextLength: z.number().int().min(1).default(65_536),
      maxTokens: z.number().int().min(1).default(10_000_000),
      maxCostUsd: z.number().positive().default(1_000),
      maxIdentifierLength: z.number().int().min(1).default(256),
      maxEventTimeSkew: duration.default(7 * 86_400_000),
    })
    .default({ maxDuration: 3_600_000, maxTextLength: 65_536, maxTokens: 10_000_000, maxCostUsd: 1_000, maxIdentifierLength: 256, maxEventTimeSkew: 7 * 86_400_000 }),
  rules: z.string().min(1).optional(),
  api: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Bearer token every route but /healthz requires; with authTokens, any of them is accepted. */
      authToken: z.string().min(16, 'must be at least 16 characters').optional(),
      authTokens: z.array(z.string().min(16, 'must be at least 16 characters')).min(1).optional(),
      /** Requests per client IP per window; over it, 429. */
      rateLimit: z.strictObject({ max: z.number().int().min(1).default(600), window: duration.default(60_000) }).default({ max: 600, window: 60_000 }),
      /** Largest request body accepted, bytes (every route is a GET). */
      bodyLimit: z.number().int().min(0).default(16_384),
    })
    .default({ enabled: true, host: '127.0.0.1', port: 8080, rateLimit: { max: 600, window: 60_000 }, bodyLimit: 16_384 }),
  log: z.strictObject({ level: z.enum(logLevels).default('info') }).default({ level: 'info' }),
  /**
   * A Confluent-compatible schema registry: input values in its wire format are decoded with their
   * writer schema; alerts are registered under `<alertsTopic>-value` and written in the wire format.
   */
  registry: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
      /** Most writer schemas (and their resolvers) kept in memory per record type. */
      cacheSize: z.number().int().min(1).default(1000),
    })
    .optional(),
  /** The OTLP/HTTP trace receiver of `vigil otel-receiver` (the OpenTelemetry bridge). */
  otel: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(4318),
      /** Span (else resource) attribute that holds the tenant id. */
      tenantAttribute: z.string().min(1).default('tenant.id'),
      /** Copy prompt/completion text from gen_ai.input.messages / gen_ai.output.messages into the spans. */
      captureContent: z.boolean().default(false),
    })
    .default({ host: '127.0.0.1', port: 4318, tenantAttribute: 'tenant.id', captureContent: false }),
  /** Where `vigil alerts forward` sends alerts (Alertmanager, webhooks); see `src/forwarders/forward-config.ts`. */
  forward: forwardConfigSchema.optional(),
});

/** Vigil's validated configuration, durations in milliseconds. */
export type VigilConfig = z.output<typeof configSchema>;

/**
 * Environment variables that override config keys, so one config file serves several deployments.
 * Comma-separated lists for brokers.
 */
export const ENV_OVERRIDES: Readonly<Record<string, { path: readonly string[]; kind: 'string' | 'list' | 'int' | 'bool' }>> = {
  VIGIL_KAFKA_BROKERS: { path: ['kafka', 'brokers'], kind: 'list' },
  VIGIL_KAFKA_CLIENT_ID: { path: ['kafka', 'clientId'], kind: 'string' },
  VIGIL_KAFKA_GROUP_ID: { path: ['kafka', 'groupId'], kind: 'string' },
  VIGIL_TRACES_TOPIC: { path: ['kafka', 'tracesTopic'], kind: 'string' },
  VIGIL_FEEDBACK_TOPIC: { path: ['kafka', 'feedbackTopic'], kind: 'string' },
  VIGIL_EVALS_TOPIC: { path: ['kafka', 'evalsTopic'], kind: 'string' },
  VIGIL_ALERTS_TOPIC: { path: ['kafka', 'alertsTopic'], kind: 'string' },
  VIGIL_DEAD_LETTER_TOPIC: { path: ['kafka', 'deadLetterTopic'], kind: 'string' },
  VIGIL_FROM_BEGINNING: { path: ['kafka', 'fromBeginning'], kind: 'bool' },
  VIGIL_RULES: { path: ['rules'], kind: 'string' },
  VIGIL_API_HOST: { path: ['api', 'host'], kind: 'string' },
  VIGIL_API_PORT: { path: ['api', 'port'], kind: 'int' },
  VIGIL_API_TOKEN: { path: ['api', 'authToken'], kind: 'string' },
  VIGIL_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
  VIGIL_REGISTRY_URL: { path: ['registry', 'url'], kind: 'string' },
  VIGIL_OTEL_HOST: { path: ['otel', 'host'], kind: 'string' },
  VIGIL_OTEL_PORT: { path: ['otel', 'port'], kind: 'int' },
};

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, source: string): void {
  for (const [name, { path, kind }] of Object.entries(ENV_OVERRIDES)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    let value: unknown = text;
    if (kind === 'list') value = text.split(',').map((s) => s.trim()).filter(Boolean);
    else if (kind === 'int') {
      value = Number(text);
      if (!Number.isInteger(value)) throw new VigilError('VIGIL_CONFIG_INVALID', `${source}: ${name}: expected an integer, got "${text}"`, { details: { key: name } });
    } else if (kind === 'bool') {
      if (text !== 'true' && text !== 'false') throw new VigilError('VIGIL_CONFIG_INVALID', `${source}: ${name}: expected true or false, got "${text}"`, { details: { key: name } });
      value = text === 'true';
    }
    let node = raw;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
}

/** Formats a list of zod issues as `key.path: message` lines, the key path first. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : (i > 0 ? '.' : '') + String(p))).join('');
    if (issue.code === 'unrecognized_keys') {
      const prefix = path ? path + '.' : '';
      return issue.keys.map((k) => `${prefix}${k}: unknown key`).join('; ');
    }
    return `${path || '(root)'}: ${issue.message}`;
  });
}

/**
 * Validates a raw config object (as parsed from YAML), applying environment overrides first.
 * Relative `rules` paths resolve against `baseDir`. Throws `VIGIL_CONFIG_INVALID` naming every bad key.
 */
export function parseConfig(raw: unknown, options: { source?: string; env?: NodeJS.ProcessEnv; baseDir?: string } = {}): VigilConfig {
  const source = options.source ?? 'config';
  const obj: Record<string, unknown> = raw === null || raw === undefined ? {} : (raw as Record<string, unknown>);
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${source}: the config must be a mapping of keys (kafka, windows, rules, api, log)`);
  }
  applyEnv(obj, options.env ?? process.env, source);
  const result = configSchema.safeParse(obj);
  if (!result.success) {
    const lines = formatIssues(result.error.issues);
    throw new VigilError('VIGIL_CONFIG_INVALID', `${source}: ${lines.join('; ')}`, { details: { issues: lines } });
  }
  const config = result.data;
  const w = config.windows;
  const problems: string[] = [];
  if (w.window % w.slide !== 0) problems.push(`windows.window: must be a multiple of windows.slide (${w.slide} ms)`);
  if (w.retention % w.slide !== 0) problems.push(`windows.retention: must be a multiple of windows.slide (${w.slide} ms)`);
  if (w.retention < w.window) problems.push('windows.retention: must be at least windows.window');
  if (w.slowSubWindow % w.slide !== 0) problems.push(`windows.slowSubWindow: must be a multiple of windows.slide (${w.slide} ms)`);
  if (w.slowRetention % w.slowSubWindow !== 0) problems.push('windows.slowRetention: must be a multiple of windows.slowSubWindow');
  if (problems.length > 0) throw new VigilError('VIGIL_CONFIG_INVALID', `${source}: ${problems.join('; ')}`, { details: { issues: problems } });
  if (options.baseDir !== undefined) {
    if (config.rules !== undefined) config.rules = resolve(options.baseDir, config.rules);
    if (config.signals.prices.file !== undefined) config.signals.prices.file = resolve(options.baseDir, config.signals.prices.file);
  }
  return config;
}

/** Reads and validates a YAML config file; errors name the file and the key. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): VigilConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line;
    throw new VigilError('VIGIL_CONFIG_INVALID', `${path}${line ? `:${line}` : ''}: YAML syntax error: ${e.message.split('\n')[0]}`);
  }
  return parseConfig(doc.toJS(), { source: path, env, baseDir: dirname(resolve(path)) });
}
