import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createQueryServer } from '../../src/api/query-server.js';
import { testEngine } from '../helpers/test-engine.js';
import { BASE_TIME, makeSpan } from '../helpers/span-factory.js';

const RULES = `
rules:
  - name: slow
    signal: latency
    stat: max
    groupBy: [model]
    window: 1m
    op: ">"
    threshold: 2000
    severity: warning
`;

describe('query API', () => {
  let app: FastifyInstance;
  const durations: number[] = [];

  before(async () => {
    const engine = testEngine(RULES, { slideMs: 10_000, windowMs: 300_000, retentionMs: 3_600_000, allowedLatenessMs: 0 });
    const spans = [];
    for (let i = 0; i < 2000; i++) {
      const d = 100 + ((i * 7919) % 1000);
      durations.push(d);
      spans.push(
        makeSpan({
          startTime: BASE_TIME + i * 100,
          durationMs: d,
          model: i % 2 === 0 ? 'gpt-4o' : 'claude',
          ttftMs: i % 4 === 0 ? 50 : null,
          inputText: 'SECRET PROMPT',
          userId: 'user-secret',
        }),
      );
    }
    spans.push(makeSpan({ startTime: BASE_TIME + 195_000, durationMs: 5000, model: 'gpt-4o' }));
    // Moves event time past the boundary at 200 s, so that sub-window closes and the rule sees it.
    spans.push(makeSpan({ startTime: BASE_TIME + 210_000, durationMs: 100, model: 'claude' }));
    engine.process({ source: 'test', spans, deadLetters: [] });
    app = createQueryServer({ backend: engine });
    await app.ready();
  });

  after(async () => app.close());

  it('/v1/percentiles answers per group with the count and the asked quantiles', async () => {
    const res = await app.inject({ url: '/v1/percentiles?metric=latency&window=5m&groupBy=model&q=0.5,0.99' });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ window: { start: number; end: number; ms: number; label: string }; groups: { key: string; count: number; quantiles: Record<string, number> }[] }>();
    assert.equal(body.window.ms, 300_000);
    assert.equal(body.window.label, '5m');
    assert.deepEqual(
      body.groups.map((g) => [g.key, g.count]),
      [
        ['model=claude', 1001],
        ['model=gpt-4o', 1001],
      ],
    );
    assert.deepEqual(Object.keys(body.groups[0].quantiles), ['p50', 'p99']);
  });

  it('a filter restricts the spans and ttft counts only streaming spans', async () => {
    const res = await app.inject({ url: '/v1/percentiles?metric=ttft&model=gpt-4o' });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ groups: { key: string; count: number; quantiles: Record<string, number> }[] }>();
    assert.equal(body.groups.length, 1);
    assert.equal(body.groups[0].key, '*');
    assert.equal(body.groups[0].count, 500);
    assert.equal(body.groups[0].quantiles.p50, 50);
  });

  for (const [query, parameter] of [
    ['metric=size', 'metric'],
    ['window=7s', 'window'],
    ['window=2h', 'window'],
    ['window=abc', 'window'],
    ['groupBy=region', 'groupBy'],
    ['q=1.5', 'q'],
    ['q=abc', 'q'],
    ['colour=red', 'colour'],
  ] as const) {
    it(`a bad parameter (${query}) gets 400 with a message that names ${parameter}`, async () => {
      const res = await app.inject({ url: `/v1/percentiles?${query}` });
      assert.equal(res.statusCode, 400);
      const body = res.json<{ parameter: string; message: string }>();
      assert.equal(body.parameter, parameter);
      assert.ok(body.message.startsWith(`${parameter}:`), body.message);
    });
  }

  it('/v1/alerts lists firing alerts without prompt text or user ids', async () => {
    const res = await app.inject({ url: '/v1/alerts?state=firing' });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ count: number; alerts: { ruleName: string; groupKey: string }[] }>();
    assert.equal(body.count, 1);
    assert.equal(body.alerts[0].groupKey, 'model=gpt-4o');
    assert.ok(!res.body.includes('SECRET') && !res.body.includes('user-secret'));
    const bad = await app.inject({ url: '/v1/alerts?state=maybe' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ parameter: string }>().parameter, 'state');
  });

  it('/healthz and /readyz answer', async () => {
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const ready = await app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json<{ ready: boolean }>().ready, true);
  });

  it('/v1/status reports the engine counters', async () => {
    const body = (await app.inject({ url: '/v1/status' })).json<{ eventsIn: number; maxEventTime: number }>();
    assert.equal(body.eventsIn, 2002);
    assert.equal(body.maxEventTime, BASE_TIME + 210_000);
  });
});

describe('query API /v1/percentiles answers kept between engine changes', () => {
  it('answers a repeated query with the same bytes until new events change the answer', async () => {
    const engine = testEngine(RULES, { slideMs: 10_000, windowMs: 300_000, retentionMs: 3_600_000, allowedLatenessMs: 0 });
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => makeSpan({ startTime: BASE_TIME + from + i * 100, durationMs: 100 + i, model: 'gpt-4o' }));
    engine.process({ source: 'test', spans: batch(0, 50), deadLetters: [] });
    const served = createQueryServer({ backend: engine });
    try {
      const url = '/v1/percentiles?groupBy=model&q=0.5,0.99';
      const first = await served.inject({ url });
      const second = await served.inject({ url });
      assert.equal(first.statusCode, 200);
      assert.equal(second.body, first.body);
      assert.equal(second.headers['content-type'], first.headers['content-type']);
      assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
      const count = (body: string): number => (JSON.parse(body) as { groups: { count: number }[] }).groups[0].count;
      assert.equal(count(first.body), 50);
      engine.process({ source: 'test', spans: batch(5_000, 10), deadLetters: [] });
      const third = await served.inject({ url });
      assert.equal(count(third.body), 60);
      // Another spelling of the question is answered on its own, consistently.
      const other = await served.inject({ url: '/v1/percentiles?q=0.5,0.99&groupBy=model' });
      assert.equal(other.body, third.body);
    } finally {
      await served.close();
      engine.close();
    }
  });
});
