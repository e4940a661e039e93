import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertmanagerTarget, alertmanagerAlert, alertmanagerEndpoint } from '../../src/forwarders/alertmanager-target.js';
import { sampleAlert } from '../codec/span-fixtures.js';
import { startHttpTarget, type HttpTarget } from '../helpers/http-target.js';

const NOW = Date.parse('2025-01-01T00:05:00Z');

describe('alertmanagerAlert', () => {
  it('labels a FIRING alert with the rule, lower-case severity, alertId and the group labels, and ends it after the TTL', () => {
    const out = alertmanagerAlert(sampleAlert(), { now: NOW, firingTtlMs: 3_600_000 });
    assert.deepEqual(out, {
      labels: { model: 'gpt-4o', service: 'chat-api', alertname: 'latency-p99-high', severity: 'critical', alertId: 'a1b2c3d4e5f6' },
      annotations: { message: 'latency p99 2412.5 ms > 2000 ms for model=gpt-4o,service=chat-api' },
      startsAt: '2024-12-31T23:59:00.000Z',
      endsAt: '2025-01-01T01:05:00.000Z',
    });
  });

  it('sets endsAt of a RESOLVED alert to its transition time, keeping the episode start', () => {
    const out = alertmanagerAlert(sampleAlert({ state: 'RESOLVED', windowEnd: Date.parse('2025-01-01T00:20:00Z') }), { now: NOW, firingTtlMs: 3_600_000 });
    assert.equal(out.startsAt, '2024-12-31T23:59:00.000Z');
    assert.equal(out.endsAt, '2025-01-01T00:20:00.000Z');
  });

  it('leaves endsAt of a FIRING alert unset when the TTL is zero', () => {
    assert.equal(alertmanagerAlert(sampleAlert(), { now: NOW, firingTtlMs: 0 }).endsAt, undefined);
  });

  it('turns dimension names into valid label names and never lets one override alertname, severity or alertId', () => {
    const alert = sampleAlert({ groupLabels: { 'eval.metric': 'faithfulness', '9x': 'y', alertname: 'spoof', severity: 'none' } });
    const { labels } = alertmanagerAlert(alert, { now: NOW, firingTtlMs: 0 });
    assert.equal(labels.eval_metric, 'faithfulness');
    assert.equal(labels._9x, 'y');
    assert.equal(labels.alertname, 'latency-p99-high');
    assert.equal(labels.severity, 'critical');
  });
});

describe('alertmanagerEndpoint', () => {
  it('appends the v2 alerts path to a base URL, with or without a trailing slash, and keeps a full one', () => {
    assert.equal(alertmanagerEndpoint('http://am:9093'), 'http://am:9093/api/v2/alerts');
    assert.equal(alertmanagerEndpoint('http://am:9093/'), 'http://am:9093/api/v2/alerts');
    assert.equal(alertmanagerEndpoint('http://am:9093/api/v2/alerts'), 'http://am:9093/api/v2/alerts');
  });
});

describe('AlertmanagerTarget', () => {
  let server: HttpTarget;
  before(async () => (server = await startHttpTarget()));
  after(() => server.close());

  it('posts a one-element JSON list to /api/v2/alerts', async () => {
    const target = new AlertmanagerTarget({ url: server.url, firingTtlMs: 0, timeoutMs: 2000, now: () => NOW });
    await target.deliver(sampleAlert());
    const [request] = server.requests;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/api/v2/alerts');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.ok(Array.isArray(request.body));
    assert.equal((request.body as unknown[]).length, 1);
  });
});
