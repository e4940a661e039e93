import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/vigil-config.js';
import { createEngine } from '../../src/engine/engine-factory.js';
import { replayFile } from '../../src/runtime/replay.js';
import { MemoryAlertSink } from '../../src/sinks/memory-alert-sink.js';
import { writeEventFile } from '../../src/sources/file-source.js';
import type { DeadLetter } from '../../src/sources/span-source.js';
import { COMMENT, fullEval, fullFeedback } from '../codec/event-fixtures.js';
import { fullSpan } from '../codec/span-fixtures.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-replay-events-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const START = 1735689600000;

describe('replayFile of a mixed .jsonl', () => {
  it('hands spans, feedback and evals to the engine in event time, none of them late', async () => {
    // Ten minutes of spans, one a second, with feedback every 30 s and evals every 45 s: in one
    // 1000-record batch handled spans-first, the feedback would land minutes behind the watermark.
    const spans = Array.from({ length: 600 }, (_, i) => fullSpan({ traceId: `t-${i}`, spanId: `s-${i}`, startTime: START + i * 1000, inputText: null }));
    const feedback = Array.from({ length: 20 }, (_, i) => fullFeedback({ feedbackId: `f-${i}`, traceId: `t-${i * 30}`, timestamp: START + i * 30_000 + 500 }));
    const evals = Array.from({ length: 13 }, (_, i) => fullEval({ evalId: `e-${i}`, traceId: `t-${i * 45}`, timestamp: START + i * 45_000 + 700 }));
    const path = join(dir, 'mixed.jsonl');
    assert.deepEqual(await writeEventFile(path, { spans, feedback, evals }), { spans: 600, feedback: 20, evals: 13 });

    const engine = createEngine(parseConfig({}, { env: {} }), [], { idle: false });
    const sink = new MemoryAlertSink();
    try {
      const summary = await replayFile({ path, engine, sink });
      assert.equal(summary.events, 633);
      assert.equal(summary.deadLetters, 0);
      assert.equal(summary.lateEvents, 0);
      const counters = engine.pipelineStatus();
      assert.equal(counters.spans, 600);
      assert.equal(counters.feedback, 20);
      assert.equal(counters.evals, 13);
      assert.equal(engine.status().eventsIn, 633);
    } finally {
      engine.close();
    }
  });

  it('reports invalid feedback as a dead letter without its comment', async () => {
    const path = join(dir, 'bad-feedback.jsonl');
    await writeEventFile(path, { spans: [fullSpan({ startTime: START })], feedback: [fullFeedback({ timestamp: START + 1 })] });
    await appendFile(path, JSON.stringify({ ...fullFeedback(), type: COMMENT }) + '\n');
    const engine = createEngine(parseConfig({}, { env: {} }), [], { idle: false });
    const dead: DeadLetter[] = [];
    try {
      const summary = await replayFile({ path, engine, sink: new MemoryAlertSink(), onDeadLetter: (d) => dead.push(d) });
      assert.equal(summary.events, 2);
      assert.equal(summary.deadLetters, 1);
      assert.equal(dead[0].position, 3);
      assert.equal(dead[0].field, 'type');
      assert.ok(!dead[0].reason.includes(COMMENT));
    } finally {
      engine.close();
    }
  });
});
