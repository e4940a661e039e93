import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import { readSchemaJson } from '../../src/codec/schemas.js';
import { validateSpan } from '../../src/codec/span-validation.js';
import type { LlmSpanInput } from '../../src/codec/span-validation.js';
import { isVigilError } from '../../src/errors.js';
import { createVigilProducer } from '../../src/sdk/vigil-producer.js';
import type { VigilProducer, VigilProducerSettings } from '../../src/sdk/vigil-producer.js';
import { readWireFormat } from '../../src/codec/registry/wire-format.js';
import { startFakeSchemaRegistry } from '../helpers/fake-schema-registry.js';
import { deleteTopics, kafkaBrokers, randomName } from '../helpers/kafka-test-env.js';
import { createReadyTopic } from '../helpers/ready-topic.js';
import { makeSpan } from '../helpers/span-factory.js';
import { readMessages } from '../helpers/topic-reader.js';

const silent = pino({ level: 'silent' });
const codec = new SpanCodec();

describe('the Vigil producer SDK through a real Kafka broker', () => {
  const id = randomName('vigil-sdk');
  const topics = { roundTrip: `${id}-round-trip`, trace: `${id}-trace`, batching: `${id}-batching`, invalid: `${id}-invalid`, registry: `${id}-registry` };
  const open: VigilProducer[] = [];

  before(async () => {
    for (const t of Object.values(topics)) await createReadyTopic(t, 4);
  });

  after(async () => {
    for (const p of open) await p.close().catch(() => undefined);
    await deleteTopics(Object.values(topics));
  });

  function producer(topic: string, settings: Partial<VigilProducerSettings> = {}): VigilProducer {
    const p = createVigilProducer({ brokers: kafkaBrokers(), clientId: 'vigil-sdk-test', topic, logger: silent, ...settings });
    open.push(p);
    return p;
  }

  it('delivers recorded spans that decode back to the validated spans, keyed by user and else by trace', async () => {
    const p = producer(topics.roundTrip, { batch: { maxSpans: 16, lingerMs: 10 } });
    const inputs: LlmSpanInput[] = [];
    for (let i = 0; i < 60; i++) {
      const full = makeSpan({ userId: i % 3 === 0 ? null : `user-${i % 5}`, traceId: `trace-${id}-${i}`, attributes: { i: String(i) } });
      // Some as minimal inputs: ISO start time, optional fields left to the schema defaults.
      inputs.push(
        i % 4 === 0
          ? { traceId: full.traceId, spanId: full.spanId, kind: 'LLM', service: 'chat-api', operation: 'chat', startTime: '2026-01-01T12:00:00.000Z', durationMs: 10 + i, status: 'OK' }
          : full,
      );
    }
    const deliveries = inputs.map((s) => p.record(s));
    await p.flush();
    await Promise.all(deliveries);
    assert.deepEqual(p.stats(), { recorded: 60, delivered: 60, failed: 0, buffered: 0 });

    const messages = await readMessages(topics.roundTrip, 60, 60_000, 500);
    assert.equal(messages.length, 60);
    const expected = new Map(inputs.map((s) => [s.spanId, validateSpan(s)]));
    const partitionOfUser = new Map<string, number>();
    for (const m of messages) {
      const span = codec.decode(m.value);
      assert.deepEqual(span, expected.get(span.spanId));
      assert.equal(m.key, span.userId ?? span.traceId);
      assert.equal(m.headers['content-type'], 'avro/binary');
      assert.equal(m.headers['vigil-schema'], 'vigil.v1.LlmSpan');
      if (span.userId !== null) {
        const seen = partitionOfUser.get(span.userId);
        if (seen !== undefined) assert.equal(m.partition, seen, `all spans of ${span.userId} on one partition`);
        partitionOfUser.set(span.userId, m.partition);
      }
    }
    assert.equal(partitionOfUser.size, 5);
  });

  it('keys by trace when asked to', async () => {
    const p = producer(topics.trace, { keyBy: 'trace' });
    const spans = [makeSpan({ userId: 'user-1', traceId: 't-1' }), makeSpan({ userId: 'user-1', traceId: 't-2' })];
    for (const s of spans) void p.record(s);
    await p.close();
    const messages = await readMessages(topics.trace, 2, 60_000);
    assert.deepEqual(messages.map((m) => m.key).sort(), ['t-1', 't-2']);
  });

  it('sends a batch as soon as it is full, and a partial one after the linger time or on flush', async () => {
    const bySize = producer(topics.batching, { batch: { maxSpans: 5, lingerMs: 60_000 } });
    let last: Promise<void> = Promise.resolve();
    for (let i = 0; i < 5; i++) last = bySize.record(makeSpan());
    await last;
    assert.deepEqual(bySize.stats(), { recorded: 5, delivered: 5, failed: 0, buffered: 0 });
    void bySize.record(makeSpan());
    void bySize.record(makeSpan());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bySize.stats().buffered, 2, 'a partial batch waits for its linger time');
    await bySize.flush();
    assert.deepEqual(bySize.stats(), { recorded: 7, delivered: 7, failed: 0, buffered: 0 });

    const byTime = producer(topics.batching, { batch: { maxSpans: 1000, lingerMs: 400 } });
    const started = Date.now();
    const delivered = [byTime.record(makeSpan()), byTime.record(makeSpan()), byTime.record(makeSpan())];
    assert.equal(byTime.stats().delivered, 0);
    await Promise.all(delivered);
    assert.ok(Date.now() - started >= 390, `sent after the linger time, not before (${Date.now() - started} ms)`);
    assert.equal(byTime.stats().delivered, 3);
    const messages = await readMessages(topics.batching, 10, 60_000, 500);
    assert.equal(messages.length, 10);
  });

  it('refuses invalid spans at record, naming the field, and sends nothing for them', async () => {
    const p = producer(topics.invalid);
    const bad: [Partial<LlmSpanInput>, string][] = [
      [{ durationMs: Number.NaN }, 'durationMs'],
      [{ service: '' }, 'service'],
      [{ status: 'FINE' as 'OK' }, 'status'],
      [{ outputTokens: -1 }, 'outputTokens'],
      [{ attributes: { n: 1 as unknown as string } }, 'attributes'],
    ];
    for (const [override, field] of bad) {
      assert.throws(
        () => p.record({ ...makeSpan(), ...override }),
        (e: unknown) => isVigilError(e, 'VIGIL_RECORD_INVALID') && typeof e.details.field === 'string' && e.details.field.startsWith(field),
      );
    }
    const good = makeSpan({ userId: 'u-9' });
    await p.record(good);
    await p.flush();
    const messages = await readMessages(topics.invalid, 1, 60_000, 1000);
    assert.equal(messages.length, 1);
    assert.deepEqual(codec.decode(messages[0].value), good);
  });

  it('with a schema registry, registers LlmSpan under <topic>-value and frames every value with its id', async () => {
    const registry = await startFakeSchemaRegistry(1234);
    try {
      const p = producer(topics.registry, { registry: { url: registry.url }, batch: { maxSpans: 2, lingerMs: 5 } });
      await p.connect();
      const spans = [makeSpan({ userId: 'u-1' }), makeSpan({ userId: 'u-2' }), makeSpan()];
      for (const s of spans) void p.record(s);
      await p.flush();
      assert.deepEqual(
        registry.requests.map((r) => r.path),
        [`/subjects/${topics.registry}-value`, `/subjects/${topics.registry}-value/versions`],
        'looked up, registered once, then cached',
      );
      assert.deepEqual(JSON.parse(registry.requests[1].body.schema!), readSchemaJson('LlmSpan'));

      const messages = await readMessages(topics.registry, 3, 60_000, 500);
      const bySpanId = new Map(spans.map((s) => [s.spanId, s]));
      for (const m of messages) {
        assert.equal(m.value[0], 0, 'magic byte');
        assert.equal(m.value.readUInt32BE(1), 1234, 'schema id');
        const framed = readWireFormat(m.value);
        assert.ok(framed);
        assert.equal(framed.schemaId, 1234);
        const span = codec.decode(framed.body);
        assert.deepEqual(span, bySpanId.get(span.spanId));
        assert.equal(m.headers['content-type'], undefined, 'the magic byte marks the format');
        assert.equal(m.headers['vigil-schema'], 'vigil.v1.LlmSpan');
      }
    } finally {
      await registry.close();
    }
  });
});
