import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { VigilError } from '../../src/errors.js';
import type { AlertEvent } from '../../src/model/index.js';
import { SinkDelivery } from '../../src/runtime/sink-delivery.js';
import type { AlertSink } from '../../src/sinks/alert-sink.js';
import type { DeadLetterSink } from '../../src/sinks/dead-letter-sink.js';
import type { DeadLetter } from '../../src/sources/span-source.js';

const silent = pino({ level: 'silent' });

function alert(id: string): AlertEvent {
  return {
    alertId: id,
    ruleName: 'r',
    state: 'FIRING',
    severity: 'WARNING',
    signal: 'latency',
    stat: 'p99',
    groupKey: '*',
    groupLabels: {},
    comparator: '>',
    value: 2,
    threshold: 1,
    windowMs: 60_000,
    windowStart: 0,
    windowEnd: 60_000,
    episodeStart: 60_000,
    sampleCount: 10,
    message: 'm',
  };
}

function dl(offset: number, reasonClass?: DeadLetter['reasonClass']): DeadLetter {
  return { reason: 'bad', source: 't', partition: 0, offset: String(offset), ...(reasonClass ? { reasonClass } : {}) };
}

class RecordingSinks {
  readonly log: string[] = [];
  failuresLeft = 0;
  delayMs = 0;
  readonly alerts: AlertSink = {
    send: async (alerts) => {
      await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failuresLeft > 0) {
        this.failuresLeft--;
        throw new VigilError('VIGIL_SINK_FAILED', 'broker down');
      }
      this.log.push(...alerts.map((a) => `alert ${a.alertId}`));
    },
    close: () => Promise.resolve(),
  };
  readonly deadLetters: DeadLetterSink = {
    send: async (dls) => {
      this.log.push(...dls.map((d) => `dead letter ${d.offset ?? ''}`));
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

function delivery(sinks: RecordingSinks, extra: { onPressure?: (high: boolean) => void; maxPending?: number } = {}): SinkDelivery {
  return new SinkDelivery({
    alertSink: sinks.alerts,
    deadLetterSink: sinks.deadLetters,
    logger: silent,
    maxPending: extra.maxPending ?? 100,
    initialBackoffMs: 1,
    maxBackoffMs: 2,
    onPressure: extra.onPressure ?? (() => undefined),
    heartbeatEveryMs: 10,
  });
}

describe('sink delivery', () => {
  it("delivers a batch's dead letters, then its alerts, after whatever was queued before", async () => {
    const sinks = new RecordingSinks();
    const d = delivery(sinks);
    const idle = d.alerts([alert('idle')]);
    await d.batch([dl(5), dl(6)], [alert('a1'), alert('a2')]);
    await idle;
    assert.deepEqual(sinks.log, ['alert idle', 'dead letter 5', 'dead letter 6', 'alert a1', 'alert a2']);
  });

  it('counts dead letters per class, defaulting to invalid_field', async () => {
    const d = delivery(new RecordingSinks());
    await d.batch([dl(1), dl(2, 'undecodable'), dl(3, 'event_time'), dl(4, 'undecodable')], []);
    const s = d.status();
    assert.equal(s.deadLettersByReason.undecodable, 2);
    assert.equal(s.deadLettersByReason.invalid_field, 1);
    assert.equal(s.deadLettersByReason.event_time, 1);
    assert.equal(s.deadLettersByReason.empty, 0);
  });

  it('retries a failing alert sink inside the batch, heartbeating the group until it is acknowledged', async () => {
    const sinks = new RecordingSinks();
    sinks.failuresLeft = 3;
    sinks.delayMs = 15;
    const d = delivery(sinks);
    let heartbeats = 0;
    await d.batch([], [alert('a')], { heartbeat: () => Promise.resolve(void heartbeats++), isRunning: () => true });
    assert.deepEqual(sinks.log, ['alert a']);
    assert.ok(heartbeats >= 3, `heartbeats: ${heartbeats}`);
    assert.equal(d.status().sinkRetries, 3);
  });

  it('rejects the batch, so it stays uncommitted, once the consumer stops while the sink still fails', async () => {
    const sinks = new RecordingSinks();
    sinks.failuresLeft = 1_000;
    const d = delivery(sinks);
    let running = true;
    setTimeout(() => (running = false), 20);
    await assert.rejects(d.batch([], [alert('a')], { heartbeat: () => Promise.resolve(), isRunning: () => running }), /broker down/);
  });

  it('a batch without alerts still waits for what was queued before it', async () => {
    const sinks = new RecordingSinks();
    sinks.delayMs = 30;
    const d = delivery(sinks);
    void d.alerts([alert('idle')]);
    await d.batch([], []);
    assert.deepEqual(sinks.log, ['alert idle']);
  });

  it('asks to pause above the bound and to resume once drained', async () => {
    const sinks = new RecordingSinks();
    sinks.delayMs = 20;
    const pressure: boolean[] = [];
    const d = delivery(sinks, { maxPending: 3, onPressure: (high) => pressure.push(high) });
    const p = d.batch([], [alert('1'), alert('2'), alert('3'), alert('4')]);
    assert.equal(d.status().sinkBacklog, 4);
    assert.deepEqual(pressure, [true]);
    await p;
    assert.deepEqual(pressure, [true, false]);
  });

  it('flush gives a failing sink a deadline, then reports what was never delivered', async () => {
    const sinks = new RecordingSinks();
    sinks.failuresLeft = 1_000;
    const d = delivery(sinks);
    const pending = d.alerts([alert('a'), alert('b')]).catch((e: unknown) => e);
    assert.equal(await d.flush(30), 2);
    assert.ok((await pending) instanceof VigilError);
  });
});
