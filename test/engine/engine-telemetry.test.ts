import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineTelemetry } from '../../src/engine/engine-telemetry.js';
import type { AlertEvent } from '../../src/model/index.js';

const alert = (ruleName: string, state: AlertEvent['state']): AlertEvent => ({ ruleName, state }) as AlertEvent;

describe('EngineTelemetry', () => {
  it('reports consumer lag as the high watermark minus the next offset to read, per partition', () => {
    const t = new EngineTelemetry();
    t.recordConsumerLag('traces', 1, '9007199254740993', '9007199254740900');
    t.recordConsumerLag('traces', 0, '100', '99');
    t.recordConsumerLag('evals', 2, '10', '4');
    t.recordConsumerLag('traces', 0, '120', '109');
    assert.deepEqual(t.consumerLag(), [
      { topic: 'evals', partition: 2, lag: 5 },
      { topic: 'traces', partition: 0, lag: 10 },
      { topic: 'traces', partition: 1, lag: 92 },
    ]);
  });

  it('ignores offsets that are not integers and forgets partitions no longer assigned', () => {
    const t = new EngineTelemetry();
    t.recordConsumerLag('traces', 0, 'x', '1');
    assert.deepEqual(t.consumerLag(), []);
    t.recordConsumerLag('traces', 0, '5', '1');
    t.recordConsumerLag('traces', 1, '5', '1');
    t.retainPartitions({ traces: [1] });
    assert.deepEqual(t.consumerLag(), [{ topic: 'traces', partition: 1, lag: 3 }]);
  });

  it('counts alerts by rule and state', () => {
    const t = new EngineTelemetry();
    for (const a of [alert('slow', 'FIRING'), alert('slow', 'RESOLVED'), alert('slow', 'FIRING'), alert('pii', 'FIRING')]) t.alertEmitted(a);
    assert.deepEqual(t.alertCounts(), [
      { rule: 'slow', state: 'FIRING', count: 2 },
      { rule: 'slow', state: 'RESOLVED', count: 1 },
      { rule: 'pii', state: 'FIRING', count: 1 },
    ]);
  });

  it('hands batch durations to its listeners until they unsubscribe', () => {
    const t = new EngineTelemetry();
    const seen: number[] = [];
    const off = t.onBatch((s) => seen.push(s));
    t.batchProcessed(0.002);
    off();
    t.batchProcessed(0.003);
    assert.deepEqual(seen, [0.002]);
  });
});
