/**
 * The query API's guard: per-client rate limiting, optional bearer-token authentication, a body size
 * cap, a few response headers and request logging that never records a URL (paths and query
 * strings can carry user ids or filter values). A fastify plugin that applies to every route of the
 * instance it is registered on, including routes added after it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';

/** Options of {@link apiSecurity}. */
export interface ApiSecurityOptions {
  /**
   * Bearer tokens of which a request must present one (`Authorization: Bearer <token>`) on every
   * route but `/healthz`. Empty or absent: no authentication.
   */
  tokens?: readonly string[];
  /** Requests per client IP per `windowMs` (default 600 per minute); over it, 429. */
  rateLimit?: { max: number; windowMs: number };
  /** Largest request body, bytes, on routes that set none (default 16 KiB; every Vigil route is a GET). */
  bodyLimit?: number;
}

/** Routes open without a token and outside the rate limit: liveness probes must not fail on either. */
export const OPEN_ROUTES: readonly string[] = ['/healthz'];

const DEFAULT_RATE = { max: 600, windowMs: 60_000 };
const DEFAULT_BODY_LIMIT = 16_384;

// Hashing first gives equal-length inputs to timingSafeEqual, so neither a token's content nor its
// length leaks through timing.
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * A constant-time check of a presented token against the accepted ones: every accepted token is
 * compared, whatever matched first.
 */
export function tokenMatches(presented: string, accepted: readonly Buffer[]): boolean {
  const d = digest(presented);
  let ok = false;
  for (const a of accepted) ok = timingSafeEqual(d, a) || ok;
  return ok;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return m === null ? undefined : m[1];
}

function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="vigil"')
    .send({ error: 'Unauthorized', message });
}

/**
 * True for a route marked `config: { public: true }`: served without a token (still rate limited)
 * because it holds no data — the dashboard's page and code, which send the token themselves, and the
 * API docs.
 */
export function isPublicRoute(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { public?: unknown } | undefined)?.public === true;
}

function routeOf(request: FastifyRequest): string {
  // The route pattern (/v1/users/:userId), never the URL with its values; unmatched: (no route).
  return request.routeOptions.url ?? '(no route)';
}

const plugin: FastifyPluginAsync<ApiSecurityOptions> = async (app: FastifyInstance, options: ApiSecurityOptions) => {
  const rate = options.rateLimit ?? DEFAULT_RATE;
  if (!Number.isSafeInteger(rate.max) || rate.max < 1 || !(rate.windowMs > 0)) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `api.rateLimit: max must be an integer ≥ 1 and window > 0, got ${rate.max} per ${rate.windowMs} ms`, {
      details: { key: 'api.rateLimit' },
    });
  }
  const accepted = (options.tokens ?? []).filter((t) => t.length > 0).map(digest);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;

  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= bodyLimit;
  });

  // Rate limiting comes first, so a client guessing tokens is slowed down like any other.
  await app.register(rateLimit, { global: false });
  const limit = app.rateLimit({
    max: rate.max,
    timeWindow: rate.windowMs,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `rate limit exceeded: at most ${context.max} requests per ${context.after} per client; retry later`,
    }),
  });
  app.addHook('onRequest', async (request, reply) => {
    if (OPEN_ROUTES.includes(routeOf(request))) return;
    try {
      await limit.call(app, request, reply);
    } catch (error) {
      // The limiter throws its response; answering here keeps it out of the routes' error handler.
      const e = error as { statusCode?: unknown };
      if (e.statusCode !== 429) throw error;
      return reply.code(429).send(error);
    }
  });

  if (accepted.length > 0) {
    app.addHook('onRequest', async (request, reply) => {
      if (reply.sent || OPEN_ROUTES.includes(routeOf(request)) || isPublicRoute(request)) return;
      const header = request.headers.authorization;
      if (header === undefined) return unauthorized(reply, 'authentication required: send Authorization: Bearer <token>');
      const token = bearerToken(header);
      if (token === undefined) return unauthorized(reply, 'malformed Authorization header: expected Bearer <token>');
      if (!tokenMatches(token, accepted)) return unauthorized(reply, 'invalid bearer token');
    });
  }

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (request.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, route: routeOf(request), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
};

// Not encapsulated (what fastify-plugin does): the hooks apply to the routes of the instance it is registered on.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

/**
 * The query API's security plugin: register it on the server before or after the routes.
 * Rate limiting per client IP (default 600 per minute; 429 with a clear message) on every route but
 * `/healthz`, then — when `tokens` is non-empty — `Authorization: Bearer <token>` on every route but
 * `/healthz` and those marked public (see {@link isPublicRoute}), compared in constant time (401 with `WWW-Authenticate: Bearer` and a message saying what is missing or wrong;
 * the token is never logged). It also caps request bodies, sets `X-Content-Type-Options: nosniff`
 * everywhere and `Cache-Control: no-store` on `/v1/*`, and logs one line per request with the
 * method, the route pattern, the status and the time — never the URL, whose path and query may hold
 * user ids or filter values. Pair it with `logController: new LogController({ disableRequestLogging: true })`.
 */
export const apiSecurity = plugin;
