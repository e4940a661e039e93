import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { SpanCodec } from '../../src/codec/avro-codec.js';
import type { LlmSpan } from '../../src/model/index.js';
import { OTLP_TRACES_PATH, startOtelReceiver } from '../../src/otel/otel-receiver.js';
import type { OtelReceiver } from '../../src/otel/otel-receiver.js';
import { createVigilProducer } from '../../src/sdk/vigil-producer.js';
import type { VigilProducer } from '../../src/sdk/vigil-producer.js';
import { ROOT } from '../helpers/cli.js';
import { COMPLETION, PROMPT, SECRET_ARGS, SECRET_QUERY, TRACE_START, exportGenAiTrace } from '../helpers/genai-otel-traces.js';
import type { TraceIds } from '../helpers/genai-otel-traces.js';
import { deleteTopics, kafkaBrokers, randomName } from '../helpers/kafka-test-env.js';
import { createReadyTopic } from '../helpers/ready-topic.js';
import { readMessages } from '../helpers/topic-reader.js';
import type { RawMessage } from '../helpers/topic-reader.js';

const silent = pino({ level: 'silent' });
const codec = new SpanCodec();

interface Received {
  span: LlmSpan;
  message: RawMessage;
}

async function readSpans(topic: string, count: number): Promise<Map<string, Received>> {
  const messages = await readMessages(topic, count, 60_000, 500);
  assert.equal(messages.length, count, 'no extra span on the topic');
  return new Map(
    messages.map((message) => {
      const span = codec.decode(message.value);
      return [span.spanId, { span, message }];
    }),
  );
}

function spanOf(received: Map<string, Received>, ids: TraceIds, role: keyof TraceIds): LlmSpan {
  const r = received.get(ids[role].spanId);
  assert.ok(r, `the ${role} span is on the topic`);
  return r.span;
}

describe('the OpenTelemetry bridge through a real Kafka broker', () => {
  const id = randomName('vigil-otel');
  const topics = { proto: `${id}-proto`, json: `${id}-json`, cli: `${id}-cli` };
  const producers: VigilProducer[] = [];
  const receivers: OtelReceiver[] = [];
  let child: ChildProcess | undefined;

  before(async () => {
    for (const t of Object.values(topics)) await createReadyTopic(t, 3);
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    for (const r of receivers) await r.close();
    for (const p of producers) await p.close();
    await deleteTopics(Object.values(topics));
  });

  async function receiver(topic: string, options: { captureContent?: boolean; tenantAttribute?: string } = {}): Promise<string> {
    const producer = createVigilProducer({ brokers: kafkaBrokers(), topic, batch: { lingerMs: 5 }, logger: silent });
    producers.push(producer);
    const r = await startOtelReceiver({ producer, port: 0, logger: silent, ...options });
    receivers.push(r);
    return `${r.url}${OTLP_TRACES_PATH}`;
  }

  it('turns a protobuf export of the OpenTelemetry SDK into LlmSpans on the traces topic, reporting the invalid span as partial success', async () => {
    const endpoint = await receiver(topics.proto);
    const { ids, warnings } = await exportGenAiTrace(endpoint, { protocol: 'proto', withInvalidSpan: true });
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /Partial Success.*"rejectedSpans":"?1"?.*gen_ai\.usage\.input_tokens: must be an integer/);

    const received = await readSpans(topics.proto, 7);
    assert.ok(!received.has(ids.badTokens.spanId), 'the invalid span is not produced');

    const chat = spanOf(received, ids, 'chat');
    assert.deepEqual(chat, {
      traceId: ids.chat.traceId,
      spanId: ids.chat.spanId,
      parentSpanId: ids.root.spanId,
      kind: 'LLM',
      service: 'chat-api',
      operation: 'chat',
      startTime: TRACE_START + 100,
      durationMs: 1500,
      ttftMs: 350,
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
      finishReason: 'stop',
      userId: 'user-42',
      tenantId: 'acme',
      sessionId: 'conv-9',
      inputText: null,
      outputText: null,
      expectedFormat: null,
      attributes: { 'gen_ai.request.temperature': '0.2' },
    });

    const root = spanOf(received, ids, 'root');
    assert.equal(root.kind, 'PIPELINE');
    assert.equal(root.parentSpanId, null);
    assert.equal(root.operation, 'answer-question');
    assert.equal(root.durationMs, 2500);
    assert.equal(root.sessionId, 'sess-7');
    assert.deepEqual(root.attributes, { 'app.tenant': 'globex', 'http.route': '/ask' });

    const embed = spanOf(received, ids, 'embed');
    assert.equal(embed.kind, 'EMBEDDING');
    assert.equal(embed.provider, 'cohere', 'from the legacy gen_ai.system');
    assert.equal(embed.model, 'embed-v4');
    assert.equal(embed.inputTokens, 12);

    const retrieve = spanOf(received, ids, 'retrieve');
    assert.equal(retrieve.kind, 'RETRIEVAL');
    assert.equal(retrieve.operation, 'vector search');
    assert.deepEqual(retrieve.attributes, { 'db.system.name': 'qdrant', 'db.collection.name': 'docs' });

    const tool = spanOf(received, ids, 'tool');
    assert.equal(tool.kind, 'TOOL');
    assert.deepEqual(tool.attributes, { 'gen_ai.tool.name': 'weather' });

    const rateLimited = spanOf(received, ids, 'rateLimited');
    assert.equal(rateLimited.status, 'ERROR');
    assert.equal(rateLimited.errorType, 'RATE_LIMIT');
    assert.equal(rateLimited.provider, 'anthropic');
    const timedOut = spanOf(received, ids, 'timedOut');
    assert.equal(timedOut.status, 'ERROR');
    assert.equal(timedOut.errorType, 'TIMEOUT');
    assert.equal(timedOut.kind, 'LLM');

    for (const { span, message } of received.values()) {
      const raw = message.value.toString('latin1');
      for (const secret of [PROMPT, COMPLETION, SECRET_QUERY, SECRET_ARGS]) assert.ok(!raw.includes(secret), `${span.operation} carries text it must not`);
      // Keyed by user, falling back to the trace.
      assert.equal(message.key, span.userId ?? span.traceId);
      assert.equal(message.headers['vigil-schema'], 'vigil.v1.LlmSpan');
    }
    const userPartitions = new Set([...received.values()].filter((r) => r.span.userId === 'user-42').map((r) => r.message.partition));
    assert.equal(userPartitions.size, 1, "one user's spans share a partition");
  });

  it('takes gzip-compressed OTLP/JSON and, with content capture on, carries the prompt and completion texts', async () => {
    const endpoint = await receiver(topics.json, { captureContent: true, tenantAttribute: 'app.tenant' });
    const { ids, warnings } = await exportGenAiTrace(endpoint, { protocol: 'json', gzip: true, service: 'support-bot' });
    assert.deepEqual(warnings, []);
    const received = await readSpans(topics.json, 7);
    const chat = spanOf(received, ids, 'chat');
    assert.equal(chat.service, 'support-bot');
    assert.equal(chat.inputText, PROMPT);
    assert.equal(chat.outputText, COMPLETION);
    assert.equal(chat.ttftMs, 350);
    assert.equal(chat.tenantId, null, 'the tenant attribute is app.tenant, which only the root span has');
    assert.equal(spanOf(received, ids, 'root').tenantId, 'globex');
    for (const { span } of received.values()) {
      if (span.spanId !== ids.chat.spanId) assert.equal(span.inputText, null);
      assert.ok(!JSON.stringify(span.attributes).includes(PROMPT));
    }
  });

  it('runs as vigil otel-receiver --config and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-otel-'));
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      [
        'kafka:',
        `  brokers: [${kafkaBrokers().join(', ')}]`,
        `  tracesTopic: ${topics.cli}`,
        'otel: { host: 127.0.0.1, port: 0, tenantAttribute: app.tenant }',
        'log: { level: info }',
      ].join('\n'),
    );
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'otel-receiver', '--config', config], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const started = new Promise<number>((resolve, reject) => {
      child!.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /"port":(\d+).*"msg":"vigil otel-receiver started"/.exec(stderr);
        if (m !== null) resolve(Number(m[1]));
      });
      child!.on('exit', (code) => reject(new Error(`vigil otel-receiver exited with ${code}: ${stderr.slice(-2000)}`)));
    });
    const port = await started;
    const { ids, warnings } = await exportGenAiTrace(`http://127.0.0.1:${port}${OTLP_TRACES_PATH}`, { protocol: 'proto' });
    assert.deepEqual(warnings, []);
    const received = await readSpans(topics.cli, 7);
    assert.equal(spanOf(received, ids, 'root').tenantId, 'globex');
    assert.equal(spanOf(received, ids, 'chat').model, 'gpt-4o-2024-08-06');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr.slice(-2000));
    assert.match(stderr, /"spansAccepted":7.*"delivered":7.*"msg":"stopped"/);
    assert.ok(!stderr.includes(PROMPT));
  });
});
