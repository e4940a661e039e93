/**
 * Avro binary encoding of `vigil.v1.SubWindowPartial` records (`schemas/sub-window-partial.avsc`):
 * the aggregates of one closed sub-window that a partition's task publishes to the internal
 * partials topic for two-stage aggregation (see `FamilyWindowStore.exportSubWindow` and
 * `mergeSubWindow`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import type { Type } from 'avsc';
import type { PartialEntry, SubWindowPartial } from '../../operators/sub-window-partial.js';
import { VigilError } from '../errors.js';
import { AVRO_INT_MAX } from './field-checks.js';
import { schemasDir } from './schemas.js';
import { writeSubWindowPartial } from './sub-window-partial-writer.js';

/** File name of the contract in the package's `schemas/` folder. */
export const SUB_WINDOW_PARTIAL_SCHEMA_FILE = 'sub-window-partial.avsc';

/** A `SubWindowPartial` record as avsc reads and writes it. */
interface PartialRecord {
  task: number;
  family: string;
  subWindowMs: number;
  start: number;
  entries: { values: string[]; count: number; counters: number[]; digests: (Buffer | null)[] }[];
}

let cachedType: Type | undefined;

/**
 * The avsc `Type` of `schemas/sub-window-partial.avsc`, parsed on first use and cached (unions
 * unwrapped, `timestamp-millis` as plain epoch milliseconds, as `schemaType` does).
 *
 * @throws VigilError `VIGIL_FILE_UNREADABLE` when the file is missing or not a valid schema.
 */
export function subWindowPartialType(): Type {
  if (cachedType !== undefined) return cachedType;
  const path = join(schemasDir(), SUB_WINDOW_PARTIAL_SCHEMA_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Cannot read Avro schema file ${path}`, { cause, details: { path } });
  }
  try {
    cachedType = avro.Type.forSchema(json as Parameters<typeof avro.Type.forSchema>[0], { wrapUnions: 'never', registry: {} });
  } catch (cause) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Avro schema file ${path} is not a valid schema`, { cause, details: { path } });
  }
  return cachedType;
}

/**
 * Encodes one partial with the number of the input partition whose task produced it. Counters
 * given as a `Float64Array` are written as the schema's `array<double>`, digests as `bytes`.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the field at fault: `task` (not an int ≥ 0),
 *   `subWindowMs` (not positive), `start` (not a multiple of `subWindowMs`), or every field that
 *   does not fit the schema (e.g. `start` not a whole number, an entry's `count` missing).
 */
export function encodeSubWindowPartial(task: number, partial: SubWindowPartial): Buffer {
  if (!Number.isInteger(task) || task < 0 || task > AVRO_INT_MAX) {
    throw new VigilError('VIGIL_RECORD_INVALID', `SubWindowPartial.task: must be an input partition number (an int ≥ 0), got ${String(task)}`, {
      details: { field: 'task' },
    });
  }
  // Non-integers are left to the schema check below, which names them.
  if (Number.isSafeInteger(partial.subWindowMs) && Number.isSafeInteger(partial.start)) checkWindow(partial.subWindowMs, partial.start);
  const direct = writeSubWindowPartial(task, partial);
  if (direct !== null) return direct;
  const type = subWindowPartialType();
  // avsc writes arrays and Buffers: typed counters become an array, digest bytes a Buffer view.
  // Anything else passes as it is, for isValid to name.
  const entries: unknown = Array.isArray(partial.entries) ? partial.entries.map(toRecordEntry) : partial.entries;
  const record = { task, family: partial.family, subWindowMs: partial.subWindowMs, start: partial.start, entries };
  try {
    return type.toBuffer(record);
  } catch {
    // avsc's own message quotes the value (dimension values): name the fields instead.
    const fields: string[] = [];
    type.isValid(record, { errorHook: (path: string[]) => fields.push(path.join('.')) });
    const list = fields.length > 0 ? fields.join(', ') : '(unknown)';
    throw new VigilError('VIGIL_RECORD_INVALID', `SubWindowPartial: invalid value for field(s) ${list}`, {
      details: { field: fields[0] ?? 'SubWindowPartial', fields },
    });
  }
}

/**
 * Decodes one Avro binary partial. Its digests are views into `buf` (no copy): `mergeSubWindow`
 * copies them as it restores them.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` with `details.field` `SubWindowPartial` when the bytes
 *   are not such a record (truncated, trailing bytes, a bad union index: the avsc error is the
 *   cause), or naming the field that breaks the contract (`task` negative, `start` or
 *   `subWindowMs` not a boundary and a positive length).
 */
export function decodeSubWindowPartial(buf: Buffer): { task: number; partial: SubWindowPartial } {
  const type = subWindowPartialType();
  let r: PartialRecord;
  try {
    r = type.fromBuffer(buf) as PartialRecord;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const problem = message.length > 120 ? `${message.slice(0, 120)}…` : message;
    throw new VigilError('VIGIL_RECORD_INVALID', `SubWindowPartial: not a valid Avro binary SubWindowPartial record (${problem})`, {
      cause,
      details: { field: 'SubWindowPartial', reasonClass: 'undecodable' },
    });
  }
  if (r.task < 0) throw invalid('task', `must be an input partition number ≥ 0, got ${r.task}`);
  checkWindow(r.subWindowMs, r.start);
  return {
    task: r.task,
    partial: {
      family: r.family,
      subWindowMs: r.subWindowMs,
      start: r.start,
      entries: r.entries.map((e) => ({ values: e.values, count: e.count, counters: e.counters, digests: e.digests })),
    },
  };
}

function invalid(field: string, problem: string): VigilError {
  return new VigilError('VIGIL_RECORD_INVALID', `SubWindowPartial.${field}: ${problem}`, { details: { field, reasonClass: 'invalid_field' } });
}

/** Throws unless `subWindowMs` is a positive length and `start` one of its boundaries. */
function checkWindow(subWindowMs: number, start: number): void {
  if (!(subWindowMs > 0)) throw invalid('subWindowMs', `must be a positive length in ms, got ${subWindowMs}`);
  if (start % subWindowMs !== 0) throw invalid('start', `must be a multiple of subWindowMs (${subWindowMs}), got ${start}`);
}

function toRecordEntry(e: PartialEntry): Record<string, unknown> {
  const { counters, digests } = e;
  return {
    values: e.values,
    count: e.count,
    counters: counters instanceof Float64Array ? Array.from(counters) : counters,
    digests: Array.isArray(digests) ? digests.map((d: unknown) => (d instanceof Uint8Array ? asBuffer(d) : d)) : digests,
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
