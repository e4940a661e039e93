/**
 * Vigil's typed errors: one table of codes, each with a `retriable` flag, in the manner of kafkajs'
 * `errors.js` and fastify's coded errors. Every error Vigil raises is a {@link VigilError}.
 */

/** Every error code Vigil raises, with whether retrying the same call can succeed. */
export const ERROR_CODES = {
  /** A config file key is missing, of the wrong type or out of range. */
  VIGIL_CONFIG_INVALID: { retriable: false },
  /** A rules file key is missing, of the wrong type or out of range. */
  VIGIL_RULES_INVALID: { retriable: false },
  /** A file could not be read or parsed. */
  VIGIL_FILE_UNREADABLE: { retriable: false },
  /** A record could not be decoded or failed validation; it goes to the dead-letter path. */
  VIGIL_RECORD_INVALID: { retriable: false },
  /** A query parameter is missing or malformed. */
  VIGIL_QUERY_INVALID: { retriable: false },
  /** The alert sink could not deliver; the batch's offsets stay uncommitted. */
  VIGIL_SINK_FAILED: { retriable: true },
  /** The Kafka source failed to fetch, commit or join the group. */
  VIGIL_SOURCE_FAILED: { retriable: true },
  /** A user-supplied callback threw inside an operator. */
  VIGIL_CALLBACK_FAILED: { retriable: false },
  /** The engine was used after it was stopped. */
  VIGIL_STOPPED: { retriable: false },
  /** The schema registry was unreachable, timed out or answered 5xx/429 after the client's retries. */
  VIGIL_REGISTRY_FAILED: { retriable: true },
  /** The schema registry refused a request for good: an unknown schema id (404), an incompatible or invalid schema (409, 422). */
  VIGIL_REGISTRY_REJECTED: { retriable: false },
  /** An alert target (Alertmanager, webhook) was unreachable or answered 5xx, 408 or 429; retrying may succeed. */
  VIGIL_FORWARD_FAILED: { retriable: true },
  /** An alert target refused an alert for good (4xx); sending it again would be refused again. */
  VIGIL_FORWARD_REJECTED: { retriable: false },
} as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code, a `retriable` flag and an optional cause. */
export class VigilError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** True when retrying the same operation may succeed. */
  readonly retriable: boolean;
  /** Extra machine-readable detail, e.g. the config key at fault. Never holds prompt or output text. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.code = code;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = options.details ?? {};
  }
}

/** True when `err` is a {@link VigilError}, optionally of the given code. */
export function isVigilError(err: unknown, code?: ErrorCode): err is VigilError {
  return err instanceof VigilError && (code === undefined || err.code === code);
}
