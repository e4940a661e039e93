import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigilError } from '../../src/errors.js';
import { DROPPED_ATTRIBUTES_KEY, mapOtelSpan } from '../../src/otel/genai-span-mapping.js';
import { OTLP_STATUS_ERROR, OTLP_STATUS_OK } from '../../src/otel/otlp-span.js';
import type { OtlpSpan, OtlpValue } from '../../src/otel/otlp-span.js';

const START_NS = 1_767_268_800_123_456_789n; // 2026-01-01T12:00:00.123456789Z

function span(attributes: Record<string, OtlpValue> = {}, overrides: Partial<OtlpSpan> = {}): OtlpSpan {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '00f067aa0ba902b7',
    name: 'chat gpt-4o',
    kind: 3,
    startTimeUnixNano: START_NS,
    endTimeUnixNano: START_NS + 1_234_500_000n,
    attributes: new Map(Object.entries(attributes)),
    events: [],
    statusCode: 0,
    resource: new Map<string, OtlpValue>([['service.name', 'chat-api']]),
    scopeName: 'test',
    ...overrides,
  };
}

function rejection(fn: () => unknown): VigilError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof VigilError);
    assert.equal(error.code, 'VIGIL_RECORD_INVALID');
    return error;
  }
  assert.fail('expected a VIGIL_RECORD_INVALID');
}

describe('mapping GenAI semantic-convention spans to LlmSpan', () => {
  it('maps ids, service, operation, times, ttft, provider, model, tokens and identities', () => {
    const s = mapOtelSpan(
      span({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': '300',
        'gen_ai.usage.cache_read.input_tokens': 1000,
        'gen_ai.server.time_to_first_token': 0.25,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
        'gen_ai.output.type': 'json',
        'user.id': 'u-1',
        'gen_ai.conversation.id': 'conv-1',
        'tenant.id': 'acme',
      }),
    );
    assert.deepEqual(s, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: '00f067aa0ba902b7',
      kind: 'LLM',
      service: 'chat-api',
      operation: 'chat',
      startTime: 1_767_268_800_123,
      durationMs: 1234.5,
      ttftMs: 250,
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      inputTokens: 1200,
      outputTokens: 300,
      cachedInputTokens: 1000,
      costUsd: null,
      status: 'OK',
      errorType: null,
      retryCount: 0,
      fallback: false,
      finishReason: 'stop,length',
      userId: 'u-1',
      tenantId: 'acme',
      sessionId: 'conv-1',
      inputText: null,
      outputText: null,
      expectedFormat: 'json',
      attributes: {},
    });
  });

  it('falls back to the span name, the legacy gen_ai.system and gen_ai.request.model, and unknown_service', () => {
    const s = mapOtelSpan(span({ 'gen_ai.system': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4' }, { resource: new Map() }));
    assert.equal(s.operation, 'chat gpt-4o');
    assert.equal(s.provider, 'anthropic');
    assert.equal(s.model, 'claude-sonnet-4');
    assert.equal(s.service, 'unknown_service');
  });

  it('reads user, session and tenant from the resource when the span has none, and the tenant from the configured attribute', () => {
    const resource = new Map<string, OtlpValue>([
      ['service.name', 'svc'],
      ['user.id', 'u-res'],
      ['session.id', 's-res'],
      ['org.id', 'initech'],
    ]);
    const s = mapOtelSpan(span({}, { resource }), { tenantAttribute: 'org.id' });
    assert.equal(s.userId, 'u-res');
    assert.equal(s.sessionId, 's-res');
    assert.equal(s.tenantId, 'initech');
  });

  it('derives the kind from gen_ai.operation.name, db attributes and the root position', () => {
    const kind = (attributes: Record<string, OtlpValue>, parentSpanId = 'b7ad6b7169203332'): string => mapOtelSpan(span(attributes, { parentSpanId })).kind;
    assert.equal(kind({ 'gen_ai.operation.name': 'chat' }), 'LLM');
    assert.equal(kind({ 'gen_ai.operation.name': 'text_completion' }), 'LLM');
    assert.equal(kind({ 'gen_ai.operation.name': 'generate_content' }), 'LLM');
    assert.equal(kind({ 'gen_ai.operation.name': 'embeddings' }), 'EMBEDDING');
    assert.equal(kind({ 'gen_ai.operation.name': 'execute_tool' }), 'TOOL');
    assert.equal(kind({ 'gen_ai.operation.name': 'retrieval' }), 'RETRIEVAL');
    assert.equal(kind({ 'db.system.name': 'qdrant' }), 'RETRIEVAL');
    assert.equal(kind({ 'http.route': '/ask' }, ''), 'PIPELINE');
    assert.equal(kind({ 'http.route': '/ask' }, '0000000000000000'), 'PIPELINE', 'an all-zero parent is no parent');
    assert.equal(kind({ 'gen_ai.operation.name': 'invoke_agent' }, ''), 'OTHER', 'a root span with gen_ai attributes');
    assert.equal(kind({ 'http.route': '/ask' }), 'OTHER');
  });

  it('marks ERROR spans with the class of error.type, OTHER when there is none', () => {
    const failed = (errorType?: string): ReturnType<typeof mapOtelSpan> =>
      mapOtelSpan(span(errorType === undefined ? {} : { 'error.type': errorType }, { statusCode: OTLP_STATUS_ERROR }));
    assert.equal(failed('timeout').errorType, 'TIMEOUT');
    assert.equal(failed('429').errorType, 'RATE_LIMIT');
    assert.equal(failed('content_filter').errorType, 'CONTENT_FILTER');
    assert.equal(failed().errorType, 'OTHER');
    assert.equal(failed('timeout').status, 'ERROR');
    assert.deepEqual(failed('timeout').attributes, {}, 'error.type is consumed');
    const ok = mapOtelSpan(span({ 'error.type': 'timeout' }, { statusCode: OTLP_STATUS_OK }));
    assert.equal(ok.status, 'OK');
    assert.equal(ok.errorType, null);
    assert.equal(ok.attributes['error.type'], 'timeout', 'kept as an attribute when the span did not fail');
  });

  it('copies texts only with captureContent, from attributes or events, and never into attributes', () => {
    const input = JSON.stringify([
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Hi' }, { type: 'blob', mime_type: 'image/png', content: 'AAAA' }] },
    ]);
    const output = [{ role: 'assistant', parts: [{ type: 'text', content: 'Hello!' }] }];
    const s = span(
      { 'gen_ai.input.messages': input, 'gen_ai.system_instructions': 'secret', 'gen_ai.prompt.0.content': 'legacy', 'gen_ai.tool.call.result': 'r' },
      { events: [{ name: 'gen_ai.client.inference.operation.details', timeUnixNano: START_NS, attributes: new Map<string, OtlpValue>([['gen_ai.output.messages', output]]) }] },
    );
    const off = mapOtelSpan(s);
    assert.equal(off.inputText, null);
    assert.equal(off.outputText, null);
    assert.deepEqual(off.attributes, {});
    const on = mapOtelSpan(s, { captureContent: true });
    assert.equal(on.inputText, 'Be brief.\nHi');
    assert.equal(on.outputText, 'Hello!');
    assert.deepEqual(on.attributes, {});
    assert.equal(mapOtelSpan(s, { captureContent: true, maxContentChars: 4 }).inputText, 'Be b');
  });

  it('keeps other attributes as strings, bounded in number and length', () => {
    const s = mapOtelSpan(span({ 'gen_ai.request.temperature': 0.2, 'gen_ai.request.stream': true, 'gen_ai.request.stop_sequences': ['\n', 'END'], 'app.long': 'y'.repeat(600), 'app.map': { a: 1 } }));
    assert.deepEqual(s.attributes, {
      'gen_ai.request.temperature': '0.2',
      'gen_ai.request.stream': 'true',
      'gen_ai.request.stop_sequences': '["\\n","END"]',
      'app.long': 'y'.repeat(512),
      'app.map': '{"a":1}',
    });
    const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i]));
    const bounded = mapOtelSpan(span(many), { maxAttributes: 64 });
    assert.equal(Object.keys(bounded.attributes).length, 65);
    assert.equal(bounded.attributes[DROPPED_ATTRIBUTES_KEY], '6');
    assert.equal(bounded.attributes.k63, '63');
  });

  it('rejects bad ids, missing or inverted times and bad counts, naming the field and never the text', () => {
    assert.equal(rejection(() => mapOtelSpan(span({}, { traceId: '' }))).message, 'traceId: is required but missing');
    assert.equal(rejection(() => mapOtelSpan(span({}, { traceId: '0'.repeat(32) }))).message, 'traceId: must be 16 bytes (32 hex digits), not all zero, got 16 byte(s)');
    assert.equal(rejection(() => mapOtelSpan(span({}, { spanId: 'abcd' }))).message, 'spanId: must be 8 bytes (16 hex digits), not all zero, got 2 byte(s)');
    assert.equal(rejection(() => mapOtelSpan(span({}, { parentSpanId: 'zzzzzzzzzzzzzzzz' }))).details.field, 'parentSpanId');
    assert.equal(rejection(() => mapOtelSpan(span({}, { startTimeUnixNano: 0n }))).message, 'startTimeUnixNano: is required but missing');
    assert.equal(rejection(() => mapOtelSpan(span({}, { endTimeUnixNano: START_NS - 1n }))).message, 'endTimeUnixNano: must not be before startTimeUnixNano');
    const tokens = rejection(() => mapOtelSpan(span({ 'gen_ai.usage.output_tokens': 'many tokens please' })));
    assert.equal(tokens.details.field, 'gen_ai.usage.output_tokens');
    assert.ok(!tokens.message.includes('many tokens'));
    assert.equal(rejection(() => mapOtelSpan(span({ 'gen_ai.server.time_to_first_token': -1 }))).details.field, 'gen_ai.server.time_to_first_token');
    assert.equal(rejection(() => mapOtelSpan(span({}, { name: '' }))).details.field, 'operation');
  });
});
