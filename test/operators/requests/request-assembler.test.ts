import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PriceTable } from '../../../operators/cost/price-table.js';
import { hasErrorType, RequestAssembler } from '../../../operators/requests/request-assembler.js';
import type { AssembledRequest, RequestAssemblerOptions } from '../../../operators/requests/request-assembler.js';
import { isVigilError } from '../../../src/errors.js';
import type { LlmSpan } from '../../../src/model/llm-span.js';
import { BASE_TIME as T, makeSpan } from '../../helpers/span-factory.js';

/** A root span of `traceId` from T to T + 1000, plus overrides. */
function root(traceId: string, o: Partial<LlmSpan> = {}): LlmSpan {
  return makeSpan({ traceId, spanId: `${traceId}-root`, parentSpanId: null, kind: 'PIPELINE', model: null, provider: null, startTime: T, durationMs: 1000, ...o });
}

/** A child span of `traceId`'s root, plus overrides. */
function child(traceId: string, n: number, o: Partial<LlmSpan> = {}): LlmSpan {
  return makeSpan({ traceId, spanId: `${traceId}-${n}`, parentSpanId: `${traceId}-root`, startTime: T + 100 * n, durationMs: 100, ...o });
}

function assembler(options: RequestAssemblerOptions = {}): RequestAssembler {
  return new RequestAssembler({ cost: (span) => span.costUsd ?? 0, ...options });
}

describe('RequestAssembler completion', () => {
  it('assembles a request whose root arrives before its children', () => {
    const a = assembler();
    a.add(root('t'));
    a.add(child('t', 1));
    a.add(child('t', 5));
    assert.equal(a.advance(T + 999).length, 0);
    const [r] = a.advance(T + 1000);
    assert.equal(r.traceId, 't');
    assert.equal(r.spanCount, 3);
    assert.equal(r.startTime, T);
    assert.equal(r.durationMs, 1000);
    assert.equal(r.rootMissing, false);
    assert.equal(a.openCount, 0);
  });

  it('assembles a request whose children arrive before its root', () => {
    const a = assembler();
    a.add(child('t', 5));
    a.add(child('t', 1));
    assert.equal(a.advance(T + 999).length, 0);
    a.add(root('t'));
    assert.equal(a.advance(T + 999).length, 0);
    const out = a.advance(T + 1000);
    assert.equal(out.length, 1);
    assert.equal(out[0].spanCount, 3);
    assert.equal(out[0].rootMissing, false);
  });

  it('completes only once the watermark reaches the end of the root', () => {
    const a = assembler();
    a.add(root('t', { durationMs: 30_000 }));
    a.add(child('t', 1));
    for (const wm of [T, T + 1000, T + 29_999]) assert.equal(a.advance(wm).length, 0, `watermark ${wm - T}`);
    assert.equal(a.advance(T + 30_000).length, 1);
    assert.equal(a.advance(T + 60_000).length, 0);
  });

  it('emits a request whose root never arrives as incomplete after the timeout', () => {
    const a = assembler({ timeoutMs: 10_000 });
    a.add(child('t', 3, { durationMs: 200 }));
    a.add(child('t', 1));
    // Due at the first-arrived span's start (T + 300) + 10 s.
    assert.equal(a.advance(T + 10_299).length, 0);
    const [r] = a.advance(T + 10_300);
    assert.equal(r.rootMissing, true);
    assert.equal(r.evicted, false);
    assert.equal(r.startTime, T + 100);
    assert.equal(r.durationMs, 400);
    assert.equal(r.failed, false);
    assert.deepEqual(
      { emitted: a.stats().emitted, incomplete: a.stats().incomplete, rootMissing: a.stats().rootMissing },
      { emitted: 1, incomplete: 1, rootMissing: 1 },
    );
  });

  it('counts and drops a child that arrives after its request was emitted', () => {
    const a = assembler();
    a.add(root('t'));
    assert.equal(a.advance(T + 1000).length, 1);
    a.add(child('t', 2));
    assert.equal(a.stats().lateChildren, 1);
    assert.equal(a.openCount, 0);
    assert.equal(a.flush().length, 0);
  });

  it('flushes open requests at end of input, complete or root-missing', () => {
    const a = assembler();
    a.add(root('with-root', { durationMs: 60_000 }));
    a.add(child('no-root', 1));
    const out = a.flush();
    assert.deepEqual(
      out.map((r) => [r.traceId, r.rootMissing]),
      [
        ['with-root', false],
        ['no-root', true],
      ],
    );
    assert.equal(a.openCount, 0);
    assert.equal(a.stats().heapSize, 0);
  });

  it('drains the same requests in the same order as advance, the due ones through one reused object', () => {
    const a = assembler({ maxOpenRequests: 120, timeoutMs: 3000 });
    const b = assembler({ maxOpenRequests: 120, timeoutMs: 3000 });
    let x = 7;
    const random = (): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const reused = new Set<AssembledRequest>();
    let queuedSeen = 0;
    let total = 0;
    for (let i = 0; i < 2000; i++) {
      const id = `t${i}`;
      const t = T + i * 20;
      const spans = [child(id, 1, { startTime: t, costUsd: random(), userId: `u${i % 5}`, status: random() < 0.1 ? 'ERROR' : 'OK' })];
      if (random() < 0.7) spans.push(root(id, { startTime: t, durationMs: 1 + Math.floor(random() * 2000), retryCount: random() < 0.2 ? 1 : 0 }));
      for (const span of spans) {
        a.add(span);
        b.add(span);
      }
      const watermark = t - 1500;
      const queued = a.stats().queued;
      const expected = a.advance(watermark).map((r) => ({ ...r }));
      const drained: AssembledRequest[] = [];
      let k = 0;
      b.drain(watermark, (r) => {
        if (k++ >= queued) reused.add(r);
        drained.push({ ...r });
      });
      queuedSeen += queued;
      total += expected.length;
      assert.deepEqual(drained, expected, `watermark ${watermark - T}`);
    }
    const rest: AssembledRequest[] = [];
    b.drain(Infinity, (r) => rest.push({ ...r }));
    assert.deepEqual(rest, a.flush().map((r) => ({ ...r })));
    assert.ok(total - queuedSeen > 500 && queuedSeen > 50, `${total} requests, ${queuedSeen} evicted`);
    assert.equal(reused.size, 1);
    assert.deepEqual(b.stats(), a.stats());
  });

  it('returns one shared empty array when nothing is due', () => {
    const a = assembler();
    assert.equal(a.advance(T), a.advance(T + 1));
    assert.ok(Object.isFrozen(a.advance(T)));
  });
});

describe('RequestAssembler bounded memory', () => {
  it('evicts the oldest open request early when maxOpenRequests is reached', () => {
    const a = assembler({ maxOpenRequests: 2 });
    a.add(root('t1'));
    a.add(child('t2', 1));
    a.add(child('t3', 1));
    assert.equal(a.openCount, 2);
    const [r] = a.advance(T - 1);
    assert.deepEqual([r.traceId, r.evicted, r.rootMissing], ['t1', true, false]);
    a.add(child('t4', 1));
    const [r2] = a.advance(T - 1);
    assert.deepEqual([r2.traceId, r2.evicted, r2.rootMissing], ['t2', true, true]);
    assert.deepEqual({ evicted: a.stats().evicted, incomplete: a.stats().incomplete }, { evicted: 2, incomplete: 2 });
  });

  it('hands evicted requests to onEvict at once when given', () => {
    const evicted: AssembledRequest[] = [];
    const a = assembler({ maxOpenRequests: 1, onEvict: (r) => evicted.push(r) });
    a.add(root('t1'));
    a.add(root('t2'));
    assert.deepEqual(
      evicted.map((r) => r.traceId),
      ['t1'],
    );
    assert.equal(a.stats().queued, 0);
    assert.deepEqual(
      a.advance(T + 1000).map((r) => r.traceId),
      ['t2'],
    );
  });

  it('keeps the due-time heap bounded while evictions leave stale entries', () => {
    const a = assembler({ maxOpenRequests: 10, onEvict: () => {} });
    for (let i = 0; i < 20_000; i++) {
      a.add(child(`t${i}`, 1));
      a.add(root(`t${i}`));
    }
    assert.equal(a.openCount, 10);
    assert.ok(a.stats().heapSize <= 2 * 10 + 1024 + 2, `heap size ${a.stats().heapSize}`);
    assert.equal(a.flush().length, 10);
  });

  it('looks up a request by traceId while open and after completion, forgetting the oldest beyond the bound', () => {
    const a = assembler({ maxRecentRequests: 2 });
    a.add(child('t1', 1, { model: 'gpt-4o-mini', provider: 'openai', tenantId: 'acme', userId: 'u1' }));
    assert.deepEqual({ ...a.lookup('t1') }, { ...a.lookup('t1') });
    assert.equal(a.lookup('t1')?.model, 'gpt-4o-mini');
    a.add(root('t1', { service: 'support-bot', operation: 'answer' }));
    a.add(root('t2'));
    a.add(root('t3'));
    a.advance(T + 1000);
    assert.deepEqual(a.lookup('t2') !== undefined && a.lookup('t3') !== undefined, true);
    assert.equal(a.lookup('t1'), undefined);
    const b = assembler();
    b.add(child('x', 1, { model: 'gpt-4o-mini', provider: 'openai', tenantId: 'acme', userId: 'u1' }));
    b.add(root('x', { service: 'support-bot', operation: 'answer' }));
    b.advance(T + 1000);
    assert.deepEqual(b.lookup('x'), {
      service: 'support-bot',
      operation: 'answer',
      model: 'gpt-4o-mini',
      provider: 'openai',
      tenantId: 'acme',
      userId: 'u1',
    });
    assert.equal(b.lookup('unknown'), undefined);
  });

  it('finds requests by trace id through table growth, evictions and reuse of the recent ring', () => {
    const completed: string[] = [];
    const a = assembler({ maxOpenRequests: 3000, maxRecentRequests: 5000, onEvict: (r) => completed.push(r.traceId) });
    const open = new Set<string>();
    let late = 0;
    let x = 12345;
    const random = (): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 30_000; i++) {
      const id = random() < 0.5 ? `t${i}` : `${i.toString(16).padStart(32, '0')}`;
      const t = T + i * 10;
      a.add(child(id, 1, { startTime: t, userId: `u${i % 7}` }));
      if (random() < 0.8) a.add(root(id, { startTime: t, durationMs: 1 + Math.floor(random() * 5000) }));
      open.add(id);
      for (const r of a.advance(t - 2000)) completed.push(r.traceId);
      // A span of a request completed not long ago is late; one long forgotten opens a new request.
      if (i % 97 === 0 && completed.length > 10) {
        const old = completed[completed.length - 1 - Math.floor(random() * 10)];
        const before = a.stats().lateChildren;
        a.add(child(old, 9, { startTime: t }));
        assert.equal(a.stats().lateChildren, before + 1, `late span of ${old}`);
        late++;
      }
    }
    for (const id of completed) open.delete(id);
    assert.equal(a.openCount, open.size);
    assert.equal(a.stats().lateChildren, late);
    assert.equal(a.stats().recent, 5000);
    const recent = new Set(completed.slice(-5000));
    for (const id of completed.slice(-6000)) {
      const dims = a.lookup(id);
      if (recent.has(id)) assert.equal(dims?.service, 'chat-api', id);
      else if (!open.has(id)) assert.equal(dims, undefined, id);
    }
    for (const id of open) assert.ok(a.lookup(id) !== undefined, id);
    assert.equal(a.flush().length, open.size);
  });

  it('expires through the heap without scanning the open requests', () => {
    const a = assembler({ maxOpenRequests: 200_000 });
    // 100 000 open requests due an hour from now (root ends late), children first so each leaves a stale entry.
    for (let i = 0; i < 100_000; i++) {
      a.add(child(`open${i}`, 1));
      a.add(root(`open${i}`, { durationMs: 3_600_000 }));
    }
    // The stale entries (due at the child's start + 5 min) are popped once by the first advance past them.
    a.advance(T + 400_000);
    const before = a.stats().heapInspected;
    for (let w = 0; w < 1000; w++) assert.equal(a.advance(T + 400_000 + w).length, 0);
    assert.equal(a.stats().heapInspected - before, 1000, 'one look at the heap top per advance');
    for (let i = 0; i < 5; i++) a.add(root(`soon${i}`, { startTime: T + 500_000, durationMs: 10 }));
    const start = a.stats().heapInspected;
    assert.equal(a.advance(T + 500_010).length, 5);
    assert.equal(a.stats().heapInspected - start, 6, 'five emitted plus the first not due');
    assert.equal(a.openCount, 100_000);
  });
});

describe('RequestAssembler outcome classification', () => {
  function one(spans: LlmSpan[]): AssembledRequest {
    const a = assembler();
    for (const s of spans) a.add(s);
    const out = a.flush();
    assert.equal(out.length, 1);
    return out[0];
  }

  it('marks a request whose root failed as failed, not degraded', () => {
    const r = one([root('t', { status: 'ERROR', errorType: 'MODEL_ERROR' }), child('t', 1, { retryCount: 1 })]);
    assert.deepEqual([r.status, r.failed, r.degraded], ['ERROR', true, false]);
    assert.ok(hasErrorType(r.errorTypes, 'MODEL_ERROR'));
  });

  it('marks a successful request with a retried call as degraded', () => {
    const r = one([root('t'), child('t', 1, { retryCount: 2 }), child('t', 2, { retryCount: 1 })]);
    assert.deepEqual([r.status, r.failed, r.degraded, r.retries], ['OK', false, true, 3]);
  });

  it('marks a successful request that used a fallback as degraded', () => {
    const r = one([root('t'), child('t', 1, { fallback: true })]);
    assert.deepEqual([r.failed, r.degraded, r.fallback], [false, true, true]);
  });

  it('marks a successful request with a failed child as degraded and counts its error types', () => {
    const r = one([
      root('t'),
      child('t', 1, { status: 'ERROR', errorType: 'RATE_LIMIT' }),
      child('t', 2, { status: 'ERROR', errorType: 'TIMEOUT' }),
      child('t', 3, { status: 'ERROR', errorType: 'TIMEOUT' }),
      child('t', 4),
    ]);
    assert.deepEqual([r.status, r.failed, r.degraded], ['OK', false, true]);
    assert.deepEqual([r.timeouts, r.rateLimits], [2, 1]);
    assert.ok(hasErrorType(r.errorTypes, 'TIMEOUT') && hasErrorType(r.errorTypes, 'RATE_LIMIT'));
    assert.ok(!hasErrorType(r.errorTypes, 'NETWORK'));
  });

  it('marks a clean request as neither failed nor degraded', () => {
    const r = one([root('t'), child('t', 1), child('t', 2)]);
    assert.deepEqual([r.status, r.failed, r.degraded, r.errorTypes], ['OK', false, false, 0]);
  });

  it('gives a request without a root the status ERROR if any span errored, but never failed or degraded', () => {
    const r = one([child('t', 1, { status: 'ERROR', errorType: 'NETWORK' }), child('t', 2, { retryCount: 3 })]);
    assert.deepEqual([r.rootMissing, r.status, r.failed, r.degraded], [true, 'ERROR', false, false]);
  });

  it('takes the model from the root, else from the earliest-starting LLM call', () => {
    const viaChild = one([
      child('t', 5, { model: 'gpt-4o', provider: 'openai' }),
      child('t', 2, { kind: 'EMBEDDING', model: 'text-embedding-3-small' }),
      child('t', 3, { model: 'claude-sonnet-4', provider: 'anthropic' }),
      root('t'),
    ]);
    assert.deepEqual([viaChild.model, viaChild.provider, viaChild.llmCalls], ['claude-sonnet-4', 'anthropic', 2]);
    const viaRoot = one([child('u', 1, { model: 'gpt-4o' }), root('u', { kind: 'LLM', model: 'o3', provider: 'openai' })]);
    assert.equal(viaRoot.model, 'o3');
  });

  it('takes the dimensions from the root and fills missing ones from the other spans', () => {
    const r = one([
      child('t', 1, { service: 'retriever', operation: 'search', tenantId: 'acme', sessionId: 's1' }),
      root('t', { service: 'support-bot', operation: 'answer', userId: 'u9' }),
    ]);
    assert.deepEqual([r.service, r.operation, r.tenantId, r.userId, r.sessionId], ['support-bot', 'answer', 'acme', 'u9', 's1']);
  });

  it('records security flags on an open request', () => {
    const a = assembler();
    assert.equal(a.flag('t', true, 1), false);
    a.add(root('t'));
    assert.equal(a.flag('t', true, 2), true);
    a.flag('t', false, 1);
    const [r] = a.flush();
    assert.deepEqual([r.injection, r.piiFindings], [true, 3]);
  });
});

describe('RequestAssembler cost', () => {
  const prices = new PriceTable([
    { provider: 'openai', model: 'gpt-4o', input: 2.5, cachedInput: 1.25, output: 10 },
    { provider: 'openai', model: 'text-embedding-3-small', input: 0.02 },
  ]);
  const none = { costUsd: null, inputTokens: null, outputTokens: null, cachedInputTokens: null, model: null, provider: null };

  it('sums an embedding, a retrieval and LLM calls priced from the table, counting unpriced spans', () => {
    const a = new RequestAssembler({ cost: prices });
    a.add(root('t', { ...none }));
    // 2000 · 0.02 / 1e6 = 0.00004
    a.add(child('t', 1, { ...none, kind: 'EMBEDDING', provider: 'openai', model: 'text-embedding-3-small', inputTokens: 2000 }));
    a.add(child('t', 2, { ...none, kind: 'RETRIEVAL' }));
    // (800 · 2.5 + 200 · 1.25 + 300 · 10) / 1e6 = 0.00525
    a.add(child('t', 3, { ...none, kind: 'LLM', provider: 'openai', model: 'gpt-4o-2024-08-06', inputTokens: 1000, cachedInputTokens: 200, outputTokens: 300 }));
    // Producer-reported: 0.01
    a.add(child('t', 4, { ...none, kind: 'LLM', provider: 'openai', model: 'gpt-4o', inputTokens: 500, outputTokens: 100, costUsd: 0.01 }));
    // Unknown model: 0, counted
    a.add(child('t', 5, { ...none, kind: 'LLM', provider: 'acme', model: 'acme-large', inputTokens: 100, outputTokens: 10 }));
    const [r] = a.flush();
    assert.ok(Math.abs(r.costUsd - 0.01529) < 1e-12, `cost ${r.costUsd}`);
    assert.deepEqual(
      [r.unpricedSpans, r.inputTokens, r.outputTokens, r.llmCalls, r.spanCount, r.model],
      [1, 3600, 410, 3, 6, 'gpt-4o-2024-08-06'],
    );
  });

  it('uses producer costs only by default and counts spans with tokens but no cost as unpriced', () => {
    const a = new RequestAssembler();
    a.add(root('t', { ...none }));
    a.add(child('t', 1, { costUsd: 0.002 }));
    a.add(child('t', 2, { costUsd: null, inputTokens: 10 }));
    const [r] = a.flush();
    assert.deepEqual([r.costUsd, r.unpricedSpans], [0.002, 1]);
  });

  it('treats NaN from a cost function as unpriced', () => {
    const a = new RequestAssembler({ cost: (s) => (s.model === 'x' ? NaN : 0.5) });
    a.add(root('t'));
    a.add(child('t', 1, { model: 'x' }));
    const [r] = a.flush();
    assert.deepEqual([r.costUsd, r.unpricedSpans], [0.5, 1]);
  });
});

describe('RequestAssembler options', () => {
  it('rejects out-of-range options as config errors', () => {
    for (const [key, options] of [
      ['timeoutMs', { timeoutMs: 0 }],
      ['maxOpenRequests', { maxOpenRequests: 1.5 }],
      ['maxRecentRequests', { maxRecentRequests: -1 }],
    ] as const) {
      assert.throws(
        () => new RequestAssembler(options),
        (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID') && err.details.key === key,
      );
    }
  });

  it('drops spans with a non-finite time and counts them', () => {
    const a = assembler();
    a.add(root('t', { startTime: NaN }));
    assert.deepEqual([a.openCount, a.stats().invalidSpans], [0, 1]);
  });
});
