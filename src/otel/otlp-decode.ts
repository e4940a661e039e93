/**
 * Decoding an OTLP `ExportTraceServiceRequest` body, binary protobuf or OTLP/JSON, into
 * {@link OtlpSpan}s.
 */
import { VigilError } from '../errors.js';
import { otlpTypes } from './otlp-proto.js';
import type { OtlpAttributes, OtlpEvent, OtlpSpan, OtlpValue } from './otlp-span.js';

/** The two OTLP/HTTP payload encodings. */
export type OtlpEncoding = 'protobuf' | 'json';

type Obj = Record<string, unknown>;

const SPAN_KINDS: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Readonly<Record<string, number>> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
const DECIMAL = /^-?\d+$/;
const EMPTY: OtlpAttributes = new Map();

function invalid(message: string, field: string): VigilError {
  return new VigilError('VIGIL_RECORD_INVALID', message, { details: { field } });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

// OTLP/JSON names fields in lowerCamelCase; protobuf JSON parsers also accept the proto names, so do we.
function get(o: Obj, camel: string, snake?: string): unknown {
  const v = o[camel];
  return v === undefined && snake !== undefined ? o[snake] : v;
}

function list(o: Obj, path: string, camel: string, snake?: string): unknown[] {
  const v = get(o, camel, snake);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(`${path}.${camel}: must be an array`, camel);
  return v;
}

function obj(o: Obj, path: string, camel: string, snake?: string): Obj | undefined {
  const v = get(o, camel, snake);
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw invalid(`${path}.${camel}: must be an object`, camel);
  return v;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function hexOf(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  // OTLP/JSON carries ids as hex strings, not base64 as protobuf JSON would.
  return typeof v === 'string' ? v.toLowerCase() : '';
}

function nanos(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.trunc(v));
  if (typeof v === 'string' && DECIMAL.test(v)) return BigInt(v);
  return 0n;
}

function enumOf(v: unknown, names: Readonly<Record<string, number>>): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') return names[v] ?? (DECIMAL.test(v) ? Number(v) : 0);
  return 0;
}

function int64(v: unknown): OtlpValue {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'string' && DECIMAL.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return null;
}

function double(v: unknown): OtlpValue {
  if (typeof v === 'number') return v;
  // Proto3 JSON spells the non-finite doubles as strings.
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

const MAX_DEPTH = 16;

/** Converts one `AnyValue` (protobuf `toObject` form or OTLP/JSON) into a plain value. */
function anyValue(v: unknown, depth = 0): OtlpValue {
  if (!isObj(v) || depth > MAX_DEPTH) return null;
  const s = get(v, 'stringValue', 'string_value');
  if (s !== undefined) return str(s);
  const b = get(v, 'boolValue', 'bool_value');
  if (b !== undefined) return b === true || b === 'true';
  const i = get(v, 'intValue', 'int_value');
  if (i !== undefined) return int64(i);
  const d = get(v, 'doubleValue', 'double_value');
  if (d !== undefined) return double(d);
  const arr = get(v, 'arrayValue', 'array_value');
  if (arr !== undefined) {
    const values = isObj(arr) && Array.isArray(arr.values) ? (arr.values as unknown[]) : [];
    return values.map((x) => anyValue(x, depth + 1));
  }
  const kv = get(v, 'kvlistValue', 'kvlist_value');
  if (kv !== undefined) {
    const out: { [key: string]: OtlpValue } = {};
    const values = isObj(kv) && Array.isArray(kv.values) ? (kv.values as unknown[]) : [];
    for (const entry of values) {
      if (isObj(entry) && typeof entry.key === 'string' && !(entry.key in out)) out[entry.key] = anyValue(entry.value, depth + 1);
    }
    return out;
  }
  const bytes = get(v, 'bytesValue', 'bytes_value');
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  if (typeof bytes === 'string') return bytes;
  return null;
}

function attributes(raw: unknown): OtlpAttributes {
  if (!Array.isArray(raw) || raw.length === 0) return EMPTY;
  const out = new Map<string, OtlpValue>();
  for (const kv of raw) {
    if (!isObj(kv) || typeof kv.key !== 'string' || out.has(kv.key)) continue;
    out.set(kv.key, anyValue(kv.value));
  }
  return out;
}

function events(raw: unknown): OtlpEvent[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObj).map((e) => ({
    name: str(e.name),
    timeUnixNano: nanos(get(e, 'timeUnixNano', 'time_unix_nano')),
    attributes: attributes(e.attributes),
  }));
}

function span(s: Obj, resource: OtlpAttributes, scopeName: string): OtlpSpan {
  const status = isObj(s.status) ? s.status : {};
  return {
    traceId: hexOf(get(s, 'traceId', 'trace_id')),
    spanId: hexOf(get(s, 'spanId', 'span_id')),
    parentSpanId: hexOf(get(s, 'parentSpanId', 'parent_span_id')),
    name: str(s.name),
    kind: enumOf(s.kind, SPAN_KINDS),
    startTimeUnixNano: nanos(get(s, 'startTimeUnixNano', 'start_time_unix_nano')),
    endTimeUnixNano: nanos(get(s, 'endTimeUnixNano', 'end_time_unix_nano')),
    attributes: attributes(s.attributes),
    events: events(s.events),
    statusCode: enumOf(status.code, STATUS_CODES),
    resource,
    scopeName,
  };
}

/**
 * The spans of a request already in object form (OTLP/JSON parsed, or protobuf `toObject`), in
 * request order.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` when the request's structure is wrong (a list that is
 *   not an array, a span that is not an object).
 */
export function spansOfRequest(request: unknown): OtlpSpan[] {
  if (!isObj(request)) throw invalid('ExportTraceServiceRequest: must be an object', 'ExportTraceServiceRequest');
  const out: OtlpSpan[] = [];
  const resourceSpans = list(request, 'ExportTraceServiceRequest', 'resourceSpans', 'resource_spans');
  for (let r = 0; r < resourceSpans.length; r++) {
    const rs = resourceSpans[r];
    const rPath = `resourceSpans[${r}]`;
    if (!isObj(rs)) throw invalid(`${rPath}: must be an object`, 'resourceSpans');
    const resource = attributes(obj(rs, rPath, 'resource')?.attributes);
    const scopeSpans = list(rs, rPath, 'scopeSpans', 'scope_spans');
    for (let c = 0; c < scopeSpans.length; c++) {
      const ss = scopeSpans[c];
      const cPath = `${rPath}.scopeSpans[${c}]`;
      if (!isObj(ss)) throw invalid(`${cPath}: must be an object`, 'scopeSpans');
      const scopeName = str(obj(ss, cPath, 'scope')?.name);
      const spans = list(ss, cPath, 'spans');
      for (let i = 0; i < spans.length; i++) {
        const s = spans[i];
        if (!isObj(s)) throw invalid(`${cPath}.spans[${i}]: must be an object`, 'spans');
        out.push(span(s, resource, scopeName));
      }
    }
  }
  return out;
}

/**
 * Decodes an `ExportTraceServiceRequest` body into its spans, in request order.
 *
 * @throws VigilError `VIGIL_RECORD_INVALID` when the body is not a valid request in `encoding`;
 *   the message never quotes the body.
 */
export function decodeExportRequest(body: Uint8Array, encoding: OtlpEncoding): OtlpSpan[] {
  if (encoding === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    } catch {
      // V8's message quotes the text around the error, which may be prompt text.
      throw invalid('ExportTraceServiceRequest: the body is not valid JSON', 'ExportTraceServiceRequest');
    }
    return spansOfRequest(parsed);
  }
  const type = otlpTypes().exportRequest;
  let decoded;
  try {
    decoded = type.decode(body);
  } catch (cause) {
    // protobufjs' reader messages name offsets and wire types, never field content.
    const why = cause instanceof Error ? cause.message.slice(0, 120) : 'decode error';
    throw new VigilError('VIGIL_RECORD_INVALID', `ExportTraceServiceRequest: not a valid protobuf message (${why})`, {
      cause,
      details: { field: 'ExportTraceServiceRequest' },
    });
  }
  return spansOfRequest(type.toObject(decoded, { longs: String, enums: Number, defaults: false }));
}
