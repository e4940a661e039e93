import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAlertsMarker, decodeTaskCheckpoint, encodeAlertsMarker, encodeTaskCheckpoint } from '../../src/codec/task-checkpoint-codec.js';
import { VigilError } from '../../src/errors.js';
import type { TaskCheckpoint } from '../../src/signals/signal-pipeline.js';

const checkpoint: TaskCheckpoint = {
  task: 7,
  boundary: 1_767_225_610_000,
  idle: false,
  users: {
    tracked: 42,
    counts: { rate_spike: 1, token_spike: 0, cost_spike: 0, probing: 2, session_spread: 0 },
    anomalous: [{ userId: 'user-1', kind: 'rate_spike', time: 1_767_225_600_000, value: 130, baseline: 3.5, threshold: 120, global: true }],
  },
};

describe('task checkpoint codec', () => {
  it('a checkpoint survives a round trip', () => {
    assert.deepEqual(decodeTaskCheckpoint(encodeTaskCheckpoint(checkpoint)), checkpoint);
  });

  it('an alerts marker survives a round trip', () => {
    assert.equal(decodeAlertsMarker(encodeAlertsMarker(1_767_225_610_000)), 1_767_225_610_000);
  });

  it('bytes that are not a checkpoint fail naming the record', () => {
    assert.throws(() => decodeTaskCheckpoint(Buffer.from([1, 2, 3])), (e: unknown) => e instanceof VigilError && e.code === 'VIGIL_RECORD_INVALID' && /TaskCheckpoint/.test(e.message));
  });

  it('a checkpoint that does not fit the schema names its fields, not their values', () => {
    const bad = { ...checkpoint, task: 'seven' } as unknown as TaskCheckpoint;
    assert.throws(() => encodeTaskCheckpoint(bad), (e: unknown) => e instanceof VigilError && /task/.test(e.message) && !/seven/.test(e.message));
  });
});
