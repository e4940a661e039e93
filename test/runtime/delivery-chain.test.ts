import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigilError } from '../../src/errors.js';
import { DeliveryChain, isRetriable } from '../../src/runtime/delivery-chain.js';

const FAST = { initialBackoffMs: 1, maxBackoffMs: 4, random: () => 0.5 };

function retriable(message = 'broker unreachable'): VigilError {
  return new VigilError('VIGIL_SINK_FAILED', message);
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('delivery chain', () => {
  it('delivers strictly in enqueue order, one at a time', async () => {
    const chain = new DeliveryChain({ maxPending: 100, ...FAST });
    const log: string[] = [];
    const first = deferred();
    const a = chain.enqueue(1, 'a', async () => {
      log.push('a start');
      await first.promise;
      log.push('a done');
    });
    const b = chain.enqueue(1, 'b', async () => {
      log.push('b');
    });
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(log, ['a start']);
    first.resolve();
    await Promise.all([a, b]);
    assert.deepEqual(log, ['a start', 'a done', 'b']);
  });

  it('retries a retriable failure with growing backoff until it succeeds', async () => {
    const retries: number[] = [];
    const chain = new DeliveryChain({ maxPending: 100, initialBackoffMs: 2, maxBackoffMs: 8, random: () => 0.5, onRetry: (r) => retries.push(r.delayMs) });
    let calls = 0;
    await chain.enqueue(3, 'alerts', async () => {
      calls++;
      if (calls < 5) throw retriable();
    });
    assert.equal(calls, 5);
    assert.deepEqual(retries, [2, 4, 8, 8]);
    assert.equal(chain.retries, 4);
    assert.equal(chain.backlog, 0);
  });

  it('rejects only the delivery whose error is not retriable; the next one still runs', async () => {
    const chain = new DeliveryChain({ maxPending: 100, ...FAST });
    const bad = chain.enqueue(1, 'bad', () => Promise.reject(new VigilError('VIGIL_RECORD_INVALID', 'AlertEvent: invalid')));
    let ran = false;
    const good = chain.enqueue(1, 'good', async () => {
      ran = true;
    });
    await assert.rejects(bad, /AlertEvent: invalid/);
    await good;
    assert.equal(ran, true);
  });

  it('stops retrying when the caller says so, rejecting with the last error', async () => {
    const chain = new DeliveryChain({ maxPending: 100, ...FAST });
    let running = true;
    let calls = 0;
    const p = chain.enqueue(1, 'alerts', async () => {
      calls++;
      if (calls === 3) running = false;
      throw retriable(`attempt ${calls}`);
    }, { shouldRetry: () => running });
    await assert.rejects(p, /attempt 3/);
    assert.equal(calls, 3);
  });

  it('reports pressure above the bound and relief at half of it', async () => {
    const events: boolean[] = [];
    const chain = new DeliveryChain({ maxPending: 10, ...FAST, onPressure: (high) => events.push(high) });
    const gates = [deferred(), deferred(), deferred()];
    const sends = gates.map((g, i) => chain.enqueue(6, `batch ${i}`, () => g.promise));
    assert.equal(chain.backlog, 18);
    assert.equal(chain.pressured, true);
    assert.deepEqual(events, [true]);
    gates[0].resolve();
    await sends[0];
    // 12 left: still above half of the bound.
    assert.deepEqual(events, [true]);
    gates[1].resolve();
    await sends[1];
    assert.equal(chain.backlog, 6);
    assert.deepEqual(events, [true]);
    gates[2].resolve();
    await sends[2];
    assert.deepEqual(events, [true, false]);
    assert.equal(chain.pressured, false);
  });

  it('settled() waits for everything queued so far, failures included, and never rejects', async () => {
    const chain = new DeliveryChain({ maxPending: 100, ...FAST });
    const gate = deferred();
    const p = chain.enqueue(1, 'x', () => gate.promise);
    let settled = false;
    void chain.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(settled, false);
    gate.reject(new Error('boom'));
    await assert.rejects(p, /boom/);
    await chain.settled();
    assert.equal(settled, true);
  });

  it('close() ends a delivery that keeps failing at once, as a retriable sink failure', async () => {
    const chain = new DeliveryChain({ maxPending: 100, initialBackoffMs: 60_000, maxBackoffMs: 60_000 });
    const p = chain.enqueue(2, '2 alert(s)', () => Promise.reject(retriable('connection refused')));
    await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    chain.close();
    await assert.rejects(p, (e: unknown) => e instanceof VigilError && e.code === 'VIGIL_SINK_FAILED' && /gave up delivering 2 alert\(s\) after 1 attempt\(s\): shutting down \(connection refused\)/.test(e.message));
    assert.ok(Date.now() - started < 1000);
  });

  it('treats VigilErrors and kafkajs errors by their retriable flag, anything else as final', () => {
    assert.equal(isRetriable(retriable()), true);
    assert.equal(isRetriable(new VigilError('VIGIL_STOPPED', 'closed')), false);
    assert.equal(isRetriable(Object.assign(new Error('NOT_LEADER_FOR_PARTITION'), { retriable: true })), true);
    assert.equal(isRetriable(new TypeError('bug')), false);
  });

  it('refuses a bound below 1 and backoffs out of order, naming the config key', () => {
    assert.throws(() => new DeliveryChain({ maxPending: 0, ...FAST }), /kafka\.maxPendingAlerts/);
    assert.throws(() => new DeliveryChain({ maxPending: 1, initialBackoffMs: 10, maxBackoffMs: 5 }), /kafka\.sinkRetry/);
  });
});
