/**
 * One OTLP span as the receiver reads it, whichever encoding it came in: ids as lowercase hex,
 * times as nanosecond bigints, attribute values as plain JavaScript values.
 */

/**
 * An OTLP `AnyValue` as a plain value: strings, booleans, doubles, int64s (a number when safe,
 * else its decimal string), bytes (base64), arrays and key-value lists (objects); `null` for an
 * empty value.
 */
export type OtlpValue = string | number | boolean | null | OtlpValue[] | { [key: string]: OtlpValue };

/** Attributes by key; a key repeated in a list keeps its first value. */
export type OtlpAttributes = ReadonlyMap<string, OtlpValue>;

/** One span event (`Span.Event`). */
export interface OtlpEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: OtlpAttributes;
}

/** OTLP `Status.StatusCode` values. */
export const OTLP_STATUS_UNSET = 0;
/** The span was marked successful by the application. */
export const OTLP_STATUS_OK = 1;
/** The span contains an error. */
export const OTLP_STATUS_ERROR = 2;

/**
 * One span with its resource and scope. Ids are lowercase hex of the bytes received (so a wrong
 * length shows as a wrong hex length); the mapping, not the decoder, judges them.
 */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP `Span.SpanKind` number (0 unspecified … 5 consumer). */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: OtlpAttributes;
  events: readonly OtlpEvent[];
  /** One of {@link OTLP_STATUS_UNSET}, {@link OTLP_STATUS_OK}, {@link OTLP_STATUS_ERROR}. */
  statusCode: number;
  /** The resource's attributes (`service.name` …), shared by every span of the resource. */
  resource: OtlpAttributes;
  /** The instrumentation scope's name, empty when unknown. */
  scopeName: string;
}
