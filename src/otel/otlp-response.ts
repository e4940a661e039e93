/**
 * The bodies of OTLP/HTTP trace responses, in the encoding of the request: the export response
 * (with `partial_success` when spans were rejected) and the `google.rpc.Status` of errors.
 */
import { otlpTypes } from './otlp-proto.js';
import type { OtlpEncoding } from './otlp-decode.js';

/** `Content-Type` of a body in `encoding`. */
export function otlpContentType(encoding: OtlpEncoding): string {
  return encoding === 'json' ? 'application/json' : 'application/x-protobuf';
}

/**
 * An `ExportTraceServiceResponse`: empty when every span was accepted (the spec wants
 * `partial_success` unset then), else with `rejected_spans` and `error_message`.
 */
export function exportResponseBody(encoding: OtlpEncoding, rejectedSpans: number, errorMessage: string): Buffer {
  const partial = rejectedSpans > 0 ? { rejectedSpans, errorMessage } : undefined;
  if (encoding === 'json') {
    // Proto3 JSON writes int64 as a decimal string.
    return Buffer.from(JSON.stringify(partial === undefined ? {} : { partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } }));
  }
  const type = otlpTypes().exportResponse;
  return Buffer.from(type.encode(type.fromObject(partial === undefined ? {} : { partialSuccess: partial })).finish());
}

/** gRPC status codes used in error bodies (OTLP/HTTP carries them only as information). */
export const RPC_CODE = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** A `google.rpc.Status` error body. */
export function statusBody(encoding: OtlpEncoding, code: number, message: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const type = otlpTypes().rpcStatus;
  return Buffer.from(type.encode(type.fromObject({ code, message })).finish());
}
