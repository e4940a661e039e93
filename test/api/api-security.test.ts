import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { apiSecurity, bearerToken, tokenMatches } from '../../src/api/api-security.js';
import { createQueryServer } from '../../src/api/query-server.js';
import { testEngine } from '../helpers/test-engine.js';

const TOKEN = 'tok-0123456789abcdef';
const OTHER = 'tok-fedcba9876543210';
const WINDOWS = { slideMs: 10_000, windowMs: 60_000, retentionMs: 600_000, allowedLatenessMs: 0 };

function server(security: Parameters<typeof createQueryServer>[0]['security'], logger?: pino.Logger): FastifyInstance {
  return createQueryServer({ backend: testEngine('rules: []', WINDOWS), security, ...(logger ? { logger } : {}) });
}

describe('query API security', () => {
  describe('with bearer tokens', () => {
    let app: FastifyInstance;
    before(async () => {
      app = server({ tokens: [TOKEN, OTHER] });
      await app.ready();
    });
    after(() => app.close());

    it('answers /healthz without a token', async () => {
      const res = await app.inject({ url: '/healthz' });
      assert.equal(res.statusCode, 200);
    });

    it('refuses every other route without a token: 401, WWW-Authenticate and a message saying what to send', async () => {
      for (const url of ['/readyz', '/v1/status', '/v1/percentiles', '/v1/alerts', '/v1/signals', '/v1/users', '/v1/no-such-route']) {
        const res = await app.inject({ url });
        assert.equal(res.statusCode, 401, url);
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="vigil"');
        assert.deepEqual(res.json(), { error: 'Unauthorized', message: 'authentication required: send Authorization: Bearer <token>' });
      }
    });

    it('says a malformed header is malformed and a wrong token is invalid', async () => {
      assert.equal((await app.inject({ url: '/v1/status', headers: { authorization: `Basic ${TOKEN}` } })).json<{ message: string }>().message, 'malformed Authorization header: expected Bearer <token>');
      const wrong = await app.inject({ url: '/v1/status', headers: { authorization: 'Bearer tok-not-the-right-one' } });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json<{ message: string }>().message, 'invalid bearer token');
    });

    it('accepts any of the configured tokens', async () => {
      for (const t of [TOKEN, OTHER]) {
        const res = await app.inject({ url: '/v1/status', headers: { authorization: `Bearer ${t}` } });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      }
    });

    it('still names unknown parameters once authenticated', async () => {
      const res = await app.inject({ url: '/v1/alerts?stat=firing', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json<{ parameter: string }>().parameter, 'stat');
    });
  });

  it('lets routes marked public (pages holding no data) through without a token, still rate-limited', async () => {
    const app = Fastify();
    await app.register(apiSecurity, { tokens: [TOKEN], rateLimit: { max: 2, windowMs: 60_000 } });
    app.get('/page', { config: { public: true } }, async () => 'page');
    app.get('/data', async () => 'data');
    assert.equal((await app.inject({ url: '/page' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/data' })).statusCode, 401);
    assert.equal((await app.inject({ url: '/page' })).statusCode, 429);
    await app.close();
  });

  it('without tokens, every route is open', async () => {
    const app = server({});
    assert.equal((await app.inject({ url: '/v1/status' })).statusCode, 200);
    await app.close();
  });

  it('limits each client to max requests per window with 429 and a clear message, leaving /healthz alone', async () => {
    const app = server({ rateLimit: { max: 3, windowMs: 60_000 } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await app.inject({ url: '/v1/status' })).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    const limited = await app.inject({ url: '/v1/status' });
    assert.deepEqual(limited.json(), { statusCode: 429, error: 'Too Many Requests', message: 'rate limit exceeded: at most 3 requests per 1 minute per client; retry later' });
    assert.ok(Number(limited.headers['retry-after']) > 0);
    // Another client has its own budget.
    assert.equal((await app.inject({ url: '/v1/status', remoteAddress: '10.0.0.9' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    await app.close();
  });

  it('rate-limits before authenticating, so token guessing is throttled too', async () => {
    const app = server({ tokens: [TOKEN], rateLimit: { max: 2, windowMs: 60_000 } });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ url: '/v1/status', headers: { authorization: `Bearer guess-${i}` } })).statusCode);
    assert.deepEqual(codes, [401, 401, 429, 429]);
    await app.close();
  });

  it('caps request bodies', async () => {
    const app = Fastify();
    await app.register(apiSecurity, { bodyLimit: 64 });
    app.post('/echo', async (request) => ({ size: JSON.stringify(request.body).length }));
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    assert.equal(ok.statusCode, 200);
    const big = await app.inject({ method: 'POST', url: '/echo', payload: { a: 'x'.repeat(1000) } });
    assert.equal(big.statusCode, 413);
    await app.close();
  });

  it('logs one line per request with the route pattern, never the URL, its query or the token', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const app = server({ tokens: [TOKEN] }, logger);
    await app.inject({ url: '/v1/users/jane.doe@example.com?x=4111111111111111', headers: { authorization: `Bearer ${TOKEN}` } });
    await app.inject({ url: '/v1/percentiles?model=secret-model', headers: { authorization: `Bearer ${TOKEN}` } });
    await app.close();
    const all = lines.join('');
    for (const secret of ['jane.doe', '4111111111111111', 'secret-model', TOKEN]) assert.ok(!all.includes(secret), `log contains ${secret}`);
    assert.match(all, /"route":"\/v1\/users\/:userId"/);
    assert.match(all, /"route":"\/v1\/percentiles","statusCode":200/);
  });

  it('compares tokens in constant time over every accepted token and parses the Bearer scheme strictly', () => {
    const accepted = [TOKEN, OTHER].map((t) => createHash('sha256').update(t).digest());
    assert.equal(tokenMatches(TOKEN, accepted), true);
    assert.equal(tokenMatches(OTHER, accepted), true);
    assert.equal(tokenMatches(TOKEN.slice(0, -1), accepted), false);
    assert.equal(tokenMatches('', accepted), false);
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer   abc '), 'abc');
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});
