/**
 * Hand-written validation of one span against the `vigil.v1.LlmSpan` contract. It runs once per
 * event, so it is plain `typeof` checks and no schema library.
 */
import { VigilError } from '../errors.js';
import type { ErrorType, LlmSpan, SpanKind, SpanStatus } from '../model/index.js';

/** The symbols of `vigil.v1.SpanKind`, in schema order. */
export const SPAN_KINDS: readonly SpanKind[] = ['PIPELINE', 'LLM', 'EMBEDDING', 'RETRIEVAL', 'TOOL', 'GUARDRAIL', 'OTHER'];

/** The symbols of `vigil.v1.SpanStatus`, in schema order. */
export const SPAN_STATUSES: readonly SpanStatus[] = ['OK', 'ERROR'];

/** The symbols of `vigil.v1.ErrorType`, in schema order. */
export const ERROR_TYPES: readonly ErrorType[] = [
  'TIMEOUT',
  'RATE_LIMIT',
  'MODEL_ERROR',
  'CONTENT_FILTER',
  'INVALID_REQUEST',
  'NETWORK',
  'OTHER',
];

/** Largest value of an Avro `int`, the type of the token counts and `retryCount`. */
export const AVRO_INT_MAX = 2147483647;

/** The fields of `LlmSpan` that have no default in the schema and must always be present. */
export type RequiredSpanField = 'traceId' | 'spanId' | 'kind' | 'service' | 'operation' | 'startTime' | 'durationMs' | 'status';

/**
 * What {@link validateSpan} accepts from JSON or an embedding application: the required fields, any
 * of the optional ones (missing ones take the schema's defaults), and `startTime` either as epoch
 * milliseconds or as an ISO-8601 date-time string with a time zone.
 */
export type LlmSpanInput = Pick<LlmSpan, Exclude<RequiredSpanField, 'startTime'>> &
  Partial<Omit<LlmSpan, RequiredSpanField>> & { startTime: number | string };

const KINDS = new Set<string>(SPAN_KINDS);
const STATUSES = new Set<string>(SPAN_STATUSES);
const ERROR_TYPE_SET = new Set<string>(ERROR_TYPES);

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/;
// Only values shaped like an identifier or a timestamp are echoed back; anything else could be text.
const SAFE_TOKEN = /^[A-Za-z0-9_.:+-]{1,32}$/;

function fail(field: string, problem: string): never {
  throw new VigilError('VIGIL_RECORD_INVALID', `${field}: ${problem}`, { details: { field } });
}

/** Describes a value without revealing a string's content: numbers and booleans are shown. */
function describe(value: unknown): string {
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

/** Like {@link describe}, but shows a string that looks like a symbol or timestamp, never free text. */
function describeToken(value: unknown): string {
  return typeof value === 'string' && SAFE_TOKEN.test(value) ? JSON.stringify(value) : describe(value);
}

function requiredString(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v === 'string' && v.length > 0) return v;
  if (v === undefined) fail(field, 'is required but missing');
  return fail(field, `must be a non-empty string, got ${describe(v)}`);
}

function optionalString(o: Record<string, unknown>, field: string): string | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return fail(field, `must be a string or null, got ${describe(v)}`);
}

function requiredEnum<T extends string>(o: Record<string, unknown>, field: string, allowed: Set<string>, symbols: readonly T[]): T {
  const v = o[field];
  if (typeof v === 'string' && allowed.has(v)) return v as T;
  if (v === undefined) fail(field, 'is required but missing');
  return fail(field, `must be one of ${symbols.join(', ')}, got ${describeToken(v)}`);
}

function optionalEnum<T extends string>(o: Record<string, unknown>, field: string, allowed: Set<string>, symbols: readonly T[]): T | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' && allowed.has(v)) return v as T;
  return fail(field, `must be null or one of ${symbols.join(', ')}, got ${describeToken(v)}`);
}

function nonNegativeNumber(o: Record<string, unknown>, field: string): number {
  const v = o[field];
  // NaN fails both comparisons, so this also rejects it.
  if (typeof v === 'number' && v >= 0 && v < Infinity) return v;
  if (v === undefined) fail(field, 'is required but missing');
  return fail(field, `must be a finite number ≥ 0, got ${describe(v)}`);
}

function optionalNonNegativeNumber(o: Record<string, unknown>, field: string): number | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && v >= 0 && v < Infinity) return v;
  return fail(field, `must be null or a finite number ≥ 0, got ${describe(v)}`);
}

function checkInt(field: string, v: unknown, orNull: boolean): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= AVRO_INT_MAX) return v;
  const what = orNull ? 'null or an integer' : 'an integer';
  if (typeof v === 'number' && Number.isInteger(v) && v > AVRO_INT_MAX) {
    return fail(field, `must be ${what} ≤ ${AVRO_INT_MAX} (Avro int), got ${v}`);
  }
  return fail(field, `must be ${what} ≥ 0, got ${describe(v)}`);
}

function optionalCount(o: Record<string, unknown>, field: string): number | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  return checkInt(field, v, true);
}

function fallbackOf(o: Record<string, unknown>): boolean {
  const v = o.fallback;
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  return fail('fallback', `must be a boolean, got ${describe(v)}`);
}

function parseIsoStartTime(v: string): number {
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
    'startTime',
    `must be integer epoch milliseconds or an ISO-8601 date-time with a time zone (e.g. 2025-01-31T12:00:00.000Z), got ${describeToken(v)}`,
  );
}

function startTimeOf(o: Record<string, unknown>): number {
  const v = o.startTime;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string') return parseIsoStartTime(v);
  if (v === undefined) fail('startTime', 'is required but missing');
  return fail('startTime', `must be integer epoch milliseconds or an ISO-8601 date-time string, got ${describe(v)}`);
}

function attributesOf(o: Record<string, unknown>): Record<string, string> {
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

/**
 * Checks one decoded Avro record or parsed JSON object against the `LlmSpan` contract and returns
 * a fresh plain {@link LlmSpan}. Optional fields that are missing (or `undefined`) take the schema's
 * defaults: `null`, `retryCount` 0, `fallback` false, `attributes` `{}`. `startTime` may also be an
 * ISO-8601 date-time string with a time zone; it is returned as epoch milliseconds. Unknown
 * fields are ignored, as an Avro reader ignores fields its schema does not have. The result shares
 * the input's `attributes` object rather than copying it.
 *
 * Whether `startTime` is plausible (not in 1970, not next year) is the engine's concern, not this
 * function's.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` naming the first field at fault in its message and in
 *   `details.field`; the message never contains the value of a text field.
 */
export function validateSpan(obj: unknown): LlmSpan {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return fail('span', `must be an object, got ${describe(obj)}`);
  }
  const o = obj as Record<string, unknown>;
  // Keys in schema order so every span shares one hidden class and compares equal field by field.
  return {
    traceId: requiredString(o, 'traceId'),
    spanId: requiredString(o, 'spanId'),
    parentSpanId: optionalString(o, 'parentSpanId'),
    kind: requiredEnum(o, 'kind', KINDS, SPAN_KINDS),
    service: requiredString(o, 'service'),
    operation: requiredString(o, 'operation'),
    startTime: startTimeOf(o),
    durationMs: nonNegativeNumber(o, 'durationMs'),
    ttftMs: optionalNonNegativeNumber(o, 'ttftMs'),
    provider: optionalString(o, 'provider'),
    model: optionalString(o, 'model'),
    inputTokens: optionalCount(o, 'inputTokens'),
    outputTokens: optionalCount(o, 'outputTokens'),
    cachedInputTokens: optionalCount(o, 'cachedInputTokens'),
    costUsd: optionalNonNegativeNumber(o, 'costUsd'),
    status: requiredEnum(o, 'status', STATUSES, SPAN_STATUSES),
    errorType: optionalEnum(o, 'errorType', ERROR_TYPE_SET, ERROR_TYPES),
    retryCount: o.retryCount === undefined ? 0 : checkInt('retryCount', o.retryCount, false),
    fallback: fallbackOf(o),
    finishReason: optionalString(o, 'finishReason'),
    userId: optionalString(o, 'userId'),
    tenantId: optionalString(o, 'tenantId'),
    sessionId: optionalString(o, 'sessionId'),
    inputText: optionalString(o, 'inputText'),
    outputText: optionalString(o, 'outputText'),
    expectedFormat: optionalString(o, 'expectedFormat'),
    attributes: attributesOf(o),
  };
}
