import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateEval, validateFeedback } from '../../src/codec/event-validation.js';
import { FEEDBACK_TYPES } from '../../src/codec/index.js';
import { readSchemaJson } from '../../src/codec/schemas.js';
import type { SchemaName } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import { COMMENT, fullEval, fullFeedback, minimalEvalJson, minimalFeedbackJson } from './event-fixtures.js';
import { PROMPT } from './span-fixtures.js';

interface SchemaField {
  name: string;
  default?: unknown;
}

const fieldsOf = (name: SchemaName): SchemaField[] => readSchemaJson(name).fields as SchemaField[];

/** Runs `validate` on `input`, asserting a VIGIL_RECORD_INVALID naming `field` that shows no text; returns the message. */
function rejection(validate: (obj: unknown) => unknown, input: unknown, field: string): string {
  try {
    validate(input);
  } catch (error) {
    assert.ok(error instanceof VigilError, 'expected a VigilError');
    assert.equal(error.code, 'VIGIL_RECORD_INVALID');
    assert.equal(error.retriable, false);
    assert.equal(error.details.field, field);
    assert.ok(error.message.startsWith(`${field}: `), `message should start with the field: ${error.message}`);
    for (const text of [COMMENT, 'Jane Roe', '12 Elm Street', PROMPT, 'hunter2']) {
      assert.ok(!error.message.includes(text), `message leaks text: ${error.message}`);
      assert.ok(!JSON.stringify(error.details).includes(text), `details leak text: ${JSON.stringify(error.details)}`);
    }
    return error.message;
  }
  assert.fail(`expected ${field} to be rejected`);
}

describe('validateFeedback', () => {
  const reject = (input: unknown, field: string): string => rejection(validateFeedback, input, field);
  const withField = (field: string, value: unknown): Record<string, unknown> => ({ ...fullFeedback(), [field]: value });

  it('returns a full valid event as a fresh plain object equal to the input, keys in schema order', () => {
    const input = fullFeedback();
    const out = validateFeedback(input);
    assert.deepEqual(out, input);
    assert.notEqual(out, input);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(
      Object.keys(out),
      fieldsOf('FeedbackEvent').map((f) => f.name),
    );
  });

  it('fills every missing optional field with exactly the default the Avro schema declares', () => {
    const withDefaults = fieldsOf('FeedbackEvent').filter((f) => 'default' in f);
    assert.equal(withDefaults.length, 9);
    const out = validateFeedback(minimalFeedbackJson()) as unknown as Record<string, unknown>;
    for (const f of withDefaults) assert.deepEqual(out[f.name], f.default, `default of ${f.name}`);
  });

  it('requires every field that has no default in the Avro schema and names it', () => {
    const required = fieldsOf('FeedbackEvent')
      .filter((f) => !('default' in f))
      .map((f) => f.name);
    assert.deepEqual(required, ['feedbackId', 'timestamp', 'type']);
    for (const name of required) {
      const input = minimalFeedbackJson();
      delete input[name];
      assert.match(reject(input, name), /is required but missing/);
    }
  });

  it('rejects a value that is not an object, naming it feedback', () => {
    assert.match(reject(null, 'feedback'), /must be an object, got null/);
    assert.match(reject([COMMENT], 'feedback'), /got an array/);
    assert.match(reject(COMMENT, 'feedback'), /got a string of length \d+/);
  });

  it('accepts an ISO-8601 timestamp and returns epoch milliseconds; rejects one without a zone', () => {
    assert.equal(validateFeedback(minimalFeedbackJson({ timestamp: '2025-01-01T00:00:00.123Z' })).timestamp, 1735689600123);
    assert.match(reject(minimalFeedbackJson({ timestamp: '2025-01-01T00:00:00' }), 'timestamp'), /ISO-8601 date-time with a time zone/);
    assert.match(reject(minimalFeedbackJson({ timestamp: 1.5 }), 'timestamp'), /got 1\.5/);
    assert.match(reject(minimalFeedbackJson({ timestamp: COMMENT }), 'timestamp'), /got a string of length/);
  });

  it('accepts every FeedbackType and rejects others, showing only symbol-like values', () => {
    assert.deepEqual(FEEDBACK_TYPES, ['THUMBS_UP', 'THUMBS_DOWN', 'CORRECTION', 'REGENERATE', 'ABANDON']);
    for (const type of FEEDBACK_TYPES) assert.equal(validateFeedback(minimalFeedbackJson({ type })).type, type);
    assert.match(reject(withField('type', 'thumbs_up'), 'type'), /must be one of THUMBS_UP, THUMBS_DOWN, CORRECTION, REGENERATE, ABANDON, got "thumbs_up"/);
    assert.match(reject(withField('type', COMMENT), 'type'), /got a string of length \d+/);
    assert.match(reject(withField('type', null), 'type'), /got null/);
  });

  it('rejects an empty or non-string feedbackId', () => {
    assert.match(reject(withField('feedbackId', ''), 'feedbackId'), /must be a non-empty string, got an empty string/);
    assert.match(reject(withField('feedbackId', 7), 'feedbackId'), /got 7/);
  });

  for (const field of ['traceId', 'service', 'operation', 'model', 'userId', 'tenantId']) {
    it(`accepts null for ${field} and rejects a non-string without showing it`, () => {
      assert.equal((validateFeedback(withField(field, null)) as unknown as Record<string, unknown>)[field], null);
      assert.match(reject(withField(field, { text: COMMENT }), field), /must be a string or null, got an object/);
    });
  }

  it('accepts a null, negative or fractional score and rejects a non-finite or non-number one', () => {
    assert.equal(validateFeedback(withField('score', null)).score, null);
    assert.equal(validateFeedback(withField('score', -1)).score, -1);
    assert.equal(validateFeedback(withField('score', 4.5)).score, 4.5);
    assert.match(reject(withField('score', NaN), 'score'), /must be null or a finite number, got NaN/);
    assert.match(reject(withField('score', Infinity), 'score'), /got Infinity/);
    assert.match(reject(withField('score', '5'), 'score'), /got a string of length 1/);
  });

  describe('comment', () => {
    it('accepts a string or null and keeps the text as given', () => {
      assert.equal(validateFeedback(withField('comment', COMMENT)).comment, COMMENT);
      assert.equal(validateFeedback(withField('comment', null)).comment, null);
      assert.equal(validateFeedback(withField('comment', '')).comment, '');
    });

    it('never echoes any part of a wrong comment, not even a number, a length or a key', () => {
      const cases: [unknown, RegExp][] = [
        [{ [COMMENT]: COMMENT }, /got an object$/],
        [[COMMENT], /got an array$/],
        [12345, /got a number$/],
        [true, /got a boolean$/],
      ];
      for (const [value, pattern] of cases) {
        const message = reject(withField('comment', value), 'comment');
        assert.match(message, /^comment: must be a string or null, /);
        assert.match(message, pattern);
        assert.ok(!message.includes('12345'));
      }
    });

    it('is not mentioned by errors about other fields of an event with a comment', () => {
      const message = reject({ ...fullFeedback(), type: 'NOPE' }, 'type');
      assert.ok(!message.includes(COMMENT));
    });
  });

  it('checks attributes like span attributes', () => {
    assert.deepEqual(validateFeedback(withField('attributes', { a: 'b' })).attributes, { a: 'b' });
    assert.match(reject(withField('attributes', { 'ui.rating': 3 }), 'attributes.ui.rating'), /must be a string, got 3/);
    assert.match(reject(withField('attributes', { [COMMENT]: 3 }), 'attributes'), /every value must be a string/);
    assert.match(reject(withField('attributes', [COMMENT]), 'attributes'), /got an array/);
  });

  it('ignores fields the schema does not have', () => {
    const out = validateFeedback({ ...minimalFeedbackJson(), evalId: 'x', extra: 1 });
    assert.equal('extra' in out, false);
    assert.equal('evalId' in out, false);
  });
});

describe('validateEval', () => {
  const reject = (input: unknown, field: string): string => rejection(validateEval, input, field);
  const withField = (field: string, value: unknown): Record<string, unknown> => ({ ...fullEval(), [field]: value });

  it('returns a full valid event as a fresh plain object equal to the input, keys in schema order', () => {
    const input = fullEval();
    const out = validateEval(input);
    assert.deepEqual(out, input);
    assert.notEqual(out, input);
    assert.deepEqual(
      Object.keys(out),
      fieldsOf('EvalScoreEvent').map((f) => f.name),
    );
  });

  it('fills every missing optional field with exactly the default the Avro schema declares', () => {
    const withDefaults = fieldsOf('EvalScoreEvent').filter((f) => 'default' in f);
    assert.equal(withDefaults.length, 7);
    const out = validateEval(minimalEvalJson()) as unknown as Record<string, unknown>;
    for (const f of withDefaults) assert.deepEqual(out[f.name], f.default, `default of ${f.name}`);
  });

  it('requires every field that has no default in the Avro schema and names it', () => {
    const required = fieldsOf('EvalScoreEvent')
      .filter((f) => !('default' in f))
      .map((f) => f.name);
    assert.deepEqual(required, ['evalId', 'timestamp', 'evaluator', 'metric', 'score']);
    for (const name of required) {
      const input = minimalEvalJson();
      delete input[name];
      assert.match(reject(input, name), /is required but missing/);
    }
  });

  it('rejects a value that is not an object, naming it eval', () => {
    assert.match(reject(undefined, 'eval'), /must be an object, got undefined/);
    assert.match(reject(3, 'eval'), /got 3/);
  });

  for (const field of ['evalId', 'evaluator', 'metric']) {
    it(`rejects an empty or non-string ${field} without showing its content`, () => {
      assert.match(reject(withField(field, ''), field), /must be a non-empty string, got an empty string/);
      assert.match(reject(withField(field, [PROMPT]), field), /got an array/);
    });
  }

  it('accepts any finite score, and rejects a missing-by-null, non-finite or non-number one', () => {
    assert.equal(validateEval(withField('score', -3.25)).score, -3.25);
    assert.equal(validateEval(withField('score', 0)).score, 0);
    assert.match(reject(withField('score', null), 'score'), /must be a finite number, got null/);
    assert.match(reject(withField('score', NaN), 'score'), /got NaN/);
    assert.match(reject(withField('score', -Infinity), 'score'), /got -Infinity/);
    assert.match(reject(withField('score', '0.9'), 'score'), /got a string of length 3/);
  });

  for (const field of ['traceId', 'label', 'service', 'operation', 'model', 'tenantId']) {
    it(`accepts null for ${field} and rejects a non-string without showing it`, () => {
      assert.equal((validateEval(withField(field, null)) as unknown as Record<string, unknown>)[field], null);
      assert.match(reject(withField(field, { text: PROMPT }), field), /must be a string or null, got an object/);
    });
  }

  it('accepts an ISO-8601 timestamp and rejects a date that does not exist', () => {
    assert.equal(validateEval(minimalEvalJson({ timestamp: '2025-01-01T02:00:00+02:00' })).timestamp, 1735689600000);
    reject(minimalEvalJson({ timestamp: '2025-02-30T00:00:00Z' }), 'timestamp');
  });
});
