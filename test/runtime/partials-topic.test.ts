import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { subWindowPartialType } from '../../src/codec/sub-window-partial-codec.js';
import { checkpointMessage, decodePartialsMessage, markerMessage, partialMessage, partialTombstone, partialsPartitionOf } from '../../src/runtime/partials-topic.js';
import { emptyUserReport } from '../../src/signals/user-report.js';

function received(m: { key?: string | Buffer | null; value: string | Buffer | null; headers?: Record<string, unknown> }): KafkaMessage {
  return { key: m.key === undefined || m.key === null ? null : Buffer.from(m.key), value: m.value === null ? null : Buffer.from(m.value), headers: m.headers as never, offset: '5', timestamp: '0', attributes: 0 };
}

describe('partials topic records', () => {
  it('every record of one task goes to one partition, keyed so a republish replaces it', () => {
    const partial = { family: 'spans', subWindowMs: 10_000, start: 20_000, entries: [] };
    const m = partialMessage(13, partial, 12);
    assert.equal(m.partition, partialsPartitionOf(13, 12));
    assert.equal(m.key, '13/spans/20000');
    assert.deepEqual(m.headers, { 'vigil-schema': 'vigil.v2.SubWindowPartial' });
    assert.equal(partialTombstone(13, 'spans', 20_000, 12).key, m.key);
    assert.equal(checkpointMessage({ task: 13, boundary: 30_000, idle: false, users: emptyUserReport() }, 12).partition, m.partition);
  });

  it('each record decodes to what it holds, by its header', () => {
    const partial = { family: 'spans', subWindowMs: 10_000, start: 20_000, entries: [{ values: ['a'], count: 2, counters: [1, 2], digests: [null] }] };
    const p = decodePartialsMessage(received(partialMessage(3, partial, 4)));
    assert.equal(p.kind, 'partial');
    assert.equal(p.kind === 'partial' && p.partial.task, 3);
    const c = decodePartialsMessage(received(checkpointMessage({ task: 3, boundary: 30_000, idle: true, users: emptyUserReport() }, 4)));
    assert.deepEqual(c, { kind: 'checkpoint', checkpoint: { task: 3, boundary: 30_000, idle: true, users: emptyUserReport() } });
    assert.deepEqual(decodePartialsMessage(received(markerMessage(90_000) as never)), { kind: 'marker', through: 90_000 });
    assert.deepEqual(decodePartialsMessage(received({ key: 'x', value: null })), { kind: 'tombstone' });
  });

  it('a partial of the first version, every counter written, is still read by its header', () => {
    const v1 = { task: 5, family: 'spans', subWindowMs: 10_000, start: 20_000, entries: [{ values: ['a'], count: 2, counters: [0, 2.5, 0], digests: [null] }] };
    const value = subWindowPartialType(1).toBuffer(v1);
    const p = decodePartialsMessage(received({ key: '5/spans/20000', value, headers: { 'vigil-schema': Buffer.from('vigil.v1.SubWindowPartial') } }));
    assert.ok(p.kind === 'partial');
    assert.equal(p.partial.task, 5);
    assert.deepEqual([...p.partial.partial.entries[0].counters], [0, 2.5, 0]);
    // The same bytes under the current header are not a version 2 record.
    assert.throws(() => decodePartialsMessage(received({ key: '5/spans/20000', value, headers: { 'vigil-schema': Buffer.from('vigil.v2.SubWindowPartial') } })), /SubWindowPartial/);
  });

  it('a record without the header is refused, naming it', () => {
    assert.throws(() => decodePartialsMessage(received({ key: 'x', value: Buffer.from([0]) })), /vigil-schema/);
  });
});
