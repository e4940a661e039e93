import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { AlertCodec, SpanCodec } from '../../src/codec/avro-codec.js';
import { readSchemaJson } from '../../src/codec/schemas.js';
import { VigilError } from '../../src/errors.js';
import type { AlertEvent } from '../../src/model/index.js';
import { PROMPT, fullSpan, minimalSpanJson, sampleAlert } from './span-fixtures.js';

function assertInvalid(fn: () => unknown, field: string): VigilError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof VigilError);
    assert.equal(error.code, 'VIGIL_RECORD_INVALID');
    assert.equal(error.details.field, field);
    assert.ok(!error.message.includes(PROMPT));
    return error;
  }
  assert.fail('expected VIGIL_RECORD_INVALID');
}

describe('SpanCodec', () => {
  const codec = new SpanCodec();

  it('round-trips a span with every field set', () => {
    const span = fullSpan();
    const decoded = codec.decode(codec.encode(span));
    assert.deepEqual(decoded, span);
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  });

  it('round-trips a span given with only its required fields, defaults filled', () => {
    const decoded = codec.decode(codec.encode(minimalSpanJson() as never));
    assert.equal(decoded.retryCount, 0);
    assert.equal(decoded.fallback, false);
    assert.deepEqual(decoded.attributes, {});
    assert.equal(decoded.inputText, null);
  });

  it('refuses to encode an invalid span, naming the field', () => {
    assertInvalid(() => codec.encode(fullSpan({ durationMs: -1 })), 'durationMs');
  });

  it('wraps bytes that are not an LlmSpan record into VIGIL_RECORD_INVALID with the avsc error as cause', () => {
    const error = assertInvalid(() => codec.decode(Buffer.from('not avro at all')), 'LlmSpan');
    assert.match(error.message, /^LlmSpan: not a valid Avro binary LlmSpan record \(/);
    assert.ok(error.cause instanceof Error);
  });

  it('rejects trailing bytes after a record', () => {
    const buf = Buffer.concat([codec.encode(fullSpan()), Buffer.from([1, 2, 3])]);
    const error = assertInvalid(() => codec.decode(buf), 'LlmSpan');
    assert.match(error.message, /trailing data/);
  });

  it('rejects a well-formed record that breaks the contract, naming the field', () => {
    const raw = codec.type.toBuffer({ ...fullSpan(), durationMs: -5 });
    const error = assertInvalid(() => codec.decode(raw), 'durationMs');
    assert.equal(error.message, 'durationMs: must be a finite number ≥ 0, got -5');
  });

  it('resolves records written with an older writer schema', () => {
    const schema = readSchemaJson('LlmSpan');
    const fields = (schema.fields as { name: string }[]).filter((f) => f.name !== 'expectedFormat' && f.name !== 'cachedInputTokens');
    const writerType = avro.Type.forSchema({ ...schema, fields } as never, { wrapUnions: 'never' });
    const oldSpan: Record<string, unknown> = { ...fullSpan() };
    delete oldSpan.expectedFormat;
    delete oldSpan.cachedInputTokens;
    const decoded = new SpanCodec({ writerType }).decode(writerType.toBuffer(oldSpan));
    assert.deepEqual(decoded, fullSpan({ expectedFormat: null, cachedInputTokens: null }));
  });
});

describe('AlertCodec', () => {
  const codec = new AlertCodec();

  it('round-trips an alert with every field set into a plain object', () => {
    const alert = sampleAlert();
    const decoded = codec.decode(codec.encode(alert));
    assert.deepEqual(decoded, alert);
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  });

  it('round-trips a RESOLVED alert with empty labels', () => {
    const alert = sampleAlert({ state: 'RESOLVED', severity: 'INFO', groupKey: '*', groupLabels: {}, comparator: '<=' });
    assert.deepEqual(codec.decode(codec.encode(alert)), alert);
  });

  it('names the fields of an alert that does not fit the schema', () => {
    const alert = { ...sampleAlert(), windowStart: 1.5, severity: 'LOUD' } as unknown as AlertEvent;
    const error = assertInvalid(() => codec.encode(alert), 'severity');
    assert.match(error.message, /AlertEvent: invalid value for field\(s\) severity, windowStart/);
    assert.ok(!error.message.includes('LOUD'));
  });

  it('rejects an unknown comparator', () => {
    assertInvalid(() => codec.encode({ ...sampleAlert(), comparator: '==' } as unknown as AlertEvent), 'comparator');
  });

  it('wraps bytes that are not an AlertEvent record into VIGIL_RECORD_INVALID', () => {
    assertInvalid(() => codec.decode(Buffer.from([0xff, 0xff, 0xff])), 'AlertEvent');
  });
});
