import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigilError } from '../../src/errors.js';
import { MemoryAlertSink } from '../../src/sinks/memory-alert-sink.js';
import { sampleAlert } from '../codec/span-fixtures.js';

describe('MemoryAlertSink', () => {
  it('collects alerts in send order', async () => {
    const sink = new MemoryAlertSink();
    const a = sampleAlert({ alertId: 'a' });
    const b = sampleAlert({ alertId: 'b' });
    const c = sampleAlert({ alertId: 'c' });
    await sink.send([a, b]);
    await sink.send([]);
    await sink.send([c]);
    assert.deepEqual(sink.alerts, [a, b, c]);
    assert.equal(sink.sends, 2);
    sink.clear();
    assert.deepEqual(sink.alerts, []);
  });

  it('fails the armed number of sends with a retriable VIGIL_SINK_FAILED and stores nothing from them', async () => {
    const sink = new MemoryAlertSink();
    sink.failNextSends(2);
    const isSinkFailure = (error: unknown): boolean => error instanceof VigilError && error.code === 'VIGIL_SINK_FAILED' && error.retriable;
    await assert.rejects(sink.send([sampleAlert()]), isSinkFailure);
    await assert.rejects(sink.send([sampleAlert()]), isSinkFailure);
    await sink.send([sampleAlert()]);
    assert.equal(sink.alerts.length, 1);
  });

  it('refuses sends after close with VIGIL_STOPPED but keeps what it collected', async () => {
    const sink = new MemoryAlertSink();
    await sink.send([sampleAlert()]);
    await sink.close();
    assert.equal(sink.isClosed, true);
    await assert.rejects(sink.send([sampleAlert()]), (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_STOPPED');
    assert.equal(sink.alerts.length, 1);
  });
});
