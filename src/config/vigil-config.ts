import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { VigilError } from '../errors.js';
import { parseDuration } from '../rules/duration.js';

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const configSchema = z.strictObject({
  kafka: z
    .strictObject({
      brokers: z.array(z.string().min(1)).min(1),
      clientId: z.string().min(1).default('vigil'),
      groupId: z.string().min(1).default('vigil'),
      tracesTopic: z.string().min(1).default('llm-traces'),
      alertsTopic: z.string().min(1).default('vigil-alerts'),
      fromBeginning: z.boolean().default(false),
    })
    .optional(),
  windows: z
    .strictObject({
      slide: duration.default(10_000),
      window: duration.default(300_000),
      retention: duration.default(3_600_000),
      allowedLateness: duration.default(30_000),
      idleAdvanceAfter: duration.default(30_000),
    })
    .default({ slide: 10_000, window: 300_000, retention: 3_600_000, allowedLateness: 30_000, idleAdvanceAfter: 30_000 }),
  rules: z.string().min(1).optional(),
  api: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
    })
    .default({ enabled: true, host: '127.0.0.1', port: 8080 }),
  log: z.strictObject({ level: z.enum(logLevels).default('info') }).default({ level: 'info' }),
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
  VIGIL_ALERTS_TOPIC: { path: ['kafka', 'alertsTopic'], kind: 'string' },
  VIGIL_FROM_BEGINNING: { path: ['kafka', 'fromBeginning'], kind: 'bool' },
  VIGIL_RULES: { path: ['rules'], kind: 'string' },
  VIGIL_API_HOST: { path: ['api', 'host'], kind: 'string' },
  VIGIL_API_PORT: { path: ['api', 'port'], kind: 'int' },
  VIGIL_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
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
  if (problems.length > 0) throw new VigilError('VIGIL_CONFIG_INVALID', `${source}: ${problems.join('; ')}`, { details: { issues: problems } });
  if (config.rules !== undefined && options.baseDir !== undefined) config.rules = resolve(options.baseDir, config.rules);
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
