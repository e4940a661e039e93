import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartialsPublisher, type Outgoing } from '../../src/runtime/partials-publisher.js';

/** Timers the test fires by hand, with the delays they were started with. */
class ManualTimers {
  readonly started: number[] = [];
  private pending: { fn: () => void; cancelled: boolean }[] = [];
  readonly set = (fn: () => void, ms: number): (() => void) => {
    const t = { fn, cancelled: false };
    this.started.push(ms);
    this.pending.push(t);
    return () => (t.cancelled = true);
  };
  get live(): number {
    return this.pending.filter((t) => !t.cancelled).length;
  }
  /** Fires every live timer once. */
  fire(): void {
    const due = this.pending.filter((t) => !t.cancelled);
    this.pending = [];
    for (const t of due) t.fn();
  }
}

/** A broker stand-in for the send function: refuses while `down`, records what it took. */
class FlakySend {
  down = false;
  attempts = 0;
  readonly taken: string[][] = [];
  readonly send = (messages: string[]): Promise<void> => {
    this.attempts++;
    if (this.down) return Promise.reject(new Error('broker away'));
    this.taken.push(messages);
    return Promise.resolve();
  };
  get all(): string[] {
    return this.taken.flat();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function records(names: string[], acked: string[] = [], bytes = 10): Outgoing<string>[] {
  return names.map((message) => ({ message, bytes, onSent: () => acked.push(message) }));
}

describe('PartialsPublisher', () => {
  it('sends what a failed send kept by itself, in order, with no further publish to carry it', async () => {
    const broker = new FlakySend();
    const timers = new ManualTimers();
    const failures: number[] = [];
    const recovered: number[] = [];
    const acked: string[] = [];
    const publisher = new PartialsPublisher<string>({
      send: broker.send,
      chunkBytes: 1000,
      retryMs: 100,
      maxRetryMs: 250,
      setTimer: timers.set,
      onFailure: (_err, unsent) => failures.push(unsent),
      onRecovered: (n) => recovered.push(n),
    });
    broker.down = true;
    // The last records of a stream, published while the broker is away: nobody publishes after them.
    await assert.rejects(publisher.publish(records(['p1', 'c1'], acked)), /broker away/);
    assert.equal(publisher.unsentCount, 2);
    assert.equal(timers.live, 1, 'a retry is scheduled');
    timers.fire();
    await settle();
    timers.fire();
    await settle();
    assert.deepEqual(broker.all, [], 'nothing taken while the broker is away');
    assert.deepEqual(acked, [], 'no checkpoint acknowledged before it was sent');
    broker.down = false;
    timers.fire();
    await settle();
    assert.deepEqual(broker.all, ['p1', 'c1']);
    assert.deepEqual(acked, ['p1', 'c1']);
    assert.equal(publisher.unsentCount, 0);
    assert.equal(publisher.unsentBytes, 0);
    assert.equal(publisher.published, 2);
    assert.equal(timers.live, 0, 'no retry after the success');
    // Doubling delays, capped; one failure report per outage, one recovery.
    assert.deepEqual(timers.started, [100, 200, 250]);
    assert.deepEqual(failures, [2]);
    assert.deepEqual(recovered, [3]);
  });

  it('keeps records published during an outage behind the ones waiting, and sends each once', async () => {
    const broker = new FlakySend();
    const timers = new ManualTimers();
    const acked: string[] = [];
    const publisher = new PartialsPublisher<string>({ send: broker.send, chunkBytes: 25, retryMs: 100, maxRetryMs: 1000, setTimer: timers.set });
    await publisher.publish(records(['a'], acked));
    broker.down = true;
    await assert.rejects(publisher.publish(records(['b', 'c'], acked)));
    await assert.rejects(publisher.publish(records(['d'], acked)));
    assert.equal(timers.live, 1, 'one retry at a time');
    broker.down = false;
    // A new batch comes before the retry fires: it carries everything, and the retry is dropped.
    await publisher.publish(records(['e'], acked));
    assert.equal(timers.live, 0);
    assert.deepEqual(broker.all, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(acked, ['a', 'b', 'c', 'd', 'e']);
    // Chunks of at most 25 bytes (a chunk may pass it by one record): three 10-byte records per send.
    assert.deepEqual(broker.taken, [['a'], ['b', 'c', 'd'], ['e']]);
  });

  it('stops retrying once closed, leaving the rest unsent', async () => {
    const broker = new FlakySend();
    const timers = new ManualTimers();
    const publisher = new PartialsPublisher<string>({ send: broker.send, chunkBytes: 1000, retryMs: 100, maxRetryMs: 1000, setTimer: timers.set });
    broker.down = true;
    await assert.rejects(publisher.publish(records(['x'])));
    publisher.close();
    assert.equal(timers.live, 0);
    broker.down = false;
    timers.fire();
    await settle();
    assert.deepEqual(broker.all, []);
    assert.equal(publisher.unsentCount, 1);
  });

  it('reports a send that does not throw an Error with its text', async () => {
    const seen: string[] = [];
    const publisher = new PartialsPublisher<string>({
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a send that rejects with a non-Error is the case under test
      send: () => Promise.reject('refused'),
      chunkBytes: 1000,
      retryMs: 100,
      maxRetryMs: 1000,
      setTimer: () => () => undefined,
      onFailure: (err) => seen.push(err.message),
    });
    await assert.rejects(publisher.publish(records(['x'])), /refused/);
    assert.deepEqual(seen, ['refused']);
  });
});
