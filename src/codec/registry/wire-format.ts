/**
 * The Confluent Schema Registry wire format of a Kafka message value: the magic byte 0, the writer
 * schema's registry id as a 4-byte big-endian integer, then the Avro binary record.
 */
import { VigilError } from '../../errors.js';

/** The first byte of every value in the wire format. */
export const WIRE_MAGIC_BYTE = 0;

/** Bytes before the Avro record: the magic byte and the schema id. */
export const WIRE_HEADER_LENGTH = 5;

/** A value in the wire format, split. */
export interface WireFormatValue {
  /** The registry id of the schema the record was written with. */
  schemaId: number;
  /** The Avro binary record: a view into the value, not a copy. */
  body: Buffer;
}

/**
 * Prefixes an Avro binary record with the magic byte and `schemaId`.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` when `schemaId` is not an integer in `[0, 2^31 − 1]`.
 */
export function encodeWireFormat(schemaId: number, body: Uint8Array): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new VigilError('VIGIL_RECORD_INVALID', `schemaId: must be an integer in [0, 2147483647], got ${String(schemaId)}`, {
      details: { field: 'schemaId' },
    });
  }
  const out = Buffer.allocUnsafe(WIRE_HEADER_LENGTH + body.byteLength);
  out[0] = WIRE_MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  out.set(body, WIRE_HEADER_LENGTH);
  return out;
}

/**
 * Splits a value in the wire format, or returns `undefined` when it does not start with the magic
 * byte or is shorter than the header. A plain Avro record may also start with byte 0, so call this
 * only for topics whose producers use a registry (see the README's "Schema registry" section).
 */
export function readWireFormat(value: Buffer): WireFormatValue | undefined {
  if (value.length < WIRE_HEADER_LENGTH || value[0] !== WIRE_MAGIC_BYTE) return undefined;
  return { schemaId: value.readUInt32BE(1), body: value.subarray(WIRE_HEADER_LENGTH) };
}
