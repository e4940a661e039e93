/**
 * Avro binary encoding of `vigil.v2.SubWindowPartial` records (`schemas/sub-window-partial.avsc`):
 * the aggregates of one closed sub-window that a partition's task publishes to the internal
 * partials topic for two-stage aggregation (see `FamilyWindowStore.exportSubWindow` and
 * `mergeSubWindow`). An entry's counters travel sparse (the positions and sums of the non-zero
 * ones) and come back dense. Records of the first version, `vigil.v1.SubWindowPartial`
 * (`schemas/sub-window-partial-v1.avsc`, every counter written), still decode.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import type { Type } from 'avsc';
import type { PartialEntry, SubWindowPartial } from '../../operators/sub-window-partial.js';
import { VigilError } from '../errors.js';
import { AVRO_INT_MAX } from './field-checks.js';
import { schemasDir } from './schemas.js';
import { readSubWindowPartial } from './sub-window-partial-reader.js';
import { writeSubWindowPartial } from './sub-window-partial-writer.js';

/** File name of the contract in the package's `schemas/` folder. */
export const SUB_WINDOW_PARTIAL_SCHEMA_FILE = 'sub-window-partial.avsc';
/** File name of the first version of the contract, read for partials written before the second. */
export const SUB_WINDOW_PARTIAL_V1_SCHEMA_FILE = 'sub-window-partial-v1.avsc';

/** The record's full name in the contract: what the partials topic's kind header says. */
export const SUB_WINDOW_PARTIAL_RECORD = 'vigil.v2.SubWindowPartial';
/** The full name of the first version of the record, with every counter written. */
export const SUB_WINDOW_PARTIAL_V1_RECORD = 'vigil.v1.SubWindowPartial';

/** The versions of the record this codec reads: 2 (the contract's, written) and 1. */
export type SubWindowPartialVersion = 1 | 2;

/** A `SubWindowPartial` record of version 2 as avsc reads it. */
interface PartialRecord {
  task: number;
  family: string;
  subWindowMs: number;
  start: number;
  counterWidth: number;
  entries: { values: string[]; count: number; counterIndexes: number[]; counterValues: number[]; digests: (Buffer | null)[] }[];
}

/** A record of version 1 as avsc reads it. */
interface PartialRecordV1 {
  task: number;
  family: string;
  subWindowMs: number;
  start: number;
  entries: { values: string[]; count: number; counters: number[]; digests: (Buffer | null)[] }[];
}

const cachedTypes = new Map<SubWindowPartialVersion, Type>();

/**
 * The avsc `Type` of `schemas/sub-window-partial.avsc` (or, for version 1,
 * `schemas/sub-window-partial-v1.avsc`), parsed on first use and cached (unions unwrapped,
 * `timestamp-millis` as plain epoch milliseconds, as `schemaType` does).
 *
 * @throws VigilError `VIGIL_FILE_UNREADABLE` when the file is missing or not a valid schema.
 */
export function subWindowPartialType(version: SubWindowPartialVersion = 2): Type {
  const cached = cachedTypes.get(version);
  if (cached !== undefined) return cached;
  const path = join(schemasDir(), version === 2 ? SUB_WINDOW_PARTIAL_SCHEMA_FILE : SUB_WINDOW_PARTIAL_V1_SCHEMA_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Cannot read Avro schema file ${path}`, { cause, details: { path } });
  }
  let type: Type;
  try {
    type = avro.Type.forSchema(json as Parameters<typeof avro.Type.forSchema>[0], { wrapUnions: 'never', registry: {} });
  } catch (cause) {
    throw new VigilError('VIGIL_FILE_UNREADABLE', `Avro schema file ${path} is not a valid schema`, { cause, details: { path } });
  }
  cachedTypes.set(version, type);
  return type;
}

/**
 * Encodes one partial, as a version 2 record, with the number of the input partition whose task
 * produced it. Every entry must hold the same number of counters (the family's counter width); of
 * each entry only the counters that are not zero are written (a −0 reads back as 0), and the
 * digests as `bytes`.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the field at fault: `task` (not an int ≥ 0),
 *   `subWindowMs` (not positive), `start` (not a multiple of `subWindowMs`), `counters` (entries of
 *   different widths), or every field that does not fit the schema (e.g. `start` not a whole
 *   number, an entry's `count` missing).
 */
export function encodeSubWindowPartial(task: number, partial: SubWindowPartial): Buffer {
  if (!Number.isInteger(task) || task < 0 || task > AVRO_INT_MAX) {
    throw new VigilError('VIGIL_RECORD_INVALID', `SubWindowPartial.task: must be an input partition number (an int ≥ 0), got ${String(task)}`, {
      details: { field: 'task' },
    });
  }
  // Non-integers are left to the schema check below, which names them.
  if (Number.isSafeInteger(partial.subWindowMs) && Number.isSafeInteger(partial.start)) checkWindow(partial.subWindowMs, partial.start);
  const counterWidth = widthOf(partial.entries);
  const direct = writeSubWindowPartial(task, partial, counterWidth);
  if (direct !== null) return direct;
  const type = subWindowPartialType();
  // avsc writes arrays and Buffers: counters become their sparse arrays, digest bytes a Buffer
  // view. Anything else passes as it is, for isValid to name.
  const entries: unknown = Array.isArray(partial.entries) ? partial.entries.map(toRecordEntry) : partial.entries;
  const record = { task, family: partial.family, subWindowMs: partial.subWindowMs, start: partial.start, counterWidth, entries };
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
 * Decodes one Avro binary partial of `version` (the kind header of its message says which; 2 by
 * default). Its digests are views into `buf` (no copy): `mergeSubWindow` copies them as it
 * restores them. An entry's counters come back dense, a `Float64Array` of the record's width.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` with `details.field` `SubWindowPartial` when the bytes
 *   are not such a record (truncated, trailing bytes, a bad union index: the avsc error is the
 *   cause), or naming the field that breaks the contract (`task` negative, `start` or
 *   `subWindowMs` not a boundary and a positive length, `counterWidth` negative, an entry's
 *   `counterIndexes` not ascending below the width or not one per value).
 */
export function decodeSubWindowPartial(buf: Buffer, version: SubWindowPartialVersion = 2): { task: number; partial: SubWindowPartial } {
  // The direct reader leaves what it cannot read to avsc, which names the problem.
  const direct = version === 2 ? readSubWindowPartial(buf) : null;
  if (direct !== null) return checked(direct, () => direct.entries);
  const r = decodeWithAvsc(buf, version);
  if ('counterWidth' in r) return checked(r, () => denseEntries(r));
  return checked(r, () => r.entries.map((e) => ({ values: e.values, count: e.count, counters: e.counters, digests: e.digests })));
}

/** The partial of a decoded record once its task and window are checked, then its entries. */
function checked(r: { task: number; family: string; subWindowMs: number; start: number }, entries: () => PartialEntry[]): { task: number; partial: SubWindowPartial } {
  if (r.task < 0) throw invalid('task', `must be an input partition number ≥ 0, got ${r.task}`);
  checkWindow(r.subWindowMs, r.start);
  return { task: r.task, partial: { family: r.family, subWindowMs: r.subWindowMs, start: r.start, entries: entries() } };
}

/** The record of `buf` as avsc reads it, or the error naming why it is not one. */
function decodeWithAvsc(buf: Buffer, version: SubWindowPartialVersion): PartialRecord | PartialRecordV1 {
  const type = subWindowPartialType(version);
  try {
    return type.fromBuffer(buf) as PartialRecord | PartialRecordV1;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const problem = message.length > 120 ? `${message.slice(0, 120)}…` : message;
    throw new VigilError('VIGIL_RECORD_INVALID', `SubWindowPartial: not a valid Avro binary SubWindowPartial record (${problem})`, {
      cause,
      details: { field: 'SubWindowPartial', reasonClass: 'undecodable' },
    });
  }
}

/** The entries of a version 2 record with their counters spread back over the width. */
function denseEntries(r: PartialRecord): PartialEntry[] {
  const width = r.counterWidth;
  if (width < 0) throw invalid('counterWidth', `must be a number of counters ≥ 0, got ${width}`);
  return r.entries.map((e, n) => {
    const { counterIndexes: at, counterValues: sums } = e;
    if (at.length !== sums.length) throw invalid('counterIndexes', `entry ${n}: must hold one position per counter value (${sums.length}), got ${at.length}`);
    const counters = new Float64Array(width);
    let previous = -1;
    for (let i = 0; i < at.length; i++) {
      const k = at[i];
      if (k <= previous || k >= width) throw invalid('counterIndexes', `entry ${n}: positions must ascend below counterWidth (${width}), got ${k} after ${previous}`);
      counters[k] = sums[i];
      previous = k;
    }
    return { values: e.values, count: e.count, counters, digests: e.digests };
  });
}

/**
 * The counter width shared by `entries` (0 without entries; what is not an array is left to the
 * schema check).
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming `counters` when two entries' widths differ.
 */
function widthOf(entries: readonly PartialEntry[]): number {
  const list: unknown = entries;
  if (!Array.isArray(list) || entries.length === 0) return 0;
  const width = lengthOf(entries[0]);
  for (let e = 1; e < entries.length; e++) {
    const w = lengthOf(entries[e]);
    if (w !== width) throw invalid('counters', `entry ${e}: every entry must hold the same number of counters (${width} in entry 0), got ${w}`);
  }
  return width;
}

function lengthOf(entry: PartialEntry): number {
  const counters: unknown = entry?.counters;
  return Array.isArray(counters) || counters instanceof Float64Array ? counters.length : 0;
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
  const counterIndexes: number[] = [];
  const counterValues: unknown[] = [];
  if (Array.isArray(counters) || counters instanceof Float64Array) {
    for (let i = 0; i < counters.length; i++) {
      if (counters[i] === 0) continue;
      counterIndexes.push(i);
      counterValues.push(counters[i]);
    }
  }
  return {
    values: e.values,
    count: e.count,
    counterIndexes,
    counterValues,
    digests: Array.isArray(digests) ? digests.map((d: unknown) => (d instanceof Uint8Array ? asBuffer(d) : d)) : digests,
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
