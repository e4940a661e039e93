import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { startBroker, type KafkaTestBroker } from '../../scripts/kafka-broker.mjs';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import { SeededRandom } from '../../src/demo/random.js';
import type { LlmSpan } from '../../src/model/index.js';
import { committedOffsets, createTopic, endOffsets, readAlerts, randomName } from '../helpers/kafka-test-env.js';
import { makeSpan } from '../helpers/span-factory.js';
import { startVigilRun, waitFor, type VigilProcess } from '../helpers/vigil-process.js';

// The broker is down this long (SIGTERM, then a restart on the same ports and data): as long as
// kafkajs' default retry budget (30 s), so the consumer, the alert producer and the test's own
// producer all run out of retries at least once and must come back on their own.
const DOWNTIME_MS = 30_000;
const MINUTE = 60_000;
const T0 = Math.floor((Date.now() - 3_600_000) / MINUTE) * MINUTE;

const RULES = `
rules:
  - name: model-p99-latency
    signal: latency
    stat: p99
    groupBy: [model]
    window: 1m
    op: ">"
    threshold: 4000
    for: 20s
    severity: critical
`;

// Two models, 20 spans/s each over 8 minutes of event time; gpt-4o is 6x slower from minute 2 to
// minute 4, so the alert fires before the outage and resolves after it.
function traffic(): LlmSpan[] {
  const rng = new SeededRandom(4);
  const spans: LlmSpan[] = [];
  for (let t = 0; t < 8 * MINUTE; t += 50) {
    const slow = t >= 2 * MINUTE && t < 4 * MINUTE;
    spans.push(makeSpan({ startTime: T0 + t, model: 'gpt-4o', durationMs: Math.round(rng.lognormal(800, 0.5) * (slow ? 6 : 1)) }));
    spans.push(makeSpan({ startTime: T0 + t + 7, model: 'claude-sonnet-4', provider: 'anthropic', durationMs: Math.round(rng.lognormal(1200, 0.4)) }));
  }
  return spans;
}

describe('the broker is stopped and restarted mid-stream', () => {
  let broker: KafkaTestBroker;
  let vigil: VigilProcess;
  const traces = randomName('vigil-it-restart-traces');
  const alerts = randomName('vigil-it-restart-alerts');
  const groupId = randomName('vigil-it-restart-group');

  before(async () => {
    // A broker of this test's own: it is the one that goes down.
    broker = await startBroker();
    process.env.KAFKA_BROKERS = broker.brokers;
    // A broker this fresh can answer the first metadata requests for a new topic with
    // UNKNOWN_TOPIC_OR_PARTITION; creating again once it has settled is harmless.
    for (const [topic, partitions] of [[traces, 2], [alerts, 1]] as const) {
      await waitFor(`topic ${topic}`, async () => {
        await createTopic(topic, partitions).catch(async (error: unknown) => {
          if ((await listTopics()).includes(topic)) return;
          throw error;
        });
        return true;
      }, 60_000);
    }
    vigil = await startVigilRun(
      [
        'kafka:',
        `  brokers: [${broker.brokers}]`,
        `  groupId: ${groupId}`,
        `  tracesTopic: ${traces}`,
        `  alertsTopic: ${alerts}`,
        '  fromBeginning: true',
        '  sinkRetry: { initialBackoff: 200ms, maxBackoff: 2s }',
        'windows: { slide: 10s, window: 1m, retention: 10m, allowedLateness: 5s, idleAdvanceAfter: 1h }',
        'rules: rules.yaml',
        'api: { host: 127.0.0.1, port: 0 }',
        'log: { level: info }',
      ].join('\n'),
      { 'rules.yaml': RULES },
    );
  });

  const listTopics = async (): Promise<string[]> => {
    const admin = new Kafka({ brokers: [broker.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      return await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  };

  after(async () => {
    await vigil?.stop();
    await broker?.stop();
  });

  it('the engine keeps running, reconnects, resumes and loses nothing', { timeout: 280_000 }, async () => {
    const spans = traffic();
    const kafka = new Kafka({ brokers: [broker.brokers], clientId: 'vigil-test-restart-producer', logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const codec = new SpanCodec();
    let retriedSends = 0;
    // Each chunk is retried until the broker takes it; the idempotent producer keeps a retried chunk
    // that did land from landing twice.
    const produce = async (chunk: LlmSpan[]): Promise<void> => {
      for (;;) {
        try {
          await producer.send({ topic: traces, acks: -1, messages: chunk.map((s) => ({ key: s.traceId, value: codec.encode(s) })) });
          return;
        } catch {
          retriedSends++;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };

    // Before the outage: the incident starts and fires.
    const before = spans.filter((s) => s.startTime < T0 + 3 * MINUTE);
    await produce(before);
    const [firing] = await readAlerts(alerts, 1, 90_000);
    assert.equal(firing.alert.state, 'FIRING');
    await waitFor('the first part processed', async () => ((await vigil.status()).eventsIn === before.length ? true : undefined), 60_000);
    const committedBefore = [...(await committedOffsets(groupId, traces)).values()].reduce((n, o) => n + Math.max(0, Number(o)), 0);

    // Mid-stream: the broker goes down while the producer keeps producing, chunk by chunk.
    const rest = spans.filter((s) => s.startTime >= T0 + 3 * MINUTE);
    const restarted = broker.restart({ downtimeMs: DOWNTIME_MS });
    const producing = (async () => {
      for (let i = 0; i < rest.length; i += 400) {
        await produce(rest.slice(i, i + 400));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // The engine keeps running through it: alive, answering, only not ready.
    const outage = Date.now();
    let healthChecks = 0;
    while (!broker.running || Date.now() - outage < 5_000) {
      assert.equal(vigil.child.exitCode, null, vigil.stderr().slice(-2000));
      assert.equal((await fetch(`${vigil.api}/healthz`)).status, 200);
      healthChecks++;
      await new Promise((r) => setTimeout(r, 1000));
      if (Date.now() - outage > DOWNTIME_MS + 90_000) break;
    }
    await restarted;
    await producing;
    await producer.disconnect();
    assert.ok(healthChecks >= DOWNTIME_MS / 1000 / 2, `${healthChecks} health checks during the outage`);

    // It reconnects and resumes: every span is processed — at least once; a batch in flight when the
    // broker went away may be processed again (at-least-once), never skipped.
    const status = await waitFor('every span processed after the restart', async () => {
      const s = await vigil.status();
      return s.eventsIn >= spans.length && s.maxEventTime === spans[spans.length - 1].startTime ? s : undefined;
    }, 150_000).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}; status ${JSON.stringify(await vigil.status().catch(() => null))}; log ends: ${vigil.stderr().slice(-3000)}`);
    });
    const duplicates = status.eventsIn - spans.length;
    console.log(
      `# broker restart: down ${DOWNTIME_MS / 1000} s, ${retriedSends} producer sends retried, ${committedBefore} of ${before.length} offsets committed before the outage, ${duplicates} spans applied twice`,
    );
    // Records fetched again after the outage are skipped by offset: every span counts exactly once.
    assert.equal(duplicates, 0, `${duplicates} spans applied twice`);
    assert.equal(status.deadLetters, 0);
    // The group's aggregates equal the exact figures of the data: counts per model over the whole run.
    await waitFor('the group caught up', async () => ((await vigil.status()).watermark ?? 0) >= T0 + 7 * MINUTE ? true : undefined, 60_000).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}; status ${JSON.stringify(await vigil.status().catch(() => null))}; log ends: ${vigil.stderr().slice(-3000)}`);
    });
    const window = 7 * MINUTE;
    const answer = (await (await fetch(`${vigil.api}/v1/signals/latency?groupBy=model&window=7m&stats=count,max`)).json()) as { window: { end: number }; groups: { key: string; count: number; values: { max: number } }[] };
    for (const g of answer.groups) {
      const model = g.key.slice('model='.length);
      const mine = spans.filter((s) => s.model === model && s.startTime >= answer.window.end - window && s.startTime < answer.window.end);
      assert.equal(g.count, mine.length, `${g.key}: count`);
      assert.equal(g.values.max, Math.max(...mine.map((s) => s.durationMs)), `${g.key}: max`);
    }
    assert.equal(answer.groups.length, 2);

    // The expected alerts arrive: FIRING before, RESOLVED after, one alertId; nothing else.
    const received = await readAlerts(alerts, 2, 120_000);
    const distinct = new Map(received.map((r) => [`${r.alert.alertId}|${r.alert.state}`, r.alert]));
    assert.deepEqual(
      [...distinct.values()].map((a) => [a.state, a.groupKey]),
      [
        ['FIRING', 'model=gpt-4o'],
        ['RESOLVED', 'model=gpt-4o'],
      ],
    );
    assert.equal(new Set([...distinct.values()].map((a) => a.alertId)).size, 1);

    // And stops cleanly, every partition committed (at its restore offset, never past the end).
    assert.equal(await vigil.stop(), 0, vigil.stderr().slice(-2000));
    const committed = await committedOffsets(groupId, traces);
    for (const [partition, end] of await endOffsets(traces)) assert.ok(BigInt(committed.get(partition) ?? '-1') >= 0n && BigInt(committed.get(partition)!) <= BigInt(end), `partition ${partition}`);
  });
});
