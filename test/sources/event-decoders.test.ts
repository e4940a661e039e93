import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { EvalCodec, FeedbackCodec, SpanCodec } from '../../src/codec/avro-codec.js';
import type { RegisteredSchema } from '../../src/codec/registry/registry-client.js';
import type { WriterSchemaSource } from '../../src/codec/registry/resolving-decoder.js';
import { encodeWireFormat } from '../../src/codec/registry/wire-format.js';
import { readSchemaJson } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import { EventDecoders } from '../../src/sources/event-decoders.js';
import { evalSeries, feedbackSeries } from '../codec/event-fixtures.js';
import { fullSpan } from '../codec/span-fixtures.js';

const IDS = { LlmSpan: 1, FeedbackEvent: 2, EvalScoreEvent: 3 } as const;

/** The three shipped schemas under fixed ids, in memory (HTTP is the registry client's tests' business). */
const registry: WriterSchemaSource & { calls: number[] } = {
  calls: [],
  async schemaById(id: number): Promise<RegisteredSchema> {
    this.calls.push(id);
    const name = (Object.keys(IDS) as (keyof typeof IDS)[]).find((n) => IDS[n] === id);
    if (name === undefined) throw new VigilError('VIGIL_REGISTRY_REJECTED', 'unknown', { details: { status: 404 } });
    return { id, schema: JSON.stringify(readSchemaJson(name)), schemaType: 'AVRO' };
  },
};

const message = (value: Buffer | null): KafkaMessage => ({ key: null, value, timestamp: '0', attributes: 0, offset: '0', headers: {} });

describe('EventDecoders', () => {
  it('without a registry: plain Avro decoders, nothing looked up', async () => {
    const decoders = await new EventDecoders().forRun('spans', [message(new SpanCodec().encode(fullSpan()))], 0, 1);
    assert.deepEqual(decoders.spans.decode(new SpanCodec().encode(fullSpan())), fullSpan());
  });

  it('with a registry: looks up the ids of the run for its kind only, and decodes every kind', async () => {
    const decoders = new EventDecoders(registry);
    const [feedback] = feedbackSeries(1);
    const [evaluation] = evalSeries(1);
    const feedbackValue = encodeWireFormat(IDS.FeedbackEvent, new FeedbackCodec().encode(feedback));
    const evalValue = encodeWireFormat(IDS.EvalScoreEvent, new EvalCodec().encode(evaluation));
    const spanValue = encodeWireFormat(IDS.LlmSpan, new SpanCodec().encode(fullSpan()));

    const forFeedback = await decoders.forRun('feedback', [message(feedbackValue), message(null)], 0, 2);
    assert.deepEqual(forFeedback.feedback.decode(feedbackValue), feedback);
    const forEvals = await decoders.forRun('evals', [message(evalValue)], 0, 1);
    assert.deepEqual(forEvals.evals.decode(evalValue), evaluation);
    const forSpans = await decoders.forRun('spans', [message(spanValue)], 0, 1);
    assert.deepEqual(forSpans.spans.decode(spanValue), fullSpan());
    assert.deepEqual(registry.calls, [IDS.FeedbackEvent, IDS.EvalScoreEvent, IDS.LlmSpan]);
  });
});
