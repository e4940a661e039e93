import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import { encodeWireFormat, readWireFormat } from '../../src/codec/registry/wire-format.js';
import { makeSpan } from '../helpers/span-factory.js';

describe('LlmSpan values with and without a schema registry', () => {
  it('round-trips a span framed with its schema id', () => {
    const codec = new SpanCodec();
    const span = makeSpan({ userId: 'u-1', inputText: 'hello' });
    const framed = encodeWireFormat(0x01020304, codec.encode(span));
    assert.deepEqual([...framed.subarray(0, 5)], [0, 1, 2, 3, 4]);
    const read = readWireFormat(framed);
    assert.ok(read);
    assert.equal(read.schemaId, 0x01020304);
    assert.deepEqual(codec.decode(read.body), span);
  });

  it('never starts a plain Avro LlmSpan with the magic byte, because its traceId is never empty', () => {
    const codec = new SpanCodec();
    for (const traceId of ['a', 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(10_000)]) {
      const plain = codec.encode(makeSpan({ traceId }));
      assert.notEqual(plain[0], 0, `traceId of length ${traceId.length}`);
      assert.equal(readWireFormat(plain), undefined);
    }
  });
});
