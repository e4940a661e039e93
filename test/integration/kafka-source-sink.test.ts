import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import { VigilError } from '../../src/errors.js';
import type { EvalScoreEvent, FeedbackEvent, LlmSpan } from '../../src/model/index.js';
import { KafkaAlertSink } from '../../src/sinks/kafka-alert-sink.js';
import { KafkaSpanSource, TOPIC_INDEX, channelOf } from '../../src/sources/kafka-source.js';
import type { KafkaSpanBatch } from '../../src/sources/kafka-source.js';
import type { DeadLetter } from '../../src/sources/span-source.js';
import { COMMENT, evalSeries, feedbackSeries } from '../codec/event-fixtures.js';
import { sampleAlert, spanSeries } from '../codec/span-fixtures.js';
import {
  committedOffsets,
  createTopic,
  deleteGroups,
  deleteTopics,
  endOffsets,
  kafkaBrokers,
  produceEvals,
  produceFeedback,
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

  it(
    'consumes spans, feedback and evals from three topics in one group: each kind decoded by its topic, distinct channels, every topic committed',
    { timeout: TIMEOUT_MS },
    async () => {
      const brokers = kafkaBrokers();
      const tracesTopic = randomName('vigil-it-traces');
      const feedbackTopic = randomName('vigil-it-feedback');
      const evalsTopic = randomName('vigil-it-evals');
      const groupId = randomName('vigil-it-kinds-group');
      topics.push(tracesTopic, feedbackTopic, evalsTopic);
      groups.push(groupId);
      await createTopic(tracesTopic, 2);
      await createTopic(feedbackTopic, 2);
      await createTopic(evalsTopic, 1);

      const spans = spanSeries(12).map((s, i) => ({ ...s, traceId: `trace-${i}` }));
      const feedback = feedbackSeries(9);
      const evals = evalSeries(7);
      // Every partition gets messages, so every channel shows up in a batch.
      await produceRaw(
        tracesTopic,
        spans.map((span, i) => ({ key: span.traceId, value: new SpanCodec().encode(span), partition: i % 2 })),
      );
      await produceFeedback(feedbackTopic, feedback, undefined, (_, i) => i % 2);
      await produceEvals(evalsTopic, evals);
      const [garbageMeta] = await produceRaw(evalsTopic, [{ key: 'junk', value: Buffer.from(`not an eval: ${COMMENT}`) }]);

      const receivedSpans: LlmSpan[] = [];
      const receivedFeedback: FeedbackEvent[] = [];
      const receivedEvals: EvalScoreEvent[] = [];
      const deadLetters: DeadLetter[] = [];
      const batches: KafkaSpanBatch[] = [];
      const assignments: number[][] = [];
      const allSeen = signal();
      const source = new KafkaSpanSource({
        brokers,
        clientId: 'vigil-it-kinds',
        groupId,
        topic: tracesTopic,
        feedbackTopic,
        evalsTopic,
        fromBeginning: true,
        logger: silent,
        onAssignment: (channels) => assignments.push([...channels]),
        handler: async (batch) => {
          batches.push(batch);
          receivedSpans.push(...batch.spans);
          receivedFeedback.push(...batch.feedback);
          receivedEvals.push(...batch.evals);
          deadLetters.push(...batch.deadLetters);
          if (receivedSpans.length === spans.length && receivedFeedback.length === feedback.length && receivedEvals.length === evals.length && deadLetters.length === 1) {
            allSeen.resolve();
          }
        },
      });

      const expectedChannels = [
        channelOf(TOPIC_INDEX.spans, 0),
        channelOf(TOPIC_INDEX.spans, 1),
        channelOf(TOPIC_INDEX.feedback, 0),
        channelOf(TOPIC_INDEX.feedback, 1),
        channelOf(TOPIC_INDEX.evals, 0),
      ];
      try {
        await source.start();
        await source.whenReady(60_000);
        assert.deepEqual(source.assignedTopicPartitions(), { [tracesTopic]: [0, 1], [feedbackTopic]: [0, 1], [evalsTopic]: [0] });
        assert.deepEqual(source.assignedChannels(), expectedChannels);
        assert.deepEqual(assignments.at(-1), expectedChannels);
        assert.equal(new Set(expectedChannels).size, 5);

        await within(allSeen.promise, 60_000, 'every span, feedback event, eval score and the dead letter');
      } finally {
        await source.stop();
      }

      const by = <T>(key: (x: T) => string) => (a: T, b: T): number => key(a).localeCompare(key(b));
      assert.deepEqual([...receivedSpans].sort(by<LlmSpan>((s) => s.traceId)), [...spans].sort(by<LlmSpan>((s) => s.traceId)));
      assert.deepEqual([...receivedFeedback].sort(by<FeedbackEvent>((f) => f.feedbackId)), [...feedback].sort(by<FeedbackEvent>((f) => f.feedbackId)));
      assert.deepEqual(receivedEvals, evals);

      // One kind per batch, named by its topic; the channel tells topics apart, the partition does not.
      const kindOf = { [tracesTopic]: 'spans', [feedbackTopic]: 'feedback', [evalsTopic]: 'evals' } as const;
      for (const b of batches) {
        assert.equal(b.kind, kindOf[b.topic], `kind of a batch of ${b.topic}`);
        assert.equal(b.source, b.topic);
        assert.equal(b.channel, channelOf(TOPIC_INDEX[b.kind], b.partition));
        if (b.kind !== 'spans') assert.equal(b.spans.length, 0);
        if (b.kind !== 'feedback') assert.equal(b.feedback.length, 0);
        if (b.kind !== 'evals') assert.equal(b.evals.length, 0);
      }
      const channelsByTopic = new Map<string, Set<number>>();
      for (const b of batches) channelsByTopic.set(b.topic, (channelsByTopic.get(b.topic) ?? new Set()).add(b.channel));
      assert.deepEqual([...channelsByTopic.keys()].sort(), [tracesTopic, feedbackTopic, evalsTopic].sort());
      const seenChannels = [...channelsByTopic.values()].flatMap((set) => [...set]);
      assert.equal(new Set(seenChannels).size, seenChannels.length, 'no channel shared between topics');
      assert.deepEqual([...seenChannels].sort((a, b) => a - b), expectedChannels);

      const [dead] = deadLetters;
      assert.equal(dead.source, evalsTopic);
      assert.equal(dead.offset, garbageMeta.baseOffset);
      assert.equal(dead.key?.toString(), 'junk');
      assert.match(dead.reason, /^EvalScoreEvent: not a valid Avro binary EvalScoreEvent record/);
      assert.ok(!dead.reason.includes(COMMENT));

      // Every partition of all three topics is committed to its end offset.
      for (const [topic, count] of [
        [tracesTopic, spans.length],
        [feedbackTopic, feedback.length],
        [evalsTopic, evals.length + 1],
      ] as const) {
        const committed = await committedOffsets(groupId, topic);
        const ends = await endOffsets(topic);
        for (const [partition, end] of ends) assert.equal(committed.get(partition), end, `${topic} partition ${partition}`);
        assert.equal(
          [...ends.values()].reduce((sum, o) => sum + Number(o), 0),
          count,
          `messages in ${topic}`,
        );
      }
    },
  );
});
