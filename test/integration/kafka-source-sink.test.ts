import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { VigilError } from '../../src/errors.js';
import type { LlmSpan } from '../../src/model/index.js';
import { KafkaAlertSink } from '../../src/sinks/kafka-alert-sink.js';
import { KafkaSpanSource } from '../../src/sources/kafka-source.js';
import type { KafkaSpanBatch } from '../../src/sources/kafka-source.js';
import type { DeadLetter } from '../../src/sources/span-source.js';
import { sampleAlert, spanSeries } from '../codec/span-fixtures.js';
import {
  committedOffsets,
  createTopic,
  deleteGroups,
  deleteTopics,
  endOffsets,
  kafkaBrokers,
  produceRaw,
  produceSpans,
  randomName,
  readAlerts,
} from '../helpers/kafka-test-env.js';

const TIMEOUT_MS = 120_000;
const silent = pino({ level: 'silent' });
const topics: string[] = [];
const groups: string[] = [];

after(async () => {
  if (!process.env.KAFKA_BROKERS) return;
  await deleteGroups(groups);
  await deleteTopics(topics);
});

/** A promise with its resolve function, for waiting on handler progress. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('Kafka span source and alert sink against a real broker', () => {
  it('needs KAFKA_BROKERS to point at a broker', () => {
    assert.ok(kafkaBrokers().length > 0);
  });

  it(
    'delivers spans and a garbage message as a dead letter, writes the alert the handler sends, and commits to the end offsets on stop',
    { timeout: TIMEOUT_MS },
    async () => {
      const brokers = kafkaBrokers();
      const spansTopic = randomName('vigil-it-spans');
      const alertsTopic = randomName('vigil-it-alerts');
      const groupId = randomName('vigil-it-group');
      topics.push(spansTopic, alertsTopic);
      groups.push(groupId);
      await createTopic(spansTopic, 2);
      await createTopic(alertsTopic, 1);

      const spans = spanSeries(20).map((s, i) => ({ ...s, traceId: `trace-${i}` }));
      await produceSpans(spansTopic, spans);
      const [garbageMeta] = await produceRaw(spansTopic, [{ partition: 0, key: 'junk', value: Buffer.from('this is not an Avro span') }]);

      const sink = new KafkaAlertSink({ brokers, clientId: 'vigil-it-sink', topic: alertsTopic, logger: silent });
      const alert = sampleAlert({ alertId: 'it-alert-1', ruleName: 'error-rate-high', groupKey: 'service=chat-api' });
      const received: LlmSpan[] = [];
      const deadLetters: DeadLetter[] = [];
      const batches: KafkaSpanBatch[] = [];
      let alertSent = false;
      const allSeen = signal();

      const source = new KafkaSpanSource({
        brokers,
        clientId: 'vigil-it-source',
        groupId,
        topic: spansTopic,
        fromBeginning: true,
        logger: silent,
        handler: async (batch) => {
          batches.push(batch);
          received.push(...batch.spans);
          deadLetters.push(...batch.deadLetters);
          if (!alertSent && received.length === spans.length) {
            // Resolves only once the broker acknowledged; the batch's offsets are committed after.
            await sink.send([alert]);
            alertSent = true;
          }
          if (received.length === spans.length && deadLetters.length === 1) allSeen.resolve();
        },
      });

      try {
        await source.start();
        await source.whenReady(60_000);
        assert.equal(source.ready, true);
        assert.deepEqual(source.assignedPartitions(), [0, 1]);

        await within(allSeen.promise, 60_000, 'all spans and the dead letter');
        const byId = (a: LlmSpan, b: LlmSpan): number => a.traceId.localeCompare(b.traceId);
        assert.deepEqual([...received].sort(byId), [...spans].sort(byId));
        assert.ok(batches.every((b) => b.topic === spansTopic && b.source === spansTopic));

        assert.equal(deadLetters.length, 1);
        const [dead] = deadLetters;
        assert.equal(dead.source, spansTopic);
        assert.equal(dead.partition, 0);
        assert.equal(dead.offset, garbageMeta.baseOffset);
        assert.equal(dead.key?.toString(), 'junk');
        assert.equal(dead.payload?.toString(), 'this is not an Avro span');
        assert.match(dead.reason, /^LlmSpan: not a valid Avro binary LlmSpan record/);

        const [readBack] = await readAlerts(alertsTopic, 1, 30_000);
        assert.deepEqual(readBack.alert, alert);
        assert.equal(readBack.key, 'error-rate-high|service=chat-api');
        assert.equal(readBack.headers['content-type'], 'avro/binary');
        assert.equal(readBack.headers['vigil-schema'], 'vigil.v1.AlertEvent');
      } finally {
        await source.stop();
        await sink.close();
      }

      assert.equal(source.state, 'stopped');
      const committed = await committedOffsets(groupId, spansTopic);
      const ends = await endOffsets(spansTopic);
      assert.equal(ends.size, 2);
      for (const [partition, end] of ends) assert.equal(committed.get(partition), end, `partition ${partition}`);
      assert.equal(
        [...ends.values()].reduce((sum, o) => sum + Number(o), 0),
        spans.length + 1,
      );
    },
  );

  it('commits nothing when the handler throws and delivers the same batch again', { timeout: TIMEOUT_MS }, async () => {
    const brokers = kafkaBrokers();
    const topic = randomName('vigil-it-retry');
    const groupId = randomName('vigil-it-retry-group');
    topics.push(topic);
    groups.push(groupId);
    await createTopic(topic, 1);
    const spans = spanSeries(5);
    await produceSpans(topic, spans);

    const deliveries: { firstOffset: string; lastOffset: string; spans: LlmSpan[]; committedBefore: string | undefined }[] = [];
    const done = signal();
    let failedOnce = false;
    const source = new KafkaSpanSource({
      brokers,
      groupId,
      topic,
      fromBeginning: true,
      logger: silent,
      handler: async (batch) => {
        const committedBefore = (await committedOffsets(groupId, topic)).get(0);
        deliveries.push({ firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, spans: batch.spans, committedBefore });
        if (!failedOnce) {
          failedOnce = true;
          throw new VigilError('VIGIL_SINK_FAILED', 'simulated alert sink outage');
        }
        if (batch.lastOffset === String(spans.length - 1)) done.resolve();
      },
    });

    try {
      await source.start();
      await within(done.promise, 60_000, 'the redelivered batch');
    } finally {
      await source.stop();
    }

    assert.ok(deliveries.length >= 2, `expected a redelivery, got ${deliveries.length} deliveries`);
    const [first, second] = deliveries;
    assert.equal(first.firstOffset, '0');
    assert.equal(first.committedBefore, '-1');
    // The failed batch left no commit behind, so the retry starts from the same offset.
    assert.equal(second.firstOffset, '0');
    assert.equal(second.committedBefore, '-1');
    assert.deepEqual(second.spans, first.spans);
    assert.deepEqual(
      deliveries.slice(1).flatMap((d) => d.spans),
      spans,
    );
    assert.equal((await committedOffsets(groupId, topic)).get(0), String(spans.length));
  });

  it('lets the batch in flight finish and commits it when stopped mid-batch', { timeout: TIMEOUT_MS }, async () => {
    const brokers = kafkaBrokers();
    const topic = randomName('vigil-it-stop');
    const groupId = randomName('vigil-it-stop-group');
    topics.push(topic);
    groups.push(groupId);
    await createTopic(topic, 1);
    const spans = spanSeries(8);
    await produceSpans(topic, spans);

    const entered = signal();
    const release = signal();
    let handled = 0;
    const source = new KafkaSpanSource({
      brokers,
      groupId,
      topic,
      fromBeginning: true,
      logger: silent,
      handler: async (batch) => {
        entered.resolve();
        await release.promise;
        handled += batch.spans.length;
      },
    });

    await source.start();
    await within(entered.promise, 60_000, 'the first batch');
    const stopping = source.stop();
    assert.equal(source.state, 'stopping');
    release.resolve();
    await stopping;

    assert.equal(handled, spans.length);
    assert.equal((await committedOffsets(groupId, topic)).get(0), String(spans.length));
  });
});
