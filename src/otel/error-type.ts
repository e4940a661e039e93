/**
 * Classifying an OpenTelemetry `error.type` value into Vigil's `ErrorType`.
 */
import type { ErrorType } from '../model/index.js';

// error.type is free-form: semconv values (timeout, _OTHER), HTTP status codes (429), provider
// error codes (rate_limit_exceeded, content_filter) or exception class names (openai.RateLimitError,
// APIConnectionError). Matching runs on the value lowercased with everything but letters and digits
// removed, in this order: the first class whose marker occurs wins, so APITimeoutError is a
// timeout, not a model error.
const MARKERS: readonly [ErrorType, readonly string[]][] = [
  ['TIMEOUT', ['timeout', 'timedout', 'deadlineexceeded']],
  ['RATE_LIMIT', ['ratelimit', 'toomanyrequests', 'resourceexhausted', 'quota', 'throttl']],
  ['CONTENT_FILTER', ['contentfilter', 'contentpolicy', 'responsibleai', 'safety', 'moderation', 'guardrail']],
  [
    'INVALID_REQUEST',
    ['invalidrequest', 'badrequest', 'invalidargument', 'unprocessable', 'validation', 'contextlength', 'notfound', 'unauthorized', 'authentication', 'permissiondenied', 'forbidden'],
  ],
  ['NETWORK', ['connection', 'network', 'econnreset', 'econnrefused', 'enotfound', 'socket', 'dns', 'fetchfailed', 'unavailable']],
  ['MODEL_ERROR', ['modelerror', 'servererror', 'internalserver', 'internalerror', 'internal', 'overloaded', 'apierror', 'badgateway']],
];

const HTTP_STATUS: Readonly<Record<string, ErrorType>> = {
  '400': 'INVALID_REQUEST',
  '401': 'INVALID_REQUEST',
  '403': 'INVALID_REQUEST',
  '404': 'INVALID_REQUEST',
  '408': 'TIMEOUT',
  '413': 'INVALID_REQUEST',
  '422': 'INVALID_REQUEST',
  '429': 'RATE_LIMIT',
  '504': 'TIMEOUT',
};

/**
 * The `ErrorType` of an `error.type` value: timeouts (`timeout`, `APITimeoutError`, 408, 504),
 * rate limits (`rate_limit`, `RateLimitError`, 429, `RESOURCE_EXHAUSTED`), content filters
 * (`content_filter`), invalid requests (`invalid_request_error`, 400, 404, 422), network failures
 * (`APIConnectionError`, `ECONNRESET`), model/server errors (`internal_server_error`, other 5xx,
 * `overloaded_error`); anything else, `_OTHER` and an empty value are `OTHER`.
 */
export function classifyErrorType(value: string): ErrorType {
  const trimmed = value.trim();
  const status = HTTP_STATUS[trimmed];
  if (status !== undefined) return status;
  if (/^5\d\d$/.test(trimmed)) return 'MODEL_ERROR';
  const compact = trimmed.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (compact === '' || compact === 'other') return 'OTHER';
  for (const [type, markers] of MARKERS) {
    if (markers.some((m) => compact.includes(m))) return type;
  }
  return 'OTHER';
}
