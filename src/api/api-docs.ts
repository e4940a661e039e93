import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../codec/schemas.js';

const DOCS_PREFIX = '/docs';

interface RouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  /** Empty for a route open without a token. */
  security?: never[];
}

// What each route answers, for the document: kept here so the route files stay about behaviour.
const ROUTE_DOCS: Readonly<Record<string, RouteDoc>> = {
  '/healthz': { summary: 'Process alive', description: 'Open without a token and outside the rate limit.', tags: ['health'], security: [] },
  '/readyz': { summary: 'Ready to serve', description: '200 once connected with partitions assigned (run) or the file loaded (replay); else 503.', tags: ['health'] },
  '/v1/status': { summary: 'Engine counters', description: 'Events in, late events, dead letters, alerts emitted, event time and watermark.', tags: ['health'] },
  '/v1/percentiles': {
    summary: 'Latency or TTFT percentiles',
    description: 'Per group: count, min, max, mean and the asked quantiles (ms) over the window ending with the newest event. Any dimension (service, operation, model, provider, tenant) is also a filter.',
    tags: ['signals'],
  },
  '/v1/alerts': { summary: 'Alerts', description: 'The firing alerts, or the recent history of FIRING/RESOLVED events.', tags: ['alerts'] },
  '/v1/signals': { summary: 'Signal catalogue', description: 'Every signal with its kind, unit, dimensions, sub-window, retention and stats.', tags: ['signals'] },
  '/v1/signals/{signal}': {
    summary: 'Any signal, any stats',
    description: 'Stats of one signal over a window, grouped and filtered (any other query parameter is a filter on a dimension of the signal), optionally compared with a baseline window.',
    tags: ['signals'],
  },
  '/v1/cost': { summary: 'Cost', description: 'Span cost by model and request cost by service.', tags: ['families'] },
  '/v1/errors': { summary: 'Errors', description: 'Error, timeout and fallback rates by model; failed and degraded requests by service.', tags: ['families'] },
  '/v1/evals': { summary: 'Evaluation scores', description: 'Score statistics by evaluator and metric.', tags: ['families'] },
  '/v1/feedback': { summary: 'User feedback', description: 'Thumbs, regenerations, corrections and abandons by service.', tags: ['families'] },
  '/v1/output': { summary: 'Output quality', description: 'Output length and tokens, JSON compliance and finish reasons.', tags: ['families'] },
  '/v1/security': { summary: 'Security', description: 'Prompt-injection attempts by category and PII findings by type, by service. Never the text or the value found.', tags: ['families'] },
  '/v1/users': { summary: 'Anomalous users', description: 'Users currently anomalous for one kind, most severe first.', tags: ['users'] },
  '/v1/users/{userId}': { summary: 'One user', description: "A user's rate, baselines, cost and flags; 404 without recent activity.", tags: ['users'] },
};

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/**
 * The query API's OpenAPI 3.1 document, generated from the route schemas by `@fastify/swagger`,
 * at `GET /docs/json` (and `/docs/yaml`), with Swagger UI at `GET /docs`. Register it before any
 * route: the document lists the routes added after its plugin has loaded (in fastify's plugin
 * order), so routes belong in a plugin registered after this one. The docs routes are public
 * (`config.public`): they hold no data; Swagger UI's Authorize button takes a token for the calls.
 */
export function registerApiDocs(app: FastifyInstance): void {
  // The docs hold no data and Swagger UI's page cannot send a token: public, like the dashboard.
  app.addHook('onRoute', (route) => {
    if (route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`)) route.config = { ...route.config, public: true } as typeof route.config;
  });
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vigil query API',
        version: packageVersion(),
        description:
          'Live signals, alerts and engine status of a Vigil engine. Windows follow event time and end with the newest event. Bad parameters get 400 with the parameter named. No response carries prompt text, output text or a detected PII value.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'Only when the API was started with a token.' } },
      },
      security: [{}, { bearerAuth: [] }],
    },
    transform: ({ schema, url }) => {
      const doc = ROUTE_DOCS[url.replace(/:([A-Za-z]+)/g, '{$1}')];
      if (!doc || !schema) return { schema: doc ? { ...doc } : schema, url };
      return { schema: { ...doc, ...schema }, url };
    },
  });
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX, uiConfig: { docExpansion: 'list', deepLinking: true } });
}
