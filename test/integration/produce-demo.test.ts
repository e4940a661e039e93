import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EvalCodec, FeedbackCodec, SpanCodec } from '../../src/codec/avro-codec.js';
import { runVigil } from '../helpers/cli.js';
import { createTopic, deleteGroups, deleteTopics, endOffsets, kafkaBrokers, randomName, testKafka } from '../helpers/kafka-test-env.js';

/** The first message value of each partition-0 record of `topic`, read with a throwaway group. */
async function firstValue(topic: string): Promise<Buffer> {
  const groupId = randomName('vigil-it-demo-reader');
  const consumer = testKafka().consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value !== null) {
            clearTimeout(timer);
            resolve(message.value);
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
    await deleteGroups([groupId]);
  }
}

async function total(topic: string): Promise<number> {
  let n = 0;
  for (const high of (await endOffsets(topic)).values()) n += Number(high);
  return n;
}

describe('vigil produce-demo against a real Kafka broker', () => {
  const topics = { traces: randomName('vigil-it-demo-traces'), feedback: randomName('vigil-it-demo-feedback'), evals: randomName('vigil-it-demo-evals') };
  const dir = mkdtempSync(join(tmpdir(), 'vigil-produce-demo-'));

  before(async () => {
    await createTopic(topics.traces, 3);
    await createTopic(topics.feedback, 1);
    await createTopic(topics.evals, 1);
  });
  after(() => deleteTopics(Object.values(topics)));

  it('produces the synthetic spans, feedback and eval scores as Avro records to the configured topics', async () => {
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      [
        'kafka:',
        `  brokers: [${kafkaBrokers().join(', ')}]`,
        `  tracesTopic: ${topics.traces}`,
        `  feedbackTopic: ${topics.feedback}`,
        `  evalsTopic: ${topics.evals}`,
        'log:',
        '  level: warn',
      ].join('\n'),
    );
    const result = await runVigil(['produce-demo', '--config', config, '--duration', '3m', '--speed', '600', '--rate', '10', '--start', '2025-01-01T00:00:00Z'], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    // 10 requests/s over 180 s of event time, each one to a few spans.
    assert.ok((await total(topics.traces)) > 1800, `spans: ${await total(topics.traces)}`);
    assert.ok((await total(topics.feedback)) > 0);
    assert.ok((await total(topics.evals)) > 0);
    const span = new SpanCodec().decode(await firstValue(topics.traces));
    assert.ok(span.startTime >= Date.parse('2025-01-01T00:00:00Z') && span.startTime < Date.parse('2025-01-01T00:03:00Z'));
    assert.ok(new FeedbackCodec().decode(await firstValue(topics.feedback)).feedbackId.length > 0);
    assert.ok(new EvalCodec().decode(await firstValue(topics.evals)).evalId.length > 0);
  });
});
