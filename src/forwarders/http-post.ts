/**
 * One JSON POST to an alert target, its outcome classified for the retry policy: 2xx delivered;
 * 5xx, 408, 429 and network errors or timeouts retriable; any other status refused for good.
 */
import { VigilError } from '../errors.js';

/** Options of {@link postJson}. */
export interface PostOptions {
  /** Abort the request after this many milliseconds (a retriable failure). */
  timeoutMs: number;
  /** Extra headers (never logged nor put in errors). */
  headers?: Readonly<Record<string, string>>;
  /** Names the target in error messages, e.g. `alertmanager` or `webhooks[0]`; never the URL, which may hold a secret. */
  target: string;
}

/** Statuses that are 4xx but say "later", not "never". */
const RETRIABLE_4XX = new Set([408, 429]);

/**
 * POSTs `body` as JSON to `url` and resolves with the status when it is 2xx. The response body is
 * read and discarded (so the connection can be reused) and never echoed, as it may quote the request.
 *
 * @throws VigilError `VIGIL_FORWARD_FAILED` (retriable) on a network error, a timeout, or status
 *   5xx, 408 or 429; `VIGIL_FORWARD_REJECTED` (not retriable) on any other non-2xx status.
 *   `details` holds `target` and `status` (absent for network errors).
 */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (cause) {
    const reason = isTimeout(cause) ? `no answer within ${options.timeoutMs} ms` : networkReason(cause);
    // No `cause`: the kafkajs runner judges retriability by the innermost cause.
    throw new VigilError('VIGIL_FORWARD_FAILED', `${options.target}: ${reason}`, { details: { target: options.target } });
  }
  await response.arrayBuffer().catch(() => undefined);
  const status = response.status;
  if (status >= 200 && status < 300) return status;
  if (status >= 500 || RETRIABLE_4XX.has(status)) {
    throw new VigilError('VIGIL_FORWARD_FAILED', `${options.target}: HTTP ${status}`, { details: { target: options.target, status } });
  }
  throw new VigilError('VIGIL_FORWARD_REJECTED', `${options.target}: HTTP ${status} (refused, not retried)`, { details: { target: options.target, status } });
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

// undici's "fetch failed" hides the useful part (ECONNREFUSED, ENOTFOUND) in its cause.
function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code !== undefined ? `network error (${code})` : `network error (${cause.message})`;
  }
  return `network error (${err.message})`;
}
