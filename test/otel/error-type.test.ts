import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyErrorType } from '../../src/otel/error-type.js';

describe('classifying error.type values', () => {
  const cases: [string, string][] = [
    ['timeout', 'TIMEOUT'],
    ['openai.APITimeoutError', 'TIMEOUT'],
    ['DEADLINE_EXCEEDED', 'TIMEOUT'],
    ['408', 'TIMEOUT'],
    ['504', 'TIMEOUT'],
    ['rate_limit', 'RATE_LIMIT'],
    ['rate_limit_exceeded', 'RATE_LIMIT'],
    ['anthropic.RateLimitError', 'RATE_LIMIT'],
    ['429', 'RATE_LIMIT'],
    ['RESOURCE_EXHAUSTED', 'RATE_LIMIT'],
    ['insufficient_quota', 'RATE_LIMIT'],
    ['content_filter', 'CONTENT_FILTER'],
    ['ContentPolicyViolationError', 'CONTENT_FILTER'],
    ['invalid_request_error', 'INVALID_REQUEST'],
    ['openai.BadRequestError', 'INVALID_REQUEST'],
    ['400', 'INVALID_REQUEST'],
    ['422', 'INVALID_REQUEST'],
    ['context_length_exceeded', 'INVALID_REQUEST'],
    ['APIConnectionError', 'NETWORK'],
    ['ECONNRESET', 'NETWORK'],
    ['500', 'MODEL_ERROR'],
    ['503', 'MODEL_ERROR'],
    ['internal_server_error', 'MODEL_ERROR'],
    ['overloaded_error', 'MODEL_ERROR'],
    ['AzureOpenAIError', 'OTHER'],
    ['_OTHER', 'OTHER'],
    ['', 'OTHER'],
    ['java.lang.NullPointerException', 'OTHER'],
  ];
  for (const [value, expected] of cases) {
    it(`classifies ${JSON.stringify(value)} as ${expected}`, () => {
      assert.equal(classifyErrorType(value), expected);
    });
  }
});
