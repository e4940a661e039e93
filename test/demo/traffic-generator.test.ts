import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_INCIDENTS, TrafficGenerator } from '../../src/demo/traffic-generator.js';
import { validateSpan } from '../../src/codec/span-validation.js';

const START = Date.UTC(2026, 0, 1);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('TrafficGenerator', () => {
  it('equal seeds give equal traffic, whatever the step sizes', () => {
    const a = new TrafficGenerator({ seed: 7, startTime: START }).spansUntil(START + 60_000);
    const g = new TrafficGenerator({ seed: 7, startTime: START });
    const b = [...g.spansUntil(START + 10_000), ...g.spansUntil(START + 35_000), ...g.spansUntil(START + 60_000)];
    assert.deepEqual(b, a);
  });

  it('every generated span is valid against the contract', () => {
    const spans = new TrafficGenerator({ seed: 1, startTime: START }).spansUntil(START + 30_000);
    assert.ok(spans.length > 1000);
    for (const s of spans) validateSpan(s);
  });

  it('produces roughly the requested rate of pipeline requests, streaming and not', () => {
    const spans = new TrafficGenerator({ seed: 3, startTime: START, requestsPerSecond: 50 }).spansUntil(START + 120_000);
    const roots = spans.filter((s) => s.parentSpanId === null);
    // Poisson arrivals: 6000 expected, sd ≈ 77.
    assert.ok(Math.abs(roots.length - 6000) < 400, `${roots.length} roots`);
    assert.ok(spans.some((s) => s.ttftMs !== null) && spans.some((s) => s.kind === 'LLM' && s.ttftMs === null));
    assert.ok(spans.some((s) => s.kind === 'EMBEDDING') && spans.some((s) => s.kind === 'RETRIEVAL'));
  });

  it('the planted incidents slow down only their own model and metric, only while they last', () => {
    const spans = new TrafficGenerator({ seed: 5, startTime: START }).spansUntil(START + 10 * 60_000);
    const lat = DEFAULT_INCIDENTS.find((i) => i.kind === 'latency')!;
    const ttft = DEFAULT_INCIDENTS.find((i) => i.kind === 'ttft')!;
    const during = (s: { startTime: number }, i: typeof lat) => s.startTime - START >= i.fromMs && s.startTime - START < i.toMs;
    const llm = spans.filter((s) => s.kind === 'LLM');
    const latIn = llm.filter((s) => s.model === lat.target && during(s, lat)).map((s) => s.durationMs);
    const latOut = llm.filter((s) => s.model === lat.target && !during(s, lat)).map((s) => s.durationMs);
    assert.ok(median(latIn) > 3 * median(latOut), `${median(latIn)} vs ${median(latOut)}`);
    const ttftIn = llm.filter((s) => s.model === ttft.target && during(s, ttft)).map((s) => s.ttftMs!);
    const ttftOut = llm.filter((s) => s.model === ttft.target && !during(s, ttft)).map((s) => s.ttftMs!);
    assert.ok(median(ttftIn) > 4 * median(ttftOut), `${median(ttftIn)} vs ${median(ttftOut)}`);
    const other = llm.filter((s) => s.model === 'gpt-4o');
    const otherIn = other.filter((s) => during(s, lat)).map((s) => s.durationMs);
    const otherOut = other.filter((s) => !during(s, lat)).map((s) => s.durationMs);
    assert.ok(Math.abs(median(otherIn) / median(otherOut) - 1) < 0.1);
  });
});
