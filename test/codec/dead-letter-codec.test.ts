import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import { DeadLetterCodec, toDeadLetterRecord } from '../../src/codec/dead-letter-codec.js';
import { readSchemaJson, schemaType } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import { deadLetterFor } from '../../src/sources/dead-letter.js';
import { makeSpan } from '../helpers/span-factory.js';

const CONTEXT = { consumerGroup: 'vigil', time: 1_764_000_000_000, maxBytes: 4096 };

describe('dead-letter record', () => {
  it('documents the record and every one of its fields', () => {
    const json = readSchemaJson('DeadLetter') as { name: string; namespace: string; doc?: string; fields: { name: string; doc?: string }[] };
    assert.equal(`${json.namespace}.${json.name}`, 'vigil.v1.DeadLetter');
    assert.ok((json.doc ?? '').length > 40);
    for (const f of json.fields) assert.ok((f.doc ?? '').length > 10, `field ${f.name} has no doc`);
    assert.deepEqual(
      json.fields.map((f) => f.name),
      ['reason', 'reasonClass', 'field', 'sourceTopic', 'partition', 'offset', 'messageTimestamp', 'key', 'value', 'keySize', 'valueSize', 'truncated', 'consumerGroup', 'time'],
    );
  });

  it('round-trips a dead letter with its reason, class, position and original bytes', () => {
    const codec = new DeadLetterCodec();
    const payload = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const dl = { ...deadLetterFor(new VigilError('VIGIL_RECORD_INVALID', 'durationMs: must be a finite number ≥ 0, got -3', { details: { field: 'durationMs' } }), { source: 'llm-traces', partition: 2, offset: '12345', payload }), key: Buffer.from('trace-1'), timestamp: 1_763_999_999_000 };
    const back = codec.decode(codec.encode(toDeadLetterRecord(dl, CONTEXT)));
    assert.deepEqual(back, {
      reason: 'durationMs: must be a finite number ≥ 0, got -3',
      reasonClass: 'INVALID_FIELD',
      field: 'durationMs',
      sourceTopic: 'llm-traces',
      partition: 2,
      offset: 12345,
      messageTimestamp: 1_763_999_999_000,
      key: Buffer.from('trace-1'),
      value: payload,
      keySize: 7,
      valueSize: 4,
      truncated: false,
      consumerGroup: 'vigil',
      time: CONTEXT.time,
    });
  });

  it('keeps a tombstone as a null value of class EMPTY', () => {
    const record = toDeadLetterRecord({ reason: 'message has no value (tombstone)', reasonClass: 'empty', source: 't', partition: 0, offset: '7' }, CONTEXT);
    assert.equal(record.reasonClass, 'EMPTY');
    assert.equal(record.value, null);
    assert.equal(record.valueSize, null);
    assert.equal(record.key, null);
  });

  it('cuts a huge value (and key) to the cap, recording the original sizes', () => {
    const codec = new DeadLetterCodec();
    const value = Buffer.alloc(10 * 1024 * 1024, 1);
    const key = Buffer.alloc(10_000, 2);
    const record = toDeadLetterRecord({ reason: 'r', source: 't', partition: 0, offset: '1', payload: value, key }, CONTEXT);
    assert.equal(record.truncated, true);
    assert.equal(record.key?.length, 2048);
    assert.equal(record.value?.length, 2048);
    assert.equal(record.keySize, 10_000);
    assert.equal(record.valueSize, 10 * 1024 * 1024);
    assert.ok(codec.encode(record).length < 4096 + 200);
  });

  it('refuses a dead letter without a Kafka position', () => {
    assert.throws(() => toDeadLetterRecord({ reason: 'r', source: 'file.jsonl', position: 3 }, CONTEXT), /only a record read from Kafka/);
  });

  it('classes undecodable bytes and a record written with another schema as undecodable', () => {
    const codec = new SpanCodec();
    for (const bytes of [Buffer.from('not avro at all'), Buffer.concat([codec.encode(makeSpan()), Buffer.from([1])])]) {
      let error: unknown;
      try {
        codec.decode(bytes);
      } catch (e) {
        error = e;
      }
      assert.equal(deadLetterFor(error, { source: 't' }).reasonClass, 'undecodable');
    }
  });

  it('names the field of an enum symbol the reader does not know', () => {
    const schema = schemaType('LlmSpan').schema() as { fields: { name: string; type: { symbols?: string[] } }[] };
    const kind = schema.fields.find((f) => f.name === 'kind');
    kind!.type.symbols = [...kind!.type.symbols!, 'AGENT'];
    const writer = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'never', registry: {} } as never);
    const bytes = writer.toBuffer({ ...makeSpan(), kind: 'AGENT' });
    let error: unknown;
    try {
      new SpanCodec().decode(bytes);
    } catch (e) {
      error = e;
    }
    const dl = deadLetterFor(error, { source: 't' });
    assert.equal(dl.reason, 'kind: unknown vigil.v1.SpanKind symbol (index 7; known: PIPELINE, LLM, EMBEDDING, RETRIEVAL, TOOL, GUARDRAIL, OTHER)');
    assert.equal(dl.field, 'kind');
    assert.equal(dl.reasonClass, 'invalid_field');
  });
});
