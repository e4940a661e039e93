import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Batch, ConsumerRunConfig, EachBatchPayload, Kafka, KafkaMessage, Offsets } from 'kafkajs';
import { pino } from 'pino';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import { VigilError } from '../../src/errors.js';
import { KafkaSpanSource } from '../../src/sources/kafka-source.js';
import type { KafkaSpanBatch } from '../../src/sources/kafka-source.js';
import { spanSeries } from '../codec/span-fixtures.js';

// The real broker is exercised by test/integration/kafka-source-sink.test.ts; these tests pin the
// per-batch protocol (handler, then resolve, then commit) against a stand-in consumer.

const TOPIC = 'spans';
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
  assignment: number[] = [0, 1];
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
    this.emit(EVENTS.GROUP_JOIN, { memberAssignment: { [TOPIC]: this.assignment } });
    return Promise.resolve();
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

function payloadFor(messages: KafkaMessage[], recorded: Recorded, lastOffset?: string): EachBatchPayload {
  const batch = {
    topic: TOPIC,
    partition: 1,
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
  handler: (batch: KafkaSpanBatch) => Promise<void>,
  extra: { maxBatchSize?: number; onFatalError?: (e: VigilError) => void; onAssignment?: (partitions: readonly number[]) => void } = {},
): Promise<{ source: KafkaSpanSource; consumer: FakeConsumer; eachBatch: (p: EachBatchPayload) => Promise<void> }> {
  const consumer = new FakeConsumer();
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
