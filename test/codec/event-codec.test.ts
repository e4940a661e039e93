import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { EvalCodec, FeedbackCodec } from '../../src/codec/index.js';
import { readSchemaJson } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import { COMMENT, fullEval, fullFeedback, minimalEvalJson, minimalFeedbackJson } from './event-fixtures.js';

function assertInvalid(fn: () => unknown, field: string): VigilError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof VigilError);
    assert.equal(error.code, 'VIGIL_RECORD_INVALID');
    assert.equal(error.details.field, field);
    assert.ok(!error.message.includes(COMMENT), `message leaks the comment: ${error.message}`);
    return error;
  }
  assert.fail('expected VIGIL_RECORD_INVALID');
}

describe('FeedbackCodec', () => {
  const codec = new FeedbackCodec();

  it('round-trips an event with every field set into a plain object', () => {
    const event = fullFeedback();
    const decoded = codec.decode(codec.encode(event));
    assert.deepEqual(decoded, event);
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  });

  it('encodes an event given with only its required fields and an ISO timestamp, defaults filled', () => {
    const decoded = codec.decode(codec.encode(minimalFeedbackJson({ timestamp: '2025-01-01T00:00:00.123Z' }) as never));
    assert.equal(decoded.timestamp, 1735689600123);
    assert.equal(decoded.comment, null);
    assert.equal(decoded.score, null);
    assert.deepEqual(decoded.attributes, {});
  });

  it('refuses to encode an invalid event, naming the field and not showing the comment', () => {
    assertInvalid(() => codec.encode(fullFeedback({ type: 'LIKE' as never })), 'type');
    assertInvalid(() => codec.encode({ ...fullFeedback(), comment: { text: COMMENT } } as never), 'comment');
  });

  it('wraps bytes that are not a FeedbackEvent record into VIGIL_RECORD_INVALID naming FeedbackEvent', () => {
    const error = assertInvalid(() => codec.decode(Buffer.from('not avro at all')), 'FeedbackEvent');
    assert.match(error.message, /^FeedbackEvent: not a valid Avro binary FeedbackEvent record \(/);
    assert.ok(error.cause instanceof Error);
  });

  it('rejects a well-formed record that breaks the contract, naming the field and not showing the comment', () => {
    const raw = codec.type.toBuffer({ ...fullFeedback(), feedbackId: '' });
    const error = assertInvalid(() => codec.decode(raw), 'feedbackId');
    assert.equal(error.message, 'feedbackId: must be a non-empty string, got an empty string');
    const nan = codec.type.toBuffer({ ...fullFeedback(), score: Number.NaN });
    assert.equal(assertInvalid(() => codec.decode(nan), 'score').message, 'score: must be null or a finite number, got NaN');
  });

  it('resolves records written with an older writer schema', () => {
    const schema = readSchemaJson('FeedbackEvent');
    const fields = (schema.fields as { name: string }[]).filter((f) => f.name !== 'comment' && f.name !== 'model');
    const writerType = avro.Type.forSchema({ ...schema, fields } as never, { wrapUnions: 'never' });
    const old: Record<string, unknown> = { ...fullFeedback() };
    delete old.comment;
    delete old.model;
    const decoded = new FeedbackCodec({ writerType }).decode(writerType.toBuffer(old));
    assert.deepEqual(decoded, fullFeedback({ comment: null, model: null }));
  });
});

describe('EvalCodec', () => {
  const codec = new EvalCodec();

  it('round-trips an event with every field set into a plain object', () => {
    const event = fullEval();
    const decoded = codec.decode(codec.encode(event));
    assert.deepEqual(decoded, event);
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  });

  it('encodes an event given with only its required fields, defaults filled', () => {
    const decoded = codec.decode(codec.encode(minimalEvalJson() as never));
    assert.equal(decoded.label, null);
    assert.equal(decoded.tenantId, null);
    assert.deepEqual(decoded.attributes, {});
  });

  it('refuses to encode an invalid event, naming the field', () => {
    assert.match(assertInvalid(() => codec.encode(fullEval({ score: Number.POSITIVE_INFINITY })), 'score').message, /got Infinity/);
    assertInvalid(() => codec.encode({ ...fullEval(), metric: undefined } as never), 'metric');
  });

  it('wraps bytes that are not an EvalScoreEvent record into VIGIL_RECORD_INVALID naming EvalScoreEvent', () => {
    const error = assertInvalid(() => codec.decode(Buffer.from([0xff, 0xff, 0xff])), 'EvalScoreEvent');
    assert.match(error.message, /^EvalScoreEvent: not a valid Avro binary EvalScoreEvent record \(/);
  });

  it('does not decode a FeedbackEvent as an eval score', () => {
    const feedbackBytes = new FeedbackCodec().encode(fullFeedback());
    assert.throws(
      () => codec.decode(feedbackBytes),
      (error: unknown) => error instanceof VigilError && error.code === 'VIGIL_RECORD_INVALID' && !error.message.includes(COMMENT),
    );
  });
});
