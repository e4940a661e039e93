/**
 * Exponential-backoff retries of one delivery: retriable failures are tried again up to the
 * policy's attempts, a refusal ends at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isVigilError } from '../errors.js';
import type { RetryPolicy } from './forward-config.js';

/** The wait before attempt `attempt + 1` after `attempt` failed (1-based): `backoff · 2^(attempt−1)`, at most `maxBackoff`. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxBackoff, policy.backoff * 2 ** Math.max(0, attempt - 1));
}

/** Options of {@link withRetry}. */
export interface RetryOptions {
  policy: RetryPolicy;
  /** Called after each retriable failure that will be retried, with the attempt that failed and the wait. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Aborts the waits between attempts (the pending attempt's error is then thrown). */
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it resolves, it throws an error that is not retriable (a `VigilError` whose
 * `retriable` is false, or anything that is not a `VigilError`), `policy.attempts` attempts have
 * failed, or `signal` aborts; the last error is then thrown.
 */
export async function withRetry<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy } = options;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const retriable = isVigilError(error) && error.retriable;
      if (!retriable || n >= policy.attempts || options.signal?.aborted === true) throw error;
      const delay = backoffDelay(policy, n);
      options.onRetry?.(error, n, delay);
      const waited = await sleep(delay, true, { signal: options.signal }).catch(() => false);
      if (!waited) throw error;
    }
  }
}
