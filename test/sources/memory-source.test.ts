import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstValueFrom, toArray } from 'rxjs';
import { VigilError } from '../../src/errors.js';
import { MemorySpanSource } from '../../src/sources/memory-source.js';
import type { SpanBatch } from '../../src/sources/span-source.js';
import { PROMPT, fullSpan, minimalSpanJson, spanSeries } from '../codec/span-fixtures.js';

describe('MemorySpanSource', () => {
  it('emits each push as one batch, with invalid objects as dead letters carrying their element number', () => {
    const source = new MemorySpanSource({ name: 'app' });
    const seen: SpanBatch[] = [];
    source.batches$.subscribe((b) => seen.push(b));
    const good = spanSeries(2);
    const returned = source.push([good[0], { ...fullSpan(), kind: PROMPT } as never, good[1]]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0], returned);
    assert.equal(returned.source, 'app');
    assert.deepEqual(returned.spans, good);
    assert.equal(returned.deadLetters.length, 1);
    const [dead] = returned.deadLetters;
    assert.equal(dead.position, 2);
    assert.equal(dead.field, 'kind');
    assert.equal(dead.source, 'app');
    assert.ok(!dead.reason.includes(PROMPT));
    assert.equal((JSON.parse(dead.payload?.toString('utf8') ?? '{}') as { kind: string }).kind, PROMPT);
  });

  it('accepts a single span and fills defaults and ISO start times like the file source', () => {
    const source = new MemorySpanSource();
    const batch = source.push(minimalSpanJson({ startTime: '2025-01-01T00:00:00Z' }) as never);
    assert.equal(batch.source, 'memory');
    assert.equal(batch.spans[0].startTime, 1735689600000);
    assert.equal(batch.spans[0].retryCount, 0);
  });

  it('emits nothing for an empty push', () => {
    const source = new MemorySpanSource();
    let count = 0;
    source.batches$.subscribe(() => count++);
    source.push([]);
    assert.equal(count, 0);
  });

  it('holds batches pushed before anyone subscribes and hands them to the first subscriber in order', async () => {
    const source = new MemorySpanSource();
    const spans = spanSeries(3);
    source.push(spans[0]);
    source.push([spans[1], spans[2]]);
    source.complete();
    const batches = await firstValueFrom(source.batches$.pipe(toArray()));
    assert.deepEqual(
      batches.map((b) => b.spans),
      [[spans[0]], [spans[1], spans[2]]],
    );
  });

  it('completes subscribers on complete and refuses later pushes with VIGIL_STOPPED', () => {
    const source = new MemorySpanSource();
    let completed = false;
    source.batches$.subscribe({ complete: () => (completed = true) });
    source.complete();
    source.complete();
    assert.equal(completed, true);
    assert.equal(source.completed, true);
    assert.throws(() => source.push(fullSpan()), (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_STOPPED');
  });
});
