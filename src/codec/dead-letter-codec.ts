/**
 * Avro binary encoding of `vigil.v1.DeadLetter` records (`schemas/dead-letter.avsc`), what Vigil
 * writes to the dead-letter topic for every record it could not use.
 */
import type { Type } from 'avsc';
import { VigilError } from '../errors.js';
import type { DeadLetter, DeadLetterClass } from '../sources/span-source.js';
import { schemaType } from './schemas.js';

/** The `reasonClass` symbols of `vigil.v1.DeadLetterClass`. */
export type DeadLetterClassSymbol = 'UNDECODABLE' | 'WRONG_SCHEMA' | 'INVALID_FIELD' | 'EVENT_TIME' | 'EMPTY' | 'UNEXPECTED';

/** One `vigil.v1.DeadLetter` record as it is encoded; see the schema's field docs. */
export interface DeadLetterRecord {
  reason: string;
  reasonClass: DeadLetterClassSymbol;
  field: string | null;
  sourceTopic: string;
  partition: number;
  offset: number;
  messageTimestamp: number | null;
  key: Buffer | null;
  value: Buffer | null;
  keySize: number | null;
  valueSize: number | null;
  truncated: boolean;
  consumerGroup: string;
  time: number;
}

/** What {@link toDeadLetterRecord} needs besides the dead letter. */
export interface DeadLetterContext {
  /** The consumer group that rejected it. */
  consumerGroup: string;
  /** When it was rejected, epoch ms. */
  time: number;
  /** Most bytes of key plus value kept; the rest is cut and `truncated` set. */
  maxBytes: number;
}

/**
 * The {@link DeadLetterRecord} of a dead letter read from Kafka (it has `partition` and `offset`).
 * Key and value are cut so their sizes add up to at most `context.maxBytes`, the key first at most
 * half of it, so one record always fits the topic's message size limit.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` when the dead letter has no partition or offset.
 */
export function toDeadLetterRecord(dl: DeadLetter, context: DeadLetterContext): DeadLetterRecord {
  if (dl.partition === undefined || dl.offset === undefined) {
    throw new VigilError('VIGIL_RECORD_INVALID', 'DeadLetter: only a record read from Kafka (with partition and offset) can go to the dead-letter topic', {
      details: { field: dl.partition === undefined ? 'partition' : 'offset' },
    });
  }
  const key = dl.key ?? null;
  const value = dl.payload ?? null;
  const keyRoom = Math.min(key?.length ?? 0, Math.floor(context.maxBytes / 2));
  const valueRoom = Math.max(0, context.maxBytes - keyRoom);
  const keptKey = key !== null && key.length > keyRoom ? key.subarray(0, keyRoom) : key;
  const keptValue = value !== null && value.length > valueRoom ? value.subarray(0, valueRoom) : value;
  return {
    reason: dl.reason,
    reasonClass: classSymbol(dl.reasonClass ?? 'invalid_field'),
    field: dl.field ?? null,
    sourceTopic: dl.source,
    partition: dl.partition,
    offset: Number(dl.offset),
    messageTimestamp: dl.timestamp ?? null,
    key: keptKey,
    value: keptValue,
    keySize: key?.length ?? null,
    valueSize: value?.length ?? null,
    truncated: keptKey !== key || keptValue !== value,
    consumerGroup: context.consumerGroup,
    time: context.time,
  };
}

/** The schema symbol of a {@link DeadLetterClass}: `invalid_field` is `INVALID_FIELD`. */
export function classSymbol(cls: DeadLetterClass): DeadLetterClassSymbol {
  return cls.toUpperCase() as DeadLetterClassSymbol;
}

/** Encodes and decodes `vigil.v1.DeadLetter` records as Avro binary. */
export class DeadLetterCodec {
  /** The reader type, `schemas/dead-letter.avsc`. */
  readonly type: Type = schemaType('DeadLetter');

  /**
   * Encodes one record.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` naming the fields that do not fit the schema.
   */
  encode(record: DeadLetterRecord): Buffer {
    try {
      return this.type.toBuffer(record);
    } catch {
      const fields: string[] = [];
      this.type.isValid(record, { errorHook: (path: string[]) => fields.push(path.join('.')) });
      throw new VigilError('VIGIL_RECORD_INVALID', `DeadLetter: invalid value for field(s) ${fields.join(', ') || '(unknown)'}`, {
        details: { field: fields[0] ?? 'DeadLetter', fields },
      });
    }
  }

  /**
   * Decodes one record into a plain object.
   *
   * @throws VigilError `VIGIL_RECORD_INVALID` when the bytes are not a `DeadLetter` record.
   */
  decode(buf: Buffer): DeadLetterRecord {
    try {
      return { ...(this.type.fromBuffer(buf) as DeadLetterRecord) };
    } catch (cause) {
      throw new VigilError('VIGIL_RECORD_INVALID', `DeadLetter: not a valid Avro binary DeadLetter record (${cause instanceof Error ? cause.message.slice(0, 120) : 'unknown'})`, {
        cause,
        details: { field: 'DeadLetter' },
      });
    }
  }
}
