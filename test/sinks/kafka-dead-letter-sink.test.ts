import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kafka, ProducerRecord } from 'kafkajs';
import { DeadLetterCodec } from '../../src/codec/dead-letter-codec.js';
import { VigilError } from '../../src/errors.js';
import { KafkaDeadLetterSink } from '../../src/sinks/kafka-dead-letter-sink.js';
import type { DeadLetter } from '../../src/sources/span-source.js';

class FakeProducer {
  readonly sent: ProducerRecord[] = [];
  failures = 0;
  connect(): Promise<void> {
    return Promise.resolve();
  }
  send(record: ProducerRecord): Promise<unknown[]> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('Connection error: ECONNREFUSED'));
    }
    this.sent.push(record);
    return Promise.resolve([]);
  }
  disconnect(): Promise<void> {
    return Promise.resolve();
  }
}

function sinkWith(producer: FakeProducer, maxBytes = 4096): KafkaDeadLetterSink {
  const kafka = { producer: () => producer } as unknown as Kafka;
  return new KafkaDeadLetterSink({ kafka, topic: 'vigil-dlq', consumerGroup: 'g', maxBytes, clock: () => 1_700_000_000_000 });
}

function dl(offset: number, bytes: number, key?: string): DeadLetter {
  return { reason: 'durationMs: must be a finite number ≥ 0, got -1', field: 'durationMs', source: 'llm-traces', partition: 1, offset: String(offset), payload: Buffer.alloc(bytes, 7), ...(key ? { key: Buffer.from(key) } : {}) };
}

describe('Kafka dead-letter sink', () => {
  it('sends Avro DeadLetter records keyed by the original key, with schema headers and acks from all replicas', async () => {
    const producer = new FakeProducer();
    await sinkWith(producer).send([dl(10, 20, 'trace-1'), dl(11, 20)]);
    assert.equal(producer.sent.length, 1);
    const [record] = producer.sent;
    assert.equal(record.topic, 'vigil-dlq');
    assert.equal(record.acks, -1);
    assert.equal(record.messages[0].key?.toString(), 'trace-1');
    assert.equal(record.messages[1].key, null);
    assert.deepEqual(record.messages[0].headers, { 'content-type': 'avro/binary', 'vigil-schema': 'vigil.v1.DeadLetter' });
    const decoded = new DeadLetterCodec().decode(record.messages[0].value as Buffer);
    assert.equal(decoded.offset, 10);
    assert.equal(decoded.sourceTopic, 'llm-traces');
    assert.equal(decoded.consumerGroup, 'g');
    assert.equal(decoded.time, 1_700_000_000_000);
  });

  it('splits a run of large dead letters into requests of about maxBytes, in order', async () => {
    const producer = new FakeProducer();
    await sinkWith(producer, 4096).send([dl(1, 3000), dl(2, 3000), dl(3, 100), dl(4, 100), dl(5, 10_000_000)]);
    const codec = new DeadLetterCodec();
    const offsets = producer.sent.map((r) => r.messages.map((m) => codec.decode(m.value as Buffer).offset));
    assert.deepEqual(offsets, [[1], [2, 3, 4], [5]]);
    const last = codec.decode(producer.sent[2].messages[0].value as Buffer);
    assert.equal(last.truncated, true);
    assert.equal(last.valueSize, 10_000_000);
    for (const r of producer.sent) assert.ok(r.messages.reduce((n, m) => n + (m.value as Buffer).length, 0) < 4096 + 1024);
  });

  it('reports a failed delivery as a retriable sink failure', async () => {
    const producer = new FakeProducer();
    producer.failures = 1;
    const sink = sinkWith(producer);
    await assert.rejects(sink.send([dl(1, 10)]), (e: unknown) => e instanceof VigilError && e.code === 'VIGIL_SINK_FAILED' && e.retriable);
    await sink.send([dl(1, 10)]);
    assert.equal(producer.sent.length, 1);
    await sink.close();
    await assert.rejects(sink.send([dl(2, 10)]), /closed/);
  });
});
