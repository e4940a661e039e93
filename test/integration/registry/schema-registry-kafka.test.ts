/**
 * The schema-registry path end to end: a real Confluent-compatible registry (Apicurio, started by
 * `npm test` for this folder) and a real Kafka broker.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { AlertCodec, SpanCodec } from '../../../src/codec/avro-codec.js';
import { RegistryClient } from '../../../src/codec/registry/registry-client.js';
import { ResolvingDecoder } from '../../../src/codec/registry/resolving-decoder.js';
import { encodeWireFormat, readWireFormat } from '../../../src/codec/registry/wire-format.js';
import { readSchemaJson } from '../../../src/codec/schemas.js';
import type { LlmSpan } from '../../../src/model/index.js';
import { ALERT_CONTENT_TYPE_REGISTRY, KafkaAlertSink } from '../../../src/sinks/kafka-alert-sink.js';
import { KafkaSpanSource } from '../../../src/sources/kafka-source.js';
import type { DeadLetter } from '../../../src/sources/span-source.js';
import { INCOMPATIBLE_SPAN_SCHEMA, NEWER_SPAN_SCHEMA, OLDER_SPAN_SCHEMA, asReadFromOlder, newerSpanRecord, olderSpanRecord, typeOf } from '../../codec/registry/registry-fixtures.js';
import { sampleAlert, spanSeries } from '../../codec/span-fixtures.js';
import { createTopic, deleteGroups, deleteTopics, kafkaBrokers, produceRaw, randomName } from '../../helpers/kafka-test-env.js';
import { latestVersion, readRawMessages, registryUrl } from '../../helpers/registry-test-env.js';

const TIMEOUT_MS = 120_000;
const silent = pino({ level: 'silent' });
const topics: string[] = [];
const groups: string[] = [];

after(async () => {
  if (!process.env.KAFKA_BROKERS) return;
  await deleteGroups(groups);
  await deleteTopics(topics);
});

describe('schema registry (real Apicurio) and a real Kafka broker', () => {
  it(
    'KafkaSpanSource decodes producers on the older, current and newer LlmSpan through the registry; unknown ids and incompatible schemas are dead letters; plain Avro still decodes',
    { timeout: TIMEOUT_MS },
    async () => {
      const registry = new RegistryClient({ url: registryUrl() });
      const topic = randomName('vigil-it-reg-spans');
      const groupId = randomName('vigil-it-reg-group');
      topics.push(topic);
      groups.push(groupId);
      await createTopic(topic, 1);

      const subject = `${topic}-value`;
      const olderId = await registry.register(subject, OLDER_SPAN_SCHEMA);
      const currentId = await registry.register(subject, JSON.stringify(readSchemaJson('LlmSpan')));
      const newerId = await registry.register(subject, NEWER_SPAN_SCHEMA);
      // Its own subject, so that no compatibility rule of the traces subject could refuse it.
      const incompatibleId = await registry.register(`${topic}-incompatible-value`, INCOMPATIBLE_SPAN_SCHEMA);
      assert.equal(new Set([olderId, currentId, newerId, incompatibleId]).size, 4);
      const unknownId = Math.max(olderId, currentId, newerId, incompatibleId) + 100_000;

      const spans = spanSeries(12).map((s, i) => ({ ...s, traceId: `trace-${String(i).padStart(2, '0')}` }));
      const codec = new SpanCodec();
      const olderType = typeOf(OLDER_SPAN_SCHEMA);
      const newerType = typeOf(NEWER_SPAN_SCHEMA);
      const plainSpan = { ...spans[0], traceId: 'trace-plain' };
      await produceRaw(topic, [
        ...spans.slice(0, 4).map((s) => ({ key: s.traceId, value: encodeWireFormat(olderId, olderType.toBuffer(olderSpanRecord(s))) })),
        ...spans.slice(4, 8).map((s) => ({ key: s.traceId, value: encodeWireFormat(currentId, codec.encode(s)) })),
        ...spans.slice(8).map((s) => ({ key: s.traceId, value: encodeWireFormat(newerId, newerType.toBuffer(newerSpanRecord(s))) })),
        { key: 'plain', value: codec.encode(plainSpan) },
        { key: 'unknown', value: encodeWireFormat(unknownId, codec.encode(spans[0])) },
        { key: 'incompatible', value: encodeWireFormat(incompatibleId, typeOf(INCOMPATIBLE_SPAN_SCHEMA).toBuffer({ ...olderSpanRecord(spans[0]), durationMs: '5' })) },
      ]);

      const received: LlmSpan[] = [];
      const deadLetters: DeadLetter[] = [];
      let done: () => void = () => undefined;
      const allSeen = new Promise<void>((resolve) => (done = resolve));
      const source = new KafkaSpanSource({
        brokers: kafkaBrokers(),
        clientId: 'vigil-it-reg-source',
        groupId,
        topic,
        fromBeginning: true,
        logger: silent,
        registry,
        handler: async (batch) => {
          received.push(...batch.spans);
          deadLetters.push(...batch.deadLetters);
          if (received.length + deadLetters.length >= spans.length + 3) done();
        },
      });
      try {
        await source.start();
        await Promise.race([allSeen, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${received.length} spans, ${deadLetters.length} dead letters`)), 60_000))]);
      } finally {
        await source.stop();
      }

      const expected = [...spans.slice(0, 4).map(asReadFromOlder), ...spans.slice(4), plainSpan];
      const byId = (a: LlmSpan, b: LlmSpan): number => a.traceId.localeCompare(b.traceId);
      assert.deepEqual([...received].sort(byId), expected.sort(byId));

      assert.equal(deadLetters.length, 2);
      const [unknown, incompatible] = [...deadLetters].sort((a, b) => Number(a.offset) - Number(b.offset));
      assert.equal(unknown.key?.toString(), 'unknown');
      assert.equal(unknown.reason, `LlmSpan: schema id ${unknownId} is not known to the schema registry`);
      assert.equal(unknown.reasonClass, 'wrong_schema');
      assert.equal(incompatible.key?.toString(), 'incompatible');
      assert.match(incompatible.reason, new RegExp(`^LlmSpan: the writer schema id ${incompatibleId} \\(vigil\\.v1\\.LlmSpan\\) cannot be resolved to the reader schema`));
      assert.equal(incompatible.reasonClass, 'wrong_schema');
    },
  );

  it(
    'KafkaAlertSink registers AlertEvent under <alertsTopic>-value and writes the wire format with that id, readable by a registry-aware decoder',
    { timeout: TIMEOUT_MS },
    async () => {
      const url = registryUrl();
      const alertsTopic = randomName('vigil-it-reg-alerts');
      topics.push(alertsTopic);
      await createTopic(alertsTopic, 1);
      const sink = new KafkaAlertSink({ brokers: kafkaBrokers(), clientId: 'vigil-it-reg-sink', topic: alertsTopic, logger: silent, registry: new RegistryClient({ url }) });
      const alert = sampleAlert({ alertId: 'reg-alert-1' });
      try {
        await sink.send([alert]);
      } finally {
        await sink.close();
      }

      const registered = await latestVersion(`${alertsTopic}-value`);
      assert.equal(registered.version, 1);
      const [message] = await readRawMessages(alertsTopic, 1, 30_000);
      assert.ok(message.value !== null);
      const wire = readWireFormat(message.value);
      assert.equal(wire?.schemaId, registered.id);
      assert.equal(message.headers?.['content-type']?.toString(), ALERT_CONTENT_TYPE_REGISTRY);

      // A consumer that knows only the registry's URL: a fresh client, so the schema comes from the server.
      const codec = new AlertCodec();
      const decoder = new ResolvingDecoder({ registry: new RegistryClient({ url }), readerType: codec.type, record: 'AlertEvent', decodePlain: (v) => codec.decode(v) });
      assert.deepEqual(await decoder.decode(message.value), alert);
    },
  );
});
