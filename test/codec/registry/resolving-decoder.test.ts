import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanCodec } from '../../../src/codec/avro-codec.js';
import type { RegisteredSchema } from '../../../src/codec/registry/registry-client.js';
import { ResolvingDecoder } from '../../../src/codec/registry/resolving-decoder.js';
import type { WriterSchemaSource } from '../../../src/codec/registry/resolving-decoder.js';
import { encodeWireFormat } from '../../../src/codec/registry/wire-format.js';
import { readSchemaJson } from '../../../src/codec/schemas.js';
import { VigilError, isVigilError } from '../../../src/errors.js';
import type { LlmSpan } from '../../../src/model/index.js';
import { deadLetterFor } from '../../../src/sources/dead-letter.js';
import { PROMPT, fullSpan } from '../span-fixtures.js';
import { INCOMPATIBLE_SPAN_SCHEMA, NEWER_SPAN_SCHEMA, OLDER_SPAN_SCHEMA, asReadFromOlder, newerSpanRecord, olderSpanRecord, typeOf } from './registry-fixtures.js';

const CURRENT = 1;
const OLDER = 2;
const NEWER = 3;
const INCOMPATIBLE = 4;
const PROTOBUF = 5;
const UNKNOWN = 99;

/** The decoder's view of a registry, in memory: these tests are about resolution, not HTTP. */
class MemoryRegistry implements WriterSchemaSource {
  readonly schemas = new Map<number, RegisteredSchema>();
  calls = 0;
  down = false;

  constructor(readonly cacheSize = 1000) {
    const add = (id: number, schema: string, schemaType = 'AVRO'): void => void this.schemas.set(id, { id, schema, schemaType });
    add(CURRENT, JSON.stringify(readSchemaJson('LlmSpan')));
    add(OLDER, OLDER_SPAN_SCHEMA);
    add(NEWER, NEWER_SPAN_SCHEMA);
    add(INCOMPATIBLE, INCOMPATIBLE_SPAN_SCHEMA);
    add(PROTOBUF, 'syntax = "proto3"; message LlmSpan {}', 'PROTOBUF');
  }

  async schemaById(id: number): Promise<RegisteredSchema> {
    this.calls++;
    if (this.down) throw new VigilError('VIGIL_REGISTRY_FAILED', 'registry down');
    const found = this.schemas.get(id);
    if (found === undefined) throw new VigilError('VIGIL_REGISTRY_REJECTED', `id ${id} unknown`, { details: { status: 404 } });
    return found;
  }
}

function decoderWith(registry: WriterSchemaSource, cacheSize?: number): ResolvingDecoder<LlmSpan> {
  const codec = new SpanCodec();
  return new ResolvingDecoder({ registry, readerType: codec.type, record: 'LlmSpan', decodePlain: (v) => codec.decode(v), cacheSize });
}

const span = fullSpan();
const older = encodeWireFormat(OLDER, typeOf(OLDER_SPAN_SCHEMA).toBuffer(olderSpanRecord(span)));
const newer = encodeWireFormat(NEWER, typeOf(NEWER_SPAN_SCHEMA).toBuffer(newerSpanRecord(span)));
const current = encodeWireFormat(CURRENT, new SpanCodec().encode(span));

async function rejection(promise: Promise<unknown>): Promise<VigilError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof VigilError, `expected a VigilError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('ResolvingDecoder (LlmSpan through a registry)', () => {
  it('reads a record of the older version with the current defaults for the fields it lacks', async () => {
    assert.deepEqual(await decoderWith(new MemoryRegistry()).decode(older), asReadFromOlder(span));
  });

  it('reads a record of the newer version, dropping the fields the reader does not know', async () => {
    assert.deepEqual(await decoderWith(new MemoryRegistry()).decode(newer), span);
  });

  it('reads a record written with the current schema and plain Avro without a header', async () => {
    const decoder = decoderWith(new MemoryRegistry());
    assert.deepEqual(await decoder.decode(current), span);
    assert.deepEqual(await decoder.decode(new SpanCodec().encode(span)), span);
  });

  it('looks each id up once, also for a run that mixes versions', async () => {
    const registry = new MemoryRegistry();
    const decoder = decoderWith(registry);
    const run = [older, newer, older, null, current, newer];
    const prepared = await decoder.prepare(run);
    assert.equal(registry.calls, 3);
    assert.deepEqual(prepared.decode(older), asReadFromOlder(span));
    assert.deepEqual(prepared.decode(newer), span);
    await decoder.prepare([older, newer, current]);
    assert.equal(registry.calls, 3);
  });

  it('keeps at most cacheSize resolvers, yet a prepared run decodes whatever was evicted since', async () => {
    const registry = new MemoryRegistry();
    const decoder = decoderWith(registry, 1);
    const prepared = await decoder.prepare([older, newer]);
    assert.equal(registry.calls, 2);
    await decoder.prepare([older]); // evicted by newer: asked again
    assert.equal(registry.calls, 3);
    await decoder.prepare([current]);
    assert.deepEqual(prepared.decode(newer), span);
    assert.deepEqual(prepared.decode(older), asReadFromOlder(span));
  });

  it('rejects an id the registry does not know as a wrong_schema dead letter, and asks again next run', async () => {
    const registry = new MemoryRegistry();
    const decoder = decoderWith(registry);
    const value = encodeWireFormat(UNKNOWN, new SpanCodec().encode(span));
    const error = await rejection(decoder.decode(value));
    assert.equal(error.code, 'VIGIL_RECORD_INVALID');
    assert.equal(error.message, 'LlmSpan: schema id 99 is not known to the schema registry');
    const dead = deadLetterFor(error, { source: 't' });
    assert.equal(dead.reasonClass, 'wrong_schema');
    assert.equal(dead.field, 'schemaId');
    await rejection(decoder.decode(value));
    assert.equal(registry.calls, 2);
  });

  it('rejects a writer schema that cannot be resolved, or is not Avro, once per id', async () => {
    const registry = new MemoryRegistry();
    const decoder = decoderWith(registry);
    const body = typeOf(INCOMPATIBLE_SPAN_SCHEMA).toBuffer({ ...olderSpanRecord(span), durationMs: '12' });
    const error = await rejection(decoder.decode(encodeWireFormat(INCOMPATIBLE, body)));
    assert.match(error.message, /^LlmSpan: the writer schema id 4 \(vigil\.v1\.LlmSpan\) cannot be resolved to the reader schema vigil\.v1\.LlmSpan \(/);
    assert.equal(error.details.reasonClass, 'wrong_schema');
    await rejection(decoder.decode(encodeWireFormat(INCOMPATIBLE, body)));
    assert.equal(registry.calls, 1);
    const proto = await rejection(decoder.decode(encodeWireFormat(PROTOBUF, Buffer.from([1]))));
    assert.equal(proto.message, 'LlmSpan: schema id 5 is a PROTOBUF schema, not Avro');
  });

  it('names the schema id for a body that does not fit its writer schema, and validates resolved records', async () => {
    const decoder = decoderWith(new MemoryRegistry());
    const truncated = await rejection(decoder.decode(older.subarray(0, 20)));
    assert.match(truncated.message, /^LlmSpan: not a valid Avro binary record of schema id 2 \(/);
    assert.equal(truncated.details.reasonClass, 'undecodable');
    const negative = encodeWireFormat(OLDER, typeOf(OLDER_SPAN_SCHEMA).toBuffer(olderSpanRecord({ ...span, durationMs: -3 })));
    const invalid = await rejection(decoder.decode(negative));
    assert.match(invalid.message, /^durationMs: /);
    for (const e of [truncated, invalid]) assert.ok(!e.message.includes(PROMPT.slice(0, 12)));
  });

  it('fails the run, retriably, when the registry cannot be asked', async () => {
    const registry = new MemoryRegistry();
    registry.down = true;
    const error = await rejection(decoderWith(registry).prepare([older]));
    assert.ok(isVigilError(error, 'VIGIL_REGISTRY_FAILED'));
    assert.equal(error.retriable, true);
  });
});
