/**
 * Helpers for integration tests against the real Kafka broker named by `KAFKA_BROKERS`: random
 * topic and group names, topic setup and teardown, producing spans, feedback and eval scores, and
 * reading alerts back.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Message, RecordMetadata } from 'kafkajs';
import { AlertCodec, EvalCodec, FeedbackCodec, SpanCodec } from '../../src/codec/avro-codec.js';
import type { AlertEvent, EvalScoreEvent, FeedbackEvent, LlmSpan } from '../../src/model/index.js';

/**
 * The brokers from `KAFKA_BROKERS` (comma-separated `host:port`).
 *
 * @throws Error when it is unset: integration tests must fail, not skip, without a broker.
 */
export function kafkaBrokers(): string[] {
  const raw = process.env.KAFKA_BROKERS?.trim() ?? '';
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) {
    throw new Error(
      'KAFKA_BROKERS is not set: this integration test needs a real Kafka broker. Run it through `npm test` ' +
        '(which starts one), or start `node scripts/kafka-broker.mjs` and set the KAFKA_BROKERS=host:port it prints.',
    );
  }
  return brokers;
}

/** A name unique to this run, e.g. `spans-m3x1k2-9f3a1c0b`, for topics and consumer groups. */
export function randomName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A kafkajs client for test plumbing, logging only errors. */
export function testKafka(clientId = 'vigil-test'): Kafka {
  return new Kafka({ brokers: kafkaBrokers(), clientId, logLevel: logLevel.ERROR });
}

async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka('vigil-test-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic with `partitions` partitions and waits until every partition has a leader. */
export async function createTopic(name: string, partitions = 1): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  });
}

/** Deletes the topics; topics that are already gone are ignored. */
export async function deleteTopics(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

/** Deletes consumer groups (they must have no members); failures are ignored. */
export async function deleteGroups(groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  await withAdmin(async (admin) => {
    await admin.deleteGroups([...groupIds]).catch(() => undefined);
  });
}

/** Produces raw messages (acks from all replicas) and returns the broker's metadata per send. */
export async function produceRaw(topic: string, messages: Message[]): Promise<RecordMetadata[]> {
  const producer = testKafka('vigil-test-producer').producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    return await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Produces spans as Avro `LlmSpan` values, keyed by `keyFn` (default: the trace id). */
export async function produceSpans(topic: string, spans: readonly LlmSpan[], keyFn: (span: LlmSpan) => string = (s) => s.traceId): Promise<RecordMetadata[]> {
  const codec = new SpanCodec();
  return produceRaw(
    topic,
    spans.map((span) => ({ key: keyFn(span), value: codec.encode(span) })),
  );
}

/**
 * Produces feedback events as Avro `FeedbackEvent` values, keyed by `keyFn` (default: the feedback
 * id), to the partition `partitionFn` names (default: the key's).
 */
export async function produceFeedback(
  topic: string,
  events: readonly FeedbackEvent[],
  keyFn: (event: FeedbackEvent) => string = (f) => f.feedbackId,
  partitionFn?: (event: FeedbackEvent, index: number) => number,
): Promise<RecordMetadata[]> {
  const codec = new FeedbackCodec();
  return produceRaw(
    topic,
    events.map((event, i) => ({ key: keyFn(event), value: codec.encode(event), partition: partitionFn?.(event, i) })),
  );
}

/**
 * Produces eval scores as Avro `EvalScoreEvent` values, keyed by `keyFn` (default: the eval id), to
 * the partition `partitionFn` names (default: the key's).
 */
export async function produceEvals(
  topic: string,
  events: readonly EvalScoreEvent[],
  keyFn: (event: EvalScoreEvent) => string = (e) => e.evalId,
  partitionFn?: (event: EvalScoreEvent, index: number) => number,
): Promise<RecordMetadata[]> {
  const codec = new EvalCodec();
  return produceRaw(
    topic,
    events.map((event, i) => ({ key: keyFn(event), value: codec.encode(event), partition: partitionFn?.(event, i) })),
  );
}

/** An alert read back from the alerts topic, with its Kafka envelope. */
export interface ReceivedAlert {
  alert: AlertEvent;
  key: string | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Reads `count` alerts from the start of `topic` with a throwaway consumer group, decoding each
 * value as an Avro `AlertEvent`.
 *
 * @throws Error when fewer than `count` arrive within `timeoutMs`.
 */
export async function readAlerts(topic: string, count: number, timeoutMs: number): Promise<ReceivedAlert[]> {
  const groupId = randomName('vigil-test-reader');
  const consumer = testKafka('vigil-test-reader').consumer({ groupId, allowAutoTopicCreation: false });
  const codec = new AlertCodec();
  const received: ReceivedAlert[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`readAlerts: got ${received.length} of ${count} alerts from ${topic} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: ({ partition, message }) => {
            if (message.value === null) return Promise.resolve();
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) {
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
            }
            received.push({ alert: codec.decode(message.value), key: message.key?.toString() ?? null, headers, partition, offset: message.offset });
            if (received.length >= count) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    return received;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await deleteGroups([groupId]);
  }
}

/** The group's committed offset per partition of `topic` (`-1` when none was committed). */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
  return withAdmin(async (admin) => {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
  });
}

/** The end offset (high watermark) of each partition of `topic`. */
export async function endOffsets(topic: string): Promise<Map<number, string>> {
  return withAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((p) => [p.partition, p.high]));
  });
}
