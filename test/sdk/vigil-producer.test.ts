import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { isVigilError } from '../../src/errors.js';
import type { VigilError } from '../../src/errors.js';
import type { LlmSpan } from '../../src/model/index.js';
import { createVigilProducer } from '../../src/sdk/vigil-producer.js';
import type { VigilProducerSettings } from '../../src/sdk/vigil-producer.js';
import { makeSpan } from '../helpers/span-factory.js';

const silent = pino({ level: 'silent' });

// Nothing listens on port 1: every connection attempt fails at once, retried once (an idempotent producer needs retries).
function unreachable(settings: Partial<VigilProducerSettings> = {}): ReturnType<typeof createVigilProducer> {
  const kafka = new Kafka({ brokers: ['127.0.0.1:1'], clientId: 'vigil-test', retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 }, connectionTimeout: 500, logLevel: logLevel.NOTHING });
  return createVigilProducer({ kafka, topic: 'spans', logger: silent, ...settings });
}

function isInvalid(field: string): (e: unknown) => boolean {
  return (e: unknown) => isVigilError(e, 'VIGIL_RECORD_INVALID') && e.details.field === field;
}

describe('the Vigil producer SDK without a broker', () => {
  it('refuses an invalid span synchronously, naming the field like validateSpan', async () => {
    const producer = unreachable({ batch: { lingerMs: 60_000 } });
    assert.throws(() => producer.record({ ...makeSpan(), durationMs: -1 }), isInvalid('durationMs'));
    assert.throws(() => producer.record({ ...makeSpan(), traceId: '' }), isInvalid('traceId'));
    assert.throws(() => producer.record({ ...makeSpan(), startTime: 'yesterday' }), isInvalid('startTime'));
    assert.throws(() => producer.record({ ...makeSpan(), inputTokens: 1.5 }), isInvalid('inputTokens'));
    assert.throws(() => producer.record({ ...makeSpan(), kind: 'NOPE' } as unknown as LlmSpan), isInvalid('kind'));
    assert.deepEqual(producer.stats(), { recorded: 0, delivered: 0, failed: 0, buffered: 0 });
    await producer.close();
  });

  it('refuses bad settings with VIGIL_CONFIG_INVALID', () => {
    const bad = (settings: Partial<VigilProducerSettings>, key: string): void =>
      assert.throws(() => unreachable(settings), (e: unknown) => isVigilError(e, 'VIGIL_CONFIG_INVALID') && e.details.key === key);
    bad({ topic: '' }, 'topic');
    bad({ batch: { maxSpans: 0 } }, 'batch.maxSpans');
    bad({ batch: { lingerMs: -1 } }, 'batch.lingerMs');
    bad({ keyBy: 'tenant' as 'user' }, 'keyBy');
    bad({ maxBufferedSpans: 0 }, 'maxBufferedSpans');
  });

  it('surfaces a failed delivery on the span promise, in onError with the spans, and in the next flush only', async () => {
    const reported: { error: VigilError; spans: readonly LlmSpan[] }[] = [];
    const producer = unreachable({ batch: { maxSpans: 2, lingerMs: 60_000 }, onError: (error, spans) => reported.push({ error, spans }) });
    const a = makeSpan({ userId: 'u-1' });
    const first = producer.record(a);
    const second = producer.record(makeSpan());
    assert.equal(first, second, 'one batch, one promise');
    await assert.rejects(first, (e: unknown) => isVigilError(e, 'VIGIL_SINK_FAILED') && /Could not deliver 2 span\(s\) to topic spans/.test(e.message));
    assert.equal(reported.length, 1);
    assert.equal(reported[0].spans.length, 2);
    assert.equal(reported[0].spans[0].spanId, a.spanId);
    await assert.rejects(producer.flush(), (e: unknown) => isVigilError(e, 'VIGIL_SINK_FAILED') && /^2 span\(s\) in 1 batch\(es\) could not be delivered to topic spans; first: /.test(e.message));
    await producer.flush();
    assert.deepEqual(producer.stats(), { recorded: 2, delivered: 0, failed: 2, buffered: 0 });
    await producer.close();
  });

  it('fails close when buffered spans cannot be delivered, and refuses spans afterwards', async () => {
    const producer = unreachable({ batch: { lingerMs: 60_000 } });
    const pending = producer.record(makeSpan());
    assert.equal(producer.stats().buffered, 1);
    await assert.rejects(producer.close(), (e: unknown) => isVigilError(e, 'VIGIL_SINK_FAILED'));
    await assert.rejects(pending);
    assert.throws(() => producer.record(makeSpan()), (e: unknown) => isVigilError(e, 'VIGIL_STOPPED'));
    await assert.rejects(producer.connect(), (e: unknown) => isVigilError(e, 'VIGIL_STOPPED'));
  });

  it('refuses spans beyond maxBufferedSpans instead of growing without bound', async () => {
    const producer = unreachable({ batch: { lingerMs: 60_000 }, maxBufferedSpans: 2 });
    void producer.record(makeSpan());
    void producer.record(makeSpan());
    assert.throws(() => producer.record(makeSpan()), (e: unknown) => isVigilError(e, 'VIGIL_SINK_FAILED') && e.retriable && /2 spans are waiting/.test(e.message));
    await assert.rejects(producer.close());
  });

  it('reports an unreachable broker from connect', async () => {
    const producer = unreachable();
    await assert.rejects(producer.connect(), (e: unknown) => isVigilError(e, 'VIGIL_SINK_FAILED') && /Cannot connect the span producer for topic spans/.test(e.message));
    await producer.close();
  });
});
