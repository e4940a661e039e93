/**
 * The field checks shared by the hand-written record validators (`validateSpan`, `validateFeedback`,
 * `validateEval`): plain `typeof` tests that throw a `VIGIL_RECORD_INVALID` naming the field and
 * describing the value without ever showing a text value.
 */
import { VigilError } from '../errors.js';

/** Largest value of an Avro `int`, the type of the token counts and `retryCount`. */
export const AVRO_INT_MAX = 2147483647;

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/;
// Only values shaped like an identifier or a timestamp are echoed back; anything else could be text.
const SAFE_TOKEN = /^[A-Za-z0-9_.:+-]{1,32}$/;

/** A plain object as a record validator reads it. */
export type Fields = Record<string, unknown>;

/** Throws the `VIGIL_RECORD_INVALID` of a record: message `field: problem`, `details.field` = `field`. */
export function fail(field: string, problem: string): never {
  throw new VigilError('VIGIL_RECORD_INVALID', `${field}: ${problem}`, { details: { field } });
}

/** Describes a value without revealing a string's content: numbers and booleans are shown. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
    case 'boolean':
      return String(value);
    case 'string':
      return value.length === 0 ? 'an empty string' : `a string of length ${value.length}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Names only the type of a value, never any part of it: for free-text fields. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'string':
      return 'a string';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Like {@link describe}, but shows a string that looks like a symbol or timestamp, never free text. */
export function describeToken(value: unknown): string {
  return typeof value === 'string' && SAFE_TOKEN.test(value) ? JSON.stringify(value) : describe(value);
}

/** The record itself must be a non-array object; `what` names it in the error (`span`, `feedback`…). */
export function recordOf(obj: unknown, what: string): Fields {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return fail(what, `must be an object, got ${describe(obj)}`);
  }
  return obj as Fields;
}

/** A required non-empty string. */
export function requiredString(o: Fields, field: string): string {
  const v = o[field];
  if (typeof v === 'string' && v.length > 0) return v;
  if (v === undefined) fail(field, 'is required but missing');
  return fail(field, `must be a non-empty string, got ${describe(v)}`);
}

/** An optional string; missing, `undefined` and `null` give `null`. */
export function optionalString(o: Fields, field: string): string | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return fail(field, `must be a string or null, got ${describe(v)}`);
}

/** Like {@link optionalString} for a free-text field: a wrong value is described by its type only. */
export function optionalText(o: Fields, field: string): string | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return fail(field, `must be a string or null, got ${describeType(v)}`);
}

/** One of an enum's symbols. */
export function requiredEnum<T extends string>(o: Fields, field: string, allowed: Set<string>, symbols: readonly T[]): T {
  const v = o[field];
  if (typeof v === 'string' && allowed.has(v)) return v as T;
  if (v === undefined) fail(field, 'is required but missing');
  return fail(field, `must be one of ${symbols.join(', ')}, got ${describeToken(v)}`);
}

/** One of an enum's symbols or `null` (also for missing). */
export function optionalEnum<T extends string>(o: Fields, field: string, allowed: Set<string>, symbols: readonly T[]): T | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' && allowed.has(v)) return v as T;
  return fail(field, `must be null or one of ${symbols.join(', ')}, got ${describeToken(v)}`);
}

/** A required finite number ≥ 0. */
export function nonNegativeNumber(o: Fields, field: string): number {
  const v = o[field];
  // NaN fails both comparisons, so this also rejects it.
  if (typeof v === 'number' && v >= 0 && v < Infinity) return v;
  if (v === undefined) fail(field, 'is required but missing');
  return fail(field, `must be a finite number ≥ 0, got ${describe(v)}`);
}

/** An optional finite number ≥ 0, or `null`. */
export function optionalNonNegativeNumber(o: Fields, field: string): number | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && v >= 0 && v < Infinity) return v;
  return fail(field, `must be null or a finite number ≥ 0, got ${describe(v)}`);
}

/** A required finite number of any sign. */
export function finiteNumber(o: Fields, field: string): number {
  const v = o[field];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === undefined) fail(field, 'is required but missing');
  return fail(field, `must be a finite number, got ${describe(v)}`);
}

/** An optional finite number of any sign, or `null`. */
export function optionalFiniteNumber(o: Fields, field: string): number | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return fail(field, `must be null or a finite number, got ${describe(v)}`);
}

/** An integer in `[0, AVRO_INT_MAX]` (or, with `orNull`, the message says `null` was also allowed). */
export function checkInt(field: string, v: unknown, orNull: boolean): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= AVRO_INT_MAX) return v;
  const what = orNull ? 'null or an integer' : 'an integer';
  if (typeof v === 'number' && Number.isInteger(v) && v > AVRO_INT_MAX) {
    return fail(field, `must be ${what} ≤ ${AVRO_INT_MAX} (Avro int), got ${v}`);
  }
  return fail(field, `must be ${what} ≥ 0, got ${describe(v)}`);
}

/** An optional Avro `int` count ≥ 0, or `null`. */
export function optionalCount(o: Fields, field: string): number | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  return checkInt(field, v, true);
}

/** A boolean with default `false`. */
export function booleanOr(o: Fields, field: string, fallback: boolean): boolean {
  const v = o[field];
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  return fail(field, `must be a boolean, got ${describe(v)}`);
}

function parseIsoTime(field: string, v: string): number {
  const m = ISO_DATE_TIME.exec(v);
  if (m !== null) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    // Date.parse rolls 2024-02-30 over into March; the day has to exist in its month.
    const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
    const ms = day >= 1 && day <= daysInMonth ? Date.parse(v) : NaN;
    if (Number.isSafeInteger(ms)) return ms;
  }
  return fail(
    field,
    `must be integer epoch milliseconds or an ISO-8601 date-time with a time zone (e.g. 2025-01-31T12:00:00.000Z), got ${describeToken(v)}`,
  );
}

/** A required event time: integer epoch milliseconds, or an ISO-8601 date-time with a zone (returned as ms). */
export function eventTime(o: Fields, field: string): number {
  const v = o[field];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string') return parseIsoTime(field, v);
  if (v === undefined) fail(field, 'is required but missing');
  return fail(field, `must be integer epoch milliseconds or an ISO-8601 date-time string, got ${describe(v)}`);
}

/** An Avro `map<string>`: a plain object of strings; missing gives a fresh `{}`; a given one is shared, not copied. */
export function attributesOf(o: Fields): Record<string, string> {
  const v = o.attributes;
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return fail('attributes', `must be an object whose values are strings, got ${describe(v)}`);
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    return fail('attributes', 'must be a plain object whose values are strings, got an instance of a class');
  }
  const map = v as Record<string, unknown>;
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (typeof value !== 'string') {
      // Attribute names are usually dotted identifiers worth showing; anything else might be text.
      if (SAFE_TOKEN.test(key)) fail(`attributes.${key}`, `must be a string, got ${describe(value)}`);
      fail('attributes', `every value must be a string, got ${describe(value)}`);
    }
  }
  return map as Record<string, string>;
}
