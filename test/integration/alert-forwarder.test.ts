import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { AlertCodec } from '../../src/codec/avro-codec.js';
import { AlertForwarder } from '../../src/forwarders/alert-forwarder.js';
import { AlertmanagerTarget } from '../../src/forwarders/alertmanager-target.js';
import type { ForwardTarget } from '../../src/forwarders/forward-target.js';
import { WebhookTarget } from '../../src/forwarders/webhook-target.js';
import type { AlertEvent } from '../../src/model/index.js';
import { alertMessageKey } from '../../src/sinks/kafka-alert-sink.js';
import { sampleAlert } from '../codec/span-fixtures.js';
import { startHttpTarget, type HttpTarget, type RecordedRequest } from '../helpers/http-target.js';
import { committedOffsets, createTopic, deleteGroups, deleteTopics, endOffsets, kafkaBrokers, produceRaw, randomName } from '../helpers/kafka-test-env.js';
import { waitFor } from '../helpers/vigil-process.js';

const codec = new AlertCodec();
const FAST_RETRY = { attempts: 3, backoff: 20, maxBackoff: 100 };

/** Two episodes of one rule, FIRING then RESOLVED each, and one INFO alert. */
function episodes(): AlertEvent[] {
  const base = sampleAlert();
  return [
    sampleAlert({ alertId: 'ep-1', state: 'FIRING' }),
    sampleAlert({ alertId: 'ep-2', state: 'FIRING', groupKey: 'model=claude-sonnet-4,service=chat-api', groupLabels: { model: 'claude-sonnet-4', service: 'chat-api' } }),
    sampleAlert({ alertId: 'ep-1', state: 'RESOLVED', windowEnd: base.windowEnd + 600_000, message: 'RESOLVED: back to normal' }),
    sampleAlert({ alertId: 'ep-3', state: 'FIRING', severity: 'INFO', ruleName: 'cost-note' }),
    sampleAlert({ alertId: 'ep-2', state: 'RESOLVED', groupKey: 'model=claude-sonnet-4,service=chat-api', groupLabels: { model: 'claude-sonnet-4', service: 'chat-api' }, windowEnd: base.windowEnd + 900_000 }),
  ];
}

async function produceAlerts(topic: string, alerts: readonly AlertEvent[]): Promise<void> {
  await produceRaw(topic, alerts.map((a) => ({ key: alertMessageKey(a), value: codec.encode(a) })));
}

/** `alertId|state` of a request to a JSON webhook or to Alertmanager. */
function keyOf(request: RecordedRequest): string {
  const body = request.body as { alert?: AlertEvent } | { labels: Record<string, string>; endsAt?: string; startsAt: string }[];
  if (Array.isArray(body)) {
    const [a] = body;
    // Alertmanager has no state field: a RESOLVED one ends at its transition, before the far-away FIRING TTL.
    const resolved = a.endsAt !== undefined && Date.parse(a.endsAt) < Date.now();
    return `${a.labels.alertId}|${resolved ? 'RESOLVED' : 'FIRING'}`;
  }
  return `${body.alert!.alertId}|${body.alert!.state}`;
}

function countByKey(requests: readonly RecordedRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) counts.set(keyOf(r), (counts.get(keyOf(r)) ?? 0) + 1);
  return counts;
}

async function allCommitted(groupId: string, topic: string): Promise<true | undefined> {
  const [committed, end] = await Promise.all([committedOffsets(groupId, topic), endOffsets(topic)]);
  // An empty partition has nothing to commit.
  for (const [partition, high] of end) if (high !== '0' && committed.get(partition) !== high) return undefined;
  return true;
}

describe('vigil alerts forward against a real Kafka broker', () => {
  const topics: string[] = [];
  const groups: string[] = [];
  const servers: HttpTarget[] = [];
  const forwarders: AlertForwarder[] = [];
  const logger = pino({ level: 'silent' });

  before(() => void kafkaBrokers());
  after(async () => {
    await Promise.all(forwarders.map((f) => f.stop()));
    await Promise.all(servers.map((s) => s.close()));
    await deleteGroups(groups);
    await deleteTopics(topics);
  });

  async function setup(partitions: number): Promise<{ topic: string; groupId: string }> {
    const topic = randomName('vigil-it-fwd-alerts');
    const groupId = randomName('vigil-it-fwd');
    topics.push(topic);
    groups.push(groupId);
    await createTopic(topic, partitions);
    return { topic, groupId };
  }

  async function server(responder?: Parameters<typeof startHttpTarget>[0]): Promise<HttpTarget> {
    const s = await startHttpTarget(responder);
    servers.push(s);
    return s;
  }

  function forwarder(topic: string, groupId: string, targets: ForwardTarget[], retry = FAST_RETRY): AlertForwarder {
    const f = new AlertForwarder({ brokers: kafkaBrokers(), topic, groupId, fromBeginning: true, targets, retry, dedupSize: 100, logger });
    forwarders.push(f);
    return f;
  }

  it('posts Alertmanager, Slack and JSON payloads for each alert, respecting each webhook’s minimum severity', async () => {
    const { topic, groupId } = await setup(2);
    const [am, slack, json] = [await server(), await server(), await server()];
    const alerts = episodes();
    await produceAlerts(topic, alerts);
    const f = forwarder(topic, groupId, [
      new AlertmanagerTarget({ url: am.url, firingTtlMs: 3_600_000, timeoutMs: 5000 }),
      new WebhookTarget('webhooks[0]', { url: `${slack.url}/services/T/B/secret`, format: 'slack', minSeverity: 'warning', headers: {} }, 5000),
      new WebhookTarget('webhooks[1]', { url: `${json.url}/hook`, format: 'json', minSeverity: 'info', headers: { authorization: 'Bearer abc' } }, 5000),
    ]);
    await f.start();
    await waitFor('every alert forwarded and committed', () => allCommitted(groupId, topic), 60_000);

    assert.equal(am.requests.length, 5);
    assert.equal(slack.requests.length, 4, 'the INFO alert is below the Slack webhook’s minSeverity');
    assert.equal(json.requests.length, 5);

    assert.ok(am.requests.every((r) => r.method === 'POST' && r.path === '/api/v2/alerts'));
    const firing = am.requests.map((r) => (r.body as { labels: Record<string, string> }[])[0]).find((a) => a.labels.alertId === 'ep-1');
    assert.deepEqual(firing?.labels, { model: 'gpt-4o', service: 'chat-api', alertname: 'latency-p99-high', severity: 'critical', alertId: 'ep-1' });
    const resolved = am.requests
      .map((r) => (r.body as { labels: Record<string, string>; startsAt: string; endsAt?: string; annotations: Record<string, string> }[])[0])
      .find((a) => a.labels.alertId === 'ep-1' && a.annotations.message.startsWith('RESOLVED'));
    assert.equal(resolved?.startsAt, new Date(sampleAlert().episodeStart).toISOString());
    assert.equal(resolved?.endsAt, new Date(sampleAlert().windowEnd + 600_000).toISOString());

    assert.ok(slack.requests.every((r) => r.path === '/services/T/B/secret'));
    const slackBody = slack.requests[0].body as { text: string; blocks: unknown[] };
    assert.match(slackBody.text, /^:red_circle: FIRING critical latency-p99-high/);
    assert.equal(slackBody.blocks.length, 2);

    assert.ok(json.requests.every((r) => r.headers.authorization === 'Bearer abc'));
    const received = json.requests.map((r) => (r.body as { alert: AlertEvent }).alert);
    assert.deepEqual(
      new Set(received.map((a) => `${a.alertId}|${a.state}`)),
      new Set(alerts.map((a) => `${a.alertId}|${a.state}`)),
    );
    // One group's FIRING comes before its RESOLVED (same key, same partition, in order).
    const order = received.map((a) => `${a.alertId}|${a.state}`);
    assert.ok(order.indexOf('ep-1|FIRING') < order.indexOf('ep-1|RESOLVED'));
    assert.ok(order.indexOf('ep-2|FIRING') < order.indexOf('ep-2|RESOLVED'));
    assert.deepEqual(f.counts(), { forwarded: 5, delivered: 14, duplicates: 0, rejected: 0, invalid: 0 });
  });

  it('delivers each alert exactly once to a target that fails twice before succeeding, without re-posting to the others, and drops re-emitted duplicates', async () => {
    const { topic, groupId } = await setup(1);
    const attempts = new Map<string, number>();
    const flaky = await server((req) => {
      const key = `${(req.body as { alert: AlertEvent }).alert.alertId}|${(req.body as { alert: AlertEvent }).alert.state}`;
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      return n <= 2 ? 503 : 200;
    });
    const steady = await server();
    const refusing = await server(() => 400);
    const alerts = episodes();
    // `vigil run` re-emits after a crash: the same alertId and state again, at a later offset.
    await produceAlerts(topic, [...alerts, alerts[0], alerts[2]]);
    const f = forwarder(topic, groupId, [
      new WebhookTarget('webhooks[0]', { url: flaky.url, format: 'json', minSeverity: 'info', headers: {} }, 5000),
      new WebhookTarget('webhooks[1]', { url: steady.url, format: 'json', minSeverity: 'info', headers: {} }, 5000),
      new WebhookTarget('webhooks[2]', { url: refusing.url, format: 'json', minSeverity: 'info', headers: {} }, 5000),
    ]);
    await f.start();
    await waitFor('every alert forwarded and committed', () => allCommitted(groupId, topic), 60_000);

    const expected = new Map(alerts.map((a) => [`${a.alertId}|${a.state}`, 1]));
    assert.deepEqual(countByKey(flaky.accepted()), expected, 'the flaky target accepted each alert exactly once');
    assert.equal(flaky.requests.length, alerts.length * 3, 'two failures and one success per alert');
    assert.deepEqual(countByKey(steady.requests), expected, 'the healthy target was not re-posted while the flaky one was retried');
    assert.deepEqual(countByKey(refusing.requests), expected, 'a 4xx is not retried');
    assert.deepEqual(f.counts(), { forwarded: 7, delivered: 10, duplicates: 6, rejected: 5, invalid: 0 });
  });

  it('holds an alert while a target is down past its attempts, then delivers it without losing or repeating any', async () => {
    const { topic, groupId } = await setup(1);
    let down = true;
    const am = await server(() => (down ? 502 : 200));
    const alerts = episodes().slice(0, 2);
    await produceRaw(topic, [{ key: 'junk', value: Buffer.from('not an alert') }]);
    await produceAlerts(topic, alerts);
    const f = forwarder(topic, groupId, [new AlertmanagerTarget({ url: am.url, firingTtlMs: 0, timeoutMs: 5000 })], { attempts: 2, backoff: 10, maxBackoff: 150 });
    await f.start();
    await waitFor('a few failed rounds', async () => (am.requests.length >= 6 ? true : undefined), 60_000);
    const committed = await committedOffsets(groupId, topic);
    assert.equal(committed.get(0), '1', 'only the undecodable record is committed while the first alert waits');
    down = false;
    await waitFor('every alert forwarded and committed', () => allCommitted(groupId, topic), 60_000);
    assert.deepEqual(
      countByKey(am.accepted()),
      new Map(alerts.map((a) => [`${a.alertId}|${a.state}`, 1])),
    );
    assert.equal(f.counts().invalid, 1);
  });

  it('leaves an alert a target has not accepted uncommitted when stopped, and a new forwarder of the group delivers it', async () => {
    const { topic, groupId } = await setup(1);
    let down = true;
    const am = await server(() => (down ? 503 : 200));
    const [alert] = episodes();
    await produceAlerts(topic, [alert]);
    const first = forwarder(topic, groupId, [new AlertmanagerTarget({ url: am.url, firingTtlMs: 0, timeoutMs: 5000 })], { attempts: 2, backoff: 10, maxBackoff: 5000 });
    await first.start();
    await waitFor('the first attempts', async () => (am.requests.length >= 2 ? true : undefined), 60_000);
    await first.stop();
    assert.equal((await committedOffsets(groupId, topic)).get(0), '-1');
    down = false;
    const second = forwarder(topic, groupId, [new AlertmanagerTarget({ url: am.url, firingTtlMs: 0, timeoutMs: 5000 })]);
    await second.start();
    await waitFor('the alert delivered and committed', () => allCommitted(groupId, topic), 60_000);
    assert.equal(am.accepted().length, 1);
  });
});
