import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import { readSchemaJson, schemaType } from '../../src/codec/schemas.js';
import { SpanDecoder, layoutOf } from '../../src/codec/span-decoder.js';
import { validateSpan } from '../../src/codec/span-validation.js';
import { TrafficGenerator } from '../../src/demo/traffic-generator.js';
import type { LlmSpan } from '../../src/model/index.js';
import { fullSpan, minimalSpanJson } from './span-fixtures.js';

const type = schemaType('LlmSpan');

/** What the avsc path gives for `buf`: the validated span, or the error it throws. */
function reference(buf: Buffer): LlmSpan | Error {
  try {
    return validateSpan(type.fromBuffer(buf));
  } catch (error) {
    return error as Error;
  }
}

function newDecoder(): SpanDecoder {
  const decoder = SpanDecoder.for(type);
  assert.ok(decoder, 'the decoder knows the shipped LlmSpan layout (update it with the schema)');
  return decoder;
}

/** Asserts the decoder gives exactly the avsc path's span: same values, same key order, plain object. */
function assertSame(decoder: SpanDecoder, buf: Buffer): LlmSpan {
  const expected = reference(buf);
  assert.ok(!(expected instanceof Error), expected instanceof Error ? expected.message : '');
  const actual = decoder.decode(buf);
  assert.ok(actual !== undefined, 'declined a valid record');
  assert.deepStrictEqual(actual, expected);
  assert.deepEqual(Object.keys(actual), Object.keys(expected));
  assert.equal(Object.getPrototypeOf(actual), Object.prototype);
  return actual;
}

// Avro binary by hand, for encodings avsc never writes.
function zigzag(n: number): number[] {
  let z = n >= 0 ? 2 * n : -2 * n - 1;
  const out: number[] = [];
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
  return out;
}
function str(s: string): number[] {
  const b = Buffer.from(s, 'utf8');
  return [...zigzag(b.length), ...b];
}

describe('SpanDecoder', () => {
  it('decodes the demo traffic exactly as avsc + validateSpan do', () => {
    const decoder = newDecoder();
    const spans = new TrafficGenerator({ seed: 3, startTime: Date.UTC(2025, 0, 1), requestsPerSecond: 50 }).spansUntil(Date.UTC(2025, 0, 1) + 60_000);
    assert.ok(spans.length > 5000);
    for (const span of spans) assertSame(decoder, type.toBuffer(span));
  });

  it('decodes every field, defaults, Unicode, long identifiers and attributes', () => {
    const decoder = newDecoder();
    const long = 'x'.repeat(65);
    const cases: LlmSpan[] = [
      fullSpan(),
      validateSpan(minimalSpanJson()),
      fullSpan({ service: 'überdienst', model: '模型-4', userId: 'usér', inputText: 'Grüße 👋', outputText: '' }),
      fullSpan({ traceId: long, service: long, tenantId: long + 'y', startTime: -1, durationMs: 0, ttftMs: 0, costUsd: 0 }),
      fullSpan({ startTime: 2 ** 52 + 1, inputTokens: 2147483647, retryCount: 2147483647, durationMs: 1e300 }),
      fullSpan({ attributes: { a: '1', 'b.c': '', 'ü': 'v', constructor: 'c', __proto__x: 'p' } }),
      fullSpan({ errorType: 'OTHER', kind: 'OTHER', status: 'OK', fallback: false, expectedFormat: null }),
    ];
    for (const span of cases) assertSame(decoder, type.toBuffer(span));
    // Interned identifiers are the same strings again; texts are fresh.
    const a = assertSame(decoder, type.toBuffer(fullSpan()));
    const b = assertSame(decoder, type.toBuffer(fullSpan({ spanId: 'other' })));
    assert.equal(a.service, b.service);
  });

  it('gives a trace id (or parent span id) equal to the previous record\'s as that same string', () => {
    const decoder = newDecoder();
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const root = '00f067aa0ba902b7';
    const first = assertSame(decoder, type.toBuffer(fullSpan({ traceId: trace, spanId: 'a1b2c3d4e5f60718', parentSpanId: root })));
    const second = assertSame(decoder, type.toBuffer(fullSpan({ traceId: trace, spanId: '1817161514131211', parentSpanId: root })));
    // The same content decodes to the very same string objects (one hash per trace for the engine's tables).
    assert.ok(Object.is(first.traceId, second.traceId));
    assert.ok(Object.is(first.parentSpanId, second.parentSpanId));
    // The root's span id is its children's parent id.
    const rootSpan = assertSame(decoder, type.toBuffer(fullSpan({ traceId: trace, spanId: root, parentSpanId: null })));
    assert.ok(Object.is(rootSpan.spanId, second.parentSpanId));
    // Ids that differ from the previous one by a character, by length, or by being Unicode of the
    // same UTF-16 length as their bytes would be, decode to their own values.
    const ids = [
      trace.slice(0, 31) + '7',
      trace.slice(0, 16),
      'é'.repeat(16),
      '\u0080'.repeat(8) + 'x'.repeat(8),
      'ab€' + 'c'.repeat(13),
      '0123456789abcdef0123456789abcdeF',
      '0123456789abcdef0123456789abcdeF',
      'x',
    ];
    for (const id of ids) {
      for (const span of [fullSpan({ traceId: id, spanId: id, parentSpanId: id }), fullSpan({ traceId: id, spanId: id.toUpperCase(), parentSpanId: null })]) {
        const decoded = assertSame(decoder, type.toBuffer(span));
        assert.equal(decoded.traceId, id);
      }
    }
  });

  it('reads map blocks written with a negative count and a byte size, as avsc does', () => {
    const decoder = newDecoder();
    const head = type.toBuffer(fullSpan({ attributes: {} }));
    // The encoded record ends with the empty map's 0; replace it with two blocks.
    const blocks = [...zigzag(-2), ...zigzag(12), ...str('k1'), ...str('v1'), ...str('k2'), ...str('v2'), ...zigzag(1), ...str('k3'), ...str(''), 0];
    const buf = Buffer.concat([head.subarray(0, head.length - 1), Buffer.from(blocks)]);
    const span = assertSame(decoder, buf);
    assert.deepEqual(span.attributes, { k1: 'v1', k2: 'v2', k3: '' });
  });

  it('declines records that avsc rejects or validateSpan refuses', () => {
    const decoder = newDecoder();
    const good = type.toBuffer(fullSpan());
    // Every truncation, and trailing bytes.
    for (let n = 0; n < good.length; n++) assert.equal(decoder.decode(good.subarray(0, n)), undefined, `prefix of ${n} bytes`);
    assert.equal(decoder.decode(Buffer.concat([good, Buffer.from([0])])), undefined);
    // Well-formed records breaking the contract.
    for (const bad of [{ durationMs: -1 }, { durationMs: NaN }, { ttftMs: Infinity }, { costUsd: -0.5 }, { traceId: '' }, { service: '' }, { spanId: '' }, { inputTokens: -3 }, { retryCount: -1 }]) {
      const buf = type.toBuffer({ ...fullSpan(), ...bad });
      assert.ok(reference(buf) instanceof Error, JSON.stringify(bad));
      assert.equal(decoder.decode(buf), undefined, JSON.stringify(bad));
    }
    // An event time beyond 2^53 (avsc will not write one; producers in other languages can).
    const time = Buffer.from(zigzag(fullSpan().startTime));
    const at = good.indexOf(time);
    const huge = Buffer.concat([good.subarray(0, at), Buffer.from(zigzag(2 ** 60)), good.subarray(at + time.length)]);
    assert.ok(reference(huge) instanceof Error);
    assert.equal(decoder.decode(huge), undefined);
  });

  it('never accepts a corrupted record unless avsc + validateSpan give the very same span', () => {
    const decoder = newDecoder();
    const spans = [fullSpan(), validateSpan(minimalSpanJson()), fullSpan({ attributes: {}, inputText: null })];
    let seed = 12345;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const buf = Buffer.from(type.toBuffer(spans[i % spans.length]));
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips; f++) buf[Math.floor(random() * buf.length)] = Math.floor(random() * 256);
      const actual = decoder.decode(buf);
      if (actual === undefined) continue;
      accepted++;
      const expected = reference(buf);
      assert.ok(!(expected instanceof Error), `accepted a record avsc rejects: ${expected instanceof Error ? expected.message : ''}`);
      assert.deepStrictEqual(actual, expected);
    }
    assert.ok(accepted > 1000, `${accepted} corrupted records still valid`);
  });

  it('switches off for another layout, and SpanCodec then decodes with avsc alone', () => {
    const json = readSchemaJson('LlmSpan') as { fields: { name: string }[] };
    const moved = { ...json, fields: [json.fields[1], json.fields[0], ...json.fields.slice(2)] };
    const movedType = avro.Type.forSchema(moved as never, { wrapUnions: 'never', registry: {} });
    assert.equal(SpanDecoder.for(movedType), null);
    assert.notEqual(layoutOf(movedType), layoutOf(type));
    // A producer on that layout: the codec resolves its records to the shipped schema.
    const codec = new SpanCodec({ writerType: movedType });
    const span = fullSpan();
    assert.deepEqual(codec.decode(movedType.toBuffer(span)), span);
  });
});
