import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/vigil-config.js';
import { VigilError } from '../../src/errors.js';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof VigilError);
    return error.message;
  }
  assert.fail('expected a config error');
}

describe('config for bad input, back-pressure and API security', () => {
  it('has documented defaults: input limits, no dead-letter topic, a pending bound, no token, 600 requests/min', () => {
    const c = parseConfig({ kafka: { brokers: ['b:9092'] } }, { env: {} });
    assert.deepEqual(c.limits, { maxDuration: 3_600_000, maxTextLength: 65_536, maxTokens: 10_000_000, maxCostUsd: 1_000, maxIdentifierLength: 256, maxEventTimeSkew: 7 * 86_400_000 });
    assert.equal(c.kafka?.deadLetterTopic, undefined);
    assert.equal(c.kafka?.maxPendingAlerts, 10_000);
    assert.equal(c.api.authToken, undefined);
    assert.deepEqual(c.api.rateLimit, { max: 600, window: 60_000 });
  });

  it('takes durations as text and the dead-letter topic and API token from the environment', () => {
    const c = parseConfig(
      { kafka: { brokers: ['b'], sinkRetry: { initialBackoff: '500ms', maxBackoff: '1m' } }, limits: { maxDuration: '2h', maxEventTimeSkew: '1d' }, api: { rateLimit: { max: 10, window: '10s' } } },
      { env: { VIGIL_DEAD_LETTER_TOPIC: 'vigil-dlq', VIGIL_API_TOKEN: 'a-token-of-32-characters-or-so!!' } },
    );
    assert.equal(c.kafka?.deadLetterTopic, 'vigil-dlq');
    assert.deepEqual(c.kafka?.sinkRetry, { initialBackoff: 500, maxBackoff: 60_000 });
    assert.equal(c.limits.maxDuration, 7_200_000);
    assert.equal(c.limits.maxEventTimeSkew, 86_400_000);
    assert.equal(c.api.authToken, 'a-token-of-32-characters-or-so!!');
    assert.deepEqual(c.api.rateLimit, { max: 10, window: 10_000 });
  });

  it('refuses a dead-letter topic that is also an input or the alerts topic', () => {
    assert.match(configError(() => parseConfig({ kafka: { brokers: ['b'], deadLetterTopic: 'llm-traces' } }, { env: {} })), /kafka\.deadLetterTopic: must differ from kafka\.tracesTopic/);
    assert.match(configError(() => parseConfig({ kafka: { brokers: ['b'], deadLetterTopic: 'vigil-alerts' } }, { env: {} })), /kafka\.deadLetterTopic: must differ from kafka\.alertsTopic/);
  });

  it('refuses short tokens and backoffs out of order, naming the key', () => {
    assert.match(configError(() => parseConfig({ api: { authToken: 'short' } }, { env: {} })), /api\.authToken: must be at least 16 characters/);
    assert.match(configError(() => parseConfig({ api: { authTokens: ['a-long-enough-token-1', 'short'] } }, { env: {} })), /api\.authTokens\[1\]: must be at least 16 characters/);
    assert.match(configError(() => parseConfig({ kafka: { brokers: ['b'], sinkRetry: { initialBackoff: '1m', maxBackoff: '1s' } } }, { env: {} })), /kafka\.sinkRetry\.initialBackoff: must be > 0 and at most kafka\.sinkRetry\.maxBackoff/);
    assert.match(configError(() => parseConfig({ limits: { maxTokens: 0 } }, { env: {} })), /limits\.maxTokens/);
  });
});
