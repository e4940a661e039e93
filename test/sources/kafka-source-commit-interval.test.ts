import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Batch, ConsumerRunConfig, EachBatchPayload, Kafka, KafkaMessage, Offsets } from 'kafkajs';
import { pino } from 'pino';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import { KafkaSpanSource } from '../../src/sources/kafka-source.js';
import { spanSeries } from '../codec/span-fixtures.js';

// commitIntervalMs: handled runs are committed together at most once per interval — by a later run,
// or by a timer at the end of the interval; when stopping and at stop() nothing handled stays
// uncommitted. Pinned against a stand-in consumer, like kafka-source.test.ts.

const TOPIC = 'spans';
const EVENTS = { GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing', CRASH: 'consumer.crash', STOP: 'consumer.stop' } as const;

class FakeConsumer {
  readonly events = EVENTS;
  runConfig: ConsumerRunConfig | undefined;
  disconnected = false;
  /** Commits made through `consumer.commitOffsets` (outside a batch). */
  outsideCommits: { topic: string; partition: number; offset: string }[][] = [];
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

  subscribe(): Promise<void> {
    return Promise.resolve();
  }

  run(config: ConsumerRunConfig): Promise<void> {
    this.runConfig = config;
    this.emit(EVENTS.GROUP_JOIN, { memberAssignment: { [TOPIC]: [0, 1] } });
    return Promise.resolve();
  }

  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    this.outsideCommits.push(offsets);
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.disconnected = true;
    this.emit(EVENTS.STOP, null);
    return Promise.resolve();
  }
}

const codec = new SpanCodec();

function messages(from: number, count: number): KafkaMessage[] {
  return spanSeries(count).map(
    (s, i) => ({ offset: String(from + i), value: codec.encode(s), key: null, timestamp: '0', attributes: 0, size: 0, headers: {} }) as unknown as KafkaMessage,
  );
}

interface Recorded {
  steps: string[];
  running: boolean;
}

/** A batch of `msgs` of `partition` whose partition ends at `highWatermark`. */
function payloadFor(msgs: KafkaMessage[], recorded: Recorded, highWatermark: number, partition = 1): EachBatchPayload {
  const batch = {
    topic: TOPIC,
    partition,
    highWatermark: String(highWatermark),
    messages: msgs,
    isEmpty: () => msgs.length === 0,
    firstOffset: () => msgs[0].offset,
    lastOffset: () => msgs[msgs.length - 1].offset,
    offsetLag: () => '0',
    offsetLagLow: () => '0',
  } as Batch;
  return {
    batch,
    resolveOffset: (offset: string) => recorded.steps.push(`resolve ${partition}@${offset}`),
    heartbeat: () => Promise.resolve(),
    pause: () => () => undefined,
    commitOffsetsIfNecessary: (offsets?: Offsets) => {
      const parts = (offsets?.topics ?? []).flatMap((t) => t.partitions.map((p) => `${p.partition}@${p.offset}`));
      recorded.steps.push(`commit ${parts.sort().join(',')}`);
      return Promise.resolve();
    },
    uncommittedOffsets: () => ({ topics: [] }),
    isRunning: () => recorded.running,
    isStale: () => false,
  };
}

async function started(commitIntervalMs: number, onHandle: () => void = () => undefined): Promise<{ source: KafkaSpanSource; consumer: FakeConsumer; eachBatch: (p: EachBatchPayload) => Promise<void> }> {
  const consumer = new FakeConsumer();
  const source = new KafkaSpanSource({
    kafka: { consumer: () => consumer } as unknown as Kafka,
    groupId: 'g',
    topic: TOPIC,
    handler: () => {
      onHandle();
      return Promise.resolve();
    },
    logger: pino({ level: 'silent' }),
    maxBatchSize: 2,
    commitIntervalMs,
  });
  await source.start();
  const eachBatch = consumer.runConfig?.eachBatch;
  assert.ok(eachBatch !== undefined);
  return { source, consumer, eachBatch };
}

describe('KafkaSpanSource commitIntervalMs', () => {
  it('while behind, commits the first run and then only once the interval passed, all partitions together', async () => {
    const recorded: Recorded = { steps: [], running: true };
    const { eachBatch } = await started(60_000);
    await eachBatch(payloadFor(messages(0, 5), recorded, 100, 1));
    await eachBatch(payloadFor(messages(10, 3), recorded, 100, 0));
    assert.deepEqual(recorded.steps, ['resolve 1@1', 'commit 1@2', 'resolve 1@3', 'resolve 1@4', 'resolve 0@11', 'resolve 0@12']);
  });

  it('commits what is pending at the end of the interval when no further run comes (a quiet stream)', async () => {
    const recorded: Recorded = { steps: [], running: true };
    const { consumer, eachBatch } = await started(50);
    await eachBatch(payloadFor(messages(0, 3), recorded, 3, 1));
    await eachBatch(payloadFor(messages(10, 3), recorded, 13, 0));
    assert.deepEqual(recorded.steps, ['resolve 1@1', 'commit 1@2', 'resolve 1@2', 'resolve 0@11', 'resolve 0@12']);
    assert.deepEqual(consumer.outsideCommits, []);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(consumer.outsideCommits, [
      [
        { topic: TOPIC, partition: 1, offset: '3' },
        { topic: TOPIC, partition: 0, offset: '13' },
      ],
    ]);
  });

  it('commits in a later run once the interval has passed', async () => {
    const recorded: Recorded = { steps: [], running: true };
    const { consumer, eachBatch } = await started(30);
    await eachBatch(payloadFor(messages(0, 1), recorded, 100, 1));
    await eachBatch(payloadFor(messages(1, 1), recorded, 100, 1));
    await new Promise((r) => setTimeout(r, 200));
    // The timer committed offset 2 at ~30 ms; by now that is more than 30 ms ago.
    await eachBatch(payloadFor(messages(2, 1), recorded, 100, 1));
    assert.deepEqual(recorded.steps, ['resolve 1@0', 'commit 1@1', 'resolve 1@1', 'resolve 1@2', 'commit 1@3']);
    assert.deepEqual(consumer.outsideCommits, [[{ topic: TOPIC, partition: 1, offset: '2' }]]);
  });

  it('commits what earlier runs handled when the consumer stops running in the middle of a batch', async () => {
    const recorded: Recorded = { steps: [], running: true };
    let handled = 0;
    const { eachBatch } = await started(60_000, () => {
      if (++handled === 2) recorded.running = false;
    });
    await eachBatch(payloadFor(messages(0, 7), recorded, 100, 1));
    assert.deepEqual(recorded.steps, ['resolve 1@1', 'commit 1@2', 'resolve 1@3', 'commit 1@4']);
  });

  it('commits the runs handled since the last commit on stop(), before disconnecting', async () => {
    const recorded: Recorded = { steps: [], running: true };
    const { source, consumer, eachBatch } = await started(60_000);
    await eachBatch(payloadFor(messages(0, 4), recorded, 100, 1));
    assert.deepEqual(recorded.steps, ['resolve 1@1', 'commit 1@2', 'resolve 1@3']);
    await source.stop();
    assert.deepEqual(consumer.outsideCommits, [[{ topic: TOPIC, partition: 1, offset: '4' }]]);
    assert.equal(consumer.disconnected, true);
  });

  it('forgets pending offsets at a new group join: the new generation reads from the committed ones', async () => {
    const recorded: Recorded = { steps: [], running: true };
    const { source, consumer, eachBatch } = await started(60_000);
    await eachBatch(payloadFor(messages(0, 4), recorded, 100, 1));
    consumer.emit(EVENTS.GROUP_JOIN, { memberAssignment: { [TOPIC]: [0] } });
    await source.stop();
    assert.deepEqual(consumer.outsideCommits, []);
  });

  it('keeps offsets pending when a commit fails, and commits them with the next one', async () => {
    const recorded: Recorded = { steps: [], running: true };
    const { eachBatch } = await started(0);
    const failing = payloadFor(messages(0, 1), recorded, 100, 1);
    failing.commitOffsetsIfNecessary = () => Promise.reject(new Error('coordinator moved'));
    await assert.rejects(eachBatch(failing), /coordinator moved/);
    await eachBatch(payloadFor(messages(5, 1), recorded, 100, 0));
    assert.deepEqual(recorded.steps, ['resolve 1@0', 'resolve 0@5', 'commit 0@6,1@1']);
  });
});
