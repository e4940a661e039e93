import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WIRE_HEADER_LENGTH, encodeWireFormat, readWireFormat } from '../../../src/codec/registry/wire-format.js';
import { isVigilError } from '../../../src/errors.js';

describe('Confluent wire format', () => {
  it('writes magic byte 0, the id big-endian, then the body, and reads them back', () => {
    const body = Buffer.from([1, 2, 3]);
    const framed = encodeWireFormat(0x01020304, body);
    assert.deepEqual([...framed], [0, 1, 2, 3, 4, 1, 2, 3]);
    const read = readWireFormat(framed);
    assert.equal(read?.schemaId, 0x01020304);
    assert.deepEqual(read?.body, body);
    assert.equal(WIRE_HEADER_LENGTH, 5);
  });

  it('reads the largest id and an empty body', () => {
    const read = readWireFormat(encodeWireFormat(2147483647, new Uint8Array()));
    assert.equal(read?.schemaId, 2147483647);
    assert.equal(read?.body.length, 0);
  });

  it('gives undefined for values without the magic byte or shorter than the header', () => {
    assert.equal(readWireFormat(Buffer.from([2, 0, 0, 0, 1, 9])), undefined);
    assert.equal(readWireFormat(Buffer.from([0, 0, 0, 1])), undefined);
    assert.equal(readWireFormat(Buffer.alloc(0)), undefined);
  });

  it('refuses ids that are not integers in [0, 2^31 - 1]', () => {
    for (const id of [-1, 2 ** 31, 1.5, Number.NaN]) {
      assert.throws(() => encodeWireFormat(id, Buffer.alloc(1)), (e) => isVigilError(e, 'VIGIL_RECORD_INVALID') && e.details.field === 'schemaId');
    }
  });
});
