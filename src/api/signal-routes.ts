import type { FastifyInstance } from 'fastify';
import { VigilError } from '../errors.js';
import { formatDuration, tryParseDuration } from '../rules/duration.js';
import type { SignalBackend, SignalQuery } from './signal-query.js';
import { NO_PARAMS, paramErrors } from './strict-params.js';

const USER_KINDS = ['rate_spike', 'token_spike', 'cost_spike', 'probing', 'session_spread'] as const;

/**
 * Ready-made questions per checklist family: `GET /v1/<family>` answers these signals and stats
 * (each overridable with `stats=`), so a dashboard needs no knowledge of the stat grammar.
 */
export const FAMILY_PRESETS: Readonly<Record<string, readonly { signal: string; stats: readonly string[]; groupBy: readonly string[] }[]>> = {
  cost: [
    { signal: 'cost', stats: ['count', 'usd', 'usd_per_min', 'input_tokens', 'output_tokens', 'unpriced'], groupBy: ['model'] },
    { signal: 'request_cost', stats: ['count', 'sum', 'mean', 'p50', 'p95', 'p99', 'max'], groupBy: ['service'] },
  ],
  errors: [
    { signal: 'errors', stats: ['count', 'error_rate', 'timeout_rate', 'rate_limit_rate', 'model_error_rate', 'content_filter_rate', 'retried_rate', 'fallback_rate'], groupBy: ['model'] },
    { signal: 'requests', stats: ['count', 'failed_rate', 'degraded_rate', 'retried_rate', 'fallback_rate', 'timeout_rate', 'rate_limited_rate'], groupBy: ['service'] },
  ],
  evals: [{ signal: 'eval_score', stats: ['count', 'mean', 'p10', 'p50', 'p90'], groupBy: ['evaluator', 'metric'] }],
  feedback: [
    { signal: 'feedback', stats: ['count', 'thumbs_up', 'thumbs_down', 'thumbs_down/(thumbs_up+thumbs_down)', 'regenerate_rate', 'correction_rate', 'abandon_rate'], groupBy: ['service'] },
  ],
  output: [
    { signal: 'output_length', stats: ['count', 'mean', 'p50', 'p95'], groupBy: ['service'] },
    { signal: 'output_tokens', stats: ['count', 'mean', 'p50', 'p95'], groupBy: ['model'] },
    { signal: 'output', stats: ['responses', 'json_expected', 'json_valid/json_expected', 'finish_length/responses', 'finish_content_filter/responses'], groupBy: ['service'] },
  ],
  security: [
    {
      signal: 'security',
      stats: [
        'inputs_scanned',
        'injection',
        'injection_instruction_override',
        'injection_roleplay_jailbreak',
        'injection_system_prompt_extraction',
        'injection_delimiter_abuse',
        'injection_obfuscation',
        'injection_sophisticated',
        'outputs_scanned',
        'pii',
        'pii_findings',
        'pii_email',
        'pii_phone',
        'pii_credit_card',
        'pii_ssn',
        'pii_iban',
        'pii_ip_address',
        'pii_secret',
      ],
      groupBy: ['service'],
    },
  ],
};

const listSchema = { type: 'string', pattern: '^[^,]{1,64}(,[^,]{1,64}){0,31}$', maxLength: 1024 } as const;
const querySchema = {
  type: 'object',
  additionalProperties: { type: 'string', maxLength: 256 },
  properties: {
    window: { type: 'string', pattern: '^[0-9]+(ms|s|m|h|d)$', maxLength: 16 },
    groupBy: { type: 'string', pattern: '^[a-z_]+(,[a-z_]+){0,7}$', maxLength: 128 },
    stats: listSchema,
    baseline: { type: 'string', pattern: '^[0-9]+(ms|s|m|h|d)$', maxLength: 16 },
    compare: { type: 'string', enum: ['difference', 'ratio', 'relative'] },
  },
} as const;

const groupsSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      key: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      count: { type: 'number' },
      values: { type: 'object', additionalProperties: { type: ['number', 'null'] } },
    },
  },
} as const;

const answerSchema = {
  type: 'object',
  properties: {
    signal: { type: 'string' },
    unit: { type: 'string' },
    window: { type: 'object', properties: { start: { type: 'integer' }, end: { type: 'integer' }, ms: { type: 'integer' }, label: { type: 'string' } } },
    baseline: { type: 'object', properties: { start: { type: 'integer' }, end: { type: 'integer' }, ms: { type: 'integer' }, compare: { type: 'string' } } },
    groupBy: { type: 'array', items: { type: 'string' } },
    filter: { type: 'object', additionalProperties: { type: 'string' } },
    groups: groupsSchema,
  },
} as const;

function bad(parameter: string, message: string): VigilError {
  return new VigilError('VIGIL_QUERY_INVALID', `${parameter}: ${message}`, { details: { parameter } });
}

function duration(name: string, text: string): number {
  const r = tryParseDuration(text);
  if (!r.ok) throw bad(name, r.reason);
  return r.ms;
}

// JSON has no NaN: a stat with no defined value (a ratio over zero) is answered as null.
function jsonSafe<T extends { groups: { values: Record<string, number> }[] }>(answer: T): T {
  for (const g of answer.groups) for (const k of Object.keys(g.values)) if (!Number.isFinite(g.values[k])) (g.values as Record<string, number | null>)[k] = null;
  return answer;
}

/**
 * The checklist routes: `GET /v1/signals` (catalogue), `GET /v1/signals/:signal` (any signal, any
 * stats), one route per family (`/v1/cost`, `/v1/errors`, `/v1/evals`, `/v1/feedback`,
 * `/v1/output`, `/v1/security`) with ready-made stats, `GET /v1/users` (currently anomalous users)
 * and `GET /v1/users/:userId` (one user's rate, baseline, cost and flags). No route returns prompt
 * text, output text or a detected PII value.
 */
export function registerSignalRoutes(app: FastifyInstance, backend: SignalBackend, defaultWindowMs: number): void {
  const parse = (signal: string, qs: Record<string, string | undefined>, preset?: { stats: readonly string[]; groupBy: readonly string[] }): SignalQuery => {
    const info = backend.signalList().find((s) => s.name === signal);
    if (!info) throw bad('signal', `unknown signal "${signal}"; GET /v1/signals lists them`);
    const filter: Record<string, string> = {};
    for (const [k, v] of Object.entries(qs)) {
      if (k === 'window' || k === 'groupBy' || k === 'stats' || k === 'baseline' || k === 'compare' || v === undefined) continue;
      if (!info.dimensions.includes(k)) throw bad(k, `unknown parameter: not a dimension of ${signal} (${info.dimensions.join(', ')})`);
      filter[k] = v;
    }
    const groupBy = qs.groupBy === undefined ? [...(preset?.groupBy ?? [])] : qs.groupBy === '' ? [] : qs.groupBy.split(',');
    for (const d of groupBy) if (!info.dimensions.includes(d)) throw bad('groupBy', `"${d}" is not a dimension of ${signal} (${info.dimensions.join(', ')})`);
    const stats = qs.stats === undefined ? [...(preset?.stats ?? ['count'])] : qs.stats.split(',');
    const windowMs = qs.window === undefined ? Math.max(defaultWindowMs, info.subWindowMs) : duration('window', qs.window);
    if (windowMs <= 0 || windowMs % info.subWindowMs !== 0) throw bad('window', `must be a positive multiple of ${signal}'s sub-window (${formatDuration(info.subWindowMs)})`);
    const query: SignalQuery = { signal, windowMs, groupBy, filter, stats };
    if (qs.baseline !== undefined) query.baseline = { windowMs: duration('baseline', qs.baseline), compare: (qs.compare ?? 'difference') as 'difference' };
    if (windowMs + (query.baseline?.windowMs ?? 0) > info.retentionMs) throw bad(query.baseline ? 'baseline' : 'window', `window${query.baseline ? ' + baseline' : ''} must be at most ${signal}'s retention (${formatDuration(info.retentionMs)})`);
    return query;
  };
  const answer = (q: SignalQuery) => {
    const a = jsonSafe(backend.signal(q));
    return { ...a, window: { ...a.window, label: formatDuration(a.window.ms) } };
  };

  app.get('/v1/signals', { schema: { querystring: NO_PARAMS }, schemaErrorFormatter: paramErrors('/v1/signals', []) }, async () => ({ signals: backend.signalList().map((s) => ({ ...s, subWindow: formatDuration(s.subWindowMs), retention: formatDuration(s.retentionMs) })) }));

  app.get('/v1/signals/:signal', { schema: { params: { type: 'object', properties: { signal: { type: 'string', maxLength: 64 } } }, querystring: querySchema, response: { 200: answerSchema } } }, async (request) => {
    const { signal } = request.params as { signal: string };
    return answer(parse(signal, request.query as Record<string, string>));
  });

  for (const [family, presets] of Object.entries(FAMILY_PRESETS)) {
    app.get(`/v1/${family}`, { schema: { querystring: querySchema } }, async (request) => {
      const qs = request.query as Record<string, string>;
      return { family, results: presets.map((p) => answer(parse(p.signal, presets.length > 1 ? { ...qs, stats: undefined } : qs, p))) };
    });
  }

  app.get(
    '/v1/users',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { kind: { type: 'string', enum: [...USER_KINDS], default: 'rate_spike' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
      },
      schemaErrorFormatter: paramErrors('/v1/users', ['kind', 'limit']),
    },
    async (request) => {
      const { kind, limit } = request.query as { kind: (typeof USER_KINDS)[number]; limit: number };
      const users = backend.anomalousUsers(kind, limit);
      return { kind, count: users.length, users };
    },
  );

  app.get('/v1/users/:userId', { schema: { params: { type: 'object', properties: { userId: { type: 'string', minLength: 1, maxLength: 256 } } }, querystring: NO_PARAMS }, schemaErrorFormatter: paramErrors('/v1/users/:userId', []) }, async (request, reply) => {
    const { userId } = request.params as { userId: string };
    const profile = backend.userProfile(userId);
    if (!profile) return reply.status(404).send({ error: 'Not Found', message: 'no recent activity for this user' });
    return profile;
  });
}
