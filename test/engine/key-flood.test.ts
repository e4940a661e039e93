import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createQueryServer } from '../../src/api/query-server.js';
import { BASE_TIME, makeSpan } from '../helpers/span-factory.js';
import { testEngine } from '../helpers/test-engine.js';

const WINDOWS = { slideMs: 10_000, windowMs: 60_000, retentionMs: 600_000, allowedLatenessMs: 0 };
const KEYS_PER_SUB_WINDOW = 10_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('a flood of distinct keys', () => {
  it('is bounded per sub-window by the overflow aggregate, end to end from spans to the query API, and nothing is lost', async () => {
    const engine = testEngine('rules: []', WINDOWS);
    const flood = 30_000;
    const spans = [];
    // Every span a new service, tenant and trace, all in one sub-window.
    for (let i = 0; i < flood; i++) spans.push(makeSpan({ startTime: BASE_TIME + (i % 10_000), service: `svc-${i}`, tenantId: `tenant-${i}`, userId: `user-${i}`, durationMs: 100 + (i % 50) }));
    // Closes that sub-window.
    spans.push(makeSpan({ startTime: BASE_TIME + 20_000, service: 'after' }));
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < spans.length; i += 1000) engine.process({ source: 'flood', spans: spans.slice(i, i + 1000), deadLetters: [] });
    const stats = engine.pipeline.spans.stats();
    assert.ok(stats.keys <= KEYS_PER_SUB_WINDOW + 1 + 1, `${stats.keys} fine keys`);
    assert.equal(stats.overflowCount, flood - KEYS_PER_SUB_WINDOW);

    const app = createQueryServer({ backend: engine });
    const res = await app.inject({ url: '/v1/percentiles?groupBy=service&window=1m' });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ groups: { key: string; count: number }[] }>();
    const overflow = body.groups.find((g) => g.key === 'service=(overflow)');
    assert.ok(overflow !== undefined, 'an (overflow) group');
    assert.equal(overflow.count, flood - KEYS_PER_SUB_WINDOW);
    assert.equal(body.groups.length, KEYS_PER_SUB_WINDOW + 2);
    // Every span is still counted once, the overflowed ones included.
    assert.equal(body.groups.reduce((n, g) => n + g.count, 0), flood + 1);
    const all = (await app.inject({ url: '/v1/percentiles?window=1m' })).json<{ groups: { count: number }[] }>();
    assert.equal(all.groups[0].count, flood + 1);
    await app.close();
    // Bound stated: the engine keeps less than 100 MB more after 30 000 distinct keys in one
    // sub-window (measured after a full GC; the spans themselves were allocated before).
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    console.log(`# key flood: heap +${(grown / 1048576).toFixed(1)} MB, store estimate ${(stats.approxBytes / 1048576).toFixed(1)} MB`);
    assert.ok(grown < 100 * 1024 * 1024, `heap grew ${Math.round(grown / 1048576)} MB`);
    engine.close();
  });
});
