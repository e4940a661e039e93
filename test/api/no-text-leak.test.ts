import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createQueryServer } from '../../src/api/query-server.js';
import { parseConfig } from '../../src/config/vigil-config.js';
import { DEFAULT_INCIDENTS, TrafficGenerator } from '../../src/demo/traffic-generator.js';
import { createEngine, demoRulesFile, loadRules } from '../../src/engine/engine-factory.js';
import type { VigilEngine } from '../../src/engine/vigil-engine.js';

// The PII the demo plants in outputs (src/demo/demo-texts.ts), and a user id shaped like PII.
const PLANTED = ['jane.doe@example.com', '+1 (415) 555-2671', '4111 1111 1111 1111', 'm.rossi@example.org', 'GB82 WEST 1234 5698 7654 32', 'sk-proj-'];
const PII_USER = 'jane.doe@example.com';
const START = Date.UTC(2026, 0, 1);

describe('no prompt text, output text or PII in any API response or log line', () => {
  let app: FastifyInstance;
  let engine: VigilEngine;
  const logLines: string[] = [];
  const routes: string[] = [];
  const texts = new Set<string>();
  const userIds = new Set<string>();

  before(async () => {
    const config = parseConfig({}, { env: {} });
    engine = createEngine(config, await loadRules(demoRulesFile(), config), { idle: false });
    const gen = new TrafficGenerator({ seed: 7, startTime: START, requestsPerSecond: 10 });
    // Every planted incident (PII leaks, injections, bursts) starts within the first minutes.
    const end = START + Math.min(20 * 60_000, Math.max(...DEFAULT_INCIDENTS.map((i) => i.fromMs)) + 3 * 60_000);
    for (let t = START; t < end; t += 10_000) {
      const events = gen.eventsUntil(t + 10_000);
      for (const s of events.spans) {
        if (s.inputText !== null) texts.add(s.inputText);
        if (s.outputText !== null) texts.add(s.outputText);
        if (s.userId !== null) userIds.add(s.userId);
      }
      for (const f of events.feedback) if (f.comment !== null) texts.add(f.comment);
      engine.process({ source: 'demo', spans: events.spans, feedback: events.feedback, evals: events.evals, deadLetters: [] });
    }
    const logger = pino({ level: 'trace' }, { write: (s: string) => void logLines.push(s) });
    app = createQueryServer({ backend: engine, logger });
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (methods.includes('GET')) routes.push(route.url);
    });
    await app.ready();
  });

  after(() => app.close());

  it('the demo traffic carried texts and planted PII, and the scanners saw them', () => {
    assert.ok(texts.size > 500, `${texts.size} distinct texts`);
    const all = [...texts].join('\n');
    for (const p of PLANTED) assert.ok(all.includes(p), `the demo planted ${p}`);
    const c = engine.pipelineStatus();
    assert.ok(c.piiFindings > 0 && c.injectionAttempts > 0);
  });

  it('calls every GET route with every parameter shape, and no body contains a text, a prefix of one or a planted PII value', async () => {
    const signals = (await app.inject({ url: '/v1/signals' })).json<{ signals: { name: string; dimensions: string[] }[] }>().signals;
    const urls = new Set<string>();
    for (const route of routes) {
      if (route.includes('*')) continue;
      if (route === '/v1/signals/:signal') {
        for (const s of signals) {
          if (s.name === 'users') continue;
          urls.add(`/v1/signals/${s.name}`);
          urls.add(`/v1/signals/${s.name}?groupBy=${s.dimensions.join(',')}&window=10m`);
        }
      } else if (route === '/v1/users/:userId') {
        for (const id of [...userIds].slice(0, 50)) urls.add(`/v1/users/${encodeURIComponent(id)}`);
        urls.add(`/v1/users/${encodeURIComponent(PII_USER)}`);
      } else if (route === '/v1/users') {
        for (const kind of ['rate_spike', 'token_spike', 'cost_spike', 'probing', 'session_spread']) urls.add(`/v1/users?kind=${kind}`);
      } else if (route === '/v1/percentiles') {
        urls.add('/v1/percentiles?groupBy=service,operation,model,provider,tenant&window=10m');
        urls.add('/v1/percentiles?metric=ttft&groupBy=model');
      } else if (route === '/v1/alerts') {
        urls.add('/v1/alerts?state=all&limit=1000');
        urls.add('/v1/alerts');
      } else if (!route.includes(':')) {
        urls.add(route);
        if (route.startsWith('/v1/') && route !== '/v1/status' && route !== '/v1/signals') urls.add(`${route}?groupBy=&window=10m`);
      }
    }
    assert.ok(urls.size > 60, `${urls.size} URLs`);
    const prefixes = [...texts].filter((t) => t.length >= 24).map((t) => t.slice(0, 24));
    let answered = 0;
    for (const url of urls) {
      const res = await app.inject({ url });
      assert.ok(res.statusCode < 500, `${url}: ${res.statusCode}`);
      if (res.statusCode === 200) answered++;
      const body = res.body;
      for (const p of PLANTED) assert.ok(!body.includes(p), `${url} returns planted PII ${p}`);
      for (const p of prefixes) assert.ok(!body.includes(p), `${url} returns text starting ${JSON.stringify(p)}`);
    }
    assert.ok(answered > urls.size * 0.9, `${answered} of ${urls.size} answered 200`);
    const profile = await app.inject({ url: `/v1/users/${encodeURIComponent([...userIds][0])}` });
    assert.equal(profile.statusCode, 200, 'a user profile is answered');
  });

  it('no log line written while answering holds a text or planted PII', () => {
    const all = logLines.join('');
    assert.ok(logLines.length > 60);
    for (const p of PLANTED) assert.ok(!all.includes(p), `the log holds ${p}`);
    for (const t of texts) if (t.length >= 24) assert.ok(!all.includes(t.slice(0, 24)), 'the log holds a text');
  });
});
