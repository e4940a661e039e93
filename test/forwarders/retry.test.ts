import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigilError } from '../../src/errors.js';
import { backoffDelay, withRetry } from '../../src/forwarders/retry.js';

const POLICY = { attempts: 4, backoff: 5, maxBackoff: 12 };
const failed = (): VigilError => new VigilError('VIGIL_FORWARD_FAILED', 'target: HTTP 503');

describe('backoffDelay', () => {
  it('doubles from the backoff and stops at maxBackoff', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(POLICY, n)), [5, 10, 12, 12]);
  });
});

describe('withRetry', () => {
  it('retries retriable failures with growing waits until the attempt succeeds', async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = await withRetry(
      async () => {
        if (++calls < 3) throw failed();
        return 'ok';
      },
      { policy: POLICY, onRetry: (_e, _n, delay) => waits.push(delay) },
    );
    assert.equal(result, 'ok');
    assert.equal(calls, 3);
    assert.deepEqual(waits, [5, 10]);
  });

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw failed();
      }, { policy: POLICY }),
      (e: unknown) => e instanceof VigilError && e.code === 'VIGIL_FORWARD_FAILED',
    );
    assert.equal(calls, 4);
  });

  it('does not retry a refusal', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw new VigilError('VIGIL_FORWARD_REJECTED', 'target: HTTP 400');
      }, { policy: POLICY }),
    );
    assert.equal(calls, 1);
  });

  it('stops waiting when its signal aborts', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const run = withRetry(
      async () => {
        calls++;
        throw failed();
      },
      { policy: { attempts: 10, backoff: 10_000, maxBackoff: 10_000 }, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(run);
    assert.equal(calls, 1);
    assert.ok(Date.now() - started < 5000);
  });
});
