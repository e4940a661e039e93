import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { VigilError } from '../../src/errors.js';
import type { LlmSpan } from '../../src/model/index.js';
import { OTLP_TRACES_PATH, startOtelReceiver } from '../../src/otel/otel-receiver.js';
import type { OtelReceiver, SpanRecorder } from '../../src/otel/otel-receiver.js';
import { otlpTypes } from '../../src/otel/otlp-proto.js';
import type { DeadLetter } from '../../src/sources/span-source.js';
import { COMPLETION, PROMPT, SECRET_ARGS, SECRET_QUERY, TRACE_START, exportGenAiTrace } from '../helpers/genai-otel-traces.js';

const silent = pino({ level: 'silent' });

class MemoryRecorder implements SpanRecorder {
  spans: LlmSpan[] = [];
  failWith: Error | undefined;
  record(span: LlmSpan): Promise<void> {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    this.spans.push(span);
    return Promise.resolve();
  }
}

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

function jsonRequest(spans: object[]): object {
  return {
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeSpans: [{ scope: { name: 's' }, spans }] }],
  };
}

function jsonSpan(overrides: Record<string, unknown> = {}): object {
  return {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    name: 'chat',
    kind: 3,
    startTimeUnixNano: '1767268800000000000',
    endTimeUnixNano: '1767268800250000000',
    attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }],
    ...overrides,
  };
}

async function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; type: string | null; body: Buffer; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

describe('the OTLP/HTTP trace receiver', () => {
  const recorder = new MemoryRecorder();
  const deadLetters: DeadLetter[] = [];
  let receiver: OtelReceiver;
  let endpoint: string;

  before(async () => {
    receiver = await startOtelReceiver({ producer: recorder, port: 0, logger: silent, onDeadLetters: (d) => deadLetters.push(...d), maxBodyBytes: 64 * 1024 });
    endpoint = `${receiver.url}${OTLP_TRACES_PATH}`;
  });

  after(async () => {
    await receiver.close();
  });

  it('takes a protobuf export from the OpenTelemetry SDK and maps every GenAI span', async () => {
    recorder.spans = [];
    const { ids, warnings } = await exportGenAiTrace(endpoint, { protocol: 'proto' });
    assert.deepEqual(warnings, []);
    assert.equal(recorder.spans.length, 7);
    const byId = new Map(recorder.spans.map((s) => [s.spanId, s]));
    const chat = byId.get(ids.chat.spanId)!;
    assert.equal(chat.traceId, ids.chat.traceId);
    assert.equal(chat.parentSpanId, ids.root.spanId);
    assert.equal(chat.kind, 'LLM');
    assert.equal(chat.service, 'chat-api');
    assert.equal(chat.model, 'gpt-4o-2024-08-06');
    assert.equal(chat.ttftMs, 350);
    assert.equal(chat.startTime, TRACE_START + 100);
    assert.equal(chat.durationMs, 1500);
    assert.equal(chat.inputText, null, 'content capture is off by default');
    assert.equal(chat.outputText, null);
    assert.equal(byId.get(ids.root.spanId)!.kind, 'PIPELINE');
    assert.equal(byId.get(ids.rateLimited.spanId)!.errorType, 'RATE_LIMIT');
    for (const span of recorder.spans) {
      const all = JSON.stringify(span);
      for (const secret of [PROMPT, COMPLETION, SECRET_QUERY, SECRET_ARGS]) assert.ok(!all.includes(secret), `${span.operation} leaks text`);
    }
  });

  it('takes a gzip-compressed JSON export and captures texts when configured to', async () => {
    const capturing = new MemoryRecorder();
    const r = await startOtelReceiver({ producer: capturing, port: 0, logger: silent, captureContent: true, tenantAttribute: 'app.tenant' });
    try {
      const { ids, warnings } = await exportGenAiTrace(`${r.url}${OTLP_TRACES_PATH}`, { protocol: 'json', gzip: true });
      assert.deepEqual(warnings, []);
      assert.equal(capturing.spans.length, 7);
      const chat = capturing.spans.find((s) => s.spanId === ids.chat.spanId)!;
      assert.equal(chat.inputText, PROMPT);
      assert.equal(chat.outputText, COMPLETION);
      const root = capturing.spans.find((s) => s.spanId === ids.root.spanId)!;
      assert.equal(root.tenantId, 'globex', 'the configured attribute, from the span');
      assert.equal(chat.tenantId, null, 'the chat span and its resource have no app.tenant');
    } finally {
      await r.close();
    }
  });

  it('reports a rejected span to the SDK as partial success and still delivers the others', async () => {
    recorder.spans = [];
    deadLetters.length = 0;
    for (const protocol of ['proto', 'json'] as const) {
      const { warnings } = await exportGenAiTrace(endpoint, { protocol, withInvalidSpan: true });
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /Partial Success/);
      assert.match(warnings[0], /gen_ai\.usage\.input_tokens: must be an integer/);
    }
    assert.equal(recorder.spans.length, 14);
    assert.equal(deadLetters.length, 2);
    assert.equal(deadLetters[0].field, 'gen_ai.usage.input_tokens');
    assert.equal(deadLetters[0].source, 'otlp-http');
  });

  it('answers partial success in the request encoding with the count and the reasons', async () => {
    const body = jsonRequest([jsonSpan(), jsonSpan({ spanId: '' }), jsonSpan({ spanId: 'aaaaaaaaaaaaaaab', endTimeUnixNano: '1' })]);
    const json = await post(endpoint, JSON.stringify(body), { 'content-type': 'application/json' });
    assert.equal(json.status, 200);
    assert.equal(json.type, 'application/json');
    const reply = JSON.parse(json.body.toString()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    assert.equal(reply.partialSuccess.rejectedSpans, '2');
    assert.match(reply.partialSuccess.errorMessage, /^2 span\(s\) rejected: span 2: spanId: is required but missing; span 3: endTimeUnixNano: /);

    const types = otlpTypes();
    const pb = types.exportRequest.encode(
      types.exportRequest.fromObject({
        resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.from(TRACE_ID, 'hex'), spanId: Buffer.alloc(8), startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }],
      }),
    ).finish();
    const res = await post(endpoint, Buffer.from(pb), { 'content-type': 'application/x-protobuf' });
    assert.equal(res.status, 200);
    assert.equal(res.type, 'application/x-protobuf');
    const decoded = types.exportResponse.toObject(types.exportResponse.decode(res.body), { longs: Number }) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    assert.equal(decoded.partialSuccess.rejectedSpans, 1);
    assert.match(decoded.partialSuccess.errorMessage, /spanId: must be 8 bytes \(16 hex digits\), not all zero/);
  });

  it('answers a fully accepted request with an empty response', async () => {
    const res = await post(endpoint, gzipSync(JSON.stringify(jsonRequest([jsonSpan()]))), { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), '{}');
  });

  it('refuses a body that does not decode with 400 and a Status that does not quote it', async () => {
    const res = await post(endpoint, '{"resourceSpans": [ "Tell me my password"', { 'content-type': 'application/json' });
    assert.equal(res.status, 400);
    const status = JSON.parse(res.body.toString()) as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.equal(status.message, 'ExportTraceServiceRequest: the body is not valid JSON');
    const pb = await post(endpoint, Buffer.from([0x0a, 0xff, 0xff, 0x01]), { 'content-type': 'application/x-protobuf' });
    assert.equal(pb.status, 400);
    const decoded = otlpTypes().rpcStatus.decode(pb.body) as unknown as { message: string };
    assert.match(decoded.message, /not a valid protobuf message/);
    const badGzip = await post(endpoint, 'not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(badGzip.status, 400);
  });

  it('refuses other content types and encodings with 415, other paths with 404 and other methods with 405', async () => {
    assert.equal((await post(endpoint, '{}', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post(endpoint, '{}', { 'content-type': 'application/json', 'content-encoding': 'br' })).status, 415);
    assert.equal((await post(`${receiver.url}/v1/metrics`, '{}', { 'content-type': 'application/json' })).status, 404);
    const get = await fetch(endpoint);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal((await fetch(`${receiver.url}/healthz`)).status, 200);
  });

  it('refuses bodies over the limit, compressed or not, with 413', async () => {
    const big = JSON.stringify(jsonRequest([jsonSpan({ name: 'x'.repeat(100 * 1024) })]));
    assert.equal((await post(endpoint, big, { 'content-type': 'application/json' })).status, 413);
    assert.equal((await post(endpoint, gzipSync(big), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status, 413);
  });

  it('answers 503 with Retry-After when the spans cannot be delivered, so the exporter retries', async () => {
    recorder.failWith = new VigilError('VIGIL_SINK_FAILED', 'broker down');
    try {
      const res = await post(endpoint, JSON.stringify(jsonRequest([jsonSpan()])), { 'content-type': 'application/json' });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '5');
      assert.equal((JSON.parse(res.body.toString()) as { code: number }).code, 14);
    } finally {
      recorder.failWith = undefined;
    }
  });

  it('counts requests, accepted and rejected spans', () => {
    const stats = receiver.stats();
    assert.ok(stats.requests >= 5);
    assert.ok(stats.spansAccepted >= 21);
    assert.ok(stats.spansRejected >= 5);
    assert.ok(stats.failedRequests >= 8);
  });
});
