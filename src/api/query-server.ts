import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { DIMENSIONS, isDimension, type Dimension, type GroupLabels } from '../model/index.js';
import { isVigilError } from '../errors.js';
import { formatDuration, tryParseDuration } from '../rules/duration.js';
import { registerApiDocs } from './api-docs.js';
import { apiSecurity, type ApiSecurityOptions } from './api-security.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { registerMetricsRoute } from './metrics.js';
import type { QueryBackend } from './query-backend.js';
import type { SignalBackend } from './signal-query.js';
import { NO_PARAMS, paramErrors } from './strict-params.js';
import { registerSignalRoutes } from './signal-routes.js';

/** Options of {@link createQueryServer}. */
export interface QueryServerOptions {
  backend: QueryBackend & SignalBackend;
  /** A pino logger or fastify logger options; false for none. */
  logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance'];
  /** Bearer tokens, rate limit and body cap (see `api-security.ts`); default: no token, 600 requests/min per IP. */
  security?: ApiSecurityOptions;
}

const dimensionFilters = Object.fromEntries(DIMENSIONS.map((d) => [d, { type: 'string', minLength: 1, maxLength: 256 }]));

const percentilesSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      metric: { type: 'string', enum: ['latency', 'ttft'], default: 'latency' },
      window: { type: 'string', pattern: '^[0-9]+(ms|s|m|h|d)$', maxLength: 16 },
      groupBy: { type: 'string', pattern: '^[a-z]+(,[a-z]+)*$', maxLength: 128 },
      q: { type: 'string', pattern: '^[0-9.]+(,[0-9.]+)*$', maxLength: 256 },
      ...dimensionFilters,
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        metric: { type: 'string' },
        unit: { type: 'string' },
        window: { type: 'object', properties: { start: { type: 'integer' }, end: { type: 'integer' }, ms: { type: 'integer' }, label: { type: 'string' } } },
        groupBy: { type: 'array', items: { type: 'string' } },
        filter: { type: 'object', additionalProperties: { type: 'string' } },
        groups: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              labels: { type: 'object', additionalProperties: { type: 'string' } },
              count: { type: 'integer' },
              min: { type: 'number' },
              max: { type: 'number' },
              mean: { type: 'number' },
              quantiles: { type: 'object', additionalProperties: { type: 'number' } },
            },
          },
        },
      },
    },
  },
} as const;

const alertsSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: { type: 'string', enum: ['firing', 'all'], default: 'firing' },
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    },
  },
} as const;

class BadParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

function parseQuantiles(text: string | undefined): number[] {
  if (text === undefined) return [0.5, 0.95, 0.99];
  const qs = text.split(',').map(Number);
  for (const q of qs) {
    if (!(q > 0 && q < 1)) throw new BadParameter('q', `each quantile must be a number strictly between 0 and 1, e.g. q=0.5,0.99`);
  }
  if (qs.length > 20) throw new BadParameter('q', 'at most 20 quantiles');
  return qs;
}

function parseGroupBy(text: string | undefined): Dimension[] {
  if (text === undefined || text === '') return [];
  const dims = text.split(',');
  for (const d of dims) {
    if (!isDimension(d)) throw new BadParameter('groupBy', `"${d}" is not a dimension (${DIMENSIONS.join(', ')})`);
  }
  if (new Set(dims).size !== dims.length) throw new BadParameter('groupBy', 'a dimension is repeated');
  return dims as Dimension[];
}

function parseWindow(text: string | undefined, backend: QueryBackend): number {
  if (text === undefined) return backend.defaultWindowMs;
  const parsed = tryParseDuration(text);
  if (!parsed.ok) throw new BadParameter('window', parsed.reason);
  const ms = parsed.ms;
  if (ms <= 0 || ms % backend.slideMs !== 0) throw new BadParameter('window', `must be a positive multiple of the slide (${formatDuration(backend.slideMs)})`);
  if (ms > backend.retentionMs) throw new BadParameter('window', `must be at most the retention (${formatDuration(backend.retentionMs)})`);
  return ms;
}

/**
 * Builds the query API (fastify): `/v1/percentiles`, `/v1/alerts`, `/v1/status`, `/healthz` and
 * `/readyz`, every route with a JSON schema, plus the signal routes, `/metrics` (Prometheus), the
 * live dashboard at `/` and the OpenAPI document at `/docs`. Bad parameters get 400 with a message
 * that names the parameter. Responses never carry prompt text, output text or user ids.
 */
export function createQueryServer(options: QueryServerOptions): FastifyInstance {
  const { backend } = options;
  const logger = options.logger ?? false;
  const app = Fastify({
    ...(typeof logger === 'object' && logger !== null && 'child' in logger ? { loggerInstance: logger } : { logger }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    // URLs can hold user ids and filter values: apiSecurity logs the route pattern instead.
    logController: new LogController({ disableRequestLogging: true }),
    schemaErrorFormatter: (errors, dataVar) => {
      const e = errors[0];
      const params = e.params as { additionalProperty?: string; allowedValues?: unknown[] };
      const name = params.additionalProperty ?? (e.instancePath.replace(/^\//, '') || dataVar);
      const detail = params.additionalProperty
        ? `unknown parameter (allowed: metric, window, groupBy, q, ${DIMENSIONS.join(', ')} on /v1/percentiles; state, limit on /v1/alerts)`
        : params.allowedValues
          ? `must be one of ${params.allowedValues.join(', ')}`
          : (e.message ?? 'is invalid');
      const err = new BadParameter(name, detail);
      return err;
    },
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof BadParameter) {
      return reply.status(400).send({ error: 'Bad Request', parameter: error.parameter, message: error.message });
    }
    if (isVigilError(error, 'VIGIL_QUERY_INVALID')) {
      const parameter = typeof error.details.parameter === 'string' ? error.details.parameter : undefined;
      return reply.status(400).send({ error: 'Bad Request', parameter, message: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) app.log.error({ err: error }, 'query API error');
    return reply.status(status).send({ error: status >= 500 ? 'Internal Server Error' : 'Bad Request', message: status >= 500 ? 'internal error' : (error as Error).message });
  });

  void app.register(apiSecurity, options.security ?? {});
  registerApiDocs(app);
  // Routes go in a plugin loaded after the ones above, whose onRoute hooks (the OpenAPI document) must see them.
  void app.register(async (api) => {
    registerQueryRoutes(api, backend);
    registerMetricsRoute(api, backend);
    registerDashboardRoutes(api);
  });
  return app;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** Most serialized `/v1/percentiles` answers kept (the oldest URL is dropped first). */
const MAX_KEPT_PAYLOADS = 64;

function registerQueryRoutes(app: FastifyInstance, backend: QueryBackend & SignalBackend): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const r = backend.readiness();
    return reply.status(r.ready ? 200 : 503).send({ ready: r.ready, reason: r.reason });
  });

  app.get('/v1/status', { schema: { querystring: NO_PARAMS }, schemaErrorFormatter: paramErrors('/v1/status', []) }, async () => backend.status());

  // Dashboards repeat the same few queries far more often than the engine changes: the serialized
  // answer is kept, by URL, until the backend's answers version moves on.
  const payloads = new Map<string, { version: number; payload: string }>();
  app.get('/v1/percentiles', { schema: percentilesSchema }, async (request, reply) => {
    const version = backend.answersVersion?.();
    const kept = version === undefined ? undefined : payloads.get(request.url);
    if (kept !== undefined && kept.version === version) return reply.type(JSON_TYPE).send(kept.payload);
    const qs = request.query as Record<string, string | undefined>;
    const metric = (qs.metric ?? 'latency') as 'latency' | 'ttft';
    const windowMs = parseWindow(qs.window, backend);
    const groupBy = parseGroupBy(qs.groupBy);
    const quantiles = parseQuantiles(qs.q);
    const filter: GroupLabels = {};
    for (const d of DIMENSIONS) if (qs[d] !== undefined) filter[d] = qs[d];
    const answer = backend.percentiles({ metric, windowMs, groupBy, filter, quantiles });
    const body = { ...answer, window: { ...answer.window, label: formatDuration(answer.window.ms) } };
    if (version === undefined) return body;
    const payload = reply.serialize(body);
    if (typeof payload !== 'string') return body;
    if (!payloads.has(request.url) && payloads.size >= MAX_KEPT_PAYLOADS) payloads.delete(payloads.keys().next().value as string);
    payloads.set(request.url, { version, payload });
    return reply.type(JSON_TYPE).send(payload);
  });

  registerSignalRoutes(app, backend, backend.defaultWindowMs);

  app.get('/v1/alerts', { schema: alertsSchema }, async (request) => {
    const { state, limit } = request.query as { state: 'firing' | 'all'; limit: number };
    const alerts = backend.alerts(state, limit);
    return { state, count: alerts.length, alerts };
  });
}
