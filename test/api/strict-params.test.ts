import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createQueryServer } from '../../src/api/query-server.js';
import { testEngine } from '../helpers/test-engine.js';

const WINDOWS = { slideMs: 10_000, windowMs: 60_000, retentionMs: 600_000, allowedLatenessMs: 0 };

describe('strict query parameters', () => {
  it('every /v1 route answers an unknown parameter with 400 naming it', async () => {
    const app = createQueryServer({ backend: testEngine('rules: []', WINDOWS) });
    const routes: string[] = [];
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (methods.includes('GET') && route.url.startsWith('/v1/')) routes.push(route.url);
    });
    await app.ready();
    assert.ok(routes.length >= 12, routes.join(' '));
    for (const route of routes) {
      const url = route.replace(':signal', 'latency').replace(':userId', 'u1');
      const res = await app.inject({ url: `${url}?bogus=1` });
      assert.equal(res.statusCode, 400, url);
      const body = res.json<{ parameter: string; message: string }>();
      assert.equal(body.parameter, 'bogus', url);
      assert.match(body.message, /^bogus: unknown parameter/, url);
    }
    await app.close();
  });

  it('says which parameters a route takes', async () => {
    const app = createQueryServer({ backend: testEngine('rules: []', WINDOWS) });
    assert.equal((await app.inject({ url: '/v1/users?user=x' })).json<{ message: string }>().message, 'user: unknown parameter (/v1/users takes kind, limit)');
    assert.equal((await app.inject({ url: '/v1/status?verbose=1' })).json<{ message: string }>().message, 'verbose: unknown parameter (/v1/status takes no parameters)');
    assert.equal((await app.inject({ url: '/v1/users?kind=everyone' })).json<{ message: string }>().message, 'kind: must be one of rate_spike, token_spike, cost_spike, probing, session_spread');
    await app.close();
  });
});
