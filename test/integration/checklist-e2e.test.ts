import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners, type Message } from 'kafkajs';
import { after, before, describe, it } from 'node:test';
import { EvalCodec, FeedbackCodec, SpanCodec } from '../../src/codec/index.js';
import { DEFAULT_INCIDENTS } from '../../src/demo/traffic-generator.js';
import { liveDemoEvents } from '../helpers/live-demo-events.js';
import { ROOT } from '../helpers/cli.js';
import { createTopic, deleteGroups, deleteTopics, endOffsets, kafkaBrokers, randomName, readAlerts, testKafka } from '../helpers/kafka-test-env.js';

const START = Date.UTC(2026, 0, 1);
const DURATION_MS = 30 * 60_000;
// The demo timeline's incidents all start after minute 1 and have resolved by minute 23; the traffic
// before and after is clean.
const CLEAN_BEFORE = START + 60_000;
const CLEAN_AFTER = START + 23 * 60_000;

async function produceAll(topic: string, messages: Message[]): Promise<void> {
  const producer = testKafka('vigil-e2e-producer').producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // Chunks keep each produce request well under the broker's request size limit.
    for (let i = 0; i < messages.length; i += 2000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) });
  } finally {
    await producer.disconnect();
  }
}

describe('the whole checklist through a real Kafka broker', () => {
  const id = randomName('vigil-e2e');
  const topics = { traces: `${id}-traces`, feedback: `${id}-feedback`, evals: `${id}-evals`, alerts: `${id}-alerts` };
  const groupId = `${id}-group`;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  let child: ChildProcess;
  let stderr = '';
  const logTail = (): string => stderr.slice(-2000);

  before(async () => {
    for (const t of [topics.traces, topics.feedback, topics.evals]) await createTopic(t, 3);
    await createTopic(topics.alerts, 1);
    writeFileSync(
      join(dir, 'vigil.yaml'),
      [
        'kafka:',
        `  brokers: [${kafkaBrokers().join(', ')}]`,
        `  groupId: ${groupId}`,
        `  tracesTopic: ${topics.traces}`,
        `  feedbackTopic: ${topics.feedback}`,
        `  evalsTopic: ${topics.evals}`,
        `  alertsTopic: ${topics.alerts}`,
        '  fromBeginning: true',
        // Recorded traffic: event time must only move with the data, not with the wall clock.
        'windows: { idleAdvanceAfter: 1h }',
        `rules: ${join(ROOT, 'rules', 'demo-rules.yaml')}`,
        'api: { enabled: false }',
        'log: { level: warn }',
      ].join('\n'),
    );
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--config', join(dir, 'vigil.yaml')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await deleteTopics(Object.values(topics));
    await deleteGroups([groupId]);
  });

  it('every planted incident raises exactly one FIRING and later one RESOLVED, and clean traffic raises nothing', async () => {
    const events = liveDemoEvents({ seed: 42, startTime: START }, DURATION_MS);
    const spans = new SpanCodec();
    const feedback = new FeedbackCodec();
    const evals = new EvalCodec();
    // Keyed as partitioned state needs (README, "Scaling out"): by user id, else by trace id.
    await produceAll(topics.traces, events.spans.map((s) => ({ key: s.userId ?? s.traceId, value: spans.encode(s) })));
    await produceAll(topics.feedback, events.feedback.map((f) => ({ key: f.userId ?? f.traceId, value: feedback.encode(f) })));
    await produceAll(topics.evals, events.evals.map((e) => ({ key: e.traceId, value: evals.encode(e) })));

    const expected = 2 * DEFAULT_INCIDENTS.length;
    const all = (await readAlerts(topics.alerts, expected, 240_000)).map((r) => r.alert);
    // The engine has read everything by the time the last RESOLVED is out; give any straggler a
    // moment, then count what the topic holds in all.
    await new Promise((r) => setTimeout(r, 3000));
    const total = [...(await endOffsets(topics.alerts)).values()].reduce((n, o) => n + Number(o), 0);
    assert.equal(total, expected, `the alerts topic holds ${total} alerts, expected ${expected}`);

    for (const incident of DEFAULT_INCIDENTS) {
      const mine = all.filter((a) => a.ruleName === incident.rule && a.groupKey === incident.groupKey);
      assert.deepEqual(
        mine.map((a) => a.state),
        ['FIRING', 'RESOLVED'],
        `${incident.name}: ${mine.map((a) => `${a.state}@+${(a.windowEnd - START) / 1000}s`).join(' ')} ${logTail()}`,
      );
      assert.equal(mine[0].alertId, mine[1].alertId);
      assert.ok(mine[0].windowEnd > START + incident.fromMs, `${incident.name} fired before it began`);
    }
    const unexpected = all.filter((a) => !DEFAULT_INCIDENTS.some((i) => i.rule === a.ruleName && i.groupKey === a.groupKey));
    assert.deepEqual(unexpected.map((a) => `${a.state} ${a.ruleName} ${a.groupKey}`), [], 'alerts no incident explains');
    for (const a of all) {
      assert.ok(a.windowEnd > CLEAN_BEFORE && a.windowEnd <= CLEAN_AFTER, `${a.ruleName} ${a.state} at +${(a.windowEnd - START) / 1000}s, in a clean period`);
      // Alerts carry no prompt text, output text or PII values.
      assert.doesNotMatch(a.message, /@example\.|4111|sk-proj|Ignore all previous/);
    }
  });
});
