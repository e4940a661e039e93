import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSchemaJson } from '../../src/codec/schemas.js';
import { validateSpan } from '../../src/codec/span-validation.js';
import { VigilError } from '../../src/errors.js';
import { PROMPT, fullSpan, minimalSpanJson } from './span-fixtures.js';

/** Runs validateSpan on `input`, asserting a VIGIL_RECORD_INVALID naming `field`; returns the message. */
function rejection(input: unknown, field: string): string {
  try {
    validateSpan(input);
  } catch (error) {
    assert.ok(error instanceof VigilError, 'expected a VigilError');
    assert.equal(error.code, 'VIGIL_RECORD_INVALID');
    assert.equal(error.retriable, false);
    assert.equal(error.details.field, field);
    assert.ok(error.message.startsWith(`${field}: `), `message should start with the field: ${error.message}`);
    assert.ok(!error.message.includes(PROMPT), `message leaks text: ${error.message}`);
    assert.ok(!error.message.includes('hunter2'), `message leaks text: ${error.message}`);
    return error.message;
  }
  assert.fail(`expected ${field} to be rejected`);
}

const withField = (field: string, value: unknown): Record<string, unknown> => ({ ...fullSpan(), [field]: value });

interface SchemaField {
  name: string;
  default?: unknown;
}

describe('validateSpan', () => {
  it('returns a full valid span as a fresh plain object equal to the input', () => {
    const input = fullSpan();
    const out = validateSpan(input);
    assert.deepEqual(out, input);
    assert.notEqual(out, input);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });

  it('returns the fields in schema order', () => {
    const schemaOrder = (readSchemaJson('LlmSpan').fields as SchemaField[]).map((f) => f.name);
    assert.deepEqual(Object.keys(validateSpan(minimalSpanJson())), schemaOrder);
  });

  it('fills every missing optional field with exactly the default the Avro schema declares', () => {
    const fields = readSchemaJson('LlmSpan').fields as SchemaField[];
    const withDefaults = fields.filter((f) => 'default' in f);
    assert.ok(withDefaults.length >= 19);
    const out = validateSpan(minimalSpanJson()) as unknown as Record<string, unknown>;
    for (const f of withDefaults) assert.deepEqual(out[f.name], f.default, `default of ${f.name}`);
  });

  it('treats an undefined optional field as missing', () => {
    const out = validateSpan(minimalSpanJson({ retryCount: undefined, attributes: undefined, model: undefined }));
    assert.equal(out.retryCount, 0);
    assert.deepEqual(out.attributes, {});
    assert.equal(out.model, null);
  });

  it('gives each span its own default attributes object', () => {
    const a = validateSpan(minimalSpanJson());
    const b = validateSpan(minimalSpanJson());
    assert.notEqual(a.attributes, b.attributes);
  });

  it('requires every field that has no default in the Avro schema and names it', () => {
    const fields = readSchemaJson('LlmSpan').fields as SchemaField[];
    const required = fields.filter((f) => !('default' in f)).map((f) => f.name);
    assert.deepEqual(required, ['traceId', 'spanId', 'kind', 'service', 'operation', 'startTime', 'durationMs', 'status']);
    for (const name of required) {
      const input = minimalSpanJson();
      delete input[name];
      assert.match(rejection(input, name), /is required but missing/);
    }
  });

  it('ignores fields the schema does not have', () => {
    const out = validateSpan({ ...minimalSpanJson(), extra: 'x', nested: { a: 1 } });
    assert.equal('extra' in out, false);
  });

  it('rejects a value that is not an object', () => {
    assert.match(rejection(null, 'span'), /must be an object, got null/);
    assert.match(rejection([1], 'span'), /got an array/);
    assert.match(rejection(PROMPT, 'span'), /got a string of length \d+/);
  });

  describe('required strings', () => {
    for (const field of ['traceId', 'spanId', 'service', 'operation']) {
      it(`rejects an empty ${field}`, () => {
        assert.match(rejection(withField(field, ''), field), /must be a non-empty string, got an empty string/);
      });
      it(`rejects a ${field} that is not a string without showing its content`, () => {
        assert.match(rejection(withField(field, [PROMPT]), field), /got an array/);
        assert.match(rejection(withField(field, { text: PROMPT }), field), /got an object/);
        assert.match(rejection(withField(field, 42), field), /got 42/);
      });
    }
  });

  describe('optional strings', () => {
    const textFields = [
      'parentSpanId',
      'provider',
      'model',
      'finishReason',
      'userId',
      'tenantId',
      'sessionId',
      'inputText',
      'outputText',
      'expectedFormat',
    ];
    for (const field of textFields) {
      it(`accepts null for ${field} and rejects a non-string without showing its content`, () => {
        assert.equal((validateSpan(withField(field, null)) as unknown as Record<string, unknown>)[field], null);
        assert.match(rejection(withField(field, { content: PROMPT }), field), /must be a string or null, got an object/);
        assert.match(rejection(withField(field, [PROMPT]), field), /got an array/);
        assert.match(rejection(withField(field, true), field), /got true/);
      });
    }
  });

  describe('startTime', () => {
    it('accepts integer epoch milliseconds', () => {
      assert.equal(validateSpan(minimalSpanJson({ startTime: 1735689600123 })).startTime, 1735689600123);
    });

    it('accepts an ISO-8601 string with a time zone and returns epoch milliseconds', () => {
      assert.equal(validateSpan(minimalSpanJson({ startTime: '2025-01-01T00:00:00.123Z' })).startTime, 1735689600123);
      assert.equal(validateSpan(minimalSpanJson({ startTime: '2025-01-01T02:00:00+02:00' })).startTime, 1735689600000);
      assert.equal(validateSpan(minimalSpanJson({ startTime: '2025-01-01T00:00:00.123456Z' })).startTime, 1735689600123);
    });

    it('rejects a number that is not an integer', () => {
      assert.match(rejection(withField('startTime', 1.5), 'startTime'), /got 1\.5/);
      assert.match(rejection(withField('startTime', NaN), 'startTime'), /got NaN/);
      assert.match(rejection(withField('startTime', Infinity), 'startTime'), /got Infinity/);
    });

    it('rejects an ISO string without a time zone', () => {
      assert.match(rejection(withField('startTime', '2025-01-01T00:00:00'), 'startTime'), /ISO-8601 date-time with a time zone/);
    });

    it('rejects a date that does not exist', () => {
      rejection(withField('startTime', '2025-02-30T00:00:00Z'), 'startTime');
      rejection(withField('startTime', '2025-13-01T00:00:00Z'), 'startTime');
    });

    it('rejects free text without showing it', () => {
      assert.match(rejection(withField('startTime', PROMPT), 'startTime'), /got a string of length/);
    });

    it('rejects other types', () => {
      assert.match(rejection(withField('startTime', null), 'startTime'), /got null/);
      assert.match(rejection(withField('startTime', true), 'startTime'), /got true/);
    });
  });

  describe('durationMs', () => {
    it('accepts zero and fractions', () => {
      assert.equal(validateSpan(minimalSpanJson({ durationMs: 0 })).durationMs, 0);
      assert.equal(validateSpan(minimalSpanJson({ durationMs: 0.25 })).durationMs, 0.25);
    });

    it('rejects NaN, infinities, negatives and non-numbers', () => {
      assert.equal(rejection(withField('durationMs', NaN), 'durationMs'), 'durationMs: must be a finite number ≥ 0, got NaN');
      assert.match(rejection(withField('durationMs', Infinity), 'durationMs'), /got Infinity/);
      assert.match(rejection(withField('durationMs', -3), 'durationMs'), /got -3/);
      assert.match(rejection(withField('durationMs', '12'), 'durationMs'), /got a string of length 2/);
      assert.match(rejection(withField('durationMs', null), 'durationMs'), /got null/);
    });
  });

  describe('optional non-negative numbers', () => {
    for (const field of ['ttftMs', 'costUsd']) {
      it(`accepts null or a finite number ≥ 0 for ${field}`, () => {
        assert.equal((validateSpan(withField(field, null)) as unknown as Record<string, unknown>)[field], null);
        assert.equal((validateSpan(withField(field, 0)) as unknown as Record<string, unknown>)[field], 0);
      });
      it(`rejects a negative, non-finite or non-number ${field}`, () => {
        assert.match(rejection(withField(field, -0.5), field), /must be null or a finite number ≥ 0, got -0\.5/);
        assert.match(rejection(withField(field, NaN), field), /got NaN/);
        assert.match(rejection(withField(field, -Infinity), field), /got -Infinity/);
        assert.match(rejection(withField(field, '1'), field), /got a string/);
      });
    }
  });

  describe('token counts', () => {
    for (const field of ['inputTokens', 'outputTokens', 'cachedInputTokens']) {
      it(`accepts null or an integer ≥ 0 for ${field}`, () => {
        assert.equal((validateSpan(withField(field, null)) as unknown as Record<string, unknown>)[field], null);
        assert.equal((validateSpan(withField(field, 0)) as unknown as Record<string, unknown>)[field], 0);
      });
      it(`rejects a fractional, negative, too large or non-number ${field}`, () => {
        assert.match(rejection(withField(field, 1.5), field), /must be null or an integer ≥ 0, got 1\.5/);
        assert.match(rejection(withField(field, -1), field), /got -1/);
        assert.match(rejection(withField(field, 2 ** 31), field), /≤ 2147483647 \(Avro int\), got 2147483648/);
        assert.match(rejection(withField(field, '10'), field), /got a string/);
      });
    }
  });

  describe('retryCount', () => {
    it('rejects a fractional, negative, null or non-number count', () => {
      assert.match(rejection(withField('retryCount', 0.5), 'retryCount'), /must be an integer ≥ 0, got 0\.5/);
      assert.match(rejection(withField('retryCount', -1), 'retryCount'), /got -1/);
      assert.match(rejection(withField('retryCount', null), 'retryCount'), /got null/);
      assert.match(rejection(withField('retryCount', '2'), 'retryCount'), /got a string/);
    });
  });

  describe('fallback', () => {
    it('rejects anything but a boolean', () => {
      assert.match(rejection(withField('fallback', 'true'), 'fallback'), /must be a boolean, got a string of length 4/);
      assert.match(rejection(withField('fallback', 1), 'fallback'), /got 1/);
      assert.match(rejection(withField('fallback', null), 'fallback'), /got null/);
    });
  });

  describe('enums', () => {
    it('rejects an unknown kind, showing a symbol-like value', () => {
      assert.match(rejection(withField('kind', 'llm'), 'kind'), /must be one of PIPELINE, LLM, EMBEDDING, RETRIEVAL, TOOL, GUARDRAIL, OTHER, got "llm"/);
    });

    it('rejects an unknown status and errorType', () => {
      assert.match(rejection(withField('status', 'FAILED'), 'status'), /must be one of OK, ERROR, got "FAILED"/);
      assert.match(rejection(withField('errorType', 'BOOM'), 'errorType'), /must be null or one of TIMEOUT, .*, got "BOOM"/);
    });

    it('accepts a null errorType', () => {
      assert.equal(validateSpan(withField('errorType', null)).errorType, null);
    });

    it('never shows free text given as an enum value', () => {
      for (const field of ['kind', 'status', 'errorType']) {
        assert.match(rejection(withField(field, PROMPT), field), /got a string of length \d+/);
      }
    });

    it('rejects a non-string enum value', () => {
      assert.match(rejection(withField('kind', 3), 'kind'), /got 3/);
      assert.match(rejection(withField('status', null), 'status'), /got null/);
    });
  });

  describe('attributes', () => {
    it('accepts an object of strings, including an empty one', () => {
      assert.deepEqual(validateSpan(withField('attributes', {})).attributes, {});
      assert.deepEqual(validateSpan(withField('attributes', { a: 'b' })).attributes, { a: 'b' });
    });

    it('rejects a value that is not a plain object', () => {
      assert.match(rejection(withField('attributes', null), 'attributes'), /got null/);
      assert.match(rejection(withField('attributes', ['a']), 'attributes'), /got an array/);
      assert.match(rejection(withField('attributes', 'a=b'), 'attributes'), /got a string/);
      assert.match(rejection(withField('attributes', new Map([['a', 'b']])), 'attributes'), /plain object/);
    });

    it('rejects a non-string value, naming an identifier-like key', () => {
      assert.match(rejection(withField('attributes', { 'gen_ai.request.top_p': 0.9 }), 'attributes.gen_ai.request.top_p'), /must be a string, got 0\.9/);
    });

    it('does not show a key that looks like free text', () => {
      const message = rejection(withField('attributes', { [PROMPT]: 1 }), 'attributes');
      assert.match(message, /every value must be a string, got 1/);
    });
  });
});
