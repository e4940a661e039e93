import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Batch, ConsumerRunConfig, EachBatchPayload, Kafka, KafkaMessage, Offsets } from 'kafkajs';
import { pino } from 'pino';
import { EvalCodec, FeedbackCodec, SpanCodec } from '../../src/codec/avro-codec.js';
import { VigilError } from '../../src/errors.js';
import { KafkaSpanSource, MAX_PARTITIONS_PER_TOPIC, TOPIC_INDEX, channelOf, topicPartitionOfChannel } from '../../src/sources/kafka-source.js';
import type { KafkaBatchControl, KafkaSpanBatch } from '../../src/sources/kafka-source.js';
import { InputGuard } from '../../src/codec/input-guard.js';
import { BASE_TIME } from '../helpers/span-factory.js';
import { COMMENT, evalSeries, feedbackSeries, fullFeedback } from '../codec/event-fixtures.js';
import { spanSeries } from '../codec/span-fixtures.js';

// The real broker is exercised by test/integration/kafka-source-sink.test.ts; these tests pin the
// per-batch protocol (handler, then resolve, then commit) against a stand-in consumer.

const TOPIC = 'spans';
const FEEDBACK_TOPIC = 'feedback';
const EVALS_TOPIC = 'evals';
const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  REBALANCING: 'consumer.rebalancing',
  CRASH: 'consumer.crash',
  STOP: 'consumer.stop',
} as const;

class FakeConsumer {
  readonly events = EVENTS;
  runConfig: ConsumerRunConfig | undefined;
  subscribed: unknown;
  disconnected = false;
  assignment: Record<string, number[]> = { [TOPIC]: [0, 1] };
  private readonly listeners = new Map<string, ((event: { payload: unknown }) => void)[]>();

  on(name: string, listener: (event: { payload: unknown }) => void): () => void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
    return () => undefined;
  }

  emit(name: string, payload: unknown): void {
    for (const listener of this.listeners.get(name) ?? []) listener({ payload });
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(subscription: unknown): Promise<void> {
    this.subscribed = subscription;
    return Promise.resolve();
  }

  run(config: ConsumerRunConfig): Promise<void> {
    this.runConfig = config;
    this.emit(EVENTS.GROUP_JOIN, { memberAssignment: this.assignment });
    return Promise.resolve();
  }

  pausedTopics = new Set<string>();

  pause(topics: { topic: string }[]): void {
    for (const t of topics) this.pausedTopics.add(t.topic);
  }

  resume(topics: { topic: string }[]): void {
    for (const t of topics) this.pausedTopics.delete(t.topic);
  }

  disconnect(): Promise<void> {
    this.disconnected = true;
    this.emit(EVENTS.STOP, null);
    return Promise.resolve();
  }
}

function fakeKafka(consumer: FakeConsumer): Kafka {
  return { consumer: () => consumer } as unknown as Kafka;
}

interface Recorded {
  steps: string[];
  commits: Offsets[];
  running: boolean;
}

function message(offset: number, value: Buffer | null, key: string | null = null): KafkaMessage {
  return {
    offset: String(offset),
    value,
    key: key === null ? null : Buffer.from(key),
    timestamp: '0',
    attributes: 0,
    size: 0,
    headers: {},
  } as unknown as KafkaMessage;
}

function payloadFor(messages: KafkaMessage[], recorded: Recorded, lastOffset?: string, where = { topic: TOPIC, partition: 1 }): EachBatchPayload {
  const batch = {
    topic: where.topic,
    partition: where.partition,
    highWatermark: String(Number(messages[messages.length - 1].offset) + 1),
    messages,
    isEmpty: () => messages.length === 0,
    firstOffset: () => messages[0].offset,
    lastOffset: () => lastOffset ?? messages[messages.length - 1].offset,
    offsetLag: () => '0',
    offsetLagLow: () => '0',
  } as Batch;
  return {
    batch,
    resolveOffset: (offset: string) => recorded.steps.push(`resolve ${offset}`),
    heartbeat: () => {
      recorded.steps.push('heartbeat');
      return Promise.resolve();
    },
    pause: () => () => undefined,
    commitOffsetsIfNecessary: (offsets?: Offsets) => {
      if (offsets !== undefined) {
        recorded.commits.push(offsets);
        recorded.steps.push(`commit ${offsets.topics[0].partitions[0].offset}`);
      }
      return Promise.resolve();
    },
    uncommittedOffsets: () => ({ topics: [] }),
    isRunning: () => recorded.running,
    isStale: () => false,
  };
}

async function startedSource(
  handler: (batch: KafkaSpanBatch, control: KafkaBatchControl) => Promise<void>,
  extra: {
    maxBatchSize?: number;
    onFatalError?: (e: VigilError) => void;
    onAssignment?: (channels: readonly number[], assignment: Readonly<Record<string, readonly number[]>>) => void;
    feedbackTopic?: string;
    evalsTopic?: string;
    guard?: InputGuard;
  } = {},
  assignment?: Record<string, number[]>,
): Promise<{ source: KafkaSpanSource; consumer: FakeConsumer; eachBatch: (p: EachBatchPayload) => Promise<void> }> {
  const consumer = new FakeConsumer();
  if (assignment !== undefined) consumer.assignment = assignment;
  const source = new KafkaSpanSource({
    kafka: fakeKafka(consumer),
    groupId: 'g',
    topic: TOPIC,
    fromBeginning: true,
    handler,
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  await source.start();
  const eachBatch = consumer.runConfig?.eachBatch;
  assert.ok(eachBatch !== undefined);
  return { source, consumer, eachBatch };
}

const codec = new SpanCodec();

describe('KafkaSpanSource', () => {
  it('runs the consumer with manual commits and no auto-resolve, subscribed to its topic', async () => {
    const { consumer, source } = await startedSource(() => Promise.resolve());
    assert.equal(consumer.runConfig?.autoCommit, false);
    assert.equal(consumer.runConfig?.eachBatchAutoResolve, false);
    assert.deepEqual(consumer.subscribed, { topics: [TOPIC], fromBeginning: true });
    assert.equal(source.ready, true);
    assert.equal(source.state, 'joined');
    assert.deepEqual(source.assignedPartitions(), [0, 1]);
    await source.whenReady(10);
  });

  it('hands decoded spans to the handler, then resolves the last offset and commits the offset after it', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    const spans = spanSeries(3);
    const received: KafkaSpanBatch[] = [];
    const { eachBatch } = await startedSource((batch) => {
      received.push(batch);
      recorded.steps.push('handler');
      return Promise.resolve();
    });
    await eachBatch(payloadFor(spans.map((s, i) => message(40 + i, codec.encode(s))), recorded));
    assert.deepEqual(recorded.steps, ['handler', 'resolve 42', 'commit 43', 'heartbeat']);
    assert.deepEqual(recorded.commits, [{ topics: [{ topic: TOPIC, partitions: [{ partition: 1, offset: '43' }] }] }]);
    assert.equal(received.length, 1);
    const [batch] = received;
    assert.deepEqual(batch.spans, spans);
    assert.equal(batch.topic, TOPIC);
    assert.equal(batch.source, TOPIC);
    assert.equal(batch.partition, 1);
    assert.equal(batch.firstOffset, '40');
    assert.equal(batch.lastOffset, '42');
  });

  it('turns garbage and tombstones into dead letters with topic, partition, offset, key and payload', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    let received: KafkaSpanBatch | undefined;
    const { eachBatch } = await startedSource((batch) => {
      received = batch;
      return Promise.resolve();
    });
    const garbage = Buffer.from('definitely not avro');
    await eachBatch(payloadFor([message(7, codec.encode(spanSeries(1)[0])), message(8, garbage, 'k'), message(9, null)], recorded));
    assert.ok(received !== undefined);
    assert.equal(received.spans.length, 1);
    assert.equal(received.deadLetters.length, 2);
    const [bad, tombstone] = received.deadLetters;
    assert.equal(bad.source, TOPIC);
    assert.equal(bad.partition, 1);
    assert.equal(bad.offset, '8');
    assert.equal(bad.field, 'LlmSpan');
    assert.match(bad.reason, /^LlmSpan: not a valid Avro binary LlmSpan record/);
    assert.deepEqual(bad.payload, garbage);
    assert.equal(bad.key?.toString(), 'k');
    assert.equal(tombstone.offset, '9');
    assert.match(tombstone.reason, /tombstone/);
    assert.deepEqual(recorded.commits[0].topics[0].partitions[0].offset, '10');
  });

  it('splits a large batch into runs of maxBatchSize, committing after each run', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    const sizes: number[] = [];
    const { eachBatch } = await startedSource(
      (batch) => {
        sizes.push(batch.spans.length);
        recorded.steps.push('handler');
        return Promise.resolve();
      },
      { maxBatchSize: 2 },
    );
    const spans = spanSeries(5);
    await eachBatch(payloadFor(spans.map((s, i) => message(i, codec.encode(s))), recorded));
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.deepEqual(recorded.steps, [
      'handler',
      'resolve 1',
      'commit 2',
      'heartbeat',
      'handler',
      'resolve 3',
      'commit 4',
      'heartbeat',
      'handler',
      'resolve 4',
      'commit 5',
      'heartbeat',
    ]);
  });

  it('commits past control records that end the fetched batch', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    const { eachBatch } = await startedSource(() => Promise.resolve());
    await eachBatch(payloadFor([message(0, codec.encode(spanSeries(1)[0]))], recorded, '1'));
    assert.deepEqual(recorded.steps, ['resolve 0', 'commit 2', 'heartbeat']);
  });

  it('neither resolves nor commits when the handler throws, and passes the error to kafkajs for a retry', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    const failure = new VigilError('VIGIL_SINK_FAILED', 'broker away');
    const { eachBatch } = await startedSource(() => Promise.reject(failure));
    await assert.rejects(eachBatch(payloadFor([message(0, codec.encode(spanSeries(1)[0]))], recorded)), failure);
    assert.deepEqual(recorded.steps, []);
  });

  it('stops between runs once the consumer is stopping, leaving the rest uncommitted', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    const { eachBatch } = await startedSource(
      () => {
        recorded.running = false;
        return Promise.resolve();
      },
      { maxBatchSize: 2 },
    );
    await eachBatch(payloadFor(spanSeries(5).map((s, i) => message(i, codec.encode(s))), recorded));
    assert.deepEqual(recorded.steps, ['resolve 1', 'commit 2', 'heartbeat']);
  });

  it('is not ready while rebalancing or when assigned no partitions', async () => {
    const { source, consumer } = await startedSource(() => Promise.resolve());
    consumer.emit(EVENTS.REBALANCING, {});
    assert.equal(source.ready, false);
    assert.equal(source.state, 'rebalancing');
    consumer.emit(EVENTS.GROUP_JOIN, { memberAssignment: {} });
    assert.equal(source.state, 'joined');
    assert.equal(source.ready, false);
    assert.deepEqual(source.assignedPartitions(), []);
    consumer.emit(EVENTS.GROUP_JOIN, { memberAssignment: { [TOPIC]: [2] } });
    assert.equal(source.ready, true);
  });

  it('reports every group join\'s partitions to onAssignment, sorted, and survives a callback that throws', async () => {
    const seen: number[][] = [];
    const { source, consumer } = await startedSource(() => Promise.resolve(), {
      onAssignment: (partitions) => {
        seen.push([...partitions]);
        if (partitions.length === 0) throw new Error('callback bug');
      },
    });
    consumer.emit(EVENTS.GROUP_JOIN, { memberAssignment: { [TOPIC]: [2, 0] } });
    consumer.emit(EVENTS.GROUP_JOIN, { memberAssignment: {} });
    assert.deepEqual(seen, [[0, 1], [0, 2], []]);
    assert.equal(source.state, 'joined');
  });

  it('goes to failed and reports a crash that kafkajs will not restart from', async () => {
    const reported: VigilError[] = [];
    const { source, consumer } = await startedSource(() => Promise.resolve(), { onFatalError: (e) => reported.push(e) });
    consumer.emit(EVENTS.CRASH, { error: new Error('restart later'), restart: true });
    assert.equal(source.state, 'restarting');
    assert.equal(reported.length, 0);
    const waiting = source.whenReady(5_000);
    consumer.emit(EVENTS.CRASH, { error: new TypeError('bug in handler'), restart: false });
    assert.equal(source.state, 'failed');
    assert.equal(source.ready, false);
    assert.equal(reported.length, 1);
    assert.equal(reported[0].code, 'VIGIL_SOURCE_FAILED');
    assert.match(reported[0].message, /bug in handler/);
    assert.equal(source.error, reported[0]);
    await assert.rejects(waiting, reported[0]);
  });

  it('disconnects on stop, is idempotent, and cannot be started again', async () => {
    const { source, consumer } = await startedSource(() => Promise.resolve());
    await source.stop();
    await source.stop();
    assert.equal(consumer.disconnected, true);
    assert.equal(source.state, 'stopped');
    assert.equal(source.ready, false);
    await assert.rejects(source.start(), (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_STOPPED');
  });

  it('rejects a maxBatchSize below 1', () => {
    assert.throws(
      () => new KafkaSpanSource({ brokers: ['127.0.0.1:1'], groupId: 'g', topic: TOPIC, handler: () => Promise.resolve(), maxBatchSize: 0 }),
      (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_CONFIG_INVALID',
    );
  });
});

describe('channelOf', () => {
  it('is topicIndex * 4096 + partition, the traces topic (index 0) keeping partition numbers', () => {
    assert.equal(MAX_PARTITIONS_PER_TOPIC, 4096);
    assert.deepEqual(TOPIC_INDEX, { spans: 0, feedback: 1, evals: 2 });
    assert.equal(channelOf(0, 0), 0);
    assert.equal(channelOf(0, 7), 7);
    assert.equal(channelOf(1, 0), 4096);
    assert.equal(channelOf(2, 4095), 2 * 4096 + 4095);
    assert.equal(channelOf(255, 4095), 2 ** 20 - 1);
    assert.deepEqual(topicPartitionOfChannel(channelOf(2, 17)), { topicIndex: 2, partition: 17 });
  });

  it('rejects a partition beyond 4095 or a topic index beyond 255 as a non-retriable config error', () => {
    for (const [topicIndex, partition, field] of [
      [0, 4096, 'partition'],
      [1, -1, 'partition'],
      [0, 1.5, 'partition'],
      [256, 0, 'topicIndex'],
      [-1, 0, 'topicIndex'],
    ] as const) {
      assert.throws(
        () => channelOf(topicIndex, partition),
        (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_CONFIG_INVALID' && !error.retriable && error.details.field === field,
      );
    }
  });
});

describe('KafkaSpanSource with feedback and evals topics', () => {
  const all = { [TOPIC]: [1, 0], [FEEDBACK_TOPIC]: [0], [EVALS_TOPIC]: [2, 0] };

  it('subscribes to the traces topic and the feedback and evals topics that are set', async () => {
    const { consumer, source } = await startedSource(() => Promise.resolve(), { feedbackTopic: FEEDBACK_TOPIC, evalsTopic: EVALS_TOPIC }, all);
    assert.deepEqual(consumer.subscribed, { topics: [TOPIC, FEEDBACK_TOPIC, EVALS_TOPIC], fromBeginning: true });
    assert.deepEqual(source.topics, [TOPIC, FEEDBACK_TOPIC, EVALS_TOPIC]);
    const only = await startedSource(() => Promise.resolve(), { evalsTopic: EVALS_TOPIC }, { [EVALS_TOPIC]: [0] });
    assert.deepEqual(only.consumer.subscribed, { topics: [TOPIC, EVALS_TOPIC], fromBeginning: true });
    // Ready with partitions of any of its topics; the evals topic keeps its index 2 without a feedback topic.
    assert.equal(only.source.ready, true);
    assert.deepEqual(only.source.assignedChannels(), [channelOf(2, 0)]);
  });

  it('reports channels distinct across topics to onAssignment, and the partitions by topic', async () => {
    const seen: { channels: number[]; assignment: Readonly<Record<string, readonly number[]>> }[] = [];
    const { source } = await startedSource(
      () => Promise.resolve(),
      { feedbackTopic: FEEDBACK_TOPIC, evalsTopic: EVALS_TOPIC, onAssignment: (channels, assignment) => seen.push({ channels: [...channels], assignment }) },
      { ...all, 'some-other-topic': [5] },
    );
    const channels = [0, 1, 4096, 8192, 8194];
    assert.deepEqual(seen, [{ channels, assignment: { [TOPIC]: [0, 1], [FEEDBACK_TOPIC]: [0], [EVALS_TOPIC]: [0, 2] } }]);
    assert.deepEqual(source.assignedChannels(), channels);
    assert.deepEqual(source.assignedPartitions(), [0, 1]);
    assert.deepEqual(source.assignedPartitions(EVALS_TOPIC), [0, 2]);
    assert.deepEqual(source.assignedTopicPartitions(), { [TOPIC]: [0, 1], [FEEDBACK_TOPIC]: [0], [EVALS_TOPIC]: [0, 2] });
  });

  it('decodes each message by its topic and hands one batch per kafkajs batch with its kind and channel', async () => {
    const received: KafkaSpanBatch[] = [];
    const recorded: Recorded = { steps: [], commits: [], running: true };
    const { eachBatch } = await startedSource(
      (batch) => {
        received.push(batch);
        return Promise.resolve();
      },
      { feedbackTopic: FEEDBACK_TOPIC, evalsTopic: EVALS_TOPIC },
      all,
    );
    const spans = spanSeries(2);
    const feedback = feedbackSeries(3);
    const evals = evalSeries(2);
    const spanCodec = new SpanCodec();
    const feedbackCodec = new FeedbackCodec();
    const evalCodec = new EvalCodec();
    await eachBatch(payloadFor(spans.map((s, i) => message(i, spanCodec.encode(s))), recorded, undefined, { topic: TOPIC, partition: 1 }));
    await eachBatch(payloadFor(feedback.map((f, i) => message(10 + i, feedbackCodec.encode(f))), recorded, undefined, { topic: FEEDBACK_TOPIC, partition: 0 }));
    await eachBatch(payloadFor(evals.map((e, i) => message(20 + i, evalCodec.encode(e))), recorded, undefined, { topic: EVALS_TOPIC, partition: 2 }));

    assert.deepEqual(
      received.map((b) => [b.topic, b.source, b.kind, b.partition, b.channel, b.spans.length, b.feedback.length, b.evals.length]),
      [
        [TOPIC, TOPIC, 'spans', 1, 1, 2, 0, 0],
        [FEEDBACK_TOPIC, FEEDBACK_TOPIC, 'feedback', 0, 4096, 0, 3, 0],
        [EVALS_TOPIC, EVALS_TOPIC, 'evals', 2, 8194, 0, 0, 2],
      ],
    );
    assert.deepEqual(received[0].spans, spans);
    assert.deepEqual(received[1].feedback, feedback);
    assert.deepEqual(received[2].evals, evals);
    // Each batch's offsets are committed for its own topic-partition.
    assert.deepEqual(recorded.commits, [
      { topics: [{ topic: TOPIC, partitions: [{ partition: 1, offset: '2' }] }] },
      { topics: [{ topic: FEEDBACK_TOPIC, partitions: [{ partition: 0, offset: '13' }] }] },
      { topics: [{ topic: EVALS_TOPIC, partitions: [{ partition: 2, offset: '22' }] }] },
    ]);
  });

  it('turns a span on the feedback topic and an invalid feedback record into dead letters, never showing the comment', async () => {
    let received: KafkaSpanBatch | undefined;
    const recorded: Recorded = { steps: [], commits: [], running: true };
    const { eachBatch } = await startedSource(
      (batch) => {
        received = batch;
        return Promise.resolve();
      },
      { feedbackTopic: FEEDBACK_TOPIC },
      { [FEEDBACK_TOPIC]: [0] },
    );
    const feedbackCodec = new FeedbackCodec();
    const badScore = feedbackCodec.type.toBuffer({ ...fullFeedback(), score: Number.NaN });
    const messages = [message(0, codec.encode(spanSeries(1)[0])), message(1, badScore, 'k'), message(2, feedbackCodec.encode(fullFeedback()))];
    await eachBatch(payloadFor(messages, recorded, undefined, { topic: FEEDBACK_TOPIC, partition: 0 }));
    assert.ok(received !== undefined);
    assert.equal(received.kind, 'feedback');
    assert.deepEqual(received.feedback, [fullFeedback()]);
    assert.equal(received.spans.length, 0);
    assert.equal(received.deadLetters.length, 2);
    const [wrongSchema, invalid] = received.deadLetters;
    assert.equal(wrongSchema.source, FEEDBACK_TOPIC);
    assert.equal(wrongSchema.offset, '0');
    assert.equal(invalid.offset, '1');
    assert.equal(invalid.field, 'score');
    assert.equal(invalid.key?.toString(), 'k');
    for (const d of received.deadLetters) assert.ok(!d.reason.includes(COMMENT), d.reason);
    assert.deepEqual(recorded.commits, [{ topics: [{ topic: FEEDBACK_TOPIC, partitions: [{ partition: 0, offset: '3' }] }] }]);
  });

  it('fails a batch of a partition beyond 4095 with a non-retriable error before the handler, committing nothing', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    let handled = 0;
    const { eachBatch } = await startedSource(() => {
      handled++;
      return Promise.resolve();
    });
    await assert.rejects(
      eachBatch(payloadFor([message(0, codec.encode(spanSeries(1)[0]))], recorded, undefined, { topic: TOPIC, partition: 4096 })),
      (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_CONFIG_INVALID' && error.retriable === false,
    );
    assert.equal(handled, 0);
    assert.deepEqual(recorded.steps, []);
  });

  it('rejects one topic given for two kinds of event', () => {
    for (const options of [{ feedbackTopic: TOPIC }, { evalsTopic: TOPIC }, { feedbackTopic: 'x', evalsTopic: 'x' }, { feedbackTopic: '' }]) {
      assert.throws(
        () => new KafkaSpanSource({ brokers: ['127.0.0.1:1'], groupId: 'g', topic: TOPIC, handler: () => Promise.resolve(), ...options }),
        (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_CONFIG_INVALID',
      );
    }
  });

  it('applies the input guard: rejected records become dead letters of their class, adjusted ones pass clamped', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    let received: KafkaSpanBatch | undefined;
    const guard = new InputGuard({}, () => BASE_TIME);
    const { eachBatch } = await startedSource(
      (batch) => {
        received = batch;
        return Promise.resolve();
      },
      { guard },
    );
    const [ok, slow, old, future] = spanSeries(4).map((span) => ({ ...span, startTime: BASE_TIME }));
    await eachBatch(
      payloadFor(
        [
          message(0, codec.encode(ok)),
          message(1, codec.encode({ ...slow, durationMs: 1e12 })),
          message(2, codec.encode({ ...old, startTime: Date.UTC(1999, 0, 1) })),
          message(3, codec.encode({ ...future, startTime: Date.UTC(2090, 0, 1) })),
        ],
        recorded,
      ),
    );
    assert.ok(received !== undefined);
    assert.deepEqual(received.spans.map((sp) => sp.durationMs), [ok.durationMs, 3_600_000]);
    assert.deepEqual(received.deadLetters.map((d) => [d.offset, d.reasonClass, d.field]), [['2', 'event_time', 'startTime'], ['3', 'event_time', 'startTime']]);
    assert.equal(guard.adjustments.clamped, 1);
  });

  it('dead-letters a value whose vigil-schema header names another record, and a tombstone as empty', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    let received: KafkaSpanBatch | undefined;
    const { eachBatch } = await startedSource((batch) => {
      received = batch;
      return Promise.resolve();
    });
    const span = codec.encode(spanSeries(1)[0]);
    const tagged = (offset: number, schema: string): KafkaMessage => ({ ...message(offset, span), headers: { 'vigil-schema': Buffer.from(schema) } }) as KafkaMessage;
    await eachBatch(payloadFor([tagged(0, 'vigil.v1.LlmSpan'), tagged(1, 'vigil.v1.AlertEvent'), message(2, null)], recorded));
    assert.ok(received !== undefined);
    assert.equal(received.spans.length, 1);
    const [wrong, tombstone] = received.deadLetters;
    assert.equal(wrong.reasonClass, 'wrong_schema');
    assert.equal(wrong.reason, 'value: the vigil-schema header declares another record (vigil.v1.AlertEvent); topic spans carries vigil.v1.LlmSpan');
    assert.deepEqual(wrong.payload, span);
    assert.equal(tombstone.reasonClass, 'empty');
  });

  it('gives the handler a heartbeat and tells it when the consumer stops running', async () => {
    const recorded: Recorded = { steps: [], commits: [], running: true };
    const running: boolean[] = [];
    const { eachBatch } = await startedSource(async (_batch, control) => {
      await control.heartbeat();
      running.push(control.isRunning());
      recorded.running = false;
      running.push(control.isRunning());
    });
    await eachBatch(payloadFor([message(0, codec.encode(spanSeries(1)[0]))], recorded));
    assert.deepEqual(running, [true, false]);
    assert.equal(recorded.steps[0], 'heartbeat');
  });

  it('pauses and resumes fetching from every subscribed topic', async () => {
    const { source, consumer } = await startedSource(() => Promise.resolve(), { feedbackTopic: FEEDBACK_TOPIC });
    source.pause();
    assert.equal(source.paused, true);
    assert.deepEqual([...consumer.pausedTopics].sort(), [FEEDBACK_TOPIC, TOPIC].sort());
    source.resume();
    assert.equal(source.paused, false);
    assert.equal(consumer.pausedTopics.size, 0);
  });
});
